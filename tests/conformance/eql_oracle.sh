#!/usr/bin/env bash
# Install Elastic's `eql` package (PyPI) in a private venv and run the EQL conformance check
# (tests/conformance/eql_oracle.py) on the rule library. Usage:
#   tests/conformance/eql_oracle.sh path/to/aisigma
set -euo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
venv=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/venv-eql
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import eql, yaml' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check eql==1.0.1 pyyaml==6.0.2
fi
# Refused rules (AIS801) are reported by `compile` and are expected here; the oracle checks
# every query that was emitted.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$bin" compile rules/ examples/prompt_injection.yml tests/fixtures/sigmahq_regression --target eql --format json > "$out" 2>/dev/null || status=$?
if [ "$status" -gt 1 ]; then
    echo "aisigma compile failed with exit code $status" >&2
    exit 1
fi
# The Elasticsearch semantics given to eql's engine must hold on the documented examples.
"$venv/bin/python" tests/conformance/es_semantics_eql.py
"$venv/bin/python" tests/conformance/eql_oracle.py < "$out"
# Generated rules and events (written by `cargo test` when AISIGMA_EQL_DIFF is set).
if [ -n "${AISIGMA_EQL_DIFF:-}" ] && [ -s "$AISIGMA_EQL_DIFF" ]; then
    "$venv/bin/python" tests/conformance/eql_differential.py "$AISIGMA_EQL_DIFF"
    # The library compiled for each source pack, on events in the integration's shape
    # (tests/sources.rs).
    if [ -s "$AISIGMA_EQL_DIFF.sources" ]; then
        "$venv/bin/python" tests/conformance/eql_differential.py "$AISIGMA_EQL_DIFF.sources"
    else
        echo "eql differential (sources): no cases (run cargo test with AISIGMA_EQL_DIFF=FILE first)" >&2
        exit 1
    fi
else
    echo "eql differential: skipped (run cargo test with AISIGMA_EQL_DIFF=FILE first)"
fi
