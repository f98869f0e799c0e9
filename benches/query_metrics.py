#!/usr/bin/env python3
"""How native and how long aisigma's compiled queries are, per target, against pySigma.

Usage: query_metrics.py AISIGMA_BIN PYSIGMA_PYTHON RULES_DIR [RULES_DIR...]

For every rule directory (the SigmaHQ `rules/` tree, aisigma's `rules/`), and every target,
compiles the rules with `aisigma compile --format json` and (for spl, kql, eql, lucene, esql)
converts them with pySigma rule by rule, then prints a markdown table per directory:

- regex %: the compiled queries that use a regex operator, among the rules that use no `re`
  modifier (SPL `mvfind(`/`match(`/`| regex`, KQL `matches regex`, EQL `regex`/`regex~`,
  ES|QL `RLIKE`, Lucene `/.../`, YARA-L `= /.../` or `re.regex`);
- SPL base search %: SPL queries whose base search filters on a field term (not only index,
  sourcetype and source);
- length ratio: mean over the rules both compile of aisigma's condition length divided by
  pySigma's (for a rule pySigma turns into several queries, their total). The condition is
  the query without its data selection, which pySigma leaves to a processing pipeline:
  `search index=... sourcetype=...` (SPL), `Table | where` (KQL), `any where` (EQL),
  `FROM ... | WHERE` (ES|QL). The ratio of whole queries is printed too.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

TARGETS = ["spl", "kql", "eql", "lucene", "esql", "yaral"]
REGEX_OP = {
    "spl": re.compile(r"mvfind\(|(?<![a-z])match\(|\| regex "),
    "kql": re.compile(r"matches regex"),
    "eql": re.compile(r" regex~? "),
    "esql": re.compile(r" RLIKE "),
    "lucene": re.compile(r":/"),
    "yaral": re.compile(r"= /|re\.regex\("),
}


def rules_using_re(directory):
    """Ids of rules with an `re` modifier anywhere in their detection."""
    ids = set()
    pat = re.compile(r"\|re(\||:|\s)")
    for root, _, files in os.walk(directory):
        for f in files:
            if not f.endswith((".yml", ".yaml")):
                continue
            text = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
            m = re.search(r"^id:\s*([0-9a-fA-F-]+)", text, re.M)
            if m and pat.search(text):
                ids.add(m.group(1).lower())
    return ids


def aisigma(binary, target, directory):
    out = subprocess.run(
        [binary, "compile", "--format", "json", "--target", target, directory],
        capture_output=True,
        text=True,
    ).stdout
    queries = {}
    for line in out.splitlines():
        v = json.loads(line)
        if "query" in v and v.get("id"):
            queries[v["id"].lower()] = v["query"]
    return queries


PYSIGMA = r'''
import json, sys
from sigma.collection import SigmaCollection
target, directory = sys.argv[1], sys.argv[2]
if target == "spl":
    from sigma.backends.splunk import SplunkBackend as B
elif target == "kql":
    from sigma.backends.kusto import KustoBackend as B
elif target == "eql":
    from sigma.backends.elasticsearch import EqlBackend as B
elif target == "lucene":
    from sigma.backends.elasticsearch import LuceneBackend as B
elif target == "esql":
    from sigma.backends.elasticsearch import ESQLBackend as B
be = B(collect_errors=True)
rules = SigmaCollection.load_ruleset([directory], collect_errors=True)
out = {}
for rule in rules.rules:
    try:
        qs = be.convert_rule(rule)
    except Exception:
        continue
    if rule.id and qs:
        out[str(rule.id).lower()] = [str(q) for q in qs]
print(json.dumps(out))
'''


def pysigma(python, target, directory):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PYSIGMA)
        script = f.name
    try:
        out = subprocess.run(
            [python, script, target, directory], capture_output=True, text=True
        ).stdout
        return json.loads(out) if out.strip() else {}
    finally:
        os.unlink(script)


def condition(target, query):
    """The query without its data selection (see the module documentation)."""
    if target == "spl":
        q = re.sub(r"^search\s+", "", query)
        q = re.sub(r'\b(index|sourcetype|source)=("[^"]*"|\S+)\s*', "", q, count=3)
        return re.sub(r"^\|\s*where\s+", "", q.strip())
    if target == "kql":
        return re.sub(r"^[A-Za-z0-9_]+\s*\|\s*where\s+", "", query)
    if target == "eql":
        return re.sub(r"^any where ", "", query)
    if target == "esql":
        return re.sub(r"^from .*? \| where ", "", query, flags=re.I)
    return query


def base_search_filters(query):
    """True if an SPL query's base search has a term beyond index, sourcetype and source."""
    search = query.split(" | ", 1)[0]
    if not search.startswith("search "):
        return False
    rest = re.sub(r'\b(index|sourcetype|source)=("[^"]*"|\S+)', "", search[len("search ") :])
    return bool(rest.strip())


def main():
    binary, python, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
    for directory in dirs:
        with_re = rules_using_re(directory)
        print(f"\n### {directory}\n")
        print("| target | queries | regex % (rules without `re`) | SPL base search % | condition length vs pySigma |")
        print("|---|---|---|---|---|")
        for target in TARGETS:
            ours = aisigma(binary, target, directory)
            plain = {k: q for k, q in ours.items() if k not in with_re}
            regex = sum(1 for q in plain.values() if REGEX_OP[target].search(q))
            regex_pct = 100.0 * regex / max(1, len(plain))
            base = "-"
            if target == "spl":
                n = sum(1 for q in ours.values() if base_search_filters(q))
                base = f"{100.0 * n / max(1, len(ours)):.1f}%"
            ratio = "-"
            if target != "yaral" and python != "-":
                theirs = pysigma(python, target, directory)
                both = [k for k in ours if k in theirs]
                if both:
                    def ratio_of(f):
                        r = [len(f(ours[k])) / max(1, sum(len(f(q)) for q in theirs[k])) for k in both]
                        return sum(r) / len(r)
                    cond = ratio_of(lambda q: condition(target, q))
                    whole = ratio_of(lambda q: q)
                    ratio = f"{cond:.2f}x (whole queries {whole:.2f}x; {len(both)} rules)"
            print(f"| {target} | {len(ours)} | {regex_pct:.1f}% ({regex}/{len(plain)}) | {base} | {ratio} |")


if __name__ == "__main__":
    main()
