#!/usr/bin/env python3
"""Correlation conformance: aisigma's engine against two independent implementations.

Reads the cases tests/correlation_differential.rs writes (one JSON object per line: the
correlation, its timestamped events and the alerts aisigma's engine raised) and recomputes
the alerts:

* temporal_ordered: Elastic's `eql` package (PyPI) runs the EQL `sequence` query aisigma
  compiled for the case, with Elasticsearch's `regex` semantics (as in eql_oracle.py), over
  every event (the compiled query itself leaves out events without the group-by field).
* every other type: DuckDB (PyPI) runs the window semantics of docs/semantics.md as SQL: each
  input's window is a self-join on its group over `[t - timespan, t]` in processing order
  (timestamp, then arrival, then rule), the aggregate is SQL's own (`count(DISTINCT)`, `sum`,
  `avg`, `quantile_cont`), and an alert is an input where the condition holds and did not
  hold at the group's previous input (`lag`).

Alerts must be equal: the same times and groups, in order. Prints counts; exits 1 on any
disagreement.
"""
import json
import os
import sys
import tempfile
from datetime import datetime, timezone

import duckdb
import eql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eql_oracle import elasticsearch_syntax, ignore_missing_fields  # noqa: E402 - also patches `regex`


def ms(ts):
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() * 1000)


def ordered(case):
    """Events with their arrival index, in the engine's processing order."""
    evs = [dict(e, _arrival=i, _ms=ms(e["@timestamp"])) for i, e in enumerate(case["events"])]
    return sorted(evs, key=lambda e: (e["_ms"], e["_arrival"]))


def eql_alerts(case):
    grouped = bool(case["group_by"])
    engine = eql.PythonEngine({"time_unit": 1000})
    with ignore_missing_fields, elasticsearch_syntax:
        engine.add_query(eql.parse_query(case["eql"]))
    hits = []
    engine.add_output_hook(hits.append)
    stream = []
    for e in ordered(case):
        data = {k: v for k, v in e.items() if not k.startswith("_") and k != "@timestamp"}
        stream.append(eql.Event("generic", e["_ms"], data))
    engine.stream_events(stream)
    out = []
    for seq in hits:
        last = seq.events[-1]
        out.append([last.time, last.data.get("user") if grouped else None])
    return out


OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}


def load(con, case):
    """The case's events as table `ev` (arrival order kept) and its rules as `rules`."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for e in case["events"]:
            n = e.get("n")
            row = {"ts": e["@timestamp"], "kind": e["kind"], "usr": e.get("user"),
                   "n": None if n is None else str(n)}
            f.write(json.dumps(row) + "\n")
        path = f.name
    try:
        con.execute("DROP TABLE IF EXISTS ev; DROP TABLE IF EXISTS rules")
        con.execute(
            "CREATE TABLE ev AS SELECT row_number() OVER () - 1 AS arrival, * FROM "
            "read_json(?, format='newline_delimited', columns={ts: 'VARCHAR', kind: 'VARCHAR', usr: 'VARCHAR', n: 'VARCHAR'})",
            [path],
        )
    finally:
        os.unlink(path)
    con.execute("CREATE TABLE rules (idx INTEGER, kind VARCHAR)")
    con.executemany("INSERT INTO rules VALUES (?, ?)", list(enumerate(case["kinds"])))


INPUTS = """
    e AS (
        SELECT arrival, epoch_ms(CAST(ts AS TIMESTAMPTZ)) AS t, kind, usr AS g,
               n AS vtext, TRY_CAST(n AS DOUBLE) AS vnum
        FROM ev
    ),
    inp AS (
        SELECT e.* EXCLUDE (g), {group} AS g, r.idx AS rule,
               row_number() OVER (ORDER BY e.t, e.arrival, r.idx) AS ord
        FROM e JOIN rules r ON e.kind = r.kind
        WHERE {where}
    )"""


def first_seen_alerts(con, case):
    """A value is new when no earlier input of its group had it within the timespan; the
    group's first input (with a value) and its learning time never fire."""
    grouped = bool(case["group_by"])
    load(con, case)
    where = "e.vtext IS NOT NULL" + (" AND e.g IS NOT NULL" if grouped else "")
    rows = con.execute(f"""
        WITH {INPUTS.format(group="e.g" if grouped else "NULL", where=where)},
        f AS (
            SELECT a.*,
                   min(a.t) OVER (PARTITION BY a.g) AS first_t,
                   min(a.ord) OVER (PARTITION BY a.g) AS first_ord,
                   EXISTS (SELECT 1 FROM inp b WHERE b.g IS NOT DISTINCT FROM a.g
                           AND b.vtext = a.vtext AND b.ord < a.ord
                           AND b.t >= a.t - {case["timespan_ms"]}) AS known
            FROM inp a
        )
        SELECT t, g FROM f
        WHERE NOT known AND ord <> first_ord AND t - first_t >= {case["learning_ms"]}
        ORDER BY ord
    """).fetchall()
    return [[t, g if grouped else None] for t, g in rows]


