#!/usr/bin/env python3
"""Replay generated cases (tests/eql_differential.rs) through Elastic's `eql` engine.

Each input line holds an EQL query, one event and aisigma's verdict; eql's Python engine
must agree. Prints the number of cases and disagreements; exits 1 on any disagreement.
"""
import json
import sys

import eql
from eql.parser import elasticsearch_syntax, ignore_missing_fields

import es_semantics_eql  # noqa: F401 - gives eql's engine Elasticsearch's string semantics


def main():
    cases = 0
    disagreements = []
    parsed = {}
    for line in open(sys.argv[1]):
        rec = json.loads(line)
        q = rec["query"]
        if q not in parsed:
            with ignore_missing_fields, elasticsearch_syntax:
                parsed[q] = eql.parse_query(q)
        engine = eql.PythonEngine({"time_unit": 1000})
        engine.add_query(parsed[q])
        hits = []
        engine.add_output_hook(hits.append)
        engine.stream_events([eql.Event.from_data(dict(rec["event"], event_type="generic", timestamp=cases))])
        cases += 1
        if bool(hits) != rec["verdict"]:
            disagreements.append(rec)
    print(f"eql differential: {len(parsed)} generated rules, {cases} cases, {len(disagreements)} disagreements")
    for d in disagreements[:10]:
        print("DISAGREE aisigma", d["verdict"], "eql", not d["verdict"])
        print("  query:", d["query"])
        print("  event:", json.dumps(d["event"]))
    sys.exit(1 if disagreements or cases == 0 else 0)


if __name__ == "__main__":
    main()
