#!/usr/bin/env python3
"""Self-check of tests/contracts (needs PyYAML + jsonschema).

    python3 -m venv /tmp/cvenv && /tmp/cvenv/bin/pip install pyyaml jsonschema
    /tmp/cvenv/bin/python tests/contracts/selfcheck.py

Checks: upstream copies match SOURCES.tsv (size + sha256); build.py reproduces the committed outputs
byte-for-byte; every schema is a valid draft-07 schema with only local `$ref`s and Rust-`regex`-compatible
patterns; vendor examples validate; hand-written positive/negative cases behave. Exits non-zero on failure.
"""
import csv
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import yaml
from jsonschema import Draft7Validator

HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = []
NOTES = []


def p(*parts):
    return os.path.join(HERE, *parts)


def check(cond, msg):
    print(("  ok    " if cond else "  FAIL  ") + msg)
    if not cond:
        FAILS.append(msg)


def load(rel):
    with open(p(rel), encoding="utf-8") as f:
        return json.load(f)


VALIDATORS = {}


def validator(rel):
    if rel not in VALIDATORS:
        VALIDATORS[rel] = Draft7Validator(load(rel), format_checker=Draft7Validator.FORMAT_CHECKER)
    return VALIDATORS[rel]


def errors(rel, instance):
    return sorted(validator(rel).iter_errors(instance), key=lambda e: list(e.absolute_path))


