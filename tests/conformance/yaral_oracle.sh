#!/usr/bin/env bash
# YARA-L 2.0 conformance: compile the rule library to Chronicle / SecOps rule files and check each
# one offline with yaraast (PyPI, third party; the parse+validate path of `yaraast yaral validate`)
# plus the documented checks in tests/conformance/yaral/yaral_check.py (rule names, string
# escapes, RE2 regexes via google-re2). There is no offline Google validator: the real one is the
# online `verifyRuleText` API. Usage:
#   tests/conformance/yaral_oracle.sh path/to/aisigma      # the rule library
#   tests/conformance/yaral_oracle.sh --selftest           # the checker on tests/conformance/yaral/cases
# Environment: AISIGMA_TOOLS (tool cache; default ${TMPDIR:-/tmp}/aisigma-tools), PYTHON
# (interpreter, >= 3.11), YARAL_VERBOSE=1 (print yaraast warnings, which never fail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${AISIGMA_TOOLS:-${TMPDIR:-/tmp}/aisigma-tools}
venv=$tools/venv-yaral
pins=(yaraast==2.1.0 graphviz==0.21 google-re2==1.1.20251105)
verbose=()
[ "${YARAL_VERBOSE:-}" = 1 ] && verbose=(-v)

if [ $# -ne 1 ]; then
    echo "usage: $0 AISIGMA_BIN | --selftest" >&2
    exit 2
fi

# shellcheck source=tests/conformance/python_venv.sh
. "$here/python_venv.sh"
ensure_venv "$venv" 11 '
import importlib.metadata as m
assert m.version("yaraast") == "2.1.0" and m.version("graphviz") == "0.21" and m.version("google-re2") == "1.1.20251105"
import yaraast.cli.yaral_services, re2
' "${pins[@]}"
check=("$venv/bin/python" "$here/yaral/yaral_check.py" "${verbose[@]}")

if [ "$1" = "--selftest" ]; then
    # The yaraast CLI itself must run (it imports graphviz even for YARA-L commands).
    "$venv/bin/yaraast" yaral validate "$here/yaral/cases/good/with_match_outcome.yaral" >/dev/null
    "${check[@]}" "$here/yaral/cases/good"
    "${check[@]}" --expect-invalid "$here/yaral/cases/bad"
    exit 0
fi

bin=$(realpath "$1")
cd "$here/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Exit 1 = some rules were refused (reported on stderr, no file written); > 1 is a failure.
status=0
"$bin" compile rules/ examples/prompt_injection.yml --target yaral --format chronicle -o "$out/rules" 2> "$out/stderr" || status=$?
if [ "$status" -gt 1 ]; then
    echo "yaral_oracle: aisigma compile --target yaral --format chronicle failed with exit code $status:" >&2
    head -20 "$out/stderr" >&2
    exit 1
fi
refused=$(grep -c 'AIS8' "$out/stderr" || true)
written=$(find "$out/rules" -name '*.yaral' 2>/dev/null | wc -l)
echo "yaral_oracle: aisigma wrote $written .yaral files (compile exit $status; $refused refusal lines on stderr)"
if [ "$written" -eq 0 ]; then
    echo "yaral_oracle: no .yaral files were written" >&2
    exit 1
fi
"${check[@]}" "$out/rules"

# The library compiled for every source pack that lands on Google SecOps (its log type and
# UDM fields), checked the same way.
packs=0
# shellcheck source=tests/conformance/source_packs.sh
. tests/conformance/source_packs.sh
for pack in $(landing_packs "$bin" yaral); do
    packs=$((packs + 1))
    status=0
    "$bin" compile rules/ --source "$pack" --target yaral --format chronicle -o "$out/$pack" 2> "$out/stderr" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "yaral_oracle: aisigma compile --source $pack failed with exit code $status:" >&2
        head -20 "$out/stderr" >&2
        exit 1
    fi
    written=$(find "$out/$pack" -name '*.yaral' 2>/dev/null | wc -l)
    echo "yaral_oracle: source $pack: $written .yaral files"
    if [ "$written" -gt 0 ]; then
        "${check[@]}" "$out/$pack"
    fi
done
if [ "$packs" -lt 2 ]; then
    echo "yaral_oracle: only $packs source packs land on yaral" >&2
    exit 1
fi
