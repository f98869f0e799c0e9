#!/usr/bin/env bash
# Validate aisigma's SARIF output with Microsoft's SARIF Multitool (npm
# @microsoft/sarif-multitool), including the rules GitHub code scanning applies to uploads.
# Fails on any validator result of level error or warning. Usage:
#   tests/conformance/sarif_validate.sh path/to/aisigma
set -euo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
tool_dir=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/sarif-multitool
if [ ! -x "$tool_dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ]; then
    mkdir -p "$tool_dir"
    (cd "$tool_dir" && npm install --silent --no-audit --no-fund @microsoft/sarif-multitool@5.7.0 >/dev/null)
    chmod u+x "$tool_dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
fi
multitool="$tool_dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Findings of every kind (the diagnostics fixtures) and no findings at all (the rule library).
"$bin" check tests/fixtures/diagnostics --format sarif > "$work/findings.sarif" || true
"$bin" check rules/ --format sarif > "$work/clean.sarif"
for f in findings clean; do
    "$multitool" validate "$work/$f.sarif" -o "$work/$f.validation.sarif" --rule-kind "Sarif;Gh" --level "Error;Warning" --kind "Fail" >/dev/null
    python3 - "$work/$f.validation.sarif" "$f" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
for r in results:
    print(f"{sys.argv[2]}: {r['ruleId']} {r.get('level')}: {r['message'].get('id')} {r['message'].get('arguments')}")
if results:
    sys.exit(1)
print(f"sarif ({sys.argv[2]}): valid, 0 errors, 0 warnings from SARIF Multitool (Sarif and Gh rules)")
PY
done
