//! Hover: what a field, a modifier or a tag is, in Markdown.

use super::context::{self, Place};
use crate::semantics::catalog::{Catalog, Entry};
use crate::semantics::schema::{FieldDef, ProductSchema, Schema};
use crate::syntax::modifier::Modifier;

/// What the word at (`line`, `col`) is, with the columns it spans.
pub fn hover(
    schema: &Schema,
    lines: &[&str],
    line: usize,
    col: usize,
) -> Option<(usize, usize, String)> {
    let text = lines.get(line)?;
    let (start, end, word) = context::word_at(text, col)?;
    let cur = context::cursor(lines, line, end);
    let doc = context::document(lines, line);
    // A tag, wherever it is written.
    if let Some(md) = tag(&word) {
        return Some((start, end, md));
    }
    let in_detection = matches!(
        cur.parents.first().map(String::as_str),
        Some("detection" | "filter")
    );
    if !in_detection {
        return None;
    }
    let key = match &cur.place {
        Place::Key { text } => text.clone(),
        Place::Value { .. } => return None,
    };
    let ai = ai_scope(schema, lines, doc)?;
    let (product, category) = ai;
    let chars: Vec<char> = text.chars().collect();
    let after_bar = start > 0 && chars[start - 1] == '|';
    if after_bar {
        let m = Modifier::parse(&word)?;
        let field = key.split('|').next().unwrap_or("");
        return Some((start, end, modifier(m, product.field(category, field))));
    }
    let name = key.split('|').next().unwrap_or("");
    if name != word {
        return None;
    }
    Some((start, end, field(product, category, name)?))
}

/// The AI schema and the rule's category, when the rule is `product: ai`.
pub fn ai_scope<'s>(
    schema: &'s Schema,
    lines: &[&str],
    doc: (usize, usize),
) -> Option<(&'s ProductSchema, &'s str)> {
    let product = context::doc_value(lines, doc, "logsource", Some("product"))?;
    let category = context::doc_value(lines, doc, "logsource", Some("category"))?;
    let p = schema.product(&product.to_lowercase())?;
    let (name, _) = p
        .categories
        .get_key_value(category.to_lowercase().as_str())?;
    Some((p, name.as_str()))
}

/// A field's hover: its type, description, values, where its name comes from, and the
/// names it replaces.
pub fn field(p: &ProductSchema, category: &str, name: &str) -> Option<String> {
    if let Some(d) = p.field(category, name) {
        return Some(field_doc(p, d));
    }
    let alias = p.aliases.get(name)?;
    let target = p.field(category, &alias.to);
    let mut md = format!(
        "**`{name}`**: deprecated name\n\nWrite `{}` instead (warning AIS406).",
        alias.to
    );
    if !alias.doc.is_empty() {
        md.push_str(&format!(" {}", alias.doc));
    }
    if let Some(t) = target {
        md.push_str("\n\n---\n\n");
        md.push_str(&field_doc(p, t));
    }
    Some(md)
}

fn field_doc(p: &ProductSchema, d: &FieldDef) -> String {
    let mut md = format!("**`{}`**: `{}`", d.name, d.ty);
    if !d.doc.is_empty() {
        md.push_str(&format!("\n\n{}", d.doc));
    }
    if !d.enum_values.is_empty() {
        let kind = if d.closed {
            "Allowed values (any other is an error)"
        } else {
            "Known values (another is a warning)"
        };
        let values: Vec<String> = d.enum_values.iter().map(|v| format!("`{v}`")).collect();
        md.push_str(&format!("\n\n{kind}: {}", values.join(", ")));
    }
    md.push_str(&format!("\n\n{}", origin(&d.name)));
    let aliases: Vec<String> = p
        .aliases
        .iter()
        .filter(|(_, a)| a.to == d.name)
        .map(|(old, _)| format!("`{old}`"))
        .collect();
    if !aliases.is_empty() {
        md.push_str(&format!(
            "\n\nAlso accepted, deprecated: {}",
            aliases.join(", ")
        ));
    }
    if let Some(e) = &d.entity {
        md.push_str(&format!("\n\nAlert entity: `{e}`"));
    }
    md
}

