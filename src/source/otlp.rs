//! OTLP/JSON export requests (`{"resourceSpans": [...]}`, `{"resourceLogs": [...]}`) into one
//! flat record per span or log record: attributes keyed by name (resource, then scope, then the
//! item's own, which win), `AnyValue`s as plain JSON (`intValue`, a string in OTLP/JSON, as a
//! number), and the item's own fields under schema names (docs/sources.md, "OTLP/JSON").

use serde_json::{Map, Number, Value};

/// The value of an OTLP `AnyValue` as plain JSON.
pub fn any_value(v: &Value) -> Value {
    let Some(m) = v.as_object() else {
        return Value::Null;
    };
    if let Some(s) = m.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = m.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = m.get("intValue") {
        return match i {
            Value::String(s) => s
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .unwrap_or_else(|_| i.clone()),
            _ => i.clone(),
        };
    }
    if let Some(d) = m.get("doubleValue") {
        return match d {
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| d.clone()),
            _ => d.clone(),
        };
    }
    if let Some(a) = m.get("arrayValue") {
        let items = a.get("values").and_then(Value::as_array);
        return Value::Array(items.into_iter().flatten().map(any_value).collect());
    }
    if let Some(kv) = m.get("kvlistValue") {
        let mut out = Map::new();
        attributes(kv.get("values"), &mut out);
        return Value::Object(out);
    }
    if let Some(b) = m.get("bytesValue") {
        return b.clone();
    }
    Value::Null
}

/// `[{key, value: AnyValue}]` into `out` (later keys win).
fn attributes(list: Option<&Value>, out: &mut Map<String, Value>) {
    for kv in list.and_then(Value::as_array).into_iter().flatten() {
        if let Some(k) = kv.get("key").and_then(Value::as_str) {
            let v = kv.get("value").map(any_value).unwrap_or(Value::Null);
            if !v.is_null() {
                out.insert(k.to_string(), v);
            }
        }
    }
}

/// Unix nanoseconds (a string or a number in OTLP/JSON) as RFC 3339 text with milliseconds.
fn time(v: Option<&Value>) -> Option<Value> {
    let ns: i128 = match v? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_i64()?.into(),
        _ => return None,
    };
    if ns == 0 {
        return None;
    }
    let ms = i64::try_from(ns.div_euclid(1_000_000)).ok()?;
    Some(Value::String(crate::syntax::time::format_ms(ms)))
}

fn copy(from: &Map<String, Value>, key: &str, out: &mut Map<String, Value>, name: &str) {
    if let Some(v) = from.get(key)
        && !v.is_null()
        && v.as_str() != Some("")
    {
        out.insert(name.to_string(), v.clone());
    }
}

/// The records of one export request, in document order; an error if `v` is not one.
pub fn records(v: &Value) -> Result<Vec<Value>, String> {
    let (list, scopes_key, items_key) = if let Some(r) = v.get("resourceSpans") {
        (r, "scopeSpans", "spans")
    } else if let Some(r) = v.get("resourceLogs") {
        (r, "scopeLogs", "logRecords")
    } else {
        return Err(
            "not an OTLP/JSON export request (no `resourceSpans` or `resourceLogs`)".to_string(),
        );
    };
    let Some(list) = list.as_array() else {
        let key = if items_key == "spans" {
            "resourceSpans"
        } else {
            "resourceLogs"
        };
        return Err(format!("`{key}` is not an array"));
    };
    let mut out = Vec::new();
    for res in list {
        let mut base = Map::new();
        attributes(res.pointer("/resource/attributes"), &mut base);
        for scope in res
            .get(scopes_key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut scoped = base.clone();
            attributes(scope.pointer("/scope/attributes"), &mut scoped);
            for item in scope
                .get(items_key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(obj) = item.as_object() else {
                    continue;
                };
                let mut rec = scoped.clone();
                attributes(obj.get("attributes"), &mut rec);
                copy(obj, "traceId", &mut rec, "trace.id");
                copy(obj, "spanId", &mut rec, "span.id");
                if items_key == "spans" {
                    copy(obj, "parentSpanId", &mut rec, "parent.span.id");
                    copy(obj, "name", &mut rec, "span.name");
                    copy(obj, "kind", &mut rec, "span.kind");
                    if let Some(c) = obj.get("status").and_then(|s| s.get("code")) {
                        rec.insert("span.status.code".to_string(), c.clone());
                    }
                    if let Some(t) = time(obj.get("startTimeUnixNano")) {
                        rec.insert("@timestamp".to_string(), t);
                    }
                } else {
                    if let Some(b) = obj.get("body") {
                        let b = any_value(b);
                        if !b.is_null() {
                            rec.insert("log.body".to_string(), b);
                        }
                    }
                    copy(obj, "eventName", &mut rec, "event.name");
                    if let Some(t) = time(obj.get("timeUnixNano"))
                        .or_else(|| time(obj.get("observedTimeUnixNano")))
                    {
                        rec.insert("@timestamp".to_string(), t);
                    }
                }
                out.push(Value::Object(rec));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spans_flatten_with_resource_attributes_and_typed_values() {
        let req = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "chat"}}]},
        "scopeSpans": [{"scope": {"name": "x"}, "spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1733227200123000000",
            "attributes": [
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "42"}},
                {"key": "gen_ai.request.temperature", "value": {"doubleValue": 0.5}},
                {"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": "stop"}]}}},
                {"key": "service.name", "value": {"stringValue": "override"}}
            ]}]}]}]});
        let r = records(&req).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["gen_ai.usage.input_tokens"], json!(42));
        assert_eq!(r[0]["gen_ai.request.temperature"], json!(0.5));
        assert_eq!(r[0]["gen_ai.response.finish_reasons"], json!(["stop"]));
        assert_eq!(r[0]["service.name"], json!("override"));
        assert_eq!(r[0]["@timestamp"], json!("2024-12-03T12:00:00.123Z"));
        assert_eq!(r[0]["span.kind"], json!(3));
        assert!(records(&json!({"x": 1})).is_err());
        assert!(records(&json!({"resourceSpans": null})).is_err());
        assert!(records(&json!({"resourceLogs": {}})).is_err());
    }

    #[test]
    fn log_records_carry_body_and_event_name() {
        let req = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"timeUnixNano": "0", "observedTimeUnixNano": "1733227200000000000",
             "eventName": "gen_ai.client.inference.operation.details",
             "body": {"kvlistValue": {"values": [{"key": "role", "value": {"stringValue": "user"}}]}}}
        ]}]}]});
        let r = records(&req).unwrap();
        assert_eq!(r[0]["log.body"], json!({"role": "user"}));
        assert_eq!(
            r[0]["event.name"],
            json!("gen_ai.client.inference.operation.details")
        );
        assert_eq!(r[0]["@timestamp"], json!("2024-12-03T12:00:00.000Z"));
    }
}
