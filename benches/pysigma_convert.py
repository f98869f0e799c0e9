#!/usr/bin/env python3
"""Convert Sigma rules with pySigma, the reference converter, for the compile benchmark.

Usage: pysigma_convert.py TARGET PATH...   (TARGET: spl, lucene, eql, esql, kql)

Loads every rule under the paths into one SigmaCollection (errors collected, not raised),
converts it rule by rule with the target's backend (errors counted) and prints one JSON line:
{"target", "rules", "queries", "errors"}. The benchmark times the whole process, as it times
`aisigma compile`, so both include start-up and reading the files.
"""

import json
import sys

from sigma.collection import SigmaCollection


def backend(target):
    if target == "spl":
        from sigma.backends.splunk import SplunkBackend

        return SplunkBackend(collect_errors=True)
    if target == "lucene":
        from sigma.backends.elasticsearch import LuceneBackend

        return LuceneBackend(collect_errors=True)
    if target == "eql":
        from sigma.backends.elasticsearch import EqlBackend

        return EqlBackend(collect_errors=True)
    if target == "esql":
        from sigma.backends.elasticsearch import ESQLBackend

        return ESQLBackend(collect_errors=True)
    if target == "kql":
        from sigma.backends.kusto import KustoBackend

        return KustoBackend(collect_errors=True)
    raise SystemExit(f"unknown target {target}")


def main():
    target, paths = sys.argv[1], sys.argv[2:]
    be = backend(target)
    rules = SigmaCollection.load_ruleset(paths, collect_errors=True)
    # Rule by rule, as the backend's own `convert` does, so that a backend that raises a
    # plain exception (the Kusto backend does for field references) loses one rule, not all.
    queries, failed = 0, 0
    for rule in rules.rules:
        try:
            queries += len(be.convert_rule(rule))
        except Exception:  # noqa: BLE001 - any failure counts against the rule
            failed += 1
    print(
        json.dumps(
            {
                "target": target,
                "rules": len(rules.rules),
                "queries": queries,
                "errors": len(be.errors) + failed,
            }
        )
    )


if __name__ == "__main__":
    main()
