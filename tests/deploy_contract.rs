//! `aisigma deploy` against local servers that answer as the four SIEMs' APIs do and check
//! every request against the vendors' published API descriptions (`tests/contracts/`:
//! SecurityInsights 2025-12-01 swagger, Kibana's detection-engine OpenAPI schemas, Splunk's
//! `savedsearches.conf.spec` parameters, Chronicle's `rule.proto`). Each family: plan, apply,
//! a second apply that changes nothing, prune that never touches a rule aisigma did not
//! create, a rule the SIEM rejects, a 429 that is retried, and bad credentials.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Req {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn form(&self) -> Vec<(String, String)> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(n) => {
                out.push(n);
                i += 3;
            }
            None => {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The state of a mock SIEM.
#[derive(Default)]
struct State {
    /// Stored rules by the SIEM's own key.
    rules: BTreeMap<String, Value>,
    /// Requests that break the published contract.
    violations: Vec<String>,
    /// Every request, as `METHOD path`.
    log: Vec<String>,
    /// Answer the next write with 429 (Retry-After: 0).
    throttle_next_write: bool,
    /// Reject writes of rules whose body contains this text, with 400.
    reject: Option<String>,
    next_id: usize,
}

type Handler = fn(&mut State, &Req, &str) -> (u16, Value);

struct Mock {
    url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(handler: Handler, auth: &'static str, seed: impl FnOnce(&mut State)) -> Mock {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!(
        "http://127.0.0.1:{}",
        server.server_addr().to_ip().unwrap().port()
    );
    let state = Arc::new(Mutex::new(State::default()));
    seed(&mut state.lock().unwrap());
    let (s2, st2, base) = (server.clone(), state.clone(), url.clone());
    let thread = std::thread::spawn(move || {
        while let Ok(mut rq) = s2.recv() {
            let (path, query) = match rq.url().split_once('?') {
                Some((p, q)) => (p.to_string(), q.to_string()),
                None => (rq.url().to_string(), String::new()),
            };
            let query = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect();
            let headers = rq
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_ascii_lowercase(),
                        h.value.as_str().to_string(),
                    )
                })
                .collect::<BTreeMap<_, _>>();
            let mut body = Vec::new();
            let _ = std::io::Read::read_to_end(rq.as_reader(), &mut body);
            let req = Req {
                method: rq.method().as_str().to_string(),
                path: decode(&path),
                query,
                headers,
                body,
            };
            let (status, value, retry) = {
                let mut st = st2.lock().unwrap();
                st.log.push(format!("{} {}", req.method, req.path));
                if req.headers.get("authorization").map(String::as_str) != Some(auth) {
                    (
                        401,
                        json!({"error": {"code": "Unauthorized", "message": "bad credentials"}, "message": "bad credentials", "messages": [{"type": "ERROR", "text": "bad credentials"}]}),
                        false,
                    )
                } else if req.method != "GET" && st.throttle_next_write {
                    st.throttle_next_write = false;
                    (
                        429,
                        json!({"error": {"code": 429, "message": "slow down"}}),
                        true,
                    )
                } else {
                    let (s, v) = handler(&mut st, &req, &base);
                    (s, v, false)
                }
            };
            let text = if value.is_null() {
                String::new()
            } else {
                value.to_string()
            };
            let mut resp = tiny_http::Response::from_string(text)
                .with_status_code(status)
                .with_header(
                    tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
                );
            if retry {
                resp = resp.with_header(tiny_http::Header::from_bytes("Retry-After", "0").unwrap());
            }
            let _ = rq.respond(resp);
        }
    });
    Mock {
        url,
        state,
        server,
        thread: Some(thread),
    }
}

/// A JSON Schema from tests/contracts.
fn schema(path: &str) -> jsonschema::Validator {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("tests/contracts/{path}")).unwrap())
            .unwrap();
    jsonschema::validator_for(&v).unwrap()
}

fn validate(st: &mut State, what: &str, v: &jsonschema::Validator, body: &Value) {
    for e in v.iter_errors(body) {
        st.violations
            .push(format!("{what}: {e} at {}", e.instance_path()));
    }
}

