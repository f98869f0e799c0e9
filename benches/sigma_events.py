#!/usr/bin/env python3
"""Windows-like events for the SigmaHQ scan workload, built from the corpus's regression data.

    python3 benches/sigma_events.py CORPUS_DIR COUNT OUT.jsonl [SEED]

Every `regression_data/**/*.json` file holds one or more Windows event records (XML rendered
as JSON: `Event.System`, `Event.EventData` or `Event.UserData`). Each record is flattened the
way Sigma rules name Windows fields: the `EventData`/`UserData` entries as they are (`Image`,
`CommandLine`, ...), the scalar `System` entries (`EventID`, `Channel`, `Computer`, ...) and
`Provider_Name`. Those are the templates.

Output line `i` uses template `i % templates`. One line in ten is the template itself (an
event some rule was written to catch); the others are benign variants: every `EventData`
string is replaced by a deterministic value of the same shape (a path stays a path under
`C:\\Program Files\\Vendor<n>`, a command line becomes `"<path>" --task <n>`, anything else
`<field>-<n>`), while `EventID`, `Channel` and `Provider_Name` stay, so the rules of the
event's log source still do their work on it.
"""

import json
import pathlib
import random
import sys


def records(path):
    text = path.read_text(encoding="utf-8-sig")
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def flatten(rec):
    ev = rec.get("Event", rec)
    out = {}
    system = ev.get("System", {})
    for k, v in system.items():
        if isinstance(v, (str, int, float, bool)):
            out[k] = v
    provider = system.get("Provider", {}).get("#attributes", {})
    if "Name" in provider:
        out["Provider_Name"] = provider["Name"]
    data = ev.get("EventData") or {}
    if not isinstance(data, dict):
        data = {}
    user = ev.get("UserData") or {}
    if isinstance(user, dict):
        for inner in user.values():
            if isinstance(inner, dict):
                data = {**data, **{k: v for k, v in inner.items() if k != "#attributes"}}
    for k, v in data.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
    return out


KEEP = {"EventID", "Channel", "Provider_Name"}


def benign(ev, n, rng):
    out = {}
    for k, v in ev.items():
        if k in KEEP or not isinstance(v, str):
            out[k] = v
            continue
        m = rng.randrange(1000)
        if k == "CommandLine" or k == "ParentCommandLine":
            out[k] = f'"C:\\Program Files\\Vendor{m}\\tool{m}.exe" --task {n}'
        elif ":\\" in v or v.startswith("\\"):
            out[k] = f"C:\\Program Files\\Vendor{m}\\tool{m}.exe"
        else:
            out[k] = f"{k.lower()}-{m}"
    return out


def main():
    corpus, count, out = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    templates = []
    for p in sorted((corpus / "regression_data").rglob("*.json")):
        for rec in records(p):
            flat = flatten(rec)
            if flat:
                templates.append(flat)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(count):
            t = templates[i % len(templates)]
            ev = t if i % 10 == 0 else benign(t, i, rng)
            f.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
            f.write("\n")
    print(f"{count} events from {len(templates)} templates", file=sys.stderr)


if __name__ == "__main__":
    main()
