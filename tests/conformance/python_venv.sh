# Sourced by the conformance scripts that need a PyPI oracle: a virtual environment with pinned
# packages in the tool cache, created on first use and reused while it passes its check.
#
#   ensure_venv DIR MINOR CHECK PKG...
#     DIR    the virtual environment
#     MINOR  the lowest Python 3 minor version the packages support (e.g. 12 for 3.12)
#     CHECK  Python code that exits 0 when DIR already holds the right packages
#     PKG    pip requirement specifiers (pinned)
# The interpreter is $PYTHON if set, else the first python3.N (N >= MINOR) that runs: pyenv
# shims for a version that is installed but not selected exist and fail, so every candidate is
# run, not just looked up.

find_python() {
    local min=$1 c root
    local candidates=()
    [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
    candidates+=(python3 python3.14 python3.13 python3.12 python3.11)
    root=${PYENV_ROOT:-$HOME/.pyenv}
    for c in "$root"/versions/3.*/bin/python3 /usr/local/bin/python3.1[0-9] /usr/bin/python3.1[0-9]; do
        candidates+=("$c")
    done
    for c in "${candidates[@]}"; do
        if "$c" -c "import sys, venv; sys.exit(0 if sys.version_info >= (3, $min) else 1)" >/dev/null 2>&1; then
            command -v "$c" 2>/dev/null || echo "$c"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local dir=$1 min=$2 check=$3 py
    shift 3
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    if ! py=$(find_python "$min"); then
        echo "$(basename "$0"): no Python >= 3.$min found (tried \$PYTHON, python3, python3.N, pyenv versions); install one or set PYTHON" >&2
        return 1
    fi
    echo "$(basename "$0"): creating $dir with $py ($("$py" --version 2>&1))" >&2
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    "$py" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}