fn reject(st: &State, body: &str) -> bool {
    st.reject.as_deref().is_some_and(|r| body.contains(r))
}

// ---------------------------------------------------------------- Splunk

fn splunk(st: &mut State, req: &Req, _: &str) -> (u16, Value) {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/contracts/splunk/savedsearch_params.json").unwrap(),
    )
    .unwrap();
    let allowed: Vec<&str> = spec["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let patterns: Vec<regex::Regex> = spec["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| regex::Regex::new(p.as_str().unwrap()).unwrap())
        .collect();
    let app = "aisigma";
    let list = "/servicesNS/-/aisigma/saved/searches";
    let one = format!("/servicesNS/nobody/{app}/saved/searches");
    let check_params = |st: &mut State, form: &[(String, String)]| {
        for (k, _) in form {
            let ok = k == "name"
                || k == "output_mode"
                || allowed.contains(&k.as_str())
                || patterns.iter().any(|p| p.is_match(k));
            if !ok {
                st.violations
                    .push(format!("splunk: unknown saved-search parameter `{k}`"));
            }
            if spec["conf_names_rejected_by_rest"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == k.as_str())
            {
                st.violations
                    .push(format!("splunk: conf name `{k}` sent to REST"));
            }
        }
    };
    let as_content = |form: &[(String, String)]| -> Value {
        let mut c = serde_json::Map::new();
        for (k, v) in form {
            if k == "name" || k == "output_mode" {
                continue;
            }
            // splunkd answers flags as booleans.
            let val = match (k.as_str(), v.as_str()) {
                ("is_scheduled" | "disabled" | "alert.track" | "realtime_schedule", "1") => {
                    Value::Bool(true)
                }
                ("is_scheduled" | "disabled" | "alert.track" | "realtime_schedule", "0") => {
                    Value::Bool(false)
                }
                _ => Value::String(v.clone()),
            };
            c.insert(k.clone(), val);
        }
        Value::Object(c)
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", p) if p == list => {
            if req.query.get("output_mode").map(String::as_str) != Some("json") {
                st.violations
                    .push("splunk: list without output_mode=json".into());
            }
            let offset: usize = req
                .query
                .get("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let count: usize = req
                .query
                .get("count")
                .and_then(|o| o.parse().ok())
                .unwrap_or(30);
            let all: Vec<Value> = st.rules.values().cloned().collect();
            let page: Vec<Value> = all
                .iter()
                .skip(offset)
                .take(if count == 0 { usize::MAX } else { count })
                .cloned()
                .collect();
            (
                200,
                json!({"entry": page, "paging": {"total": all.len(), "perPage": count, "offset": offset}, "messages": []}),
            )
        }
        ("POST", p) if p == one => {
            let form = req.form();
            check_params(st, &form);
            let Some(name) = form
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.clone())
            else {
                st.violations.push("splunk: create without name".into());
                return (
                    400,
                    json!({"messages": [{"type": "ERROR", "text": "name is required"}]}),
                );
            };
            if !form.iter().any(|(k, _)| k == "search") {
                st.violations.push("splunk: create without search".into());
            }
            let values: String = form
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if reject(st, &values) {
                return (
                    400,
                    json!({"messages": [{"type": "ERROR", "text": "Error in 'search' command"}]}),
                );
            }
            if st.rules.contains_key(&name) {
                return (
                    409,
                    json!({"messages": [{"type": "ERROR", "text": "An object with name already exists"}]}),
                );
            }
            st.rules.insert(name.clone(), json!({"name": name, "acl": {"app": app, "owner": "nobody", "sharing": "app"}, "content": as_content(&form)}));
            (201, json!({"entry": [{"name": name}]}))
        }
        ("POST", p) if p.starts_with(&format!("{one}/")) => {
            let name = p[one.len() + 1..].to_string();
            let form = req.form();
            check_params(st, &form);
            if form.iter().any(|(k, _)| k == "name") {
                st.violations.push("splunk: update sends `name`".into());
            }
            let values: String = form
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if reject(st, &values) {
                return (
                    400,
                    json!({"messages": [{"type": "ERROR", "text": "Error in 'search' command"}]}),
                );
            }
            let Some(r) = st.rules.get_mut(&name) else {
                return (
                    404,
                    json!({"messages": [{"type": "ERROR", "text": "Could not find object"}]}),
                );
            };
            if let (Value::Object(c), Value::Object(n)) = (&mut r["content"], as_content(&form)) {
                c.extend(n);
            }
            (200, json!({"entry": [{"name": name}]}))
        }
        ("DELETE", p) if p.starts_with(&format!("{one}/")) => {
            let name = p[one.len() + 1..].to_string();
            match st.rules.remove(&name) {
                Some(_) => (200, json!({"entry": []})),
                None => (
                    404,
                    json!({"messages": [{"type": "ERROR", "text": "Could not find object"}]}),
                ),
            }
        }
        _ => {
            st.violations.push(format!(
                "splunk: no such endpoint {} {}",
                req.method, req.path
            ));
            (
                404,
                json!({"messages": [{"type": "ERROR", "text": "not found"}]}),
            )
        }
    }
}

