#!/usr/bin/env python3
"""Attach to each compiled query (aisigma compile --format json, on stdin) the field list of
the index patterns its FROM reads, from integration_fields.json, for esql_check.py.

Usage: attach_schema.py integration_fields.json AISIGMA_SCHEMA.json SOURCE < compiled.jsonl
Refused rules are left out. An index pattern without a field list is an error (exit 1).
A field list may name a passthrough namespace, `"attributes.*": "passthrough"` (Elastic's OTel
templates map span and log attributes dynamically, by their JSON type): the namespace then
holds every schema field under its own name, typed as an instrumentation sends it (the
aisigma schema's type: string -> keyword, int -> long, float -> double, bool -> boolean),
and any other attribute the query names (a semantic-conventions attribute such as
`client.address`) as keyword, the type a string value gets.
"""
import re
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esql_check import schema_from_aisigma  # noqa: E402


def main():
    fields = json.load(open(sys.argv[1]))
    schema_fields = schema_from_aisigma(json.load(open(sys.argv[2])))
    source = sys.argv[3]
    passthrough = {}
    for index, listed in fields.items():
        for key, kind in list(listed.items()):
            if kind == "passthrough" and key.endswith(".*"):
                del listed[key]
                prefix = key[:-1]
                passthrough.setdefault(index, []).append(prefix)
                for name, es in schema_fields.items():
                    listed.setdefault(prefix + name, es)
    for line in sys.stdin:
        rec = json.loads(line)
        if "query" not in rec:
            continue
        # FROM a,b reads both index patterns: a field of either exists.
        schema = {}
        for index in rec.get("logsource", {}).get("index", "").split(","):
            if index not in fields:
                sys.exit(f"esql_oracle: source {source}: no field list for index {index!r} in integration_fields.json")
            schema.update(fields[index])
            for prefix in passthrough.get(index, []):
                for name in re.findall(re.escape(prefix) + r"[A-Za-z0-9_.@]+", rec["query"]):
                    schema.setdefault(name, "keyword")
        rec["schema"] = schema
        rec["id"] = f"{source}: {rec.get('id')}"
        print(json.dumps(rec))


main()
