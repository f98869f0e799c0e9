//! The fields an analyst looks at first, and the entities they name, per target.
//!
//! In: a compiled rule, the fields it reads (a correlation: its group-by fields), the schema's
//! entity roles (`entity: Account.Name`) and the target's mapping. Out: the columns its
//! alerts carry them in, for Sentinel `entityMappings` and `customDetails`, Kibana
//! `investigation_fields`, and Splunk's notable and risk settings.

use crate::backend::mapping::{Mapping, underscore};
use crate::semantics::schema::Schema;
use crate::syntax::ast::Doc;
use serde_json::{Value, json};

/// One field the alert carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Highlight {
    /// The schema name.
    pub field: String,
    /// The name of the field in the target's alert rows.
    pub column: String,
    /// Sentinel entity type and identifier (`Account`, `Name`).
    pub entity: Option<(String, String)>,
}

/// The name a rule's alerts give a field on a target: for a correlation, the group-by
/// field's own name (every correlation query renames its groups so); otherwise the target's
/// name for it, when that is a plain column.
pub fn output_field(field: &str, correlation: bool, mapping: &Mapping) -> Option<String> {
    if correlation {
        return Some(field.to_string());
    }
    let name = mapping.field(field)?.into_owned();
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'));
    plain.then_some(name)
}

/// Sentinel's limits: 20 custom details, 5 entity mappings of at most 3 identifiers each
/// (the template validator of Azure/Azure-Sentinel).
const MAX_DETAILS: usize = 20;
const MAX_ENTITIES: usize = 5;
const MAX_IDENTIFIERS: usize = 3;

/// The highlighted fields of a rule: those it reads (or groups by), then the fields of its
/// category that name an entity, each once, when the target's alert rows carry them.
pub fn highlights(
    doc: &Doc,
    read: &[String],
    correlation: bool,
    schema: &Schema,
    mapping: &Mapping,
) -> Vec<Highlight> {
    let category = doc.category().unwrap_or("");
    // A correlation has no log source: its group-by fields are looked up in the AI schema.
    let product = match doc.meta.logsource.as_ref().and_then(|l| l.product.as_ref()) {
        Some(p) => schema.product(&p.value),
        None if correlation => schema.product("ai"),
        None => None,
    };
    let entity_of = |f: &str| -> Option<(String, String)> {
        let def = product?.field(category, f)?;
        let (t, i) = def.entity.as_deref()?.split_once('.')?;
        Some((t.to_string(), i.to_string()))
    };
    let mut names: Vec<String> = read.to_vec();
    names.sort();
    if !correlation && let Some(p) = product {
        for f in p.field_names(category) {
            if p.field(category, f).is_some_and(|d| d.entity.is_some()) {
                names.push(f.to_string());
            }
        }
    }
    let mut out: Vec<Highlight> = Vec::new();
    for f in names {
        if f.starts_with('\0') || out.iter().any(|h| h.field == f) {
            continue;
        }
        // A source pack's constant is the same in every event: nothing to look at.
        if mapping.constants.contains_key(&f) {
            continue;
        }
        if let Some(column) = output_field(&f, correlation, mapping) {
            out.push(Highlight {
                entity: entity_of(&f),
                field: f,
                column,
            });
        }
    }
    out
}

/// A Sentinel column name for a highlight: its own when it is an identifier, else an
/// `extend`ed copy (a correlation's `['user.id']` becomes `user_id`).
fn kql_column(h: &Highlight) -> (String, Option<String>) {
    let ident = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if ident(&h.column) {
        (h.column.clone(), None)
    } else {
        let name = format!("aisigma_{}", underscore(&h.field)).replace("__", "_");
        let source = format!(
            "['{}']",
            h.column.replace('\\', "\\\\").replace('\'', "\\'")
        );
        (name.clone(), Some(format!("{name} = {source}")))
    }
}