fn splunk_seed(st: &mut State) {
    st.rules.insert("Admin search".into(), json!({"name": "Admin search", "acl": {"app": "aisigma", "owner": "admin"}, "content": {"search": "index=_internal", "description": "made by hand"}}));
    st.rules.insert("Other app".into(), json!({"name": "Other app", "acl": {"app": "search", "owner": "admin"}, "content": {"search": "index=x", "description": "aisigma id: 00000000-0000-0000-0000-000000000001"}}));
}

// ---------------------------------------------------------------- Sentinel

const WS: &str = "/subscriptions/00000000-0000-0000-0000-00000000aaaa/resourceGroups/rg-sec/providers/Microsoft.OperationalInsights/workspaces/ws-ai/providers/Microsoft.SecurityInsights/alertRules";

fn sentinel(st: &mut State, req: &Req, base: &str) -> (u16, Value) {
    if req.query.get("api-version").map(String::as_str) != Some("2025-12-01") {
        st.violations.push(format!(
            "sentinel: api-version {:?}",
            req.query.get("api-version")
        ));
    }
    let not_found = json!({"error": {"code": "NotFound", "message": "rule not found"}});
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", p) if p == WS => {
            // Two rules per page, to follow nextLink.
            let skip: usize = req
                .query
                .get("$skipToken")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let all: Vec<Value> = st.rules.values().cloned().collect();
            let page: Vec<Value> = all.iter().skip(skip).take(2).cloned().collect();
            let mut v = json!({"value": page});
            if skip + 2 < all.len() {
                v["nextLink"] =
                    format!("{base}{WS}?api-version=2025-12-01&$skipToken={}", skip + 2).into();
            }
            (200, v)
        }
        ("PUT", p) if p.starts_with(&format!("{WS}/")) => {
            let id = p[WS.len() + 1..].to_string();
            let body = req.json();
            validate(
                st,
                "sentinel PUT",
                &schema("sentinel/alert_rule_put.schema.json"),
                &body,
            );
            if reject(st, &body.to_string()) {
                return (
                    400,
                    json!({"error": {"code": "BadRequest", "message": "Failed to run the analytics rule query. One of the tables does not exist."}}),
                );
            }
            let created = !st.rules.contains_key(&id);
            let mut props = body["properties"].clone();
            props["lastModifiedUtc"] = "2026-12-03T00:00:00Z".into();
            let r = json!({"id": format!("{WS}/{id}"), "name": id, "type": "Microsoft.SecurityInsights/alertRules", "etag": "\"0300bf09-0000-0000-0000-5c37296e0000\"", "kind": body["kind"], "properties": props});
            validate(
                st,
                "sentinel stored",
                &schema("sentinel/alert_rule.schema.json"),
                &r,
            );
            st.rules.insert(id, r.clone());
            (if created { 201 } else { 200 }, r)
        }
        ("DELETE", p) if p.starts_with(&format!("{WS}/")) => {
            let id = p[WS.len() + 1..].to_string();
            match st.rules.remove(&id) {
                Some(_) => (200, Value::Null),
                None => (204, Value::Null),
            }
        }
        _ => {
            st.violations.push(format!(
                "sentinel: no such endpoint {} {}",
                req.method, req.path
            ));
            (404, not_found)
        }
    }
}

