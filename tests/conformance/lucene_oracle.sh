#!/usr/bin/env bash
# Lucene conformance: run aisigma's compiled Lucene queries in real Apache Lucene 9.9.1 with
# Elasticsearch `query_string` semantics (tests/conformance/lucene/LuceneOracle.java) on every
# rule's test events, and check the verdicts equal aisigma's. Usage:
#   tests/conformance/lucene_oracle.sh path/to/aisigma
# Needs java + javac (11 or later; Debian: openjdk-17-jdk-headless) and python3. Lucene is
# not on Maven here, so its classes come from the PyPI wheel pyserini 0.25.0, whose bundled
# anserini-0.25.0-fatjar.jar holds Lucene 9.9.1 (Java 11 bytecode); only org/apache/lucene/**
# and its META-INF/services entries (codec SPI) are kept. Everything is cached in
# ${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/lucene9.
# AISIGMA_LUCENE_DIFF=DIR: the directory where `cargo test` wrote the generated cases (JSON
# Lines); they are replayed too, and the script fails if there are none.
set -euo pipefail
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
here=tests/conformance/lucene
tools=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}/lucene9
wheel_name=pyserini-0.25.0-py3-none-any.whl
wheel_sha256=d807cfd8ea7c6e24b6f7ecd3f80d7dac64698b039abfc65ca10d194f6d49bd0b
jar=$tools/lucene-9.9.1-from-pyserini-0.25.0.jar

for tool in java javac python3; do
    command -v "$tool" >/dev/null || { echo "lucene oracle: $tool not found (install a JDK 11+ and python3)" >&2; exit 1; }
done
mkdir -p "$tools"

# Python with pyyaml (and pip, to fetch the wheel).
venv=$tools/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pyyaml==6.0.2
fi

# The Lucene jar: download the wheel once, check it, keep only Lucene.
if [ ! -s "$jar" ]; then
    work=$(mktemp -d "$tools/build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "lucene oracle: downloading $wheel_name (168 MB) from PyPI" >&2
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$work" pyserini==0.25.0
    echo "$wheel_sha256  $work/$wheel_name" | sha256sum -c --quiet - || {
        echo "lucene oracle: sha256 mismatch for $wheel_name" >&2; exit 1; }
    "$venv/bin/python" - "$work/$wheel_name" "$work/lucene.jar" <<'EOF'
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
fat = out + ".fat"
with zipfile.ZipFile(wheel) as w, w.open("pyserini/resources/jars/anserini-0.25.0-fatjar.jar") as src, open(fat, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
n = 0
with zipfile.ZipFile(fat) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
    dst.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: aisigma tests/conformance/lucene_oracle.sh\n"
                 "Comment: Apache Lucene 9.9.1 classes from pyserini 0.25.0 (anserini-0.25.0-fatjar.jar), Apache License 2.0\n\n")
    for info in src.infolist():
        name = info.filename
        if (name.startswith("org/apache/lucene/") and not name.endswith("/")) or name.startswith("META-INF/services/org.apache.lucene."):
            dst.writestr(info, src.read(info))
            n += 1
if n < 4000:
    sys.exit(f"only {n} Lucene entries in the fat jar")
EOF
    mv "$work/lucene.jar" "$jar"
    rm -rf "$work"
    trap - EXIT
fi

# Compile the harness (always: it takes ~2 s and keeps the class in step with the source).
classes=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$classes" "$out"' EXIT
javac -encoding UTF-8 -nowarn -cp "$jar" -d "$classes" "$here/LuceneOracle.java"
cp="$jar:$classes"
java -cp "$cp" LuceneOracle --info        # version and codec SPI check: fails if the jar is incomplete
"$venv/bin/python" "$here/lucene_oracle.py" --classpath "$cp" --selftest "$here/selftest.jsonl"

# Refused rules (AIS801) are reported by `compile` (exit code 1) and skipped by the oracle;
# every emitted query is checked.
status=0
"$bin" compile rules/ examples/prompt_injection.yml tests/fixtures/sigmahq_regression --target lucene --format json > "$out" 2>/dev/null || status=$?
if [ "$status" -gt 1 ]; then
    echo "aisigma compile failed with exit code $status" >&2
    exit 1
fi
rc=0
"$venv/bin/python" "$here/lucene_oracle.py" "$bin" --classpath "$cp" < "$out" || rc=1
# Generated rules and events (JSON Lines files written into the directory $AISIGMA_LUCENE_DIFF
# by `cargo test`: tests/eql_differential.rs and tests/spl_semantics.rs).
cases=("${AISIGMA_LUCENE_DIFF:-/nonexistent}"/*.jsonl)
if [ -s "${cases[0]}" ]; then
    for f in "${cases[@]}"; do
        echo "lucene differential: $(basename "$f")"
        "$venv/bin/python" "$here/lucene_oracle.py" "$bin" --classpath "$cp" --cases "$f" || rc=1
    done
else
    echo "lucene differential: skipped (run cargo test with AISIGMA_LUCENE_DIFF=DIR first)" >&2
    rc=1
fi
exit $rc
