#!/usr/bin/env python3
"""Lucene conformance: aisigma's compiled Lucene queries, executed by real Lucene 9.

Runs every query through LuceneOracle.java (Apache Lucene 9.9.1 classic QueryParser with
Elasticsearch `query_string` semantics on keyword / double / ip / boolean fields), on the
events the rule's own tests hold, and compares with the verdict aisigma's engine must give.

Usage:
  lucene_oracle.py AISIGMA_BIN --classpath CP < compiled.jsonl
      compiled.jsonl = `aisigma compile --target lucene --format json` output. For each rule:
      the query must parse; each `tests: match` event must be a hit, each `no_match` event
      not. Rules under tests/fixtures/sigmahq_regression are run on SigmaHQ's regression events
      (events.jsonl) and must match at least expected.json's `match_count` of them.
  lucene_oracle.py AISIGMA_BIN --classpath CP --cases FILE
      FILE = JSON Lines {"id", "query", "events": [...], "expect": [bool, ...]} (generated
      differential cases); each event's verdict must equal `expect`.
  lucene_oracle.py --classpath CP --selftest FILE
      FILE = JSON Lines {"id", "query", "docs", "types"?, "expect": [hit, ...] | "error"}:
      checks the oracle itself.
The classpath may also come from $LUCENE_ORACLE_CLASSPATH. Prints counts, lists every
disagreement and error; exits 1 on any.

Events are flattened the way aisigma's engine reads them: nested objects and dotted keys both
give dotted paths, a list of objects spreads its fields over the path, nested lists are
flattened, nulls (and NaN / infinities, which JSON cannot hold) are dropped. Field types: the
schema's (`AISIGMA_BIN schema --format json`): int/float -> double, bool -> boolean, ip -> ip,
others keyword; a field the schema does not know is double if it holds a JSON number, boolean
if it holds a JSON boolean, else keyword. YAML is read with the YAML 1.2 core schema, as
aisigma reads it (so `yes`, `0755`, `2024-01-01` stay strings).
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import yaml


# ---------------------------------------------------------------- YAML 1.2 core schema


class CoreLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader with YAML 1.2 core-schema scalar resolution (as src/syntax/yaml.rs)."""


CoreLoader.yaml_implicit_resolvers = {}
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$"), list("-+0123456789"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))

I64 = (-(1 << 63), (1 << 63) - 1)


def _core_int(loader, node):
    s = loader.construct_scalar(node)
    if s.startswith("0x"):
        v = int(s[2:], 16)
    elif s.startswith("0o"):
        v = int(s[2:], 8)
    else:
        v = int(s)
        return v if I64[0] <= v <= I64[1] else float(s)
    return v if v <= I64[1] else s  # aisigma: an out-of-range hex/octal literal stays a string


def _core_float(loader, node):
    s = loader.construct_scalar(node)
    t = s.lstrip("+-").lower()
    if t == ".inf":
        return float("-inf") if s.startswith("-") else float("inf")
    if t == ".nan":
        return float("nan")
    return float(s)


def _core_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _core_float)
CoreLoader.add_constructor("tag:yaml.org,2002:bool", _core_bool)


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=CoreLoader) if isinstance(d, dict)]


# ---------------------------------------------------------------- events and types


def key_text(k):
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def flatten(event):
    """{"a": {"b": [1, [2]]}, "a.c": None} -> {"a.b": [1, 2]}."""
    out = {}

    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                k = key_text(k)
                walk(x, path + "." + k if path else k)
        elif isinstance(v, list):
            for x in v:
                walk(x, path)
        elif v is None or (isinstance(v, float) and not math.isfinite(v)):
            return
        elif path:
            if not isinstance(v, (str, bool, int, float)):
                v = str(v)
            out.setdefault(path, []).append(v)

    walk(event, "")
    return out


SCHEMA_KIND = {"int": "double", "float": "double", "bool": "boolean", "ip": "ip"}


