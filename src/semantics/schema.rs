//! The AI telemetry schema: typed fields per logsource category, plus deprecated aliases.
//!
//! The built-in schema (`schema/ai-telemetry-v1.yaml`) is embedded in the binary. Users add
//! fields, categories, aliases or whole new products with `--schema FILE` (same format):
//! a file whose `product` matches an existing schema is merged into it (its entries win).

use crate::report::diagnostic::{Code, Diagnostic};
use crate::syntax::span::Span;
use crate::syntax::yaml::{self, Kind, Node};
use std::collections::BTreeMap;
use std::fmt;

pub const BUILTIN_SCHEMA: &str = include_str!("../../schema/ai-telemetry-v1.yaml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseType {
    String,
    Int,
    Float,
    Bool,
    Ip,
    Timestamp,
    Json,
}

impl BaseType {
    fn parse(s: &str) -> Option<BaseType> {
        Some(match s {
            "string" | "keyword" | "text" | "hash" => BaseType::String,
            "int" | "long" | "integer" => BaseType::Int,
            "float" | "double" => BaseType::Float,
            "bool" | "boolean" => BaseType::Bool,
            "ip" => BaseType::Ip,
            "timestamp" | "date" => BaseType::Timestamp,
            "json" | "object" => BaseType::Json,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BaseType::String => "string",
            BaseType::Int => "int",
            BaseType::Float => "float",
            BaseType::Bool => "bool",
            BaseType::Ip => "ip",
            BaseType::Timestamp => "timestamp",
            BaseType::Json => "json",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, BaseType::Int | BaseType::Float)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub base: BaseType,
    pub array: bool,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.base.name(),
            if self.array { "[]" } else { "" }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
    /// Known values (for enums); matching is case-insensitive like the rest of Sigma.
    pub enum_values: Vec<String>,
    /// An unknown value is an error (closed) or a warning (open).
    pub closed: bool,
    pub doc: String,
    /// The entity the field identifies, as `Type.Identifier` of Microsoft Sentinel's entity
    /// model (`Account.Name`, `IP.Address`): alert artifacts map it to an entity.
    pub entity: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Category {
    pub doc: String,
    pub fields: BTreeMap<String, FieldDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    pub to: String,
    pub doc: String,
}

/// The schema of one logsource product.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductSchema {
    pub name: String,
    pub version: String,
    pub product: String,
    pub envelope: BTreeMap<String, FieldDef>,
    pub categories: BTreeMap<String, Category>,
    pub aliases: BTreeMap<String, Alias>,
}

impl ProductSchema {
    pub fn field(&self, category: &str, name: &str) -> Option<&FieldDef> {
        self.envelope
            .get(name)
            .or_else(|| self.categories.get(category)?.fields.get(name))
    }

    /// Every field name valid in a category (envelope included), sorted.
    pub fn field_names<'a>(&'a self, category: &str) -> Vec<&'a str> {
        let mut v: Vec<&str> = self.envelope.keys().map(String::as_str).collect();
        if let Some(c) = self.categories.get(category) {
            v.extend(c.fields.keys().map(String::as_str));
        }
        v.sort_unstable();
        v
    }
}

/// All schemas known to a run, by product.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub products: BTreeMap<String, ProductSchema>,
}

