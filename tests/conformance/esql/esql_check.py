#!/usr/bin/env python3
"""ES|QL conformance: check queries with Elastic's offline ES|QL parser and analyzer.

Uses `detection-rules-esql-py` (PyPI, module `esql`; Python >= 3.12), the package Elastic's
detection-rules repository validates its ES|QL rules with. It checks syntax (ANTLR grammars
vendored from elasticsearch), function names and arity, field names and types against a schema.
It does not execute queries. On top of the package, this script checks three things that
Elasticsearch rejects and the package lets through: LIKE patterns with an invalid escape
(`LIKE "a\\b"`, see like_pattern_errors), constant DATE_EXTRACT parts that are not ChronoField
names, and functions newer than the checked stack line (FUNCTION_SINCE).

Input, JSON Lines on stdin, one query per line, in either shape:
  {"id": "q1", "query": "FROM logs-* | WHERE ...", "schema": {"field.name": "keyword", ...}}
  {"file": ..., "id": ..., "title": ..., "target": "esql", "query": ...}    (aisigma compile --format json)
  {"file": ..., "id": ..., "error": {...}}                                    (refused by aisigma: skipped)
A line may carry "expect": "reject" (self-tests of the oracle): it then counts as passed if the
oracle rejects it and as a failure if it accepts it.
"schema" is optional: a line without one uses --schema / --aisigma-schema, and with neither
only syntax and the function catalog are checked (unknown fields are then not reported).
Schema types are ES field types: keyword, text, long, integer, double, boolean, ip, date, ...

Options:
  --schema FILE          flat JSON {"field": "es_type"} used for lines without "schema"
  --aisigma-schema FILE  output of `aisigma schema --format json`; aisigma types are mapped
                         (string/string[]/json -> keyword, int/int[] -> long, float -> double,
                         bool -> boolean, ip -> ip, timestamp -> date); `@timestamp` is added
  --stack V1,V2,...      Elasticsearch grammar lines to check every query against
                         (default 8.19.0,9.5.0: the oldest and newest numbered lines the package
                         vendors; `latest` = elasticsearch main). The package has a function
                         catalog only for 9.5, so functions on older lines are checked against
                         the 9.5 catalog: a function newer than 8.19 is caught only if it is
                         listed in FUNCTION_SINCE.
  --rule-shape           also apply Elastic detection-rules' packaging checks
                         (METADATA _id, _version, _index and a KEEP keeping them)
  --quiet                print only errors and the summary

Prints one line per rejected query (with the oracle's message) and a summary. Exit status:
0 if every query passed, 1 if any was rejected (or the oracle crashed on it), 2 on bad usage.
A RecursionError (the ANTLR Python runtime on very deep expressions, e.g. OR chains of many
thousand terms; the recursion limit is raised to 60000) is an oracle limit, reported
separately and not counted as a failure.
"""
import argparse
import json
import sys


try:
    import esql
    from esql.utils import ParserConfig
except ImportError as exc:  # pragma: no cover - environment problem
    print(f"esql_check: cannot import `esql` (pip install detection-rules-esql-py): {exc}", file=sys.stderr)
    sys.exit(2)

AISIGMA_TYPES = {
    "string": "keyword",
    "string[]": "keyword",
    "json": "keyword",
    "int": "long",
    "int[]": "long",
    "float": "double",
    "float[]": "double",
    "bool": "boolean",
    "ip": "ip",
    "ip[]": "ip",
    "timestamp": "date",
}


def schema_from_aisigma(doc):
    """`aisigma schema --format json` (a list of schema objects) -> flat {field: es_type}."""
    fields = {"@timestamp": "date"}
    unknown = set()
    docs = doc if isinstance(doc, list) else [doc]

    def add(name, spec):
        t = spec.get("type") if isinstance(spec, dict) else spec
        es = AISIGMA_TYPES.get(t)
        if es is None:
            unknown.add(t)
            return
        fields[name] = es

    for d in docs:
        for name, spec in (d.get("envelope") or {}).items():
            add(name, spec)
        for cat in (d.get("categories") or {}).values():
            for name, spec in (cat.get("fields") or {}).items():
                add(name, spec)
    if unknown:
        print(f"esql_check: aisigma types with no ES|QL mapping (fields skipped): {sorted(map(str, unknown))}",
              file=sys.stderr)
    return fields


# --- LIKE pattern check -------------------------------------------------------------------
# The offline package does not validate LIKE patterns, but Elasticsearch does when it builds the
# pattern (WildcardPattern's constructor calls StringUtils.wildcardToJavaPattern(pattern, '\\'),
# x-pack/plugin/esql-core/.../predicate/regex/WildcardPattern.java): after the string literal is
# unquoted, a backslash must be followed by `*`, `?` or another backslash, and may not end the
# pattern ("Invalid sequence - escape character is not followed by special wildcard char").

