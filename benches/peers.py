#!/usr/bin/env python3
"""aisigma scan side by side with rsigma (`rsigma engine eval`), on one core, same events.

    python3 benches/peers.py AISIGMA RSIGMA OUT_DIR NAME:RULES:EVENTS[:AISIGMA_ARGS] ...

For each workload NAME, RULES is a rule directory (rsigma reads one directory) and EVENTS a
JSON Lines file. Each engine runs three times over EVENTS and once over an empty file (its
load time); the best wall time counts. Throughput is events / (best wall - load), so start-up
is reported on its own. Both run single-threaded: aisigma with RAYON_NUM_THREADS=1 (its reader
thread comes on top, as rsigma's does not), rsigma's `eval` is single-threaded.

Match counts are compared rule by rule (rule id): `identical` when every rule matched the same
number of events in both. rsigma applies every rule to every event (no log-source routing), so
aisigma runs with `--category-field` set to a field no event has, which does the same.
rsigma is run with `--no-detections`, so neither reports the rules that only feed
correlations; correlation alerts are not compared (the two engines' correlation semantics
differ). Rules whose counts differ are listed with both counts.

Writes OUT_DIR/peers.md (the table) and prints it.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile


def timed(cmd, env=None, stdout=None):
    """Run cmd; return (wall seconds, peak RSS in KB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", t.name] + cmd
        with open(stdout or os.devnull, "w") as out:
            subprocess.run(full, stdout=out, stderr=subprocess.DEVNULL, env=env, check=False)
        wall, rss = t.read().split()[-2:]
        return float(wall), int(rss)


def counts(path, key):
    c = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            rid = d.get(key)
            if rid and "correlation" not in d and "correlation_type" not in d:
                c[rid] += 1
    return c


def best(runs):
    return min(runs, key=lambda r: r[0])


def main():
    ais, rs, out = sys.argv[1], sys.argv[2], sys.argv[3]
    empty = os.path.join(out, "empty.jsonl")
    open(empty, "w").close()
    rows = []
    for spec in sys.argv[4:]:
        name, rules, events, *extra = spec.split(":")
        n = sum(1 for _ in open(events, "rb"))
        env = dict(os.environ, RAYON_NUM_THREADS="1")
        a_cmd = [ais, "scan", "--no-progress", "--category-field", "no.such.field", "--rules", rules]
        a_cmd += extra[0].split() if extra and extra[0] else []
        r_cmd = [rs, "engine", "eval", "--no-detections", "-r", rules, "-e"]
        a_out = os.path.join(out, f"peers-{name}-aisigma.jsonl")
        r_out = os.path.join(out, f"peers-{name}-rsigma.jsonl")
        a_runs = [timed(a_cmd + [events], env, a_out) for _ in range(3)]
        r_runs = [timed(r_cmd + ["@" + events], env, r_out) for _ in range(3)]
        a_load = best([timed(a_cmd + [empty], env) for _ in range(3)])
        r_load = best([timed(r_cmd + ["@" + empty], env) for _ in range(3)])
        a_best, r_best = best(a_runs), best(r_runs)
        a_eps = n / max(a_best[0] - a_load[0], 1e-3)
        r_eps = n / max(r_best[0] - r_load[0], 1e-3)
        ca, cr = counts(a_out, "rule_id"), counts(r_out, "rule_id")
        diff = sorted(k for k in set(ca) | set(cr) if ca[k] != cr[k])
        rows.append(
            {
                "name": name,
                "events": n,
                "a_eps": a_eps,
                "r_eps": r_eps,
                "a_load": a_load,
                "r_load": r_load,
                "a_rss": a_best[1],
                "r_rss": r_best[1],
                "matches": (sum(ca.values()), sum(cr.values())),
                "diff": [(k, ca[k], cr[k]) for k in diff],
            }
        )
    lines = [
        "| workload | events | aisigma ev/s | rsigma ev/s | aisigma ÷ rsigma | load aisigma | load rsigma | peak RSS aisigma | peak RSS rsigma | matches (aisigma / rsigma) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        same = "identical" if not r["diff"] else f"{len(r['diff'])} rules differ"
        lines.append(
            f"| {r['name']} | {r['events']:,} | {r['a_eps']:,.0f} | {r['r_eps']:,.0f} | "
            f"{r['a_eps'] / r['r_eps']:.2f}× | {r['a_load'][0]:.2f} s, {r['a_load'][1] / 1024:.0f} MB | "
            f"{r['r_load'][0]:.2f} s, {r['r_load'][1] / 1024:.0f} MB | {r['a_rss'] / 1024:.0f} MB | "
            f"{r['r_rss'] / 1024:.0f} MB | {r['matches'][0]:,} / {r['matches'][1]:,}, {same} |"
        )
    for r in rows:
        for k, a, b in r["diff"][:20]:
            lines.append(f"\n- {r['name']}: rule `{k}` matched {a} events in aisigma, {b} in rsigma")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "peers.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
