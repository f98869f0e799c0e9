#!/usr/bin/env bash
# ES|QL conformance: compile the rule library to ES|QL and check every emitted query with
# Elastic's offline ES|QL parser/analyzer, `detection-rules-esql-py` (PyPI; needs Python >= 3.12),
# against the field types of `aisigma schema`. Usage:
#   tests/conformance/esql_oracle.sh path/to/aisigma            # the rule library
#   tests/conformance/esql_oracle.sh --selftest                 # the oracle on its own test cases
# Environment: AISIGMA_TOOLS (tool cache; default ${TMPDIR:-/tmp}/aisigma-tools),
#   ESQL_STACKS (grammar lines to check, default 8.19.0,9.5.0), PYTHON (interpreter to use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}
venv=$tools/venv-esql
pin=detection-rules-esql-py==0.1.0
stacks=${ESQL_STACKS:-8.19.0,9.5.0}

if [ $# -ne 1 ]; then
    echo "usage: $0 AISIGMA_BIN | --selftest" >&2
    exit 2
fi

# shellcheck source=tests/conformance/python_venv.sh
. "$here/python_venv.sh"
ensure_venv "$venv" 12 'import esql; assert esql.__version__ == "0.1.0"' "$pin"

if [ "$1" = "--selftest" ]; then
    exec "$venv/bin/python" "$here/esql/esql_check.py" --quiet --stack "$stacks" < "$here/esql/cases.jsonl"
fi

bin=$(realpath "$1")
cd "$here/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" schema --format json > "$work/schema.json"
# Exit 1 = some rules were refused (reported as "error" lines and skipped); > 1 is a failure.
status=0
"$bin" compile rules/ examples/prompt_injection.yml --target esql --format json > "$work/out.jsonl" 2> "$work/err" || status=$?
if [ "$status" -gt 1 ]; then
    echo "esql_oracle: aisigma compile failed with exit code $status" >&2
    cat "$work/err" >&2
    exit 1
fi
if [ ! -s "$work/out.jsonl" ]; then
    echo "esql_oracle: aisigma compile produced no output" >&2
    exit 1
fi
"$venv/bin/python" "$here/esql/esql_check.py" --quiet --stack "$stacks" --aisigma-schema "$work/schema.json" < "$work/out.jsonl"

# The library compiled for every source pack that lands on Elastic, each query checked
# against the field list of the integration it reads (esql/integration_fields.json, keyed by
# index pattern, written from the Elastic integration packages independently of the packs;
# sources in integration_fields.README.md).
packs=0
: > "$work/packs.jsonl"
# shellcheck source=tests/conformance/source_packs.sh
. tests/conformance/source_packs.sh
for pack in $(landing_packs "$bin" esql); do
    packs=$((packs + 1))
    status=0
    "$bin" compile rules/ --source "$pack" --target esql --format json > "$work/pack.jsonl" 2> "$work/err" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "esql_oracle: aisigma compile --source $pack failed with exit code $status" >&2
        cat "$work/err" >&2
        exit 1
    fi
    "$venv/bin/python" "$here/esql/attach_schema.py" "$here/esql/integration_fields.json" "$work/schema.json" "$pack" \
        < "$work/pack.jsonl" >> "$work/packs.jsonl"
done
if [ "$packs" -lt 2 ]; then
    echo "esql_oracle: only $packs source packs land on esql" >&2
    exit 1
fi
if [ ! -s "$work/packs.jsonl" ]; then
    echo "esql_oracle: no query compiled for any source pack" >&2
    exit 1
fi
"$venv/bin/python" "$here/esql/esql_check.py" --quiet --stack "$stacks" < "$work/packs.jsonl"