impl Schema {
    /// The field names that events of `category` may hold, in any product (envelopes
    /// included; every category's fields when `category` is `None`), and the category names
    /// themselves; sorted, without duplicates.
    pub fn event_words(&self, category: Option<&str>) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for p in self.products.values() {
            v.extend(p.envelope.keys().map(String::as_str));
            for (name, c) in &p.categories {
                v.push(name);
                if category.is_none_or(|want| want == name) {
                    v.extend(c.fields.keys().map(String::as_str));
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The built-in AI telemetry schema.
    pub fn builtin() -> Schema {
        let mut s = Schema::default();
        s.add_source(BUILTIN_SCHEMA)
            .expect("the embedded schema is valid (tested)");
        s
    }

    /// Merge a schema document (the same format as the built-in file).
    pub fn add_source(&mut self, text: &str) -> Result<(), Diagnostic> {
        let docs = yaml::parse(text)?;
        let root = docs
            .into_iter()
            .next()
            .map(|d| d.root)
            .ok_or_else(|| err(Span::file_start(), "the schema file is empty"))?;
        let parsed = parse_product(&root)?;
        match self.products.get_mut(&parsed.product) {
            None => {
                self.products.insert(parsed.product.clone(), parsed);
            }
            Some(existing) => {
                existing.envelope.extend(parsed.envelope);
                for (name, cat) in parsed.categories {
                    let e = existing.categories.entry(name).or_default();
                    if !cat.doc.is_empty() {
                        e.doc = cat.doc;
                    }
                    e.fields.extend(cat.fields);
                }
                existing.aliases.extend(parsed.aliases);
            }
        }
        Ok(())
    }

    pub fn product(&self, product: &str) -> Option<&ProductSchema> {
        self.products.get(product)
    }

    /// The category a rule is scoped to in mixed data: its `logsource.category` when the
    /// schema of its `logsource.product` declares that category (the AI schema's categories,
    /// which events carry in `ai.category`). `None` for other rules, such as SigmaHQ's
    /// `product: windows` ones, whose events the SIEM's index or sourcetype selects.
    pub fn scope<'a>(&self, doc: &'a crate::syntax::ast::Doc) -> Option<&'a str> {
        let category = doc.category()?;
        let product = doc.meta.logsource.as_ref()?.product.as_ref()?;
        self.product(&product.value)?
            .categories
            .contains_key(category)
            .then_some(category)
    }
}

fn err(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::SchemaFile, span, msg)
}

fn req_str<'a>(n: &'a Node, key: &str) -> Result<&'a str, Diagnostic> {
    n.get(key)
        .and_then(|v| v.scalar_text())
        .ok_or_else(|| err(n.span, format!("missing `{key}`")))
}

