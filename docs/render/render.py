#!/usr/bin/env python3
"""Render a documentation template, so that every command output shown in the docs is real.

In a template, `{{file:PATH}}` becomes a YAML block with the file's content and `{{run:CMD}}`
becomes a console block with the command, its output (stdout and stderr) and its exit code.
Commands run in CWD with `./target/release/aisigma` replaced by the built binary.

    python3 docs/render/render.py TEMPLATE OUT CWD          # write OUT
    python3 docs/render/render.py --check TEMPLATE OUT CWD  # fail if OUT is stale

The binary is $AISIGMA_BIN, default target/debug/aisigma (build it first).
Regenerate everything with docs/render/all.sh.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.environ.get("AISIGMA_BIN", os.path.join(ROOT, "target/debug/aisigma")))


def run(cmd, cwd):
    full = cmd.replace("./target/release/aisigma", BIN)
    if full.startswith("aisigma"):
        full = full.replace("aisigma", BIN, 1)
    p = subprocess.run(full + " 2>&1", shell=True, cwd=cwd, capture_output=True, text=True)
    text = p.stdout.rstrip("\n")
    return f"```console\n$ {cmd}\n{text}\n```\n\nExit code: {p.returncode}."


def render(template, cwd):
    def repl(m):
        kind, arg = m.group(1), m.group(2)
        if kind == "file":
            lang = "yaml" if arg.endswith((".yml", ".yaml")) else "text"
            body = open(os.path.join(cwd, arg)).read().rstrip("\n")
            return f"`{arg}`:\n\n```{lang}\n{body}\n```"
        return run(arg, cwd)

    return re.sub(r"\{\{(file|run):(.+?)\}\}", repl, open(template).read())


def main():
    args = sys.argv[1:]
    check = args[0] == "--check"
    if check:
        args = args[1:]
    template, out, cwd = (os.path.join(ROOT, a) for a in args)
    text = render(template, cwd)
    if check:
        if open(out).read() != text:
            sys.exit(f"{args[1]} is stale: run docs/render/all.sh and commit the result")
    else:
        open(out, "w").write(text)


if __name__ == "__main__":
    main()
