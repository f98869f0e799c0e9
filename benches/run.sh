#!/usr/bin/env bash
# The benchmark: one command, from a fresh checkout, prints the table the README shows.
#
#   bash benches/run.sh                 # 200,000 events (about 250 MB)
#   EVENTS=1000000 bash benches/run.sh  # bigger
#
# It builds aisigma in release mode, installs DuckDB and pySigma with its Splunk, Elasticsearch
# and Kusto backends into a virtualenv under target/bench/ (PyPI), generates the events with
# `aisigma gen-events` and the rule sets with benches/gen_rules.py, then measures:
#   - scan throughput with 15 (library), 100 and 1,000 (generated) rules, on one worker thread
#     (RAYON_NUM_THREADS=1; the reader thread comes on top, so CPU time is reported too) and on
#     all cores;
#   - the same 100 and 1,000 generated rules as SQL in DuckDB over the same file, whose match
#     counts must equal aisigma's rule by rule;
#   - peak memory of `aisigma scan` reading an unbounded stream from a pipe;
#   - `aisigma compile` of the SigmaHQ corpus per target against pySigma converting the same
#     rules (both timed end to end as processes), and `aisigma check` of the corpus;
#   - scan side by side with rsigma 0.23.0 (built with its `daachorse-index` feature by
#     `cargo install` into target/bench/rsigma, once) on one core: the rule library, the 100
#     and 1,000 generated rules over the same events, and the SigmaHQ corpus over Windows
#     events built from its regression data (benches/sigma_events.py); events/s, load time,
#     peak memory, and match counts compared rule by rule (benches/peers.py).
# The SigmaHQ corpus is looked for in $SIGMA_CORPUS, default ../shared/sigma-corpus; without it
# the compile rows are skipped. Results go to stdout and target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-200000}
CORPUS=${SIGMA_CORPUS:-../shared/sigma-corpus}
OUT=target/bench
BIN=target/release/aisigma
CORES=$(nproc)
mkdir -p "$OUT"

echo "== build" >&2
cargo build --release --locked --quiet

echo "== python tools (DuckDB, pySigma)" >&2
if [ ! -x "$OUT/venv/bin/python" ]; then
    python3 -m venv "$OUT/venv"
fi
"$OUT/venv/bin/pip" install --quiet --disable-pip-version-check \
    duckdb pysigma pysigma-backend-splunk pysigma-backend-elasticsearch pysigma-backend-kusto
PY="$OUT/venv/bin/python"

echo "== events and rule sets" >&2
EV="$OUT/events.jsonl"
"$BIN" gen-events --count "$EVENTS" --seed 1 --attack-rate 0.01 --rules rules -o "$EV"
BYTES=$(stat -c %s "$EV")
rm -rf "$OUT/rules15" "$OUT/rules100" "$OUT/rules1000"
mkdir -p "$OUT/rules15" "$OUT/rules100" "$OUT/rules1000"
find rules -name '*.yml' | sort | head -15 | xargs -I{} cp {} "$OUT/rules15/"
"$PY" benches/gen_rules.py 100 "$OUT/rules100" 1
"$PY" benches/gen_rules.py 1000 "$OUT/rules1000" 2

# time_of CMD...: run CMD (stdout to $OUT/last.out), print "wall user sys maxrss_kb".
time_of() {
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$@" >"$OUT/last.out" 2>"$OUT/last.err" || true
    tail -1 "$OUT/time.txt"
}

RESULTS="$OUT/results.tsv"
: >"$RESULTS"

echo "== scan" >&2
for n in 15 100 1000; do
    for threads in 1 "$CORES"; do
        read -r wall user sys rss < <(RAYON_NUM_THREADS=$threads time_of "$BIN" scan --no-progress --rules "$OUT/rules$n" "$EV")
        matches=$(wc -l <"$OUT/last.out")
        cp "$OUT/last.out" "$OUT/scan$n-$threads.jsonl"
        printf 'scan\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$threads" "$wall" "$user" "$sys" "$rss" "$matches" >>"$RESULTS"
    done