def baseline_alerts(con, case):
    """Fixed windows of `timespan` aligned to the epoch. An input fires when its window's
    aggregate so far (inputs of the window up to it) has a z-score against the group's
    history that meets the condition, and no earlier input of the window fired. The history
    is the group's last `history` windows before the current one, counted from its first
    window: empty ones are 0 for count, sum and distinct; for avg and max only windows with a
    value count. sd = max(population sd, |mean| / 10, 1). Nothing fires with fewer than
    `min_history` windows of history or below `min_value`."""
    grouped = bool(case["group_by"])
    b = case["baseline"]
    agg, hist, T = b["aggregate"], b["history"], case["timespan_ms"]
    load(con, case)
    value = {
        "count": "count(*)",
        "sum": "coalesce(sum(x.vnum), 0)",
        "avg": "avg(x.vnum)",
        "max": "max(x.vnum)",
        "distinct": "count(DISTINCT x.vtext)",
    }[agg]
    bounds = [(OPS[k], v) for k, v in case["condition"].items() if k in OPS]
    holds = " AND ".join(f"z {op} {v}" for op, v in bounds)
    if b["min_value"] is not None:
        holds += f" AND v >= {b['min_value']}"
    if agg in ("count", "sum", "distinct"):
        # Every window from the group's first one (or `history` back) to the one before.
        history = f"""
        slots AS (
            SELECT a.ord, a.g, r.k
            FROM binp a JOIN firsts f ON a.g IS NOT DISTINCT FROM f.g,
                 range(greatest(f.fb, a.bucket - {hist}), a.bucket) AS r(k)
        ),
        hist AS (
            SELECT s.ord, coalesce(w.value, 0) AS h
            FROM slots s LEFT JOIN closed w ON w.g IS NOT DISTINCT FROM s.g AND w.bucket = s.k
        )"""
    else:
        history = f"""
        hist AS (
            SELECT ord, h FROM (
                SELECT a.ord, w.value AS h,
                       row_number() OVER (PARTITION BY a.ord ORDER BY w.bucket DESC) AS rn
                FROM binp a JOIN closed w
                  ON w.g IS NOT DISTINCT FROM a.g AND w.bucket < a.bucket AND w.value IS NOT NULL
            ) WHERE rn <= {hist}
        )"""
    where = "e.g IS NOT NULL" if grouped else "true"
    rows = con.execute(f"""
        WITH {INPUTS.format(group="e.g" if grouped else "NULL", where=where)},
        binp AS (SELECT *, floor(t / {T})::BIGINT AS bucket FROM inp),
        closed AS (SELECT g, bucket, {value} AS value FROM binp x GROUP BY g, bucket),
        firsts AS (SELECT g, min(bucket) AS fb FROM binp GROUP BY g),
        {history},
        stats AS (
            SELECT ord, count(*) AS n, avg(h) AS mean, var_pop(h) AS var FROM hist GROUP BY ord
        ),
        running AS (
            SELECT a.ord, a.t, a.g, a.bucket,
                   (SELECT {value} FROM binp x WHERE x.g IS NOT DISTINCT FROM a.g
                      AND x.bucket = a.bucket AND x.ord <= a.ord) AS v
            FROM binp a
        ),
        judged AS (
            SELECT r.*, s.n, (r.v - s.mean) / greatest(sqrt(greatest(s.var, 0)), abs(s.mean) / 10, 1) AS z
            FROM running r JOIN stats s ON r.ord = s.ord
            WHERE s.n >= {b["min_history"]} AND r.v IS NOT NULL
        ),
        firing AS (SELECT * FROM judged WHERE {holds}),
        first_in_window AS (
            SELECT *, row_number() OVER (PARTITION BY g, bucket ORDER BY ord) AS k FROM firing
        )
        SELECT t, g FROM first_in_window WHERE k = 1 ORDER BY ord
    """).fetchall()
    return [[t, g if grouped else None] for t, g in rows]


