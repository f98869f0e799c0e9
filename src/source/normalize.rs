//! `scan --source`: one raw line of a source into schema events (flat JSON objects keyed by
//! schema field name, with `ai.category`), by the pack's `record` and `fields`.

use super::otlp;
use super::pack::{CategoryRule, Format, Pack, Spec};
use super::path::Path;
use crate::semantics::schema::Schema;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A pack made ready to normalise records.
pub struct Normalizer {
    pack: Pack,
    /// Per category (and `""` for a record without one): the schema fields read under their
    /// own name (`record.identity`), with the path of each.
    identity: BTreeMap<String, Vec<(String, Path)>>,
    /// Deprecated names -> canonical names (read where the canonical name is absent).
    aliases: Vec<(Path, String)>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn eval(spec: &Spec, rec: &Value, out: &mut Vec<Value>) {
    match spec {
        Spec::Const(v) => out.push(v.clone()),
        Spec::All(items) => items.iter().for_each(|s| eval(s, rec, out)),
        Spec::Values {
            paths,
            json,
            filter,
            then,
            capture,
            map,
            default,
            missing,
        } => {
            let mut vals: Vec<Value> = paths.iter().flat_map(|p| p.values(rec)).cloned().collect();
            if *json {
                vals = vals
                    .iter()
                    .filter_map(|v| serde_json::from_str::<Value>(v.as_str()?).ok())
                    .flat_map(|v| match v {
                        Value::Array(items) => items,
                        other => vec![other],
                    })
                    .collect();
            }
            if !filter.is_empty() {
                vals.retain(|v| {
                    filter
                        .iter()
                        .all(|(p, allowed)| p.values(v).iter().any(|x| allowed.contains(&text(x))))
                });
            }
            if let Some(p) = then {
                vals = vals.iter().flat_map(|v| p.values(v)).cloned().collect();
            }
            if let Some(re) = capture {
                vals = vals
                    .iter()
                    .filter_map(|v| {
                        let t = text(v);
                        let c = re.captures(&t)?;
                        Some(Value::String(c.get(1)?.as_str().to_string()))
                    })
                    .collect();
            }
            if let Some(m) = map {
                vals = vals
                    .iter()
                    .filter_map(|v| m.get(&text(v)).cloned().or_else(|| default.clone()))
                    .collect();
            } else if vals.is_empty()
                && let Some(d) = default
            {
                vals.push(d.clone());
            }
            let before = out.len();
            out.extend(vals.into_iter().filter(|v| !v.is_null()));
            if out.len() == before
                && let Some(m) = missing
                && paths.iter().all(|p| p.values(rec).is_empty())
            {
                out.push(m.clone());
            }
        }
    }
}

fn put(event: &mut Map<String, Value>, field: &str, mut vals: Vec<Value>) {
    match vals.len() {
        0 => {}
        1 => {
            event.insert(field.to_string(), vals.pop().unwrap_or(Value::Null));
        }
        _ => {
            event.insert(field.to_string(), Value::Array(vals));
        }
    }
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Normalizer({})", self.pack.name)
    }
}

impl Normalizer {
    pub fn new(pack: Pack, schema: &Schema) -> Normalizer {
        let mut identity = BTreeMap::new();
        let mut aliases = Vec::new();
        if pack.record.identity
            && let Some(ai) = schema.product("ai")
        {
            let listed: Vec<&str> = pack.fields.iter().map(|(f, _)| f.as_str()).collect();
            let mut add = |key: &str, names: Vec<&str>| {
                let v: Vec<(String, Path)> = names
                    .into_iter()
                    .filter(|n| !listed.contains(n))
                    .filter_map(|n| Some((n.to_string(), Path::parse(n)?)))
                    .collect();
                identity.insert(key.to_string(), v);
            };
            for c in &pack.categories {
                add(c, ai.field_names(c));
            }
            let mut all: Vec<&str> = pack
                .categories
                .iter()
                .flat_map(|c| ai.field_names(c))
                .collect();
            all.sort_unstable();
            all.dedup();
            add("", all);
            for (alias, a) in &ai.aliases {
                if let Some(p) = Path::parse(alias) {
                    aliases.push((p, a.to.clone()));
                }
            }
        }
        Normalizer {
            pack,
            identity,
            aliases,
        }
    }

    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The records of a line: each element of `record.each` where the line has it, the
    /// spans and log records of an OTLP request, else the line itself.
    fn records(&self, v: Value) -> Result<Vec<Value>, String> {
        if !v.is_object() {
            return Err("not a JSON object".to_string());
        }
        if self.pack.record.format == Format::Otlp {
            return otlp::records(&v);
        }
        if let Some(each) = &self.pack.record.each
            && let Some(list) = v.get(each.first())
        {
            if !list.is_array() {
                return Err(format!("`{}` is not an array of records", each.first()));
            }
            return Ok(each
                .values(&v)
                .into_iter()
                .filter(|x| x.is_object())
                .cloned()
                .collect());
        }
        Ok(vec![v])
    }