fn sentinel_seed(st: &mut State) {
    st.rules.insert("b1".into(), json!({"id": format!("{WS}/b1"), "name": "b1", "type": "Microsoft.SecurityInsights/alertRules", "kind": "Scheduled", "properties": {"displayName": "Hand-made rule", "description": "written in the portal", "enabled": true, "query": "SigninLogs", "queryFrequency": "PT1H", "queryPeriod": "PT1H", "severity": "Low", "suppressionDuration": "PT1H", "suppressionEnabled": false, "triggerOperator": "GreaterThan", "triggerThreshold": 0}}));
}

// ---------------------------------------------------------------- Kibana

fn kibana(st: &mut State, req: &Req, _: &str) -> (u16, Value) {
    if req.method != "GET" && !req.headers.contains_key("kbn-xsrf") {
        st.violations.push(format!(
            "kibana: {} {} without kbn-xsrf",
            req.method, req.path
        ));
        return (
            400,
            json!({"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}),
        );
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/detection_engine/rules/_find") => {
            let per: usize = req
                .query
                .get("per_page")
                .and_then(|s| s.parse().ok())
                .unwrap_or(20);
            let page: usize = req
                .query
                .get("page")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            let tagged = req
                .query
                .get("filter")
                .is_some_and(|f| f.contains("alert.attributes.tags:\"aisigma\""));
            let all: Vec<Value> = st
                .rules
                .values()
                .filter(|r| {
                    !tagged
                        || r["tags"]
                            .as_array()
                            .is_some_and(|t| t.iter().any(|x| x == "aisigma"))
                })
                .cloned()
                .collect();
            let data: Vec<Value> = all
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .cloned()
                .collect();
            (
                200,
                json!({"page": page, "perPage": per, "total": all.len(), "data": data}),
            )
        }
        ("POST", "/api/detection_engine/rules/_import") => {
            if req.query.get("overwrite").map(String::as_str) != Some("true") {
                st.violations
                    .push("kibana: import without overwrite=true".into());
            }
            let ct = req.headers.get("content-type").cloned().unwrap_or_default();
            let Some(boundary) = ct.split("boundary=").nth(1) else {
                st.violations
                    .push("kibana: import is not multipart/form-data".into());
                return (
                    400,
                    json!({"message": "expected multipart", "status_code": 400}),
                );
            };
            let body = String::from_utf8_lossy(&req.body).to_string();
            let part = body
                .split(&format!("--{boundary}"))
                .find(|p| p.contains("name=\"file\""))
                .unwrap_or_default()
                .to_string();
            let content = part
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches("\r\n")
                .to_string();
            let create = schema("kibana/rule_create.schema.json");
            let import = schema("kibana/rule_import.schema.json");
            let mut errors = Vec::new();
            let mut ok = 0;
            for line in content.lines().filter(|l| !l.trim().is_empty()) {
                let rule: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                validate(st, "kibana import line", &create, &rule);
                validate(st, "kibana import line", &import, &rule);
                let rid = rule["rule_id"].as_str().unwrap_or_default().to_string();
                if reject(st, line) {
                    errors.push(json!({"rule_id": rid, "error": {"status_code": 400, "message": "invalid query"}}));
                    continue;
                }
                let id = st
                    .rules
                    .get(&rid)
                    .and_then(|r| r["id"].as_str().map(String::from))
                    .unwrap_or_else(|| {
                        st.next_id += 1;
                        format!("00000000-0000-4000-8000-{:012}", st.next_id)
                    });
                let mut stored = rule.clone();
                stored["id"] = id.into();
                stored["immutable"] = false.into();
                stored["revision"] = 0.into();
                st.rules.insert(rid, stored);
                ok += 1;
            }
            let resp = json!({"success": errors.is_empty(), "success_count": ok, "rules_count": ok + errors.len(), "errors": errors,
                "exceptions_success": true, "exceptions_success_count": 0, "exceptions_errors": [],
                "action_connectors_success": true, "action_connectors_success_count": 0, "action_connectors_errors": [], "action_connectors_warnings": []});
            validate(
                st,
                "kibana import response",
                &schema("kibana/import_response.schema.json"),
                &resp,
            );
            (200, resp)
        }
        ("POST", "/api/detection_engine/rules/_bulk_action") => {
            let body = req.json();
            validate(
                st,
                "kibana bulk action",
                &schema("kibana/bulk_action_request.schema.json"),
                &body,
            );
            let ids: Vec<String> = body["ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_str().map(String::from))
                .collect();
            let before = st.rules.len();
            st.rules
                .retain(|_, r| !ids.iter().any(|i| r["id"] == i.as_str()));
            let n = before - st.rules.len();
            (
                200,
                json!({"success": true, "rules_count": ids.len(), "attributes": {"results": {"updated": [], "created": [], "deleted": [], "skipped": []}, "summary": {"failed": ids.len() - n, "skipped": 0, "succeeded": n, "total": ids.len()}}}),
            )
        }
        _ => {
            st.violations.push(format!(
                "kibana: no such endpoint {} {}",
                req.method, req.path
            ));
            (
                404,
                json!({"statusCode": 404, "error": "Not Found", "message": "Not Found"}),
            )
        }
    }
}

fn kibana_seed(st: &mut State) {
    st.rules.insert("hand-made".into(), json!({"id": "11111111-1111-4111-8111-111111111111", "rule_id": "hand-made", "name": "Hand-made", "tags": ["team"], "type": "query", "query": "x:y"}));
}

// ---------------------------------------------------------------- SecOps

const PARENT: &str = "projects/p1/locations/us/instances/i1";

fn secops(st: &mut State, req: &Req, _: &str) -> (u16, Value) {
    let rules = format!("/v1/{PARENT}/rules");
    let meta = |text: &str| -> Value {
        let mut m = serde_json::Map::new();
        let mut inside = false;
        for l in text.lines() {
            let l = l.trim();
            if l == "meta:" {
                inside = true;
            } else if l.ends_with(':') {
                inside = false;
            } else if inside && let Some((k, v)) = l.split_once(" = ") {
                m.insert(k.to_string(), v.trim_matches('"').into());
            }
        }
        Value::Object(m)
    };
    let p = req.path.clone();
    match req.method.as_str() {
        "GET" if p == rules => {
            if req.query.get("view").map(String::as_str) != Some("FULL") {
                st.violations
                    .push("secops: list without view=FULL (metadata is FULL-only)".into());
            }
            let rs: Vec<Value> = st
                .rules
                .values()
                .filter(|r| r.get("text").is_some())
                .cloned()
                .collect();
            (200, json!({"rules": rs}))
        }
        "POST" if p == rules => {
            let body = req.json();
            validate(
                st,
                "secops CreateRule",
                &schema("secops/rule.schema.json"),
                &body,
            );
            let text = body["text"].as_str().unwrap_or_default().to_string();
            if reject(st, &text) {
                return (
                    400,
                    json!({"error": {"code": 400, "message": "compilation error", "status": "INVALID_ARGUMENT"}}),
                );
            }
            st.next_id += 1;
            let name = format!("{PARENT}/rules/ru_{:04}", st.next_id);
            let r = json!({"name": name, "text": text, "metadata": meta(&text), "revisionId": "v_1700000000_000000001"});
            st.rules.insert(name.clone(), r.clone());
            st.rules.insert(format!("{name}/deployment"), json!({"name": format!("{name}/deployment"), "enabled": false, "alerting": false, "archived": false, "runFrequency": "LIVE"}));
            (200, r)
        }
        "GET" if p.ends_with("/deployment") => {
            let key = p.trim_start_matches("/v1/").to_string();
            match st.rules.get(&key) {
                Some(d) => (200, d.clone()),
                None => (
                    404,
                    json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
                ),
            }
        }
        "PATCH" if p.ends_with("/deployment") => {
            let body = req.json();
            validate(
                st,
                "secops UpdateRuleDeployment",
                &schema("secops/rule_deployment.schema.json"),
                &body,
            );
            let Some(mask) = req.query.get("updateMask") else {
                st.violations
                    .push("secops: UpdateRuleDeployment without updateMask".into());
                return (
                    400,
                    json!({"error": {"code": 400, "message": "update_mask is required", "status": "INVALID_ARGUMENT"}}),
                );
            };
            let key = p.trim_start_matches("/v1/").to_string();
            let Some(d) = st.rules.get_mut(&key) else {
                return (
                    404,
                    json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
                );
            };
            for f in mask.split(',') {
                d[f] = body[f].clone();
            }
            (200, d.clone())
        }
        "PATCH" => {
            let body = req.json();
            validate(
                st,
                "secops UpdateRule",
                &schema("secops/rule_update.schema.json"),
                &body,
            );
            if req.query.get("updateMask").map(String::as_str) != Some("text") {
                st.violations
                    .push("secops: UpdateRule without updateMask=text".into());
            }
            let key = p.trim_start_matches("/v1/").to_string();
            let text = body["text"].as_str().unwrap_or_default().to_string();
            if reject(st, &text) {
                return (
                    400,
                    json!({"error": {"code": 400, "message": "compilation error", "status": "INVALID_ARGUMENT"}}),
                );
            }
            let Some(r) = st.rules.get_mut(&key) else {
                return (
                    404,
                    json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
                );
            };
            r["text"] = text.clone().into();
            r["metadata"] = meta(&text);
            (200, r.clone())
        }
        "DELETE" => {
            let key = p.trim_start_matches("/v1/").to_string();
            st.rules.remove(&format!("{key}/deployment"));
            match st.rules.remove(&key) {
                Some(_) => (200, json!({})),
                None => (
                    404,
                    json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
                ),
            }
        }
        _ => {
            st.violations.push(format!(
                "secops: no such endpoint {} {}",
                req.method, req.path
            ));
            (
                404,
                json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
            )
        }
    }
}

fn secops_seed(st: &mut State) {
    let name = format!("{PARENT}/rules/ru_hand");
    st.rules.insert(name.clone(), json!({"name": name, "text": "rule hand { meta: author = \"x\" events: $e.metadata.event_type = \"USER_LOGIN\" condition: $e }", "metadata": {"author": "x"}}));
}

// ---------------------------------------------------------------- the runs

struct Family {
    target: &'static str,
    handler: Handler,
    auth: &'static str,
    seed: fn(&mut State),
    env: fn(&str, &str) -> Vec<(String, String)>,
    /// The seeded rules aisigma must never touch.
    foreign: usize,
}

fn deploy(f: &Family, url: &str, secret: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aisigma"));
    c.arg("deploy").args(["--target", f.target]).args(args);
    for (k, v) in (f.env)(url, secret) {
        c.env(k, v);
    }
    c.env("AISIGMA_DEPLOY_RETRY_MS", "10");
    c.output().unwrap()
}

fn writes(m: &Mock) -> usize {
    m.state
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|l| !l.starts_with("GET "))
        .count()
}

fn run_family(f: &Family, secret: &str) {
    let code = |o: &Output| o.status.code().unwrap();
    let out = |o: &Output| String::from_utf8_lossy(&o.stdout).to_string();
    let err = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();
    let m = start(f.handler, f.auth, f.seed);
    let rules = "rules/agent_activity";

    // Plan: everything to create, nothing written.
    let o = deploy(f, &m.url, secret, &["--plan", "--allow-refusals", rules]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let creates = out(&o).lines().filter(|l| l.starts_with("create")).count();
    assert!(creates >= 3, "{}", out(&o));
    assert_eq!(writes(&m), 0, "a plan writes nothing");

    // Apply, with one 429 on the way.
    m.state.lock().unwrap().throttle_next_write = true;
    let o = deploy(f, &m.url, secret, &["--apply", "--allow-refusals", rules]);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert!(m.state.lock().unwrap().rules.len() >= f.foreign + creates);
    assert!(
        !m.state.lock().unwrap().throttle_next_write,
        "the 429 was answered"
    );

    // A second apply changes nothing.
    let before = writes(&m);
    let o = deploy(f, &m.url, secret, &["--apply", "--allow-refusals", rules]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).lines().all(|l| l.starts_with("unchanged")),
        "{}",
        out(&o)
    );
    assert_eq!(writes(&m), before, "idempotent: {}", out(&o));

    // A rule the SIEM rejects fails alone; the others are applied.
    m.state.lock().unwrap().reject = Some("But Allowed It".into());
    let o = deploy(
        f,
        &m.url,
        secret,
        &[
            "--apply",
            "--allow-refusals",
            "rules/agent_activity",
            "rules/ai_guardrail",
        ],
    );
    let text = out(&o);
    assert_eq!(code(&o), 1, "{text}{}", err(&o));
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("create") && l.ends_with("ok")),
        "{text}"
    );
    m.state.lock().unwrap().reject = None;

    // Prune to one file: aisigma's other rules go, the hand-made ones stay.
    let one = "rules/agent_activity/mcp_tool_description_hidden_instructions.yml";
    let o = deploy(f, &m.url, secret, &["--plan", "--prune", one]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let deletes = out(&o).lines().filter(|l| l.starts_with("delete")).count();
    assert!(deletes >= 3, "{}", out(&o));
    let o = deploy(f, &m.url, secret, &["--apply", "--prune", one]);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    let o = deploy(f, &m.url, secret, &["--plan", "--prune", one]);
    assert!(
        out(&o).lines().all(|l| l.starts_with("unchanged")),
        "{}",
        out(&o)
    );
    {
        let st = m.state.lock().unwrap();
        let mut fresh = State::default();
        (f.seed)(&mut fresh);
        for k in fresh.rules.keys() {
            assert!(
                st.rules.contains_key(k),
                "{}: a rule aisigma did not create was touched: {k}",
                f.target
            );
        }
    }

    // Bad credentials: exit 3, nothing written.
    let before = writes(&m);
    let o = deploy(f, &m.url, "wrong", &["--apply", rules]);
    assert_eq!(code(&o), 3, "{}", err(&o));
    assert!(!err(&o).contains("wrong"), "credentials are never printed");
    assert_eq!(writes(&m), before);

    let st = m.state.lock().unwrap();
    assert!(
        st.violations.is_empty(),
        "{}: {:#?}",
        f.target,
        st.violations
    );
}

