#!/usr/bin/env bash
# JSON Schema conformance, with the PyPI `jsonschema` validator (draft 2020-12):
#  - `aisigma coverage --navigator` writes a layer valid against the Navigator layer format 4.3
#    (tests/conformance/navigator: our transcription of MITRE's format tables, which also
#    accepts MITRE's own ATLAS layers).
#  - `aisigma schema --format json-schema` is a valid draft 2020-12 schema; every library rule
#    and every SigmaHQ regression rule is valid against it (and the whole SigmaHQ corpus when
#    SIGMA_CORPUS names a checkout); of the diagnostics fixtures, every document `check` finds
#    clean is valid, and the documents with errors that the schema can tell are exactly those in
#    rule_schema/expected_invalid.txt. The per-category schema (--category) validates its rules.
# Usage:
#   tests/conformance/json_schemas.sh path/to/aisigma
# Environment: SIGMA_CORPUS (a SigmaHQ checkout; its rules*/ folders are validated too),
# AISIGMA_TOOLS (tool cache; default ${TMPDIR:-/tmp}/aisigma-tools), PYTHON.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}
venv=$tools/venv-jsonschema
if [ $# -ne 1 ]; then
    echo "usage: $0 AISIGMA_BIN" >&2
    exit 2
fi
# shellcheck source=tests/conformance/python_venv.sh
. "$here/python_venv.sh"
ensure_venv "$venv" 10 'import importlib.metadata as m; assert m.version("jsonschema") == "4.26.0"; assert m.version("pyyaml") == "6.0.3"' \
    jsonschema==4.26.0 pyyaml==6.0.3
bin=$(realpath "$1")
cd "$here/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The layer of the rule library, and one of a single rule (the smallest layer).
"$bin" coverage rules --navigator "$work/library.layer.json" --format json > "$work/library.coverage.json"
"$bin" coverage rules/llm_inference --navigator "$work/inference.layer.json" > /dev/null

"$venv/bin/python" - "$here/navigator" "$work" <<'PY'
import json, pathlib, sys
from jsonschema import Draft202012Validator

nav, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
schema = json.loads((nav / "layer-4.3.schema.json").read_text())
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
failed = False

def check(path, expect_valid=True):
    global failed
    layer = json.loads(path.read_text())
    errors = sorted(validator.iter_errors(layer), key=lambda e: list(e.absolute_path))
    g = layer.get("gradient")
    if g and not g["maxValue"] > g["minValue"]:
        errors.append(f"gradient maxValue {g['maxValue']} is not above minValue {g['minValue']}")
    if bool(errors) == expect_valid:
        failed = True
        what = "invalid" if errors else "valid, expected invalid"
        print(f"navigator layer {path.name}: {what}")
        for e in errors[:10]:
            print("   ", getattr(e, "message", e), list(getattr(e, "absolute_path", [])))
    return layer

# MITRE's own ATLAS layers: the transcription accepts what MITRE publishes.
for sample in sorted(nav.glob("mitre-atlas_*.json")):
    check(sample)
# aisigma's layers.
lib = check(work / "library.layer.json")
check(work / "inference.layer.json")
# The validator is not vacuous: a misspelt key and a non-ATLAS id fail.
bad = dict(lib, techniqeus=[])
(work / "bad1.json").write_text(json.dumps(bad))
check(work / "bad1.json", expect_valid=False)
bad = dict(lib, techniques=[{"techniqueID": "T1059"}])
(work / "bad2.json").write_text(json.dumps(bad))
check(work / "bad2.json", expect_valid=False)

# The layer agrees with the coverage report: the same techniques, scored by rule count.
cov = json.loads((work / "library.coverage.json").read_text())
want = {t["id"]: len(t["rules"]) for t in cov["atlas"]["covered"]}
got = {t["techniqueID"]: t["score"] for t in lib["techniques"]}
if want != got or lib["domain"] != "atlas-atlas":
    failed = True
    print("navigator layer and coverage report disagree:", sorted(set(want.items()) ^ set(got.items())))
if failed:
    sys.exit(1)
print(f"navigator layers: valid against layer format 4.3 (MITRE's 2 ATLAS layers, aisigma's 2; {len(got)} techniques in the library layer; 2 broken layers rejected)")
PY

# The JSON Schema for rule files.
"$bin" schema --format json-schema > "$work/rule.schema.json"
"$bin" schema --format json-schema --category llm_inference > "$work/llm_inference.schema.json"
"$bin" check tests/fixtures/diagnostics --format json > "$work/fixtures.check.json" || true
py="$venv/bin/python $here/rule_schema/validate.py"
$py "$work/rule.schema.json" --valid rules tests/fixtures/sigmahq_regression
$py "$work/llm_inference.schema.json" --valid rules/llm_inference
$py "$work/rule.schema.json" --fixtures "$work/fixtures.check.json" \
    "$here/rule_schema/expected_invalid.txt" tests/fixtures/diagnostics
if [ -n "${SIGMA_CORPUS:-}" ]; then
    $py "$work/rule.schema.json" --valid "$SIGMA_CORPUS"/rules*
else
    echo "rule schema: SIGMA_CORPUS not set, the full SigmaHQ corpus is not validated (the 202 regression rules are)"
fi
