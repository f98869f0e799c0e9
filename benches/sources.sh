#!/usr/bin/env bash
# `scan --source` throughput: each pack's raw-shaped fixture records repeated to about 100 MB,
# scanned with the whole library, best of three runs (events/s as scan's summary prints it).
#
#   bash benches/sources.sh                 # aws-bedrock-invocation and otel-genai
#   bash benches/sources.sh PACK...         # other packs
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
packs=("$@")
[ ${#packs[@]} -eq 0 ] && packs=(aws-bedrock-invocation otel-genai)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pack in "${packs[@]}"; do
    python3 - "tests/fixtures/sources/$pack/records.jsonl" "$work/$pack.jsonl" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
size = sum(len(l) + 1 for l in lines)
with open(sys.argv[2], "w") as out:
    for i in range(max(1, 100_000_000 // size) * len(lines)):
        out.write(lines[i % len(lines)] + "\n")
PY
    best=""
    for _ in 1 2 3; do
        target/release/aisigma scan --source "$pack" --rules rules/ "$work/$pack.jsonl" \
            --no-progress > /dev/null 2> "$work/err" || true
        rate=$(grep -o '[0-9]* events/s' "$work/err" | cut -d' ' -f1)
        if [ -z "$best" ] || [ "$rate" -gt "$best" ]; then best=$rate; fi
    done
    echo "$pack: $(grep -o 'scanned [0-9]* events ([0-9.]* MB)' "$work/err"), best of 3: $best events/s"
done
