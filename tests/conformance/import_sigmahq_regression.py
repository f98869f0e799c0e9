#!/usr/bin/env python3
"""Import the SigmaHQ regression data as engine fixtures.

SigmaHQ ships, for ~200 rules, the Windows events (EVTX rendered as JSON) that each rule must
match, with the expected number of matches. This script copies each such rule and its events
into tests/fixtures/sigmahq_regression/<rule-id>/ so that `cargo test` can check aisigma's
engine against them without the corpus being present:

    rule.yml       the SigmaHQ rule, unchanged
    events.jsonl   one flattened event per line (EventData/UserData fields at the top level,
                   plus EventID, Channel, Provider_Name and Computer from System), the field
                   names the SigmaHQ rules use for Windows event logs
    expected.json  {"match_count": N, "source": "<path in the corpus>"}

Run it from the repository root when the corpus changes:
    python3 tests/conformance/import_sigmahq_regression.py ../shared/sigma-corpus
The SigmaHQ rules and data are under the Detection Rule License 1.1 (see the fixture LICENSE).
"""
import json
import pathlib
import shutil
import sys

import yaml  # PyYAML, only needed to run this importer


def split_json_objects(text):
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def flatten(ev):
    e = ev["Event"]
    sysm = e.get("System", {})
    out = {}
    data = e.get("EventData") or {}
    if not data and isinstance(e.get("UserData"), dict):
        # UserData wraps its fields in one element named after the schema.
        inner = list(e["UserData"].values())
        data = inner[0] if inner and isinstance(inner[0], dict) else {}
    for k, v in (data or {}).items():
        if k == "#attributes":
            continue
        # evtx-sigma-checker drops spaces from field names ("Source Name" -> "SourceName").
        out[k.replace(" ", "")] = v
    out["EventID"] = sysm.get("EventID")
    out["Channel"] = sysm.get("Channel")
    out["Computer"] = sysm.get("Computer")
    prov = sysm.get("Provider", {}).get("#attributes", {})
    if "Name" in prov:
        out["Provider_Name"] = prov["Name"]
    return out


def main():
    corpus = pathlib.Path(sys.argv[1])
    dest = pathlib.Path("tests/fixtures/sigmahq_regression")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(corpus / "LICENSE", dest / "LICENSE")
    rules = {}
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-dfir", "rules-placeholder"]:
        for p in (corpus / d).rglob("*.yml"):
            try:
                doc = yaml.safe_load(p.read_text())
            except Exception:
                continue
            if isinstance(doc, dict) and "id" in doc:
                rules[doc["id"]] = p
    n = 0
    for info_path in sorted((corpus / "regression_data").rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text())
        for meta in info.get("rule_metadata", []):
            rule = rules.get(meta["id"])
            tests = [t for t in info.get("regression_tests_info", []) if t.get("type") == "evtx"]
            if rule is None or not tests:
                continue
            events = []
            for j in sorted(info_path.parent.glob("*.json")):
                events += split_json_objects(j.read_text())
            if not events:
                continue
            out = dest / meta["id"]
            out.mkdir()
            shutil.copy(rule, out / "rule.yml")
            with open(out / "events.jsonl", "w") as f:
                for ev in events:
                    f.write(json.dumps(flatten(ev), sort_keys=True) + "\n")
            expected = {"match_count": sum(t.get("match_count", 1) for t in tests), "source": str(rule.relative_to(corpus))}
            (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
            n += 1
    print(f"imported {n} rules with regression events into {dest}")


if __name__ == "__main__":
    main()
