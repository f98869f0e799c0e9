#!/usr/bin/env bash
# Query metrics (issue: native queries): per target, the share of compiled queries that use a
# regex operator (rules without `re`), the share of SPL queries that filter in the base
# search, and the mean length per rule against pySigma, on the SigmaHQ `rules/` tree and on
# aisigma's `rules/`. Installs pySigma into target/bench/venv as benches/run.sh does.
#
#   bash benches/query_metrics.sh          # SigmaHQ corpus from $SIGMA_CORPUS (../shared/sigma-corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${SIGMA_CORPUS:-../shared/sigma-corpus}
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --locked --quiet
if [ ! -x "$OUT/venv/bin/python" ]; then
    python3 -m venv "$OUT/venv"
fi
"$OUT/venv/bin/pip" install --quiet --disable-pip-version-check \
    pysigma pysigma-backend-splunk pysigma-backend-elasticsearch pysigma-backend-kusto
dirs=(rules)
if [ -d "$CORPUS/rules" ]; then dirs=("$CORPUS/rules" rules); fi
python3 benches/query_metrics.py target/release/aisigma "$OUT/venv/bin/python" "${dirs[@]}"
