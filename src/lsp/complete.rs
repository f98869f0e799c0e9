//! Completion: what can be written where the cursor is.

use super::context::{self, Place};
use super::hover;
use crate::semantics::catalog::{Catalog, tactic_slug};
use crate::semantics::schema::Schema;
use crate::semantics::typecheck::modifier_fits;
use crate::syntax::modifier::Modifier;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionItemTag, Documentation, MarkupContent, MarkupKind,
};

/// One proposal: the text that replaces the token being typed (from `start` to the cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub start: usize,
    pub item: CompletionItem,
}

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: &str,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        documentation: doc.map(|d| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: d,
            })
        }),
        ..Default::default()
    }
}

const TOP_KEYS: &[(&str, &str)] = &[
    ("title", "a short title (required)"),
    ("id", "a UUID"),
    ("name", "a unique name other rules reference"),
    (
        "status",
        "stable, test, experimental, deprecated, unsupported",
    ),
    ("description", "what the rule detects"),
    ("references", "links"),
    ("author", "who wrote it"),
    ("date", "YYYY-MM-DD"),
    ("modified", "YYYY-MM-DD"),
    ("tags", "ATLAS and OWASP tags"),
    ("logsource", "product and category (required)"),
    ("detection", "selections and a condition (required)"),
    ("fields", "fields worth showing in an alert"),
    ("falsepositives", "known false positives"),
    ("level", "informational, low, medium, high, critical"),
    ("related", "related rules"),
    ("license", "the rule's licence"),
    ("tests", "match and no_match events (aisigma)"),
    ("deploy", "schedule, suppression, targets (aisigma)"),
    ("correlation", "a correlation of other rules"),
    ("filter", "a meta filter of other rules"),
];

const STATUS: &[&str] = &[
    "stable",
    "test",
    "experimental",
    "deprecated",
    "unsupported",
];
const LEVEL: &[&str] = &["informational", "low", "medium", "high", "critical"];

