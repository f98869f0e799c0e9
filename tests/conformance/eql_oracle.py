#!/usr/bin/env python3
"""EQL conformance: aisigma's compiled EQL against Elastic's `eql` package (PyPI).

For every rule compiled with `aisigma compile --target eql --format json` (read on stdin):
  1. the query must parse in Elasticsearch syntax mode (`eql.parser.elasticsearch_syntax`);
  2. each of the rule's test events (its `tests: match / no_match` lists, which aisigma's own
     engine passes) is run through eql's Python engine, and the verdict must equal the
     expected one.
es_semantics_eql.py gives eql's Python engine Elasticsearch's string semantics (case-sensitive
`==`/`in`/`like`/`regex`, ASCII folding for `:`/`in~`/`like~`/`regex~`, `?` wildcards, Lucene
regexes on the whole value). eql does not model multi-valued fields (in Elasticsearch a
predicate on an array field holds if any value satisfies it), so events holding a list are
checked by parse only.
Rules from tests/fixtures/sigmahq_regression are run on SigmaHQ's regression events instead,
and must match at least as many of them as SigmaHQ's own runner counts.
Prints counts; exits 1 on any failure.
"""
import json
import sys

import eql
import yaml
from eql.parser import elasticsearch_syntax, ignore_missing_fields

import es_semantics_eql  # noqa: F401 - gives eql's engine Elasticsearch's string semantics




def raw_record(event):
    """A rule test event written as a raw record of a source pack ({source, record})."""
    return isinstance(event, dict) and set(event) == {"source", "record"}


def nest(flat):
    """{"a.b": 1} -> {"a": {"b": 1}}; None if a key is both a value and a parent."""
    out = {}
    for key in sorted(flat, key=lambda k: k.count(".")):
        parts = key.split(".")
        cur = out
        for p in parts[:-1]:
            nxt = cur.setdefault(p, {})
            if not isinstance(nxt, dict):
                return None
            cur = nxt
        if parts[-1] in cur:
            return None
        cur[parts[-1]] = flat[key]
    return out


def run(query, event, i):
    """Does eql's Python engine match one event?"""
    event = dict(event, event_type="generic", timestamp=i)
    engine = eql.PythonEngine({"time_unit": 1000})
    with ignore_missing_fields, elasticsearch_syntax:
        engine.add_query(eql.parse_query(query))
    hits = []
    engine.add_output_hook(hits.append)
    engine.stream_events([eql.Event.from_data(event)])
    return bool(hits)


def ms(ts):
    """Milliseconds since the epoch of an RFC 3339 timestamp."""
    from datetime import datetime, timezone
    return int(datetime.fromisoformat(str(ts).replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() * 1000)


def expand(entries):
    """A correlation test's events, with `{repeat, every, event}` expanded, in time order."""
    units = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    out = []
    for e in entries:
        if "repeat" in e:
            every = str(e.get("every", "0s"))
            unit = every.lstrip("0123456789")
            step = int(every[: len(every) - len(unit)] or 0) * units[unit or "s"]
            t0 = ms(e["event"]["@timestamp"])
            out += [(t0 + i * step, e["event"]) for i in range(int(e["repeat"]))]
        else:
            out.append((ms(e["@timestamp"]), e))
    return sorted(out, key=lambda x: x[0])


def run_sequence(query, timed):
    """The alert times of a `sequence` query over timestamped events."""
    engine = eql.PythonEngine({"time_unit": 1000})
    with ignore_missing_fields, elasticsearch_syntax:
        engine.add_query(eql.parse_query(query))
    hits = []
    engine.add_output_hook(hits.append)
    stream = []
    for t, e in timed:
        nested = nest({k: v for k, v in e.items() if k != "@timestamp"})
        stream.append(eql.Event("generic", t, nested))
    engine.stream_events(stream)
    return [h.events[-1].time for h in hits]


def main():
    parsed = executed = events = skipped_events = regression = regression_events = 0
    correlations = sequence_cases = 0
    failures = []
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        if "error" in rec:
            continue
        query = rec["query"]
        try:
            with ignore_missing_fields, elasticsearch_syntax:
                ast = eql.parse_query(query)
        except Exception as e:  # noqa: BLE001 - any parser error is a failure
            failures.append(f"{rec['file']}: does not parse: {type(e).__name__}: {str(e).splitlines()[0]}\n  {query}")
            continue
        parsed += 1
        if "sigmahq_regression/" in rec["file"]:
            regression += 1
            folder = rec["file"].rsplit("/", 1)[0]
            want = json.load(open(folder + "/expected.json"))["match_count"]
            evs = [json.loads(l) for l in open(folder + "/events.jsonl")]
            got = sum(run(query, e, i) for i, e in enumerate(evs))
            regression_events += len(evs)
            if got < want:
                failures.append(f"{rec['file']}: eql matches {got} regression events, SigmaHQ expects {want}\n  {query}")
            continue
        doc = list(yaml.safe_load_all(open(rec["file"])))
        doc = next(d for d in doc if isinstance(d, dict) and d.get("title") == rec["title"])
        if "correlation" in rec:
            # A compiled `sequence`: each of the correlation's test cases must raise its
            # expected alerts (count and times).
            correlations += 1
            for case in doc.get("tests") or []:
                want = case.get("alerts", 0)
                want_times = None if isinstance(want, int) else [ms(a["timestamp"]) for a in want if "timestamp" in a]
                want_n = want if isinstance(want, int) else len(want)
                got = run_sequence(query, expand(case.get("events") or []))
                sequence_cases += 1
                if len(got) != want_n or (want_times is not None and len(want_times) == want_n and got != want_times):
                    failures.append(f"{rec['file']}: case `{case.get('name')}`: eql raises alerts at {got}, the test expects {want}\n  {query}")
            continue
        tests = doc.get("tests") or {}
        # Raw records of a source ({source, record}) are the source packs' business: the
        # sources differential runs them in the integration's shape.
        cases = [(e, True) for e in tests.get("match", []) if not raw_record(e)] + \
            [(e, False) for e in tests.get("no_match", []) if not raw_record(e)]
        if not cases:
            continue
        executed += 1
        for i, (event, expected) in enumerate(cases):
            nested = nest(event)
            if nested is None or any(isinstance(v, list) for v in event.values()):
                skipped_events += 1
                continue
            events += 1
            got = run(query, nested, i)
            if got != expected:
                failures.append(f"{rec['file']}: event {i + 1} ({'match' if expected else 'no_match'}): eql says {got}\n  {query}\n  {event}")
    print(f"eql oracle: {parsed} queries parsed, {executed} executed on {events} test events ({skipped_events} events with lists or clashing keys checked by parse only), {correlations} sequences run on {sequence_cases} correlation test cases, {regression} SigmaHQ rules run on {regression_events} regression events, {len(failures)} failures")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures or parsed == 0 else 0)


if __name__ == "__main__":
    main()