#[test]
fn splunk_contract() {
    run_family(
        &Family {
            target: "spl",
            handler: splunk,
            auth: "Bearer t0ken",
            seed: splunk_seed,
            env: |u, s| {
                vec![
                    ("AISIGMA_SPLUNK_URL".into(), u.into()),
                    ("AISIGMA_SPLUNK_TOKEN".into(), s.into()),
                ]
            },
            foreign: 2,
        },
        "t0ken",
    );
}

#[test]
fn sentinel_contract() {
    run_family(
        &Family {
            target: "kql",
            handler: sentinel,
            auth: "Bearer t0ken",
            seed: sentinel_seed,
            env: |u, s| {
                vec![
                    ("AISIGMA_AZURE_URL".into(), u.into()),
                    ("AISIGMA_AZURE_TOKEN".into(), s.into()),
                    (
                        "AISIGMA_SENTINEL_SUBSCRIPTION".into(),
                        "00000000-0000-0000-0000-00000000aaaa".into(),
                    ),
                    ("AISIGMA_SENTINEL_RESOURCE_GROUP".into(), "rg-sec".into()),
                    ("AISIGMA_SENTINEL_WORKSPACE".into(), "ws-ai".into()),
                ]
            },
            foreign: 1,
        },
        "t0ken",
    );
}