/// The proposals at (`line`, `col`) (0-based; `col` in characters).
pub fn complete(schema: &Schema, lines: &[&str], line: usize, col: usize) -> Vec<Proposal> {
    let text = lines.get(line).copied().unwrap_or("");
    if text.trim_start().starts_with('#') {
        return Vec::new(); // a comment
    }
    let cur = context::cursor(lines, line, col);
    let doc = context::document(lines, line);
    let parents: Vec<&str> = cur.parents.iter().map(String::as_str).collect();
    let start = cur.token_start;
    let mut out = Vec::new();
    let mut push = |start: usize, item: CompletionItem| out.push(Proposal { start, item });
    let scope = hover::ai_scope(schema, lines, doc);
    match (&cur.place, parents.as_slice()) {
        // A field of a selection (a map, or a map in a list), with or without modifiers.
        (Place::Key { text }, ["detection" | "filter", sel, ..]) if *sel != "condition" => {
            let Some((p, category)) = scope else {
                return out;
            };
            let content = col - text.chars().count();
            if let Some(bar) = text.rfind('|') {
                let field = text.split('|').next().unwrap_or("");
                let have: Vec<&str> = text.split('|').skip(1).collect();
                let def = p
                    .field(category, field)
                    .or_else(|| p.aliases.get(field).and_then(|a| p.field(category, &a.to)));
                let bar_col = content + text[..bar].chars().count() + 1;
                for name in Modifier::ALL_NAMES {
                    let Some(m) = Modifier::parse(name) else {
                        continue;
                    };
                    if have[..have.len().saturating_sub(1)].contains(name) {
                        continue;
                    }
                    if let Some(d) = def
                        && !modifier_fits(m, d.ty.base)
                    {
                        continue;
                    }
                    push(
                        bar_col,
                        item(
                            name,
                            CompletionItemKind::OPERATOR,
                            "modifier",
                            Some(m.doc().to_string()),
                        ),
                    );
                }
                return out;
            }
            for name in p.field_names(category) {
                let Some(d) = p.field(category, name) else {
                    continue;
                };
                let mut it = item(
                    name,
                    CompletionItemKind::FIELD,
                    &d.ty.to_string(),
                    hover::field(p, category, name),
                );
                it.sort_text = Some(format!("0{name}"));
                push(content, it);
            }
            for (old, alias) in &p.aliases {
                if p.field(category, &alias.to).is_none() || p.field(category, old).is_some() {
                    continue;
                }
                let mut it = item(
                    old,
                    CompletionItemKind::FIELD,
                    &format!("deprecated: use {}", alias.to),
                    hover::field(p, category, old),
                );
                it.tags = Some(vec![CompletionItemTag::DEPRECATED]);
                it.sort_text = Some(format!("1{old}"));
                push(content, it);
            }
        }
        // The condition: search identifiers and the condition's words.
        (Place::Value { key, .. }, [block]) if key == "condition" => {
            for (name, l, _) in context::selections(lines, doc, block) {
                push(
                    start,
                    item(
                        &name,
                        CompletionItemKind::VARIABLE,
                        &format!("search identifier, line {}", l + 1),
                        None,
                    ),
                );
            }
            for word in ["and", "or", "not", "1 of", "all of", "them"] {
                push(start, item(word, CompletionItemKind::KEYWORD, "", None));
            }
        }
        // A field's value: its known values.
        (Place::Value { key, .. }, ["detection" | "filter", _, ..]) => {
            let Some((p, category)) = scope else {
                return out;
            };
            let field = key.split('|').next().unwrap_or("");
            let Some(d) = p.field(category, field) else {
                return out;
            };
            for v in &d.enum_values {
                push(
                    start,
                    item(
                        v,
                        CompletionItemKind::ENUM_MEMBER,
                        &format!("{} value", d.name),
                        None,
                    ),
                );
            }
        }
        (Place::Value { key, .. }, []) if key == "tags" => {
            let c = Catalog::get();
            for e in c.techniques.values().filter(|e| !e.removed) {
                let tag = format!("atlas.{}", e.id.to_lowercase());
                let doc = hover::tag(&tag);
                push(
                    start,
                    item(&tag, CompletionItemKind::REFERENCE, &e.name, doc),
                );
            }
            for t in c.tactics.values() {
                let slug = format!("atlas.{}", tactic_slug(t));
                let doc = hover::tag(&slug);
                push(
                    start,
                    item(
                        &slug,
                        CompletionItemKind::REFERENCE,
                        &format!("tactic {}", t.name),
                        doc,
                    ),
                );
            }
            for (key, e) in &c.owasp {
                let tag = format!("owasp.{key}");
                let doc = hover::tag(&tag);
                push(
                    start,
                    item(&tag, CompletionItemKind::REFERENCE, &e.name, doc),
                );
            }
        }
        (Place::Value { key, .. }, []) if key == "status" || key == "level" => {
            let values = if key == "status" { STATUS } else { LEVEL };
            for v in values {
                push(start, item(v, CompletionItemKind::ENUM_MEMBER, key, None));
            }
        }
        (Place::Value { key, .. }, ["logsource"]) if key == "category" => {
            if let Some(p) = schema.product("ai") {
                for (name, c) in &p.categories {
                    push(
                        start,
                        item(
                            name,
                            CompletionItemKind::ENUM_MEMBER,
                            "category",
                            Some(c.doc.clone()),
                        ),
                    );
                }
            }
        }
        (Place::Value { key, .. }, ["logsource"]) if key == "product" => {
            for (name, _) in schema.products.iter() {
                push(
                    start,
                    item(name, CompletionItemKind::ENUM_MEMBER, "product", None),
                );
            }
        }
        (Place::Key { .. }, ["logsource"]) => {
            for k in ["product", "category", "service", "definition"] {
                push(
                    start,
                    item(k, CompletionItemKind::PROPERTY, "logsource", None),
                );
            }
        }
        (Place::Key { text }, []) => {
            let content = col - text.chars().count();
            for (k, what) in TOP_KEYS {
                push(content, item(k, CompletionItemKind::PROPERTY, what, None));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: T
logsource: {product: ai, category: llm_inference}
tags: [owasp.llm01, atlas.aml.t005]
detection:
    selection:
        gen_ai.usage.input_tokens|
        ai.prompt.te
        event.outcome: succ
    filter_a:
        gen_ai.request.model: x
    condition: sel
level: hi
";

    fn labels(line: usize, col: usize) -> Vec<String> {
        let lines: Vec<&str> = RULE.lines().collect();
        complete(&Schema::builtin(), &lines, line, col)
            .into_iter()
            .map(|p| p.item.label)
            .collect()
    }

    #[test]
    fn fields_of_the_category_with_types() {
        let lines: Vec<&str> = RULE.lines().collect();
        let got = complete(&Schema::builtin(), &lines, 6, 20);
        let p = got
            .iter()
            .find(|p| p.item.label == "ai.prompt.text")
            .expect("field");
        assert_eq!(p.start, 8);
        assert_eq!(p.item.detail.as_deref(), Some("string"));
        // Fields of other categories are not offered.
        assert!(!got.iter().any(|p| p.item.label == "ai.tool.name"));
    }

    #[test]
    fn modifiers_that_fit_the_field() {
        let lines: Vec<&str> = RULE.lines().collect();
        let got = complete(&Schema::builtin(), &lines, 5, 34);
        let names: Vec<&str> = got.iter().map(|p| p.item.label.as_str()).collect();
        assert!(names.contains(&"gte") && names.contains(&"exists"));
        assert!(!names.contains(&"contains") && !names.contains(&"cidr"));
        assert!(got.iter().all(|p| p.start == 34));
    }

    #[test]
    fn values_tags_conditions_and_metadata() {
        let l = labels(7, 27);
        assert_eq!(l, ["success", "failure", "unknown"]);
        let l = labels(2, 34);
        assert!(
            l.contains(&"atlas.aml.t0051".to_string()) && l.contains(&"owasp.asi01".to_string())
        );
        let l = labels(10, 18);
        assert!(l.starts_with(&["selection".to_string(), "filter_a".to_string()]));
        assert!(l.contains(&"1 of".to_string()));
        assert_eq!(labels(11, 9), LEVEL);
    }
}
