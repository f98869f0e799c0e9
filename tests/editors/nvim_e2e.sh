#!/usr/bin/env bash
# End-to-end test of `aisigma lsp` with a real editor: Neovim's built-in LSP client,
# headless (Debian's `neovim` package, 0.7 or later). Neovim opens a rule with a misspelt
# field, and the script checks what Neovim received: the diagnostic of `check` (code, place,
# help), field completion with types, hover on a field and an ATLAS tag, go to definition,
# and the quick fix, applied by Neovim, which clears the diagnostic.
# Usage: tests/editors/nvim_e2e.sh path/to/aisigma
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 AISIGMA_BIN" >&2
    exit 2
fi
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/rule.yml" <<'YAML'
title: Prompt injection
id: 5d0c0a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d
status: test
level: high
date: 2026-11-24
tags: [atlas.aml.t0051, owasp.llm01]
logsource: {product: ai, category: llm_inference}
detection:
    selection:
        ai.promt.text|contains: ignore previous
    condition: selection
YAML
AISIGMA="$bin" ROOT="$work" OUT="$work/out.json" HOME="$work" XDG_CONFIG_HOME="$work/config" \
    XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
    timeout 120 nvim --headless --clean -n -c "luafile $here/nvim_e2e.lua" > "$work/nvim.log" 2>&1 || {
    echo "nvim failed:"; cat "$work/nvim.log"; exit 1; }
test -s "$work/out.json" || { echo "nvim wrote no result:"; cat "$work/nvim.log"; exit 1; }
python3 - "$work/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
problems = list(r.get("errors") or [])
def expect(ok, what):
    if not ok:
        problems.append(what)
d = r.get("diagnostics") or []
expect(len(d) == 1 and d[0]["code"] == "AIS401" and d[0]["lnum"] == 9 and d[0]["col"] == 8
       and d[0]["end_col"] == 21 and "did you mean `ai.prompt.text`?" in d[0]["message"],
       f"diagnostics: {d}")
c = {i["label"]: i.get("detail") for i in r.get("completion") or []}
expect(c.get("gen_ai.usage.input_tokens") == "int", f"completion: {sorted(c)[:10]}")
expect("ai.tool.name" not in c, "completion offers another category's field")
expect((r.get("hover_field") or "").startswith("**`ai.prompt.text`**: `string`"), f"hover field: {r.get('hover_field')}")
expect("AML.T0051: LLM Prompt Injection" in (r.get("hover_tag") or ""), f"hover tag: {r.get('hover_tag')}")
expect(r.get("definition") == {"line": 8, "character": 4}, f"definition: {r.get('definition')}")
expect(any("replace with `ai.prompt.text`" in a for a in r.get("actions") or []), f"actions: {r.get('actions')}")
expect(r.get("fixed_line") == "        ai.prompt.text|contains: ignore previous", f"fixed line: {r.get('fixed_line')}")
expect(r.get("diagnostics_after_fix") == 0, f"diagnostics after the fix: {r.get('diagnostics_after_fix')}")
if problems:
    print("nvim e2e: FAILED")
    for p in problems:
        print("  ", p)
    sys.exit(1)
print(f"nvim e2e: diagnostics, completion ({len(c)} items), hover, definition and the quick fix work in Neovim")
PY