def sql_alerts(con, case):
    ty = case["type"]
    grouped = bool(case["group_by"])
    cond = case["condition"]
    bounds = [(OPS[k], v) for k, v in cond.items() if k in OPS]
    if ty == "temporal" and not bounds:
        bounds = [("=", len(case["kinds"]))]
    if ty == "first_seen":
        return first_seen_alerts(con, case)
    if ty == "baseline":
        return baseline_alerts(con, case)
    agg = {
        "event_count": "count(*)",
        "value_count": "count(DISTINCT b.vtext)",
        "temporal": "count(DISTINCT b.rule)",
        "value_sum": "coalesce(sum(b.vnum), 0)",
        "value_avg": "avg(b.vnum)",
        "value_median": "quantile_cont(b.vnum, 0.5)",
        "value_percentile": f"quantile_cont(b.vnum, {case['percentile'] or 50} / 100.0)",
    }[ty]
    holds = " AND ".join(f"value {op} {v}" for op, v in bounds) or "true"
    load(con, case)
    rows = con.execute(f"""
        WITH {INPUTS.format(group="e.g" if grouped else "NULL", where="e.g IS NOT NULL" if grouped else "true")},
        win AS (
            SELECT a.ord, a.t, a.g, {agg} AS value
            FROM inp a JOIN inp b
              ON {"a.g = b.g" if grouped else "true"}
             AND b.ord <= a.ord AND b.t >= a.t - {case["timespan_ms"]}
            GROUP BY a.ord, a.t, a.g
        ),
        h AS (SELECT *, coalesce({holds}, false) AS holds FROM win),
        f AS (SELECT *, lag(holds) OVER (PARTITION BY g ORDER BY ord) AS prev FROM h)
        SELECT t, g FROM f WHERE holds AND NOT coalesce(prev, false) ORDER BY ord
    """).fetchall()
    return [[t, g if grouped else None] for t, g in rows]


def main():
    path = sys.argv[1]
    con = duckdb.connect()
    counts = {"eql": 0, "duckdb": 0}
    alerts = 0
    failures = []
    for line in open(path):
        case = json.loads(line)
        if case["type"] == "temporal_ordered":
            got, oracle = eql_alerts(case), "eql"
        else:
            got, oracle = sql_alerts(con, case), "duckdb"
        counts[oracle] += 1
        want = [[t, g] for t, g in case["alerts"]]
        alerts += len(want)
        if got != want:
            failures.append(f"case {case['id']} ({case['type']}, {oracle}): engine {want}, {oracle} {got}\n  {json.dumps({k: case[k] for k in ('kinds', 'group_by', 'timespan_ms', 'condition', 'percentile')})}")
    print(f"correlation oracle: {counts['eql']} temporal_ordered cases against eql {eql.__version__}, "
          f"{counts['duckdb']} cases of the other types against DuckDB {duckdb.__version__}, "
          f"{alerts} engine alerts, {len(failures)} disagreements")
    for f in failures[:20]:
        print("FAIL", f)
    sys.exit(1 if failures or not (counts["eql"] and counts["duckdb"]) else 0)


if __name__ == "__main__":
    main()
