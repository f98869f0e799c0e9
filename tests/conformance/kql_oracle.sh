#!/usr/bin/env bash
# KQL conformance: check aisigma's compiled KQL with Microsoft's Kusto.Language parser and
# semantic analyzer (npm @kusto/language-service-next, pinned in tests/conformance/kql/
# package-lock.json), against the table schema aisigma declares for its KQL output.
# Fails on any Error diagnostic: syntax, unknown table or column, operator/type mismatch,
# function arity. Queries too deep for the analyzer (KS245) are counted as "unknown".
# Usage:
#   tests/conformance/kql_oracle.sh path/to/aisigma
# Environment:
#   AISIGMA_TOOLS   cache root (default ${TMPDIR:-/tmp}/aisigma-tools); npm installs into $AISIGMA_TOOLS/kql
#   KQL_SCHEMA      a table-schema JSON file to use instead of `aisigma compile --format tables`
set -euo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
src=tests/conformance/kql
tool_dir=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/kql

# Install (npm ci, from the lock file) into the cache unless it already holds this lock file.
if [ ! -f "$tool_dir/node_modules/@kusto/language-service-next/Kusto.Language.Bridge.js" ] \
    || ! cmp -s "$src/package-lock.json" "$tool_dir/package-lock.json"; then
    mkdir -p "$tool_dir"
    cp "$src/package.json" "$src/package-lock.json" "$tool_dir/"
    (cd "$tool_dir" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
export KQL_ORACLE_NODE_MODULES="$tool_dir/node_modules"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Self-test: the oracle must still accept and reject the hand-written queries of
# tests/conformance/kql/selftest.jsonl ("expect": ok | error | unknown) against selftest_schema.json.
node "$src/kql_check.js" "$src/selftest_schema.json" < "$src/selftest.jsonl" > "$work/selftest.out" 2>/dev/null || true
node - "$src/selftest.jsonl" "$work/selftest.out" <<'JS'
const fs = require('fs');
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const expected = new Map(lines(process.argv[2]).map((r) => [r.id, r.expect]));
const got = lines(process.argv[3]);
let bad = 0;
for (const r of got) {
    const verdict = r.unknown ? 'unknown' : r.errors.length ? 'error' : 'ok';
    if (verdict !== expected.get(r.id)) {
        bad++;
        process.stderr.write(`kql self-test: ${r.id}: expected ${expected.get(r.id)}, got ${verdict} ${JSON.stringify(r.errors)}\n`);
    }
}
if (got.length !== expected.size) {
    bad++;
    process.stderr.write(`kql self-test: ${got.length} results for ${expected.size} queries\n`);
}
if (bad) process.exit(1);
process.stderr.write(`kql self-test: ${got.length} hand-written queries give the expected verdicts\n`);
JS
inputs=(rules/ examples/prompt_injection.yml)

# Table schema: {"Table_CL": {"Column": "string|long|int|real|bool|datetime|dynamic|guid|timespan"}}
if [ -n "${KQL_SCHEMA:-}" ]; then
    cp "$KQL_SCHEMA" "$work/schema.json"
elif ! "$bin" compile "${inputs[@]}" --target kql --format tables > "$work/schema.json" 2> "$work/schema.err"; then
    echo "aisigma compile --target kql --format tables failed:" >&2
    cat "$work/schema.err" >&2
    exit 1
fi

# Refused rules (exit code 1) are expected; the oracle checks every query that was emitted.
status=0
"$bin" compile "${inputs[@]}" --target kql --format json > "$work/compiled.jsonl" 2> "$work/compile.err" || status=$?
if [ "$status" -gt 1 ]; then
    echo "aisigma compile --target kql failed with exit code $status:" >&2
    cat "$work/compile.err" >&2
    exit 1
fi

# {"file","id","title","target","query"} -> {"id","query"}; lines with "error" are refused rules.
node - "$work/compiled.jsonl" > "$work/queries.jsonl" <<'JS'
const fs = require('fs');
let emitted = 0, refused = 0;
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line);
    if (typeof r.query === 'string') {
        emitted++;
        process.stdout.write(JSON.stringify({ id: `${r.file}: ${r.id}`, query: r.query }) + '\n');
    } else if ('error' in r) {
        refused++;
    } else {
        throw new Error(`compile output line has neither "query" nor "error": ${line}`);
    }
}
process.stderr.write(`kql: ${emitted} queries compiled, ${refused} rules refused by aisigma (skipped)\n`);
if (emitted === 0) {
    process.stderr.write('kql: no query to check\n');
    process.exit(1);
}
JS

