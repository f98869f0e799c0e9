#!/usr/bin/env bash
# Regenerate (or with --check, verify) the docs whose examples show real command output.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-}
python3 docs/render/render.py $mode docs/render/README.template.md README.md .
python3 docs/render/render.py $mode docs/render/diagnostics.template.md docs/diagnostics.md docs/render/examples
python3 docs/render/render.py $mode docs/render/coverage.template.md docs/coverage.md .
