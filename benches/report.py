#!/usr/bin/env python3
"""Format the measurements of benches/run.sh as the README's Markdown tables.

Usage: report.py RESULTS.tsv EVENTS BYTES CORES OUT_DIR
"""

import collections
import json
import sys


def main():
    path, events, size, cores, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    mb = size / 1e6
    print(f"Workload: {events:,} events from `aisigma gen-events` ({mb:.0f} MB, {size / events:.0f} bytes per event), "
          f"{cores} cores.\n")
    print("| scan | worker threads | wall s | events/s | MB/s | events per CPU-second | peak RSS MB | matches |")
    print("|---|---|---|---|---|---|---|---|")
    scan = {}
    for r in rows:
        if r[0] != "scan":
            continue
        n, threads, wall, user, sys_, rss, matches = r[1], r[2], float(r[3]), float(r[4]), float(r[5]), int(r[6]), int(r[7])
        scan[(n, threads)] = wall
        label = f"{n} rules" + (" (library)" if n == "15" else " (generated)")
        print(f"| {label} | {threads} | {wall:.2f} | {events / wall:,.0f} | {mb / wall:,.0f} | "
              f"{events / (user + sys_):,.0f} | {rss / 1024:.0f} | {matches:,} |")
    print()
    print("| same rules in DuckDB | threads | DuckDB s | DuckDB events/s | aisigma s | aisigma is faster by | match counts |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r[0] != "duckdb":
            continue
        n, threads, file = r[1], r[2], r[3]
        d = json.load(open(file))
        ours = collections.Counter(json.loads(l)["rule_id"] for l in open(f"{out}/scan{n}-{threads}.jsonl"))
        differ = sum(1 for k, v in d["counts"].items() if ours.get(k, 0) != v)
        agree = "identical" if differ == 0 else f"{differ} rules differ"
        a = scan[(n, threads)]
        print(f"| {n} rules | {threads} | {d['seconds']:.2f} | {events / d['seconds']:,.0f} | {a:.2f} | "
              f"{d['seconds'] / a:.1f}x | {agree} ({sum(d['counts'].values()):,} matches) |")
    print()
    for r in rows:
        if r[0] == "stream":
            n, (wall, user, sys_, rss) = int(r[1]), r[2].split()
            print(f"Unbounded stream (`gen-events --count {n:,} | aisigma scan --rules rules -`): "
                  f"peak RSS {int(rss) / 1024:.0f} MB, {n / float(wall):,.0f} events/s.\n")
    comp = [r for r in rows if r[0] == "compile"]
    if comp:
        print("| SigmaHQ corpus | aisigma s | queries | pySigma s | pySigma queries | aisigma is faster by |")
        print("|---|---|---|---|---|---|")
        for r in comp:
            target, wall, q, pwall, pq = r[1], float(r[2]), r[3], r[4], json.loads(r[5])
            if pwall == "-":
                print(f"| {target} | {wall:.2f} | {q} | no pySigma backend | - | - |")
            else:
                print(f"| {target} | {wall:.2f} | {q} | {float(pwall):.2f} | {pq.get('queries', '?')} | "
                      f"{float(pwall) / wall:.0f}x |")
        for r in rows:
            if r[0] == "check":
                print(f"\n`aisigma check` of the corpus: {float(r[1]):.2f} s.")


if __name__ == "__main__":
    main()
