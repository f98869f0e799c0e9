#!/usr/bin/env bash
# Correlation conformance (tests/conformance/correlation_oracle.py): the engine's alerts on
# generated timestamped event streams against Elastic's `eql` engine (temporal_ordered, the
# compiled `sequence` query) and DuckDB (every other type, as SQL). The cases are written by
# `cargo test` when AISIGMA_CORR_DIFF is set (tests/correlation_differential.rs). Usage:
#   tests/conformance/correlation_oracle.sh CASES.jsonl
set -euo pipefail
cases=$(realpath "$1")
cd "$(dirname "$0")/../.."
. tests/conformance/python_venv.sh
venv=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/venv-corr
ensure_venv "$venv" 9 'import eql, duckdb, yaml; assert eql.__version__ == "1.0.1" and duckdb.__version__ == "1.4.3"' \
    eql==1.0.1 duckdb==1.4.3 pyyaml==6.0.2
"$venv/bin/python" tests/conformance/correlation_oracle.py "$cases"
