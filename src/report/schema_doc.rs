//! `aisigma schema`: the schema as a readable table or as JSON.

use crate::semantics::schema::{FieldDef, Schema};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

fn field_json(f: &FieldDef) -> Value {
    let mut o = json!({"type": f.ty.to_string(), "doc": f.doc});
    if !f.enum_values.is_empty() {
        o["enum"] = json!(f.enum_values);
        o["closed"] = json!(f.closed);
    }
    o
}

fn fields_json(m: &BTreeMap<String, FieldDef>) -> Value {
    Value::Object(m.iter().map(|(k, f)| (k.clone(), field_json(f))).collect())
}

pub fn json(schema: &Schema, only: Option<&str>) -> String {
    let products: Vec<Value> = schema
        .products
        .values()
        .filter(|p| only.is_none_or(|o| p.categories.contains_key(o)))
        .map(|p| {
            let cats: serde_json::Map<String, Value> = p
                .categories
                .iter()
                .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
                .map(|(name, c)| (name.clone(), json!({"doc": c.doc, "fields": fields_json(&c.fields)})))
                .collect();
            let aliases: serde_json::Map<String, Value> = p.aliases.iter().map(|(k, a)| (k.clone(), json!({"to": a.to, "doc": a.doc}))).collect();
            json!({"schema": p.name, "version": p.version, "product": p.product, "envelope": fields_json(&p.envelope), "categories": cats, "aliases": aliases})
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Value::Array(products)).expect("JSON serializes");
    s.push('\n');
    s
}

fn type_cell(f: &FieldDef) -> String {
    if f.enum_values.is_empty() {
        f.ty.to_string()
    } else {
        format!(
            "{} {} enum: {}",
            f.ty,
            if f.closed { "closed" } else { "open" },
            f.enum_values.join("|")
        )
    }
}

fn table_rows(out: &mut String, fields: &BTreeMap<String, FieldDef>) {
    let w = fields.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (name, f) in fields {
        let _ = writeln!(out, "  {name:w$}  {}", type_cell(f));
    }
}

pub fn table(schema: &Schema, only: Option<&str>) -> String {
    let mut out = String::new();
    for p in schema
        .products
        .values()
        .filter(|p| only.is_none_or(|o| p.categories.contains_key(o)))
    {
        let _ = writeln!(
            out,
            "schema {} v{} (logsource.product: {})\n",
            p.name, p.version, p.product
        );
        let _ = writeln!(out, "envelope (every category):");
        table_rows(&mut out, &p.envelope);
        for (name, c) in &p.categories {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let _ = writeln!(out, "\ncategory {name}: {}", c.doc);
            table_rows(&mut out, &c.fields);
        }
        if only.is_none() && !p.aliases.is_empty() {
            let _ = writeln!(out, "\ndeprecated aliases:");
            let w = p
                .aliases
                .keys()
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0);
            for (k, a) in &p.aliases {
                let _ = writeln!(out, "  {k:w$}  -> {}", a.to);
            }
        }
        out.push('\n');
    }
    out
}