rc=0
node "$src/kql_check.js" "$work/schema.json" < "$work/queries.jsonl" > "$work/results.jsonl" || rc=$?
# Full diagnostics of every query that has errors or could not be analysed.
grep -E '"errors":\[\{|"unknown"' "$work/results.jsonl" || true

# SigmaHQ's regression rules (tests/fixtures/sigmahq_regression) are outside the AI schema:
# their queries read AIEvents_CL, the mapping's default table, with the rules' own field names
# as columns. They are parsed (syntax, operators) with that table left undescribed, and their
# regexes join the check below.
status=0
"$bin" compile tests/fixtures/sigmahq_regression --target kql --format json > "$work/fixtures.compiled" 2> "$work/compile.err" || status=$?
if [ "$status" -gt 1 ]; then
    echo "aisigma compile --target kql (SigmaHQ regression rules) failed with exit code $status:" >&2
    cat "$work/compile.err" >&2
    exit 1
fi
node -e '
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (l) => { if (!l.trim()) return; const r = JSON.parse(l);
  if (typeof r.query === "string") console.log(JSON.stringify({ id: `${r.file}: ${r.id}`, query: r.query })); });
' < "$work/fixtures.compiled" > "$work/fixtures.jsonl"
echo '{}' > "$work/no_tables.json"
node "$src/kql_check.js" --unknown-table AIEvents_CL "$work/no_tables.json" < "$work/fixtures.jsonl" >> "$work/results.jsonl" || rc=$?
grep -E '"errors":\[\{|"unknown"' "$work/results.jsonl" || true

# The library compiled for every source pack that lands on Sentinel, checked against the real
# tables' column lists (tests/conformance/kql/sentinel_tables.json, written from Microsoft's
# table reference independently of the packs; sources in sentinel_tables.README.md).
packs=0
# shellcheck source=tests/conformance/source_packs.sh
. tests/conformance/source_packs.sh
for pack in $(landing_packs "$bin" kql); do
    packs=$((packs + 1))
    status=0
    "$bin" compile rules/ --source "$pack" --target kql --format json > "$work/pack.compiled" 2> "$work/compile.err" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "aisigma compile --source $pack --target kql failed with exit code $status:" >&2
        cat "$work/compile.err" >&2
        exit 1
    fi
    node -e '
const rl = require("readline").createInterface({ input: process.stdin });
let n = 0;
rl.on("line", (l) => { if (!l.trim()) return; const r = JSON.parse(l);
  if (typeof r.query === "string") { n++; console.log(JSON.stringify({ id: `${process.argv[1]}: ${r.file}: ${r.id}`, query: r.query })); } });
rl.on("close", () => process.stderr.write(`kql (source ${process.argv[1]}): ${n} queries\n`));
' "$pack" < "$work/pack.compiled" > "$work/pack.jsonl"
    node "$src/kql_check.js" "$src/sentinel_tables.json" < "$work/pack.jsonl" >> "$work/results.jsonl" || rc=$?
done
grep -E '"errors":\[\{|"unknown"' "$work/results.jsonl" || true
if [ "$packs" -lt 2 ]; then
    echo "kql: only $packs source packs land on kql" >&2
    rc=1
fi

# Every `matches regex` pattern must compile in RE2 (google-re2, PyPI) as well as in the Rust
# `regex` crate aisigma's engine uses (by construction): Kusto documents the Rust crate since
# 2024 (regex.md), older documentation and clusters say RE2, and aisigma writes the patterns
# both accept with the same meaning (docs/backends.md).
# shellcheck source=tests/conformance/python_venv.sh
. tests/conformance/python_venv.sh
venv=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/venv-re2
ensure_venv "$venv" 11 'import importlib.metadata as m; assert m.version("google-re2") == "1.1.20251105"; import re2' \
    google-re2==1.1.20251105
"$venv/bin/python" - "$work/results.jsonl" <<'PY' || rc=1
import json, sys
import re2
count, bad = 0, []
for line in open(sys.argv[1]):
    rec = json.loads(line)
    for pattern in rec.get("regexes", []):
        count += 1
        if not isinstance(pattern, str):
            bad.append((rec["id"], pattern, "not a string literal"))
            continue
        try:
            re2.compile(pattern)
        except Exception as e:  # noqa: BLE001 - any rejection is a failure
            bad.append((rec["id"], pattern, f"{type(e).__name__}: {e}"))
for id_, pattern, why in bad:
    print(f"kql re2: {id_}: {why}: {pattern!r}", file=sys.stderr)
print(f"kql re2: {count} `matches regex` patterns, {count - len(bad)} compile in RE2 (google-re2 1.1.20251105), {len(bad)} rejected", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
exit "$rc"