def _unquote(raw):
    """ES|QL string literal text -> value (AbstractBuilder.unquote): triple-quoted strings are
    raw; in "..." only \\t \\n \\r \\" \\\\ are escapes (the lexer rejects any other)."""
    if raw.startswith('"""'):
        return raw[3:-3]
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append({"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _tokens(query):
    """Minimal ES|QL tokenizer: yields (kind, text) with kind in word/string/punct; skips
    comments, whitespace and `quoted identifiers`."""
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif query.startswith("//", i):
            j = query.find("\n", i)
            i = n if j < 0 else j
        elif query.startswith("/*", i):
            j = query.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "`":
            j = i + 1
            while j < n:
                if query[j] == "`" and query.startswith("``", j):
                    j += 2
                elif query[j] == "`":
                    break
                else:
                    j += 1
            i = j + 1
        elif query.startswith('"""', i):
            j = query.find('"""', i + 3)
            if j < 0:
                return
            j += 3
            for _ in range(2):  # the grammar lets up to two more quotes close the string
                if j < n and query[j] == '"':
                    j += 1
            yield "string", query[i:j]
            i = j
        elif c == '"':
            j = i + 1
            while j < n and query[j] != '"':
                j += 2 if query[j] == "\\" else 1
            yield "string", query[i:j + 1]
            i = j + 1
        elif c.isalnum() or c in "_@.":
            j = i
            while j < n and (query[j].isalnum() or query[j] in "_@."):
                j += 1
            yield "word", query[i:j]
            i = j
        else:
            yield "punct", c
            i += 1


# Functions newer than the oldest grammar line, which the package does not gate (it checks
# names against the 9.5 catalog on every line). Versions from the `applies_to` blocks of
# elastic/elasticsearch docs/reference/query-languages/esql/_snippets/functions/layout/*.md.
FUNCTION_SINCE = {
    "mv_contains": (9, 2),  # "stack: preview 9.2.0"
}


def _version(stack):
    if stack.lower() in ("latest", "main", "master"):
        return (99, 0)
    parts = [int(p) for p in stack.split(".")[:2] if p.isdigit()]
    return tuple(parts + [0] * (2 - len(parts)))


def function_version_errors(query, stack):
    toks = list(_tokens(query))
    errors = []
    for k, (kind, text) in enumerate(toks[:-1]):
        since = FUNCTION_SINCE.get(text.lower()) if kind == "word" else None
        if since and toks[k + 1] == ("punct", "(") and _version(stack) < since:
            errors.append(f"{text.upper()}() exists only from Elasticsearch {since[0]}.{since[1]} (checked stack {stack})")
    return errors


# DATE_EXTRACT's first argument, when constant, must name a java.time ChronoField; otherwise
# Elasticsearch fails the query ("invalid date field for [...]", DateExtract.toEvaluator). List
# from the function's @Param description (docs/.../functions/parameters/date_extract.md).
DATE_PARTS = frozenset("""aligned_day_of_week_in_month aligned_day_of_week_in_year aligned_week_of_month
    aligned_week_of_year ampm_of_day clock_hour_of_ampm clock_hour_of_day day_of_month day_of_week
    day_of_year epoch_day era hour_of_ampm hour_of_day instant_seconds micro_of_day micro_of_second
    milli_of_day milli_of_second minute_of_day minute_of_hour month_of_year nano_of_day nano_of_second
    offset_seconds proleptic_month second_of_day second_of_minute year year_of_era""".split())


def date_part_errors(query):
    toks = list(_tokens(query))
    errors = []
    for k in range(len(toks) - 2):
        if toks[k][0] == "word" and toks[k][1].lower() == "date_extract" and toks[k + 1] == ("punct", "(") \
                and toks[k + 2][0] == "string":
            part = _unquote(toks[k + 2][1])
            if part.lower() not in DATE_PARTS:
                errors.append(f"DATE_EXTRACT date part {part!r} is not a ChronoField name (e.g. hour_of_day)")
    return errors


def like_pattern_errors(query):
    """Messages for LIKE patterns that Elasticsearch would reject."""
    toks = list(_tokens(query))
    errors = []
    for k, (kind, text) in enumerate(toks):
        if kind != "word" or text.lower() != "like":
            continue
        patterns = []
        rest = toks[k + 1:]
        if rest and rest[0][0] == "string":
            patterns = [rest[0][1]]
        elif rest and rest[0] == ("punct", "("):
            for kind2, text2 in rest[1:]:
                if kind2 == "string":
                    patterns.append(text2)
                elif (kind2, text2) == ("punct", ")"):
                    break
        for raw in patterns:
            value = _unquote(raw)
            escaped = False
            for pos, ch in enumerate(value):
                if escaped:
                    if ch not in "*?\\":
                        errors.append(f"LIKE pattern {raw}: escape character is not followed by *, ? or \\ (at {ch!r})")
                        break
                    escaped = False
                elif ch == "\\":
                    escaped = True
                    if pos == len(value) - 1:
                        errors.append(f"LIKE pattern {raw}: ends with a lone escape character")
    return errors


def one_line(text, limit=400):
    text = " | ".join(part for part in str(text).splitlines() if part.strip())
    return text if len(text) <= limit else text[:limit] + "..."


def check(query, schema_map, stack, rule_shape, label):
    """Parse (and analyze) `query` with the grammar of `stack`; raises esql.EsqlError if invalid."""
    with ParserConfig(min_stack_version=stack):
        tree = esql.parse_query(query)
        if schema_map is not None:
            esql.analyze(tree, esql.Schema(schema_map))
        if rule_shape:
            esql.validate_detection_rule_query(tree, label)
    for message in like_pattern_errors(query) + date_part_errors(query) + function_version_errors(query, stack):
        raise ExtraCheckError(message)


class ExtraCheckError(Exception):
    """A LIKE pattern Elasticsearch rejects, or a function too new for the checked stack
    (checked here, not by the offline package)."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema")
    ap.add_argument("--aisigma-schema")
    ap.add_argument("--stack", default="8.19.0,9.5.0")
    ap.add_argument("--rule-shape", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    default_schema = None
    if args.schema:
        with open(args.schema, encoding="utf-8") as fh:
            default_schema = json.load(fh)
    if args.aisigma_schema:
        with open(args.aisigma_schema, encoding="utf-8") as fh:
            extra = schema_from_aisigma(json.load(fh))
        default_schema = {**extra, **(default_schema or {})}
    stacks = [s.strip() for s in args.stack.split(",") if s.strip()]
    if not stacks:
        print("esql_check: --stack is empty", file=sys.stderr)
        return 2

    total = passed = refused = failed = crashed = limited = 0
    for lineno, raw in enumerate(sys.stdin, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            print(f"FAIL line {lineno}: not JSON: {exc}")
            failed += 1
            continue
        ident = item.get("id") or item.get("file") or f"line {lineno}"
        where = f"{ident} ({item['file']})" if item.get("file") and item.get("id") else str(ident)
        if "error" in item and "query" not in item:
            refused += 1
            continue
        query = item.get("query")
        if not isinstance(query, str):
            print(f"FAIL {where}: no \"query\" string")
            failed += 1
            continue
        total += 1
        schema_map = item.get("schema", default_schema)
        problems = []   # (stack, kind, message)
        limit_hit = False
        for stack in stacks:
            try:
                check(query, schema_map, stack, args.rule_shape, item.get("title") or ident)
            except RecursionError:
                limit_hit = True
            except (esql.EsqlError, ExtraCheckError) as exc:
                problems.append((stack, type(exc).__name__, one_line(exc)))
            except Exception as exc:  # noqa: BLE001 - a bug in the oracle, not a verdict
                problems.append((stack, f"ORACLE-CRASH {type(exc).__name__}", one_line(exc)))
        if item.get("expect") == "reject":
            if problems and not all(kind.startswith("ORACLE-CRASH") for _, kind, _ in problems):
                passed += 1
                if not args.quiet:
                    print(f"ok   {where} (rejected as expected: {problems[0][1]}: {problems[0][2][:160]})")
            elif limit_hit:
                limited += 1
                print(f"LIMIT {where}: RecursionError in the oracle; unchecked")
            else:
                failed += 1
                print(f"FAIL {where}: expected a rejection, but the oracle accepted it")
            continue
        if problems:
            crash = all(kind.startswith("ORACLE-CRASH") for _, kind, _ in problems)
            crashed += crash
            failed += not crash
            # Collapse identical messages across stacks.
            seen = {}
            for stack, kind, msg in problems:
                seen.setdefault((kind, msg), []).append(stack)
            for (kind, msg), on in seen.items():
                print(f"FAIL {where} [{','.join(on)}] {kind}: {msg}")
            print(f"     query: {one_line(query, 1000)}")
        elif limit_hit:
            limited += 1
            print(f"LIMIT {where}: RecursionError in the oracle (query too deep for the Python ANTLR runtime); unchecked")
        else:
            passed += 1
            if not args.quiet:
                print(f"ok   {where}")

    print(f"esql_check: {total} queries, {passed} passed, {failed} rejected, {crashed} oracle crashes, "
          f"{limited} unchecked (oracle recursion limit); {refused} refused by the compiler (skipped); "
          f"stacks {','.join(stacks)}; detection-rules-esql-py {esql.__version__} (ES {esql.__es_compat__})")
    return 1 if failed or crashed else 0


def run_with_big_stack():
    """The ANTLR runtime recurses once per operator of an OR/AND chain. Raise Python's
    recursion limit and run on a thread with a large C stack, so only absurdly deep queries
    hit the limit (and then as RecursionError, not a crash)."""
    import threading
    sys.setrecursionlimit(60000)
    threading.stack_size(512 * 1024 * 1024)
    result = []
    worker = threading.Thread(target=lambda: result.append(main()))
    worker.start()
    worker.join()
    return result[0] if result else 1


if __name__ == "__main__":
    sys.exit(run_with_big_stack())