def schema_types(aisigma_bin):
    """Field -> Lucene field kind, from `aisigma schema --format json` (aliases included)."""
    out = subprocess.run([aisigma_bin, "schema", "--format", "json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"lucene oracle: `{aisigma_bin} schema --format json` failed: {out.stderr.strip()}")
    kinds = {}

    def add(field, spec):
        t = (spec or {}).get("type", "string")
        kind = SCHEMA_KIND.get(t.removesuffix("[]"), "keyword")
        if kinds.get(field, kind) != kind and "ip" in (kinds[field], kind):
            kind = "ip"
        kinds[field] = kind

    schemas = json.loads(out.stdout)
    for s in schemas:
        for field, spec in (s.get("envelope") or {}).items():
            add(field, spec)
        for cat in (s.get("categories") or {}).values():
            for field, spec in (cat.get("fields") or {}).items():
                add(field, spec)
    for s in schemas:
        for alias, spec in (s.get("aliases") or {}).items():
            target = (spec or {}).get("to")
            if target in kinds and alias not in kinds:
                kinds[alias] = kinds[target]
    return kinds


def field_types(docs, schema, query=""):
    # Schema fields the query names get their type even when no event holds them, so the
    # oracle refuses what Elasticsearch would refuse (say `n:abc` on a numeric field).
    types = {f: t for f, t in schema.items() if t != "keyword" and f in query}
    for d in docs:
        for field, values in d.items():
            if field in schema:
                types[field] = schema[field]
                continue
            for v in values:
                if isinstance(v, bool):
                    types.setdefault(field, "boolean")
                elif isinstance(v, (int, float)):
                    types[field] = "double"
    return {f: t for f, t in types.items() if t != "keyword"}


def request(rid, query, events, schema):
    docs = [flatten(e) if isinstance(e, dict) else {} for e in events]
    return {"id": rid, "query": query, "docs": docs, "types": field_types(docs, schema, query), "explain": True}


# ---------------------------------------------------------------- the Java oracle


def run_oracle(classpath, requests):
    """Send every request to one JVM; return the answers in order."""
    if not requests:
        return []
    java = os.environ.get("JAVA", "java")
    payload = "".join(json.dumps(r, ensure_ascii=True, allow_nan=False) + "\n" for r in requests)
    t0 = time.monotonic()
    proc = subprocess.run([java, "-cp", classpath, "LuceneOracle"], input=payload.encode("ascii"),
                          capture_output=True)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"lucene oracle: java exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    answers = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
    if len(answers) != len(requests) or any(a.get("id") != r["id"] for a, r in zip(answers, requests)):
        sys.exit(f"lucene oracle: {len(requests)} requests but {len(answers)} answers (or out of order)")
    print(f"lucene oracle: {len(requests)} queries run in one JVM in {elapsed:.2f} s")
    return answers


def short(obj, limit=400):
    s = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


# ---------------------------------------------------------------- modes


def check_compiled(args, schema):
    reqs, jobs = [], []  # jobs: (kind, rec, events, expected)
    skipped = no_tests = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        if "error" in rec or "query" not in rec:
            skipped += 1
            continue
        rid = f"{len(reqs)}"
        path = rec["file"]
        if "sigmahq_regression/" in path:
            folder = os.path.dirname(path)
            with open(os.path.join(folder, "expected.json"), encoding="utf-8") as f:
                want = json.load(f)["match_count"]
            with open(os.path.join(folder, "events.jsonl"), encoding="utf-8") as f:
                events = [json.loads(l) for l in f if l.strip()]
            reqs.append(request(rid, rec["query"], events, schema))
            jobs.append(("regression", rec, events, want))
            continue
        docs = load_yaml_docs(path)
        doc = next((d for d in docs if rec.get("id") and str(d.get("id")) == rec["id"]), None)
        if doc is None:
            doc = next((d for d in docs if d.get("title") == rec.get("title")), None)
        tests = (doc or {}).get("tests") or {}
        match = tests.get("match") or [] if isinstance(tests, dict) else []
        no_match = tests.get("no_match") or [] if isinstance(tests, dict) else []
        # Raw records of a source ({source, record}) are the source packs' business (the
        # sources differential runs them in the integration's shape).
        match = [e for e in match if not (isinstance(e, dict) and set(e) == {"source", "record"})]
        no_match = [e for e in no_match if not (isinstance(e, dict) and set(e) == {"source", "record"})]
        events = list(match) + list(no_match)
        expected = [True] * len(match) + [False] * len(no_match)
        if not events:
            no_tests += 1
            reqs.append({"id": rid, "query": rec["query"], "types": field_types([], schema, rec["query"])})  # parse only
            jobs.append(("parse", rec, [], None))
            continue
        reqs.append(request(rid, rec["query"], events, schema))
        jobs.append(("rule", rec, events, expected))

    answers = run_oracle(args.classpath, reqs)
    rules = events_checked = regression = regression_events = 0
    errors, disagreements, known = [], [], []
    too_complex = known_too_complex()
    for (kind, rec, events, expected), ans in zip(jobs, answers):
        if rec.get("id") in too_complex:
            if "TooComplexToDeterminize" in ans.get("error", ""):
                known.append(rec.get("id"))
                continue
            errors.append(f"{rec['file']} ({rec.get('id')}): listed in too_complex.txt but Lucene "
                          f"determinizes it now; remove it from the list")
        if "error" in ans:
            errors.append(f"{rec['file']} ({rec.get('id')}): {short(ans['error'], 600)}\n  query: {short(rec['query'], 2000)}")
            continue
        if kind == "parse":
            continue
        hits = set(ans["hits"])
        if kind == "regression":
            regression += 1
            regression_events += len(events)
            if len(hits) < expected:
                disagreements.append(f"{rec['file']} ({rec.get('id')}): Lucene matches {len(hits)} regression events, "
                                     f"SigmaHQ expects {expected}\n  query: {short(rec['query'], 2000)}")
            continue
        rules += 1
        for i, (event, want) in enumerate(zip(events, expected)):
            events_checked += 1
            got = i in hits
            if got != want:
                n = i + 1 if want else i + 1 - expected.count(True)
                disagreements.append(
                    f"{rec['file']} ({rec.get('id')}): {'match' if want else 'no_match'} event {n}: "
                    f"aisigma says {want}, Lucene says {got}\n  query: {short(rec['query'], 2000)}\n  lucene: {short(ans.get('lucene', ''), 2000)}\n  event: {short(event)}")
    print(f"lucene oracle: {len(jobs)} queries ({skipped} refused rules skipped), {rules} rules executed on "
          f"{events_checked} test events, {no_tests} without tests checked by parse only, {regression} SigmaHQ rules "
          f"on {regression_events} regression events; {len(disagreements)} disagreements, {len(errors)} parse/execution errors, "
          f"{len(known)} known too complex to determinize (too_complex.txt)")
    report(disagreements, errors)
    return 1 if disagreements or errors or not jobs else 0


def known_too_complex():
    """Rule ids listed in too_complex.txt (first word of each non-comment line)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "too_complex.txt")
    with open(path, encoding="utf-8") as f:
        return {line.split()[0] for line in f if line.strip() and not line.startswith("#")}


def check_cases(args, schema):
    reqs, cases = [], []
    with open(args.cases, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            c = json.loads(line)
            events = c["events"]
            expect = c["expect"]
            if len(events) != len(expect):
                sys.exit(f"lucene oracle: case {c.get('id')}: {len(events)} events but {len(expect)} verdicts")
            # Generated cases may declare the Elasticsearch field types they assume
            # (e.g. {"ip": "ip"}: `cidr` needs an `ip` field).
            reqs.append(request(f"{len(reqs)}", c["query"], events, {**schema, **c.get("types", {})}))
            cases.append(c)
    answers = run_oracle(args.classpath, reqs)
    n_events = 0
    errors, disagreements = [], []
    for c, ans in zip(cases, answers):
        if "error" in ans:
            errors.append(f"case {c.get('id')}: {short(ans['error'], 600)}\n  query: {short(c['query'], 2000)}")
            continue
        hits = set(ans["hits"])
        for i, (event, want) in enumerate(zip(c["events"], c["expect"])):
            n_events += 1
            if (i in hits) != bool(want):
                disagreements.append(f"case {c.get('id')} event {i}: aisigma says {bool(want)}, Lucene says {i in hits}"
                                     f"\n  query: {short(c['query'], 2000)}\n  lucene: {short(ans.get('lucene', ''), 2000)}\n  event: {short(event)}")
    print(f"lucene differential: {len(cases)} generated queries, {n_events} events; "
          f"{len(disagreements)} disagreements, {len(errors)} parse/execution errors")
    report(disagreements, errors)
    return 1 if disagreements or errors or not cases else 0


def check_selftest(args):
    reqs, want = [], []
    with open(args.selftest, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("//"):
                t = json.loads(line)
                want.append(t.pop("expect"))
                reqs.append(t)
    answers = run_oracle(args.classpath, reqs)
    bad = []
    for r, w, a in zip(reqs, want, answers):
        got = "error" if "error" in a else a.get("hits", "parsed")
        if got != w:
            bad.append(f"selftest {r['id']}: want {w}, got {a}\n  query: {r['query']}")
    print(f"lucene oracle selftest: {len(reqs)} probes, {len(bad)} wrong")
    report(bad, [])
    return 1 if bad or not reqs else 0


def report(disagreements, errors):
    for d in disagreements:
        print("DISAGREE", d)
    for e in errors:
        print("ERROR", e)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("aisigma_bin", nargs="?", help="aisigma binary (for `schema --format json`)")
    ap.add_argument("--classpath", default=os.environ.get("LUCENE_ORACLE_CLASSPATH"),
                    help="Lucene 9 jar and the compiled LuceneOracle class")
    ap.add_argument("--cases", help="JSON Lines of generated differential cases")
    ap.add_argument("--selftest", help="JSON Lines of oracle probes with expected hits")
    args = ap.parse_args()
    if not args.classpath:
        ap.error("--classpath (or $LUCENE_ORACLE_CLASSPATH) is required")
    if args.selftest:
        sys.exit(check_selftest(args))
    if not args.aisigma_bin:
        ap.error("AISIGMA_BIN is required")
    schema = schema_types(args.aisigma_bin)
    sys.exit(check_cases(args, schema) if args.cases else check_compiled(args, schema))


if __name__ == "__main__":
    main()