def accepts(rel, instance, label):
    errs = errors(rel, instance)
    check(not errs, "%s accepts %s%s" % (rel, label, "" if not errs else " -> " + "; ".join(
        "%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:200]) for e in errs[:3])))


def rejects(rel, instance, label):
    errs = errors(rel, instance)
    check(bool(errs), "%s rejects %s%s" % (rel, label, "" if not errs else " (%s)" % errs[0].message[:120]))


# ---------------------------------------------------------------------------------------------
def check_sources():
    print("== upstream copies vs SOURCES.tsv")
    with open(p("SOURCES.tsv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    bad = []
    for r in rows:
        with open(p(r["local_path"]), "rb") as f:
            data = f.read()
        if len(data) != int(r["bytes"]) or hashlib.sha256(data).hexdigest() != r["sha256"]:
            bad.append(r["local_path"])
    check(not bad, "%d upstream files match size+sha256%s" % (len(rows), "" if not bad else ": " + ", ".join(bad)))
    listed = {r["local_path"] for r in rows}
    on_disk = set()
    for vendor in ("sentinel", "kibana", "splunk", "secops"):
        for root, _, files in os.walk(p(vendor, "upstream")):  # os.walk also enters hidden dirs (.script)
            on_disk |= {os.path.relpath(os.path.join(root, fn), HERE) for fn in files}
    check(on_disk == listed, "every file under */upstream/ is listed in SOURCES.tsv (unlisted: %s, missing: %s)"
          % (sorted(on_disk - listed), sorted(listed - on_disk)))
    lic = {"sentinel": ["LICENSE.azure-rest-api-specs.txt", "LICENSE.Azure-Sentinel.txt"],
           "kibana": ["elastic-kibana/LICENSE-ELASTIC-LICENSE-2.0.txt", "elastic-detection-rules/LICENSE.txt"],
           "splunk": ["vscode-extension-splunk/LICENSE", "contentctl/LICENSE.md"], "secops": ["googleapis/LICENSE"]}
    for vendor, files in lic.items():
        for fn in files:
            check(os.path.isfile(p(vendor, "upstream", fn)), "licence file present: %s/upstream/%s" % (vendor, fn))
        check(os.path.isfile(p(vendor, "README.md")), "%s/README.md present" % vendor)
    check(not glob.glob(p("splunk", "upstream", "terraform-provider-splunk*")), "no MPL terraform files vendored")


def check_reproducible():
    print("== build.py reproduces the committed outputs")
    outs = sorted(glob.glob(p("*", "*.json")))
    before = {f: open(f, "rb").read() for f in outs}
    r = subprocess.run([sys.executable, p("build.py")], capture_output=True, text=True)
    check(r.returncode == 0, "build.py exits 0" + ("" if r.returncode == 0 else ": " + r.stderr[-500:]))
    after_files = sorted(glob.glob(p("*", "*.json")))
    check(after_files == outs, "same set of output files")
    changed = [os.path.relpath(f, HERE) for f in after_files if before.get(f) != open(f, "rb").read()]
    check(not changed, "outputs byte-identical after rebuild%s" % ("" if not changed else ": " + ", ".join(changed)))


LOOKAROUND = re.compile(r"\(\?[=!<]|\\[1-9]")


def walk(node, fn, path=()):
    fn(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, fn, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, fn, path + (i,))


def resolve_pointer(doc, ref):
    node = doc
    for tok in [t for t in ref[2:].split("/") if t]:
        node = node[tok.replace("~1", "/").replace("~0", "~")]
    return node


def check_schemas():
    print("== schema well-formedness")
    for f in sorted(glob.glob(p("*", "*.schema.json"))):
        rel = os.path.relpath(f, HERE)
        doc = load(rel)
        try:
            Draft7Validator.check_schema(doc)
            ok = True
        except Exception as e:  # noqa: BLE001
            ok = False
            print("     ", e)
        problems = []

        def visit(node, path):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and path[-1:] != ("properties",):
                    if not ref.startswith("#/"):
                        problems.append("external $ref %s at %s" % (ref, "/".join(map(str, path))))
                    else:
                        try:
                            resolve_pointer(doc, ref)
                        except (KeyError, IndexError, TypeError):
                            problems.append("dangling $ref %s" % ref)
                pat = node.get("pattern")
                if isinstance(pat, str) and path[-1:] != ("properties",):
                    if LOOKAROUND.search(pat):
                        problems.append("look-around/backref in pattern %s" % pat)
                    re.compile(pat)
        walk(doc, visit)
        check(ok and not problems and doc.get("$schema") == "http://json-schema.org/draft-07/schema#"
              and "$comment" in doc and "@" in doc["$comment"],
              "%s: valid draft-07, local refs only, $comment with upstream commits%s" % (rel, "" if not problems else
                                                                                        " -> " + "; ".join(problems[:3])))


# ---------------------------------------------------------------------------------------------
AR_EX = "sentinel/upstream/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/" \
        "2025-12-01/examples/alertRules/"


def extra_keys(instance, schema_rel):
    """Keys of the instance that the (request) schema does not declare, with JSON paths."""
    doc = load(schema_rel)
    out = []

    def rec(inst, sch, path):
        while "$ref" in sch:
            sch = resolve_pointer(doc, sch["$ref"])
        if isinstance(inst, dict) and "properties" in sch:
            for k, v in inst.items():
                if k not in sch["properties"] or sch["properties"][k] is False:
                    if sch.get("additionalProperties") is False or sch["properties"].get(k) is False:
                        out.append("/".join(path + (k,)))
                else:
                    rec(v, sch["properties"][k], path + (k,))
        elif isinstance(inst, list) and isinstance(sch.get("items"), dict):
            for i, v in enumerate(inst):
                rec(v, sch["items"], path + (str(i),))
    rec(instance, doc, ())
    return out


def check_sentinel():
    print("== sentinel")
    put = "sentinel/alert_rule_put.schema.json"
    strict = "sentinel/alert_rule_put.strict.schema.json"
    ex = load(AR_EX + "CreateScheduledAlertRule.json")
    body = ex["parameters"]["alertRule"]
    accepts(put, body, "CreateScheduledAlertRule.json parameters.alertRule")
    extra = extra_keys(body, put)
    check(not extra, "example request has no fields the stable schema forbids (found: %s)" % extra)
    NOTES.append("Sentinel example request fields forbidden by alert_rule_put: %s" % (extra or "none"))
    accepts(strict, body, "the same example (template-validator limits)")
    for code, resp in sorted(ex["responses"].items()):
        accepts("sentinel/alert_rule.schema.json", resp["body"], "CreateScheduledAlertRule.json %s response" % code)
    get = load(AR_EX + "GetScheduledAlertRule.json")["responses"]["200"]["body"]
    accepts("sentinel/alert_rule.schema.json", get, "GetScheduledAlertRule.json 200 body")
    rejects(put, get, "a GET body sent back as PUT (id/name/type/lastModifiedUtc are readOnly)")
    lst = load(AR_EX + "GetAllAlertRules.json")["responses"]["200"]["body"]
    accepts("sentinel/alert_rule_list.schema.json", lst, "GetAllAlertRules.json 200 body (%s)" %
            ", ".join(sorted({r["kind"] for r in lst["value"]})))
    dele = load(AR_EX + "DeleteAlertRule.json")["responses"]
    check(sorted(dele) == ["200", "204"] and all("body" not in v for v in dele.values()),
          "DeleteAlertRule.json: 200/204 without body")
    import copy
    def mutate(fn):
        b = copy.deepcopy(body)
        fn(b)
        return b
    rejects(put, mutate(lambda b: b["properties"].__setitem__("lastModifiedUtc", "2021-01-01T00:00:00Z")),
            "readOnly lastModifiedUtc")
    rejects(put, mutate(lambda b: b.__setitem__("id", "/subscriptions/x")), "readOnly id")
    rejects(put, mutate(lambda b: b["properties"].__setitem__("subTechniques", ["T1078.001"])),
            "preview-only field subTechniques")
    rejects(put, mutate(lambda b: b["properties"].__setitem__("tactics", ["DefenseImpairment"])), "unknown tactic")
    rejects(put, mutate(lambda b: b["properties"].__setitem__("severity", "Critical")), "severity Critical")
    rejects(put, mutate(lambda b: b["properties"].__setitem__("triggerOperator", "GreaterOrEqual")),
            "unknown triggerOperator")
    rejects(put, mutate(lambda b: b["properties"].pop("query")), "missing query")
    rejects(put, mutate(lambda b: b.__setitem__("kind", "NRT")), "kind NRT")
    rejects(put, mutate(lambda b: b.pop("properties")), "missing properties")
    rejects(put, mutate(lambda b: b["properties"].__setitem__("queryFrequency", "1h")), "non-ISO duration")
    rejects(put, mutate(lambda b: b["properties"]["entityMappings"][0].__setitem__("entityType", "IoTDevice")),
            "entityType IoTDevice (not in 2025-12-01)")
    rejects(put, mutate(lambda b: b["properties"]["incidentConfiguration"]["groupingConfiguration"].update(
        groupByEntities=[], groupByAlertDetails=[], groupByCustomDetails=[])), "matchingMethod Selected with empty groupBy*")
    rejects(strict, mutate(lambda b: b["properties"]["entityMappings"][0]["fieldMappings"][0].__setitem__(
        "identifier", "Address")), "(strict) Host mapped with identifier Address")
    rejects(strict, mutate(lambda b: b["properties"]["customDetails"].__setitem__("1bad", "Col")),
            "(strict) customDetails key not matching ^[a-zA-Z]+\\w*$")
    rejects(strict, mutate(lambda b: b["properties"].__setitem__("triggerThreshold", 10001)),
            "(strict) triggerThreshold 10001")
    accepts("sentinel/cloud_error.schema.json", {"error": {"code": "BadRequest", "message": "x", "target": "y"}},
            "ARM error with extra 'target'")
    rejects("sentinel/cloud_error.schema.json", {"message": "x"}, "error body without 'error'")


KIB = "kibana/upstream/elastic-kibana/x-pack/solutions/security/plugins/security_solution/common/api/detection_engine/"
MIN_QUERY = {"rule_id": "x", "name": "n", "description": "d", "risk_score": 47, "severity": "medium", "type": "query",
             "query": "a:b", "language": "lucene", "index": ["logs-*"]}
ESQL = {"rule_id": "aisigma-esql-1", "name": "n", "description": "d", "risk_score": 21, "severity": "low",
        "type": "esql", "language": "esql", "query": "FROM logs-* | WHERE event.code == \"4625\"",
        "version": 1, "interval": "5m", "from": "now-6m", "tags": ["aisigma"], "enabled": True,
        "threat": [{"framework": "MITRE ATT&CK", "tactic": {"id": "TA0006", "name": "Credential Access",
                                                            "reference": "https://attack.mitre.org/tactics/TA0006/"},
                    "technique": [{"id": "T1110", "name": "Brute Force",
                                   "reference": "https://attack.mitre.org/techniques/T1110/"}]}],
        "alert_suppression": {"group_by": ["user.name"], "duration": {"value": 5, "unit": "m"},
                              "missing_fields_strategy": "suppress"},
        "investigation_fields": {"field_names": ["user.name", "source.ip"]}, "throttle": "no_actions",
        "meta": {"aisigma": {"hash": "abc"}}, "max_signals": 100, "author": ["aisigma"], "license": "DRL-1.1",
        "references": [], "false_positives": [], "related_integrations": [{"package": "system", "version": "^1.0.0"}],
        "required_fields": [{"name": "event.code", "type": "keyword"}], "setup": "", "note": "",
        "severity_mapping": [], "risk_score_mapping": [], "actions": [], "exceptions_list": [], "to": "now"}


def with_(base, **kw):
    d = dict(base)
    for k, v in kw.items():
        if v is DROP:
            d.pop(k, None)
        else:
            d[k] = v
    return d


DROP = object()


def check_kibana():
    print("== kibana")
    rc = "kibana/rule_create.schema.json"
    accepts(rc, MIN_QUERY, "minimal query rule")
    accepts(rc, ESQL, "esql rule with alert_suppression/investigation_fields/threat/throttle/meta")
    accepts(rc, {"name": "n", "description": "d", "risk_score": 0, "severity": "low", "type": "eql",
                 "language": "eql", "query": "process where true", "tiebreaker_field": "event.sequence"}, "eql rule")
    accepts(rc, {"name": "n", "description": "d", "risk_score": 100, "severity": "critical", "type": "threshold",
                 "query": "*", "threshold": {"field": ["host.name"], "value": 5,
                                             "cardinality": [{"field": "user.name", "value": 2}]},
                 "alert_suppression": {"duration": {"value": 1, "unit": "h"}}}, "threshold rule")
    accepts(rc, {"name": "n", "description": "d", "risk_score": 10, "severity": "high", "type": "new_terms",
                 "query": "*", "new_terms_fields": ["host.name"], "history_window_start": "now-7d"}, "new_terms rule")
    rejects(rc, with_(MIN_QUERY, severity=DROP), "query rule without severity")
    rejects(rc, with_(MIN_QUERY, risk_score=101), "risk_score 101")
    rejects(rc, with_(MIN_QUERY, alert_suppression={"group_by": []}), "alert_suppression.group_by []")
    rejects(rc, with_(MIN_QUERY, alert_suppression={"group_by": ["a", "b", "c", "d"]}), "4 group_by fields")
    rejects(rc, with_(MIN_QUERY, severity="informational"), "severity informational")
    rejects(rc, with_(MIN_QUERY, version=0), "version 0")
    rejects(rc, with_(MIN_QUERY, throttle="0m"), "throttle 0m")
    rejects(rc, with_(MIN_QUERY, investigation_fields={"field_names": []}), "investigation_fields.field_names []")
    rejects(rc, with_(MIN_QUERY, language="esql"), "query rule with language esql")
    rejects(rc, with_(MIN_QUERY, risk_score="47"), "risk_score as string")
    rejects(rc, with_(MIN_QUERY, riskScore=47), "unknown (camelCase) field")
    rejects(rc, with_(MIN_QUERY, name=""), "empty name")
    rejects(rc, with_(MIN_QUERY, type="machine_learning"), "type machine_learning (not an aisigma type)")
    rejects(rc, with_(ESQL, index=["logs-*"]), "esql rule with index")
    rejects(rc, {"name": "n", "description": "d", "risk_score": 1, "severity": "low", "type": "threshold",
                 "query": "*", "threshold": {"field": "a", "value": 1},
                 "alert_suppression": {"group_by": ["a"], "duration": {"value": 1, "unit": "h"}}},
            "threshold rule with group_by suppression")
    rejects(rc, with_(ESQL, threat=[{"framework": "MITRE ATT&CK", "tactic": {"id": "TA0006"}}]),
            "threat tactic without name/reference")
    ri = "kibana/rule_import.schema.json"
    accepts(ri, with_(MIN_QUERY, version=1), "minimal query rule + version")
    accepts(ri, with_(ESQL, id="6a5b...", immutable=False, rule_source={"type": "internal"},
                      created_at="2025-01-01T00:00:00.000Z", revision=0),
            "esql rule with exported response fields")
    rejects(ri, MIN_QUERY, "import line without version")
    rejects(ri, with_(MIN_QUERY, version=1, rule_id=DROP), "import line without rule_id")
    rejects(ri, with_(MIN_QUERY, version=1, timeline_id="t"), "timeline_id without timeline_title")
    rejects(ri, {"rule_id": "x", "version": 1, "name": "n", "description": "d", "risk_score": 1, "severity": "low",
                 "type": "threshold", "query": "*", "threshold": {"field": list("abcdef"), "value": 1}},
            "threshold.field with 6 entries")
    ru = "kibana/rule_update.schema.json"
    accepts(ru, MIN_QUERY, "update by rule_id")
    rejects(ru, with_(MIN_QUERY, rule_id=DROP), "update with neither id nor rule_id")
    rp = "kibana/rule_patch.schema.json"
    accepts(rp, {"rule_id": "x", "enabled": False}, "patch {rule_id, enabled} (x-modify: partial)")
    rejects(rp, {"rule_id": "x", "risk_score": 101}, "patch risk_score 101")
    ff = KIB + "rule_management/find_rules/find_rules_route.schema.yaml"
    with open(p(ff), encoding="utf-8") as f:
        find_yaml = yaml.safe_load(f)
    ex = find_yaml["paths"]["/api/detection_engine/rules/_find"]["get"]["responses"]["200"]["content"][
        "application/json"]["examples"]["example1"]["value"]
    doc = load("kibana/find_response.schema.json")
    qv = next(v for v in doc["definitions"]["RuleResponse"]["oneOf"] if v["properties"]["type"]["enum"] == ["query"])
    qdoc = dict(qv, definitions=doc["definitions"])
    msgs = sorted({e.message for e in Draft7Validator(qdoc).iter_errors(ex["data"][0])})
    NOTES.append("Kibana find_rules example1 (upstream) vs RuleResponse/query: %s" % (msgs or "valid"))
    check(True, "find_rules example1 checked against the query variant (%d problem(s), see notes)" % len(msgs))
    full = dict(ex["data"][0], rule_source={"type": "internal"}, revision=0, author=[], exceptions_list=[],
                actions=[], risk_score_mapping=[], severity_mapping=[], version=1)
    accepts("kibana/find_response.schema.json", dict(ex, data=[full]),
            "find_rules example1 completed with the fields it lacks")
    rejects("kibana/find_response.schema.json", {"page": 1, "perPage": 5, "data": []}, "find response without total")
    imp = KIB + "rule_management/import_rules/import_rules_route.schema.yaml"
    with open(p(imp), encoding="utf-8") as f:
        imp_yaml = yaml.safe_load(f)
    iex = imp_yaml["paths"]["/api/detection_engine/rules/_import"]["post"]["responses"][200]["content"][
        "application/json"]["examples"]["example1"]["value"]
    ierrs = sorted({e.message for e in errors("kibana/import_response.schema.json", iex)})
    NOTES.append("Kibana import_rules example1 vs its own schema: %s" % (ierrs or "valid"))
    accepts("kibana/import_response.schema.json", dict(iex, action_connectors_success=True,
                                                        action_connectors_success_count=0,
                                                        action_connectors_errors=[], action_connectors_warnings=[]),
            "import example1 + action_connectors_* fields")
    accepts("kibana/import_response.schema.json", {
        "success": False, "success_count": 0, "rules_count": 1, "exceptions_success": True,
        "exceptions_success_count": 0, "exceptions_errors": [], "action_connectors_success": True,
        "action_connectors_success_count": 0, "action_connectors_errors": [], "action_connectors_warnings": [],
        "errors": [{"rule_id": "x", "error": {"status_code": 409, "message": "rule_id: \"x\" already exists"}}]},
        "import response with a per-rule 409 error")
    ba = "kibana/bulk_action_request.schema.json"
    accepts(ba, {"action": "delete", "ids": ["6a5b2f4e-0000-0000-0000-000000000000"]}, "bulk delete by ids")
    accepts(ba, {"action": "delete", "query": "alert.attributes.tags:\"aisigma\""}, "bulk delete by query")
    rejects(ba, {"action": "delete", "ids": []}, "bulk delete with empty ids")
    rejects(ba, {"action": "delete", "ids": ["a"], "query": "q"}, "bulk delete with ids and query")
    rejects(ba, {"action": "purge", "ids": ["a"]}, "unknown bulk action")
    accepts("kibana/bulk_action_response.schema.json", {
        "success": True, "rules_count": 1, "attributes": {
            "results": {"updated": [], "created": [], "deleted": [], "skipped": []},
            "summary": {"failed": 0, "skipped": 0, "succeeded": 1, "total": 1}}}, "bulk response")
    er = "kibana/error.schema.json"
    accepts(er, {"status_code": 400, "message": "bad"}, "SiemErrorResponse")
    accepts(er, {"statusCode": 401, "error": "Unauthorized", "message": "x"}, "PlatformErrorResponse")
    rejects(er, {"message": "x"}, "error without status code")

    # second opinion: elastic/detection-rules 9.5 JSON schemas (informational)
    dr = "kibana/upstream/elastic-detection-rules/detection_rules/etc/api_schemas/9.5/9.5.%s.json"
    ours = {v["properties"]["type"]["enum"][0]: v for v in load(rc)["oneOf"]}
    for t in ("query", "eql", "esql", "threshold", "new_terms"):
        theirs = load(dr % t)
        a, b = set(ours[t]["properties"]), set(theirs["properties"])
        NOTES.append("Kibana %s: only in Kibana source schema: %s; only in detection-rules 9.5: %s; "
                     "detection-rules 9.5 also requires: %s" % (
                         t, sorted(a - b), sorted(b - a),
                         sorted(set(theirs.get("required", [])) - set(ours[t].get("required", [])))))


SPLUNK_NAME_OK = None


def check_splunk():
    print("== splunk")
    sp = load("splunk/savedsearch_params.json")
    pats = [re.compile(x) for x in sp["patterns"]]

    def ok(param):
        return param in sp["allowed"] or any(r.fullmatch(param) for r in pats)

    check(set(sp["create_required"]) <= set(sp["allowed"]), "create_required ⊆ allowed")
    check(not set(sp["conf_names_rejected_by_rest"]) & set(sp["allowed"]), "conf-only names are not REST params")
    check(sp["enums"]["alert_type"] == ["number of events", "number of hosts", "number of sources", "custom", "always"],
          "alert_type enum from counttype")
    check(sp["enums"]["alert_comparator"] == ["greater than", "less than", "equal to", "not equal to", "drops by",
                                              "rises by"], "alert_comparator enum from relation")
    check(sp["enums"]["alert.severity"] == ["1", "2", "3", "4", "5", "6"], "alert.severity 1..6")
    aisigma = ["name", "search", "description", "disabled", "is_scheduled", "cron_schedule", "schedule_window",
               "dispatch.earliest_time", "dispatch.latest_time", "alert_type", "alert_comparator", "alert_threshold",
               "alert.track", "alert.severity", "alert.digest_mode", "alert.suppress", "alert.suppress.period",
               "alert.suppress.fields", "actions", "action.notable", "action.notable.param.rule_title",
               "action.risk.param._risk", "action.correlationsearch.enabled", "action.correlationsearch.annotations",
               "action.aisigma", "action.aisigma.param.hash", "request.ui_dispatch_app", "is_visible",
               "dispatch.sample_ratio", "args.user"]
    bad = [x for x in aisigma if not ok(x)]
    check(not bad, "typical aisigma saved-search parameters are valid (%s)" % bad)
    def builtin_ok(param):
        m = re.match(r"^action\.([A-Za-z0-9_]+)\.(.+)$", param)
        if param in sp["allowed"] or not m or m.group(1) not in sp["builtin_action_params"]:
            return True
        return m.group(2) in sp["builtin_action_params"][m.group(1)] or any(
            re.fullmatch(rx, m.group(2)) for rx in sp["builtin_action_param_patterns"])
    for good in ("action.email.subject.alert", "action.email.message.alert", "action.email.useNSSubject",
                 "action.email.to", "action.script.filename", "action.summary_index.my_field",
                 "action.email.include.search"):
        check(ok(good) and builtin_ok(good), "built-in action parameter %s valid" % good)
    check(ok("action.email.subjct") and not builtin_ok("action.email.subjct"),
          "typo action.email.subjct passes the generic pattern but fails builtin_action_params")
    for wrong in ("counttype", "enableSched", "alert.severty", "cron", "dispatch earliest", "action.", "quantity"):
        check(not ok(wrong), "parameter %r is rejected" % wrong)
    mp = load("splunk/macro_params.json")
    check(sorted(mp["allowed"]) == ["args", "definition", "description", "disabled", "errormsg", "iseval", "name",
                                    "validation"], "macro params = %s" % mp["allowed"])
    ck = load("splunk/conf_keys.json")

    def conf_ok(conf, stanza, key):
        c = ck[conf]["stanzas"]
        cands = [stanza] if stanza in c else [s for s, rx in ck[conf]["stanza_name_patterns"].items()
                                              if re.fullmatch(rx, stanza)]
        if ck[conf].get("global_keys_apply_to_every_stanza"):
            cands += [s for s in c if s in ("default", "<stanza name>")]
        for s in cands:
            if key in c[s]["keys"] or any(re.fullmatch(rx, key) for rx in c[s]["patterns"]):
                return True
        return False

    def conf_lines(rel):
        with open(p(rel), encoding="utf-8") as f:
            text = f.read()
        stanza, out = "default", []
        for line in text.splitlines():
            if line.startswith("{%") or line.startswith("#") or not line.strip():
                continue
            m = re.match(r"^\[(.*)\]$", line)
            if m:
                stanza = m.group(1)
                continue
            m = re.match(r"^([A-Za-z0-9_.{}]+) = ", line)
            if m:
                out.append((stanza, m.group(1)))
        return out

    cc = "splunk/upstream/contentctl/contentctl/"
    ss = [(s, k) for s, k in conf_lines(cc + "output/templates/savedsearches_detections.j2") if "{" not in k]
    bad = [k for s, k in ss if not conf_ok("savedsearches.conf", "<stanza name>", k)]
    check(not bad and len(ss) > 40, "all %d keys of contentctl savedsearches_detections.j2 valid per conf_keys %s"
          % (len(ss), bad))
    app = conf_lines(cc + "output/templates/app.conf.j2")
    bad = [(s, k) for s, k in app if "{" not in k and not conf_ok("app.conf", s, k)]
    check(not bad, "contentctl app.conf.j2 keys valid per stanza %s" % bad)
    check(conf_ok("app.conf", "triggers", "reload.aisigma_detections"), "app.conf [triggers] reload.<conf> pattern")
    check(not conf_ok("app.conf", "ui", "build"), "app.conf: 'build' is not a [ui] key")
    mac = [(s, k) for s, k in conf_lines(cc + "output/templates/macros.j2")]
    check(all(conf_ok("macros.conf", "<STANZA_NAME>", k) for s, k in mac) and mac,
          "contentctl macros.j2 keys valid (%s)" % sorted({k for _, k in mac}))
    meta = conf_lines(cc + "templates/app_template/metadata/default.meta")
    bad = [(s, k) for s, k in meta if not conf_ok("default.meta", s, k)]
    check(not bad and meta, "contentctl default.meta keys valid per default.meta.spec %s" % bad)


def check_secops():
    print("== secops")
    rs = "secops/rule.schema.json"
    text = "rule aisigma_x {\n meta:\n  author = \"aisigma\"\n events:\n  $e.metadata.event_type = \"USER_LOGIN\"\n" \
           " condition:\n  $e\n}"
    accepts(rs, {"text": text}, "CreateRule {text}")
    accepts(rs, {"text": text, "scope": "projects/p/locations/us/instances/i/dataAccessScopes/s"}, "with scope")
    rejects(rs, {}, "CreateRule without text")
    for f in load(rs)["x-output-only"]:
        rejects(rs, {"text": text, f: "x"}, "output-only field %s" % f)
    rejects(rs, {"text": text, "scope": "s"}, "scope not a DataAccessScope resource name")
    accepts("secops/rule_update.schema.json", {"text": text, "etag": "abc"}, "UpdateRule {text, etag}")
    accepts("secops/rule_update.schema.json", {}, "UpdateRule {} (all via updateMask)")
    rejects("secops/rule_update.schema.json", {"displayName": "x"}, "UpdateRule with output-only displayName")
    accepts("secops/rule_response.schema.json", {
        "name": "projects/p/locations/us/instances/i/rules/ru_1", "revisionId": "v_1700000000_123456789",
        "displayName": "aisigma_x", "text": text, "author": "aisigma", "severity": {"displayName": "High"},
        "metadata": {"aisigma_id": "x"}, "createTime": "2026-01-01T00:00:00Z", "compilationState": "SUCCEEDED",
        "type": "SINGLE_EVENT", "allowedRunFrequencies": ["LIVE", "HOURLY", "DAILY"], "etag": "e",
        "nearRealTimeLiveRuleEligible": True, "inputsUsed": {"usesUdm": True},
        "compilationDiagnostics": [{"message": "m", "severity": "WARNING",
                                    "position": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}}]},
        "full Rule resource")
    rd = "secops/rule_deployment.schema.json"
    accepts(rd, {"name": "projects/p/locations/us/instances/i/rules/ru_1/deployment", "enabled": True,
                 "alerting": True, "runFrequency": "LIVE"}, "UpdateRuleDeployment body")
    accepts(rd, {"enabled": False, "archived": True}, "archive a disabled rule")
    rejects(rd, {"enabled": True, "archived": True}, "archived=true with enabled=true")
    rejects(rd, {"runFrequency": "WEEKLY"}, "runFrequency WEEKLY")
    rejects(rd, {"executionState": "DEFAULT"}, "output-only executionState")
    rejects(rd, {"run_frequency": "LIVE"}, "snake_case field name")
    check(sorted(load(rd)["properties"]["runFrequency"].get("enum") or
                 load(rd)["definitions"]["RunFrequency"]["enum"]) == ["DAILY", "HOURLY", "LIVE",
                                                                      "RUN_FREQUENCY_UNSPECIFIED"],
          "runFrequency enum")
    accepts("secops/verify_rule_text_request.schema.json", {"ruleText": text}, "VerifyRuleText request")
    se = "secops/status_error.schema.json"
    accepts(se, {"error": {"code": 409, "message": "etag mismatch", "status": "ABORTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R", "domain": "chronicle.googleapis.com",
         "metadata": {"k": "v"}}]}}, "ABORTED 409 with ErrorInfo")
    accepts(se, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}, "429 with RetryInfo")
    rejects(se, {"error": {"code": 400, "message": "x", "status": "ABORTED"}}, "code/status mismatch")
    rejects(se, {"error": {"code": 429, "message": "x", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": 2}]}}, "RetryInfo.retryDelay as number")


def main():
    check_sources()
    check_reproducible()
    check_schemas()
    check_sentinel()
    check_kibana()
    check_splunk()
    check_secops()
    print("== notes (informational)")
    for n in NOTES:
        print("  - " + n)
    print("== %s: %d failure(s)" % ("FAILED" if FAILS else "PASSED", len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