done

echo "== DuckDB" >&2
for n in 100 1000; do
    for threads in 1 "$CORES"; do
        if [ "$n" = 1000 ] && [ "$threads" = 1 ]; then continue; fi
        "$PY" benches/duckdb_scan.py "$OUT/rules$n/duckdb.json" "$EV" "$threads" >"$OUT/duckdb$n-$threads.json"
        printf 'duckdb\t%s\t%s\t%s\n' "$n" "$threads" "$OUT/duckdb$n-$threads.json" >>"$RESULTS"
    done
done

echo "== memory on an unbounded stream" >&2
STREAM=$((EVENTS * 5))
"$BIN" gen-events --count "$STREAM" --seed 2 --rules rules |
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$BIN" scan --no-progress --rules rules - >/dev/null 2>&1 || true
printf 'stream\t%s\t%s\n' "$STREAM" "$(tail -1 "$OUT/time.txt")" >>"$RESULTS"

if [ -d "$CORPUS/rules" ]; then
    echo "== compile the SigmaHQ corpus" >&2
    DIRS=("$CORPUS"/rules*)
    for target in spl kql eql lucene esql yaral; do
        best=""
        for _ in 1 2 3; do
            read -r wall _ _ _ < <(time_of "$BIN" compile --format json --target "$target" "${DIRS[@]}")
            if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $wall < $best)"; then best=$wall; fi
        done
        queries=$(grep -c "\"query\":" "$OUT/last.out" || true)
        if [ "$target" != yaral ]; then
            read -r pwall _ _ _ < <(time_of "$PY" benches/pysigma_convert.py "$target" "${DIRS[@]}")
            pq=$(cat "$OUT/last.out")
        else
            pwall="-"
            pq="{}"
        fi
        printf 'compile\t%s\t%s\t%s\t%s\t%s\n' "$target" "$best" "$queries" "$pwall" "$pq" >>"$RESULTS"
    done
    read -r wall _ _ _ < <(time_of "$BIN" check "${DIRS[@]}")
    printf 'check\t%s\n' "$wall" >>"$RESULTS"
fi

echo "== rsigma, side by side" >&2
RSIGMA="$OUT/rsigma/bin/rsigma"
if [ ! -x "$RSIGMA" ]; then
    cargo install rsigma --version 0.23.0 --locked --features daachorse-index --root "$OUT/rsigma" --quiet
fi
WORKLOADS=("library:rules:$EV" "generated-100:$OUT/rules100:$EV" "generated-1000:$OUT/rules1000:$EV")
if [ -d "$CORPUS/regression_data" ]; then
    # The corpus without rules-placeholder: aisigma refuses a rule whose placeholder has no
    # value, rsigma evaluates it, so their counts would differ.
    rm -rf "$OUT/sigmahq" && mkdir -p "$OUT/sigmahq"
    for d in rules rules-emerging-threats rules-threat-hunting rules-compliance; do
        ln -s "$(cd "$CORPUS/$d" && pwd)" "$OUT/sigmahq/$d"
    done
    python3 benches/sigma_events.py "$CORPUS" 50000 "$OUT/sigma-events.jsonl"
    WORKLOADS+=("sigmahq:$OUT/sigmahq:$OUT/sigma-events.jsonl")
fi
python3 benches/peers.py "$BIN" "$RSIGMA" "$OUT" "${WORKLOADS[@]}" >/dev/null

python3 benches/report.py "$RESULTS" "$EVENTS" "$BYTES" "$CORES" "$OUT" | tee "$OUT/results.md"
{
    echo
    echo "Side by side with rsigma 0.23.0, one core, best of three (benches/peers.py):"
    echo
    cat "$OUT/peers.md"
} | tee -a "$OUT/results.md"