    fn category(&self, rec: &Value) -> Option<String> {
        match &self.pack.record.category {
            CategoryRule::Const(c) => Some(c.clone()),
            CategoryRule::Path { path, map, default } => {
                let found = path.values(rec).first().map(|v| text(v));
                match found {
                    Some(t) if map.is_empty() => Some(t),
                    Some(t) => map.get(&t).cloned().or_else(|| default.clone()),
                    None => default.clone(),
                }
            }
        }
    }

    /// The schema events of one line (an error for a line that is not JSON or not of the
    /// source's shape).
    pub fn events(&self, line: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
        let v: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
        let mut out = Vec::new();
        for rec in self.records(v)? {
            let mut event = Map::new();
            let category = self.category(&rec);
            for (field, spec) in &self.pack.fields {
                let mut vals = Vec::new();
                eval(spec, &rec, &mut vals);
                put(&mut event, field, vals);
            }
            if self.pack.record.identity {
                let key = category
                    .as_deref()
                    .filter(|c| self.identity.contains_key(*c))
                    .unwrap_or("");
                // An OTLP record is flat (attribute names as keys): a direct lookup.
                let flat = self.pack.record.format == Format::Otlp;
                for (name, p) in self.identity.get(key).into_iter().flatten() {
                    let vals = if flat {
                        let mut v = Vec::new();
                        if let Some(x) = rec.get(name.as_str()) {
                            v.extend(Path::leaves(x).into_iter().cloned());
                        }
                        v
                    } else {
                        p.values(&rec).into_iter().cloned().collect()
                    };
                    put(&mut event, name, vals);
                }
                for (alias, to) in &self.aliases {
                    if !event.contains_key(to)
                        && self
                            .identity
                            .get(key)
                            .is_some_and(|v| v.iter().any(|(n, _)| n == to))
                    {
                        let vals = alias.values(&rec).into_iter().cloned().collect();
                        put(&mut event, to, vals);
                    }
                }
            }
            if let Some(c) = category {
                event.insert("ai.category".to_string(), Value::String(c));
            }
            out.push(event);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pack(yaml: &str) -> Pack {
        Pack::parse(yaml).unwrap_or_else(|d| panic!("{}", d.message))
    }

    const HEAD: &str = "name: t\nversion: 1\ndescription: x\nreferences: [x]\n";

    #[test]
    fn every_field_form() {
        let p = pack(&format!(
            "{HEAD}categories: [llm_inference, ai_guardrail]\n\
             record:\n  each: Records\n  category: {{path: op, map: {{Guard: ai_guardrail}}, default: llm_inference}}\n\
             fields:\n\
             \x20 gen_ai.request.model: modelId\n\
             \x20 gen_ai.provider.name: {{const: aws.bedrock}}\n\
             \x20 ai.guardrail.intervened: {{path: out.amazon-bedrock-guardrailAction, map: {{INTERVENED: true, NONE: false}}}}\n\
             \x20 cloud.account.id: {{path: arn, capture: '^arn:aws:iam::([0-9]+):'}}\n\
             \x20 ai.prompt.text:\n\
             \x20   - {{path: body.messages, where: {{role: user}}, then: content.*.text}}\n\
             \x20   - body.prompt\n\
             \x20 ai.system_prompt.text: {{path: raw, json: true, where: {{role: [system, developer]}}, then: content}}\n"
        ));
        let n = Normalizer::new(p, &Schema::builtin());
        let line = json!({"Records": [
            {"op": "Invoke", "modelId": "m1", "arn": "arn:aws:iam::123456789012:user/x",
             "out": {"amazon-bedrock-guardrailAction": "INTERVENED"},
             "body": {"messages": [
                {"role": "user", "content": [{"text": "hi"}, {"text": "there"}]},
                {"role": "assistant", "content": [{"text": "no"}]}]},
             "raw": "[{\"role\":\"system\",\"content\":\"be nice\"},{\"role\":\"user\",\"content\":\"u\"}]"},
            {"op": "Guard", "out": {"amazon-bedrock-guardrailAction": "OTHER"}, "body": {"prompt": "p"}}
        ]});
        let ev = n.events(line.to_string().as_bytes()).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(
            Value::Object(ev[0].clone()),
            json!({"gen_ai.request.model": "m1", "gen_ai.provider.name": "aws.bedrock",
                   "ai.guardrail.intervened": true, "cloud.account.id": "123456789012",
                   "ai.prompt.text": ["hi", "there"], "ai.system_prompt.text": "be nice",
                   "ai.category": "llm_inference"})
        );
        assert_eq!(
            Value::Object(ev[1].clone()),
            json!({"gen_ai.provider.name": "aws.bedrock", "ai.prompt.text": "p",
                   "ai.category": "ai_guardrail"})
        );
        // A line without `Records` is one record; an empty `Records` none.
        assert_eq!(n.events(br#"{"op": "x"}"#).unwrap().len(), 1);
        assert!(n.events(br#"{"Records": []}"#).unwrap().is_empty());
        assert!(n.events(br#"{"Records": "x"}"#).is_err());
        assert!(n.events(b"[1]").is_err() && n.events(b"nope").is_err());
    }

    #[test]
    fn identity_reads_schema_names_and_deprecated_ones() {
        let p = pack(&format!(
            "{HEAD}categories: [llm_inference]\nrecord: {{identity: true}}\n\
             fields:\n  ai.prompt.text: [ai.prompt.text, gen_ai.prompt.*.content]\n"
        ));
        let n = Normalizer::new(p, &Schema::builtin());
        let ev = n
            .events(
                json!({"gen_ai.system": "openai", "gen_ai.prompt.0.content": "a",
                       "gen_ai.prompt.1.content": "b", "not.a.schema.field": 1,
                       "gen_ai": {"request": {"model": "gpt"}}})
                .to_string()
                .as_bytes(),
            )
            .unwrap();
        assert_eq!(
            Value::Object(ev[0].clone()),
            json!({"ai.prompt.text": ["a", "b"], "gen_ai.request.model": "gpt",
                   "gen_ai.provider.name": "openai", "ai.category": "llm_inference"})
        );
    }

    #[test]
    fn bad_packs_are_positioned_errors() {
        for (yaml, msg) in [
            ("name: T\n", "lower-case"),
            ("name: t\nversion: 0\n", "positive"),
            (
                "name: t\nversion: 1\ncategories: [a]\nrecord: {format: csv}\n",
                "json",
            ),
            ("name: t\nversion: 1\nbogus: 1\n", "unknown key `bogus`"),
            (
                "name: t\nversion: 1\ncategories: [a]\nrecord: {}\nfields: {f: {path: x, capture: '(a'}}\n",
                "not a valid regex",
            ),
            (
                "name: t\nversion: 1\ncategories: [a]\nrecord: {}\ntargets: {splunk: {}}\n",
                "unknown target",
            ),
            (
                "name: t\nversion: 1\ncategories: [a]\nrecord: {}\ntargets: {spl: {fieldz: {}}}\n",
                "unknown mapping key",
            ),
        ] {
            let e = Pack::parse(yaml).unwrap_err();
            assert!(e.message.contains(msg), "{yaml}: {}", e.message);
            assert!(e.span.start.line >= 1);
        }
    }
}