/// A `customDetails` key: letters and digits from the field name, at most 20 characters,
/// starting with a letter (Sentinel's `^[a-zA-Z]+\w*$`).
pub fn detail_key(field: &str) -> String {
    let mut key = String::new();
    let mut upper = true;
    for c in field.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    let key = key
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_string();
    let key = if key.is_empty() {
        "Field".to_string()
    } else {
        key
    };
    key.chars().take(20).collect()
}

/// Sentinel: `entityMappings`, `customDetails`, and the `extend` that gives their columns
/// plain names.
pub fn sentinel(highlights: &[Highlight]) -> Value {
    let mut extends = Vec::new();
    let mut details = serde_json::Map::new();
    let mut entities: Vec<(String, Vec<Value>)> = Vec::new();
    for h in highlights {
        let (col, extend) = kql_column(h);
        if let Some(e) = extend
            && !extends.contains(&e)
        {
            extends.push(e);
        }
        if let Some((t, id)) = &h.entity {
            let count = entities.len();
            match entities.iter_mut().find(|(et, _)| et == t) {
                Some((_, ids)) => {
                    let taken = ids.iter().any(|v| v["identifier"] == json!(id));
                    if ids.len() < MAX_IDENTIFIERS && !taken {
                        ids.push(json!({"identifier": id, "columnName": col}));
                    }
                }
                None if count < MAX_ENTITIES => entities.push((
                    t.clone(),
                    vec![json!({"identifier": id, "columnName": col})],
                )),
                None => {}
            }
        }
        let key = detail_key(&h.field);
        if details.len() < MAX_DETAILS && !details.contains_key(&key) {
            details.insert(key, col.into());
        }
    }
    // An entity needs one of its identifying identifiers (Sentinel's validator): an Account
    // with only a display name is left out.
    entities.retain(|(t, ids)| {
        let has = |i: &str| ids.iter().any(|v| v["identifier"] == json!(i));
        match t.as_str() {
            "Account" => ["Name", "FullName", "Sid", "AadUserId", "PUID", "ObjectGuid"]
                .iter()
                .any(|i| has(i)),
            _ => true,
        }
    });
    json!({
        "query_suffix": if extends.is_empty() { String::new() } else { format!(" | extend {}", extends.join(", ")) },
        "entity_mappings": entities.into_iter().map(|(t, ids)| json!({"entityType": t, "fieldMappings": ids})).collect::<Vec<_>>(),
        "custom_details": details,
    })
}

/// Kibana `investigation_fields`, Splunk notable fields: the highlighted columns.
pub fn columns(highlights: &[Highlight]) -> Vec<String> {
    highlights.iter().map(|h| h.column.clone()).collect()
}

/// Splunk Enterprise Security risk objects: accounts are `user`, addresses and hosts
/// `system`.
pub fn splunk_risk(highlights: &[Highlight], score: u32) -> Vec<Value> {
    highlights
        .iter()
        .filter_map(|h| {
            let kind = match h.entity.as_ref()?.0.as_str() {
                "Account" => "user",
                "IP" | "Host" => "system",
                _ => return None,
            };
            Some(json!({"risk_object_field": h.column, "risk_object_type": kind, "risk_score": score}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_keys_fit_sentinel() {
        assert_eq!(detail_key("user.id"), "UserId");
        assert_eq!(
            detail_key("gen_ai.usage.input_tokens"),
            "GenAiUsageInputToken"
        );
        assert_eq!(detail_key("@timestamp"), "Timestamp");
    }

    #[test]
    fn correlation_columns_get_plain_names() {
        let h = Highlight {
            field: "user.id".into(),
            column: "user.id".into(),
            entity: Some(("Account".into(), "Name".into())),
        };
        let v = sentinel(&[h]);
        assert_eq!(v["query_suffix"], " | extend aisigma_user_id = ['user.id']");
        assert_eq!(
            v["entity_mappings"][0]["fieldMappings"][0]["columnName"],
            "aisigma_user_id"
        );
        assert_eq!(v["custom_details"]["UserId"], "aisigma_user_id");
    }
}