#[test]
fn kibana_contract() {
    run_family(
        &Family {
            target: "esql",
            handler: kibana,
            auth: "ApiKey a2V5",
            seed: kibana_seed,
            env: |u, s| {
                vec![
                    ("AISIGMA_KIBANA_URL".into(), u.into()),
                    ("AISIGMA_KIBANA_API_KEY".into(), s.into()),
                ]
            },
            foreign: 1,
        },
        "a2V5",
    );
}

#[test]
fn secops_contract() {
    run_family(
        &Family {
            target: "yaral",
            handler: secops,
            auth: "Bearer t0ken",
            seed: secops_seed,
            env: |u, s| {
                vec![
                    ("AISIGMA_SECOPS_URL".into(), u.into()),
                    ("AISIGMA_SECOPS_TOKEN".into(), s.into()),
                    ("AISIGMA_SECOPS_INSTANCE".into(), PARENT.into()),
                ]
            },
            foreign: 1,
        },
        "t0ken",
    );
}

/// The contract schemas catch what the APIs reject, so that a request that passes them means
/// something.
#[test]
fn contract_schemas_reject_bad_bodies() {
    let put = schema("sentinel/alert_rule_put.schema.json");
    let good = json!({"kind": "Scheduled", "properties": {"displayName": "x", "enabled": true, "severity": "High", "query": "T", "queryFrequency": "PT5M", "queryPeriod": "PT5M", "triggerOperator": "GreaterThan", "triggerThreshold": 0, "suppressionEnabled": false, "suppressionDuration": "PT1H"}});
    assert!(put.is_valid(&good));
    let mut bad = good.clone();
    bad["properties"]["subTechniques"] = json!(["T1059.001"]);
    assert!(!put.is_valid(&bad), "subTechniques is not in 2025-12-01");
    let mut bad = good.clone();
    bad["properties"]["tactics"] = json!(["AIAttackStaging"]);
    assert!(!put.is_valid(&bad), "tactics are ATT&CK's");
    let rule = schema("kibana/rule_create.schema.json");
    let good = json!({"rule_id": "x", "name": "n", "description": "d", "risk_score": 47, "severity": "medium", "type": "esql", "language": "esql", "query": "FROM x"});
    assert!(rule.is_valid(&good));
    let mut bad = good.clone();
    bad["alert_suppression"] = json!({"group_by": []});
    assert!(!rule.is_valid(&bad));
    bad = good.clone();
    bad.as_object_mut().unwrap().remove("severity");
    assert!(!rule.is_valid(&bad));
    let create = schema("secops/rule.schema.json");
    assert!(create.is_valid(&json!({"text": "rule x {}"})));
    assert!(!create.is_valid(&json!({"text": "rule x {}", "revisionId": "v_1"})));
    let dep = schema("secops/rule_deployment.schema.json");
    assert!(!dep.is_valid(&json!({"enabled": true, "runFrequency": "EVERY_MINUTE"})));
}

