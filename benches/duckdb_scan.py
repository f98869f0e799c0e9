#!/usr/bin/env python3
"""Run the benchmark's generated rules as DuckDB SQL over the same JSON Lines events.

Usage: duckdb_scan.py MANIFEST EVENTS THREADS

MANIFEST is the duckdb.json that gen_rules.py writes (one SQL predicate per rule). All the
rules are evaluated in one pass, `count(*) FILTER (WHERE rule)` per rule, over
`read_json(EVENTS)` with the columns the rules read declared up front (so DuckDB neither
samples nor infers the schema). Prints one JSON line: {"seconds": query time, "threads",
"counts": {rule id: matching events}}; the time excludes Python's start-up and the import.
"""

import json
import sys
import time

import duckdb

COLUMNS = {
    "ai.category": "VARCHAR",
    "ai.prompt.text": "VARCHAR",
    "ai.response.text": "VARCHAR",
    "gen_ai.request.model": "VARCHAR",
    "gen_ai.usage.input_tokens": "BIGINT",
    "gen_ai.tool.name": "VARCHAR",
    "ai.tool.args.text": "VARCHAR",
    "ai.gpu.process.name": "VARCHAR",
    "ai.gpu.utilization": "DOUBLE",
    "host.name": "VARCHAR",
    "gen_ai.guardrail.security.risk.score": "DOUBLE",
    "gen_ai.guardrail.target.type": "VARCHAR",
    "user.id": "VARCHAR",
    "service.name": "VARCHAR",
}


def main():
    manifest, events, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rules = json.load(open(manifest))
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    filters = ",\n".join(f"count(*) FILTER (WHERE {r['sql']})" for r in rules)
    sql = (
        f"SELECT {filters}\nFROM read_json('{events}', format = 'newline_delimited', "
        f"columns = {columns})"
    )
    start = time.perf_counter()
    row = con.execute(sql).fetchone()
    seconds = time.perf_counter() - start
    counts = {r["id"]: n for r, n in zip(rules, row)}
    print(json.dumps({"seconds": seconds, "threads": threads, "counts": counts}))


if __name__ == "__main__":
    main()