fn parse_fields(n: &Node) -> Result<BTreeMap<String, FieldDef>, Diagnostic> {
    let Some(map) = n.as_map() else {
        return Err(err(
            n.span,
            "fields must be a mapping of field name to definition",
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let ty_text = req_str(v, "type")?;
        let (base_text, array) = match ty_text.strip_suffix("[]") {
            Some(b) => (b, true),
            None => (ty_text, false),
        };
        let base = BaseType::parse(base_text).ok_or_else(|| {
            err(v.get("type").map(|t| t.span).unwrap_or(v.span), format!("unknown type `{ty_text}` (use string, int, float, bool, ip, timestamp, json, or T[])"))
        })?;
        let mut enum_values = Vec::new();
        if let Some(e) = v.get("enum") {
            let items = e
                .as_seq()
                .ok_or_else(|| err(e.span, "`enum` must be a list"))?;
            enum_values = items.iter().map(|i| i.raw.clone()).collect();
        }
        let closed = match v.get("closed").map(|c| &c.kind) {
            Some(Kind::Bool(b)) => *b,
            None => false,
            Some(_) => return Err(err(v.span, "`closed` must be true or false")),
        };
        let doc = v.get("doc").map(|d| d.raw.clone()).unwrap_or_default();
        let entity = match v.get("entity") {
            None => None,
            Some(e) => match e.raw.split_once('.') {
                Some((t, i)) if !t.is_empty() && !i.is_empty() => Some(e.raw.clone()),
                _ => {
                    return Err(err(
                        e.span,
                        "`entity` must be `Type.Identifier`, e.g. `Account.Name`",
                    ));
                }
            },
        };
        out.insert(
            k.raw.clone(),
            FieldDef {
                name: k.raw.clone(),
                ty: FieldType { base, array },
                enum_values,
                closed,
                doc,
                entity,
            },
        );
    }
    Ok(out)
}

fn parse_product(root: &Node) -> Result<ProductSchema, Diagnostic> {
    let mut s = ProductSchema {
        name: req_str(root, "schema")?.to_string(),
        version: req_str(root, "version")?.to_string(),
        product: req_str(root, "product")?.to_string(),
        ..Default::default()
    };
    if let Some(e) = root.get("envelope") {
        s.envelope = parse_fields(e)?;
    }
    if let Some(cats) = root.get("categories") {
        let Some(map) = cats.as_map() else {
            return Err(err(cats.span, "`categories` must be a mapping"));
        };
        for (k, v) in map {
            let fields = match v.get("fields") {
                Some(f) => parse_fields(f)?,
                None => BTreeMap::new(),
            };
            for name in fields.keys() {
                if let Some(env) = s.envelope.get(name)
                    && env.ty != fields[name].ty
                {
                    return Err(err(
                        k.span,
                        format!(
                            "field `{name}` of category `{}` conflicts with the envelope's type {}",
                            k.raw, env.ty
                        ),
                    ));
                }
            }
            let doc = v.get("doc").map(|d| d.raw.clone()).unwrap_or_default();
            s.categories.insert(k.raw.clone(), Category { doc, fields });
        }
    }
    if let Some(al) = root.get("aliases") {
        let Some(map) = al.as_map() else {
            return Err(err(al.span, "`aliases` must be a mapping"));
        };
        for (k, v) in map {
            let to = req_str(v, "to")?.to_string();
            let doc = v.get("doc").map(|d| d.raw.clone()).unwrap_or_default();
            s.aliases.insert(k.raw.clone(), Alias { to, doc });
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_loads_and_is_consistent() {
        let s = Schema::builtin();
        let ai = s.product("ai").unwrap();
        for c in [
            "llm_inference",
            "ai_guardrail",
            "agent_activity",
            "rag_retrieval",
            "model_serving",
            "accelerator_metrics",
            "ml_monitoring",
            "ai_access_audit",
            "model_registry",
            "training_job",
            "data_pipeline",
        ] {
            assert!(ai.categories.contains_key(c), "missing category {c}");
        }
        let f = ai
            .field("llm_inference", "gen_ai.usage.input_tokens")
            .unwrap();
        assert_eq!(
            f.ty,
            FieldType {
                base: BaseType::Int,
                array: false
            }
        );
        // Every alias points at a real field, and no alias shadows one.
        for (name, a) in &ai.aliases {
            let exists = ai.envelope.contains_key(&a.to)
                || ai.categories.values().any(|c| c.fields.contains_key(&a.to));
            assert!(exists, "alias {name} -> {} points nowhere", a.to);
            assert!(
                ai.field("llm_inference", name).is_none(),
                "alias {name} shadows a field"
            );
        }
        // ai.category's closed enum lists exactly the categories.
        let cat = ai.envelope.get("ai.category").unwrap();
        let mut listed = cat.enum_values.clone();
        listed.sort();
        assert_eq!(listed, ai.categories.keys().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn user_schema_merges_by_product() {
        let mut s = Schema::builtin();
        s.add_source("schema: mine\nversion: 1\nproduct: ai\ncategories:\n  llm_inference:\n    fields:\n      acme.tenant_tier: {type: string, enum: [gold, silver], closed: true}\n").unwrap();
        let ai = s.product("ai").unwrap();
        assert!(
            ai.field("llm_inference", "acme.tenant_tier")
                .unwrap()
                .closed
        );
        assert!(ai.field("llm_inference", "gen_ai.request.model").is_some());
        let e = s
            .add_source("schema: x\nversion: 1\nproduct: p\nenvelope:\n  f: {type: strnig}\n")
            .unwrap_err();
        assert_eq!(e.code, Code::SchemaFile);
        assert_eq!(e.span.start.line, 5);
    }
}
