"""Validate rule files against `aisigma schema --format json-schema` with the PyPI `jsonschema`
validator (draft 2020-12), reading YAML as aisigma and editors do (YAML 1.2: dates stay
strings, only true/false are booleans).

    validate.py SCHEMA --valid PATH...      every document must be valid
    validate.py SCHEMA --fixtures CHECK_JSON EXPECTED PATH...
        every document without `check` errors must be valid, and the documents with errors
        that the schema rejects must be exactly those listed in EXPECTED (file:line)
"""
import json
import pathlib
import re
import sys

import yaml
from jsonschema import Draft202012Validator


class Yaml12Loader(yaml.SafeLoader):
    pass


# YAML 1.2 core schema: no timestamps, no yes/no/on/off booleans.
Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, r) for tag, r in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for first in "tTfF":
    Yaml12Loader.yaml_implicit_resolvers.setdefault(first, []).append(
        ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


def documents(path):
    """(first line, last line, data) of each non-empty document."""
    text = path.read_text(encoding="utf-8")
    out = []
    loader = Yaml12Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                out.append((node.start_mark.line + 1, node.end_mark.line + 1, data))
    finally:
        loader.dispose()
    return out


def files(paths):
    for p in paths:
        p = pathlib.Path(p)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml"))
        else:
            yield p


def errors_of(validator, data):
    return sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))


def describe(e):
    # The deepest error of an anyOf says most.
    while e.context:
        e = max(e.context, key=lambda c: len(c.absolute_path))
    return f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"


def main():
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    mode = sys.argv[2]
    failed = 0
    if mode == "--valid":
        n = 0
        for f in files(sys.argv[3:]):
            for start, _, data in documents(f):
                n += 1
                errs = errors_of(validator, data)
                if errs:
                    failed += 1
                    if failed <= 20:
                        print(f"{f}:{start}: invalid: {describe(errs[0])}")
        print(f"rule schema: {n - failed} of {n} documents valid ({' '.join(sys.argv[3:])})")
        return 1 if failed else 0
    check = json.loads(pathlib.Path(sys.argv[3]).read_text())
    expected = set(pathlib.Path(sys.argv[4]).read_text().split())
    error_lines, whole_file, not_rules = {}, set(), set()
    for d in check:
        key = pathlib.Path(d["file"]).as_posix()
        if d["code"] == "AIS109":
            whole_file.add(key)  # a legacy collection: every document is refused
        if d["code"] == "AIS011":
            not_rules.add(f"{key}:{d['line']}")  # not a rule: skipped by `check`
        if d["severity"] == "error":
            error_lines.setdefault(key, []).append(d["line"])
    caught, missed, clean = set(), 0, 0
    for f in files(sys.argv[5:]):
        key = f.as_posix()
        for start, end, data in documents(f):
            if f"{key}:{start}" in not_rules:
                continue
            has_errors = key in whole_file or any(start <= line <= end for line in error_lines.get(key, []))
            errs = errors_of(validator, data)
            if not has_errors:
                clean += 1
                if errs:
                    failed += 1
                    print(f"{key}:{start}: `check` finds no error, but the schema rejects it: {describe(errs[0])}")
            elif errs:
                caught.add(f"{key}:{start}")
            else:
                missed += 1
    for doc in sorted(caught - expected):
        print(f"{doc}: newly rejected by the schema (add it to {sys.argv[4]})")
    for doc in sorted(expected - caught):
        print(f"{doc}: no longer rejected by the schema")
    failed += len(caught ^ expected)
    print(f"rule schema on the diagnostics fixtures: {clean} documents without errors all valid; "
          f"{len(caught)} of {len(caught) + missed} documents with errors rejected (the others need `check`)")
    return 1 if failed else 0


sys.exit(main())
