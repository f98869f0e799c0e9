#!/usr/bin/env bash
# Run every fuzz target for a bounded time (default 30 s each), seeded from the rule library,
# the test fixtures and fuzz/seeds/. Exits non-zero on the first crash; the input that made it
# is in fuzz/artifacts/TARGET/.
#
#   bash fuzz/run.sh          # 30 s per target (what .ci/run does)
#   bash fuzz/run.sh 3600     # an hour per target
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-30}
for target in check condition compile scan regex; do
    case $target in
        check | compile) seeds=(../rules ../tests/fixtures ../examples) ;;
        scan) seeds=(../examples/logs ../tests/fixtures/scan) ;;
        *) seeds=(seeds/$target) ;;
    esac
    mkdir -p "corpus/$target"
    echo "== fuzz $target (${SECONDS_PER_TARGET} s)"
    cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -print_final_stats=1 2>&1 |
        grep -E '^(Done|stat::number_of_executed_units|INFO: seed corpus)|panicked|ERROR|SUMMARY' || true
    test "${PIPESTATUS[0]}" -eq 0
done