/// Where a field's name comes from: the OpenTelemetry semantic conventions (with the
/// registry page of its namespace), or aisigma's own `ai.*` namespace.
pub fn origin(name: &str) -> String {
    let ns = name.split('.').next().unwrap_or("");
    let page = match ns {
        "gen_ai" => Some("gen-ai"),
        "mcp" | "server" | "user" | "session" | "cloud" | "container" | "k8s" | "service"
        | "deployment" | "url" | "http" | "error" | "network" | "client" | "user_agent" => Some(ns),
        _ => None,
    };
    match (ns, page) {
        ("ai", _) => {
            "aisigma's extension namespace `ai.*`: not an OpenTelemetry attribute.".to_string()
        }
        (_, Some(page)) => format!(
            "OpenTelemetry semantic conventions, namespace `{ns}`: <https://opentelemetry.io/docs/specs/semconv/registry/attributes/{}/>",
            page.replace('_', "-")
        ),
        ("event" | "observer" | "source", _) => {
            "Named as in the Elastic Common Schema (ECS): not an OpenTelemetry attribute."
                .to_string()
        }
        _ => "Not an OpenTelemetry registry attribute.".to_string(),
    }
}

/// A modifier's hover: what it does, and whether it fits the field.
pub fn modifier(m: Modifier, field: Option<&FieldDef>) -> String {
    let mut md = format!("**`|{}`**: {}", m.name(), m.doc());
    if let Some(d) = field
        && !crate::semantics::typecheck::modifier_fits(m, d.ty.base)
    {
        md.push_str(&format!(
            "\n\nDoes not apply to `{}`, which is of type `{}` (AIS402).",
            d.name, d.ty
        ));
    }
    md
}

/// A tag's hover: the ATLAS or OWASP entry it names.
pub fn tag(tag: &str) -> Option<String> {
    let lower = tag.to_lowercase();
    let c = Catalog::get();
    let (ns, rest) = lower.split_once('.')?;
    match ns {
        "atlas" => {
            let id = rest.to_uppercase();
            if let Some(e) = c.techniques.get(&id).filter(|e| !e.removed) {
                return Some(atlas_technique(c, e));
            }
            let t = c.tactics.get(&id).or_else(|| {
                c.tactics
                    .values()
                    .find(|t| crate::semantics::catalog::tactic_slug(t) == rest)
            })?;
            Some(format!(
                "**ATLAS tactic {}: {}**\n\n{}\n\n<https://atlas.mitre.org/tactics/{}>",
                t.id, t.name, t.description, t.id
            ))
        }
        "owasp" => {
            let e = c.owasp.get(rest)?;
            let list = match &rest[..rest.len().min(3)] {
                "llm" => "OWASP Top 10 for LLM Applications 2025",
                "asi" => "OWASP Top 10 for Agentic Applications 2026",
                _ => "OWASP Machine Learning Security Top 10 2023",
            };
            Some(format!(
                "**{list}, {}: {}**\n\n{}",
                e.id, e.name, e.description
            ))
        }
        _ => None,
    }
}

fn atlas_technique(c: &Catalog, e: &Entry) -> String {
    let kind = if e.parent.is_some() {
        "sub-technique"
    } else {
        "technique"
    };
    let name = match e.parent.as_ref().and_then(|p| c.techniques.get(p)) {
        Some(parent) => format!("{}: {}", parent.name, e.name),
        None => e.name.clone(),
    };
    let tactics: Vec<String> = e
        .tactics
        .iter()
        .map(|t| c.tactics.get(t).map_or(t.clone(), |x| x.name.clone()))
        .collect();
    let mut md = format!("**ATLAS {kind} {}: {name}**\n\n{}", e.id, e.description);
    if !tactics.is_empty() {
        md.push_str(&format!("\n\nTactics: {}", tactics.join(", ")));
    }
    md.push_str(&format!(
        "\n\n<https://atlas.mitre.org/techniques/{}>",
        e.id
    ));
    md
}