#[test]
fn missing_credentials_are_a_usage_error() {
    let o = Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args([
            "deploy",
            "--target",
            "spl",
            "--plan",
            "rules/agent_activity",
        ])
        .env_remove("AISIGMA_SPLUNK_URL")
        .env_remove("AISIGMA_SPLUNK_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("AISIGMA_SPLUNK_URL"));
    let o = Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args([
            "deploy",
            "--target",
            "spl",
            "--plan",
            "rules/agent_activity",
        ])
        .env("AISIGMA_SPLUNK_URL", "http://splunk.example.com:8089")
        .env("AISIGMA_SPLUNK_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "plain http to another host is refused"
    );
}

/// Every library rule's Kibana and Sentinel artifact, correlations included, is a body the
/// published API descriptions accept.
#[test]
fn every_library_artifact_matches_the_api_schemas() {
    let run = |target: &str, format: &str| -> String {
        let o = Command::new(env!("CARGO_BIN_EXE_aisigma"))
            .args([
                "compile",
                "rules/",
                "--target",
                target,
                "--format",
                format,
                "--allow-refusals",
            ])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let create = schema("kibana/rule_create.schema.json");
    let import = schema("kibana/rule_import.schema.json");
    let mut checked = 0;
    for target in ["lucene", "eql", "esql"] {
        for line in run(target, "kibana-ndjson").lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = create
                .iter_errors(&v)
                .chain(import.iter_errors(&v))
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{target} {}: {errors:?}", v["name"]);
            checked += 1;
        }
    }
    let put = schema("sentinel/alert_rule_put.schema.json");
    let text = run("kql", "sentinel-arm");
    let de = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    for v in de {
        let v = v.unwrap();
        let r = &v["resources"][0];
        let body = json!({"kind": r["kind"], "properties": r["properties"]});
        let errors: Vec<String> = put
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {errors:?}",
            r["properties"]["displayName"]
        );
        checked += 1;
    }
    assert!(checked > 150, "{checked}");
}
