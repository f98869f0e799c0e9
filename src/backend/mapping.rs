//! Per-target field and log-source mappings (`backends/<target>/mapping.yaml`).
//!
//! ```yaml
//! target: eql
//! identity: true          # unlisted fields keep their name; false: unlisted fields are errors;
//!                         # or a template: "{field_underscore}", 'additional.fields["{field}"]'
//! fields: {schema.field: target.field}
//! logsources: {llm_inference: {index: "logs-*"}}
//! default: {index: "logs-*"}   # for categories not listed
//! caseless: {schema.field: target.field.caseless}   # lower-cased twins (Lucene)
//! ```

use crate::report::diagnostic::{Code, Diagnostic};
use crate::syntax::span::Span;
use crate::syntax::yaml::{self, Node};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// Where the mapping came from (named in "unmapped field" errors).
    pub source: String,
    pub target: String,
    /// How a field that `fields` does not list is named; `None`: it is unmapped (an error).
    pub identity: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// Per category: target-specific settings (index, table, sourcetype...).
    pub logsources: BTreeMap<String, BTreeMap<String, String>>,
    pub default_logsource: BTreeMap<String, String>,
    /// Fields with a lower-cased twin field (`caseless:`), which targets without a
    /// case-insensitive operator search instead of a folded regex.
    pub caseless: BTreeMap<String, String>,
    /// The event field holding the log-source category, where the target's log-source
    /// settings do not already scope the data to one category (`category_field:`): compiled
    /// queries then keep events of the rule's category and events without one, as `scan` does.
    pub category_field: Option<String>,
    /// Target types of fields that are not plain keywords (`types:`), by target field name
    /// (`text`, `long`, `ip`, ...): what the source's index or table declares.
    pub types: BTreeMap<String, String>,
    /// The categories the data holds (a source pack's `categories`); `None`: any.
    pub categories: Option<Vec<String>>,
    /// The source pack the mapping describes, if any.
    pub pack: Option<String>,
    /// The file set `identity` (to a template, true or false): it replaces the base's when
    /// merged.
    pub identity_given: bool,
    /// Fields whose value is the same in every event of the source (a source pack's
    /// `{const: V}` entries): tests on them are decided at compile time.
    pub constants: BTreeMap<String, serde_json::Value>,
    /// Target fields and the exact value every query requires of them (`filter:`), where
    /// the landing holds other data too (CloudTrail's other services).
    pub filter: BTreeMap<String, String>,
}

fn err(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::SchemaFile, span, msg)
}

fn string_map(n: &Node) -> Result<BTreeMap<String, String>, Diagnostic> {
    let m = n
        .as_map()
        .ok_or_else(|| err(n.span, "expected a mapping of names to strings"))?;
    m.iter()
        .map(|(k, v)| match v.scalar_text() {
            Some(t) => Ok((k.raw.clone(), t.to_string())),
            None => Err(err(v.span, format!("`{}` must map to a string", k.raw))),
        })
        .collect()
}

/// A field name with every character other than an ASCII letter, digit or `_` replaced by
/// `_` (`gen_ai.request.model` -> `gen_ai_request_model`), as table column names need.
pub fn underscore(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The keys a mapping (or a source pack's target section) may hold.
const KEYS: &[&str] = &[
    "target",
    "identity",
    "fields",
    "logsources",
    "default",
    "category_field",
    "caseless",
    "types",
    "filter",
    "constants",
];

impl Mapping {
    pub fn parse(source: &str, text: &str) -> Result<Mapping, Diagnostic> {
        let docs = yaml::parse(text)?;
        let root = docs
            .into_iter()
            .next()
            .map(|d| d.root)
            .ok_or_else(|| err(Span::file_start(), "the mapping file is empty"))?;
        let target = root
            .get("target")
            .and_then(Node::as_str)
            .ok_or_else(|| err(root.span, "missing `target`"))?
            .to_string();
        Mapping::from_node(source, &target, &root)
    }

    /// A mapping from its YAML node (a mapping file's root, or a source pack's target
    /// section, where `target` is implied). Unknown keys are errors.
    pub fn from_node(source: &str, target: &str, root: &Node) -> Result<Mapping, Diagnostic> {
        let m = root
            .as_map()
            .ok_or_else(|| err(root.span, "a mapping must be a YAML mapping"))?;
        for (k, _) in m {
            if !KEYS.contains(&k.raw.as_str()) {
                return Err(err(
                    k.span,
                    format!(
                        "unknown mapping key `{}` (expected one of: {})",
                        k.raw,
                        KEYS.join(", ")
                    ),
                ));
            }
        }
        let identity = match root.get("identity") {
            None => None,
            Some(n) => match &n.kind {
                yaml::Kind::Bool(true) => Some("{field}".to_string()),
                yaml::Kind::Bool(false) => None,
                _ => match n.as_str() {
                    Some(t) if t.contains("{field}") || t.contains("{field_underscore}") => {
                        Some(t.to_string())
                    }
                    _ => {
                        return Err(err(
                            n.span,
                            "`identity` must be true, false, or a template containing `{field}` \
                             or `{field_underscore}`",
                        ));
                    }
                },
            },
        };
        let fields = match root.get("fields") {
            Some(f) => string_map(f)?,
            None => BTreeMap::new(),
        };
        let mut logsources = BTreeMap::new();
        if let Some(ls) = root.get("logsources") {
            let m = ls
                .as_map()
                .ok_or_else(|| err(ls.span, "`logsources` must map categories to settings"))?;
            for (k, v) in m {
                logsources.insert(k.raw.clone(), string_map(v)?);
            }
        }
        let default_logsource = match root.get("default") {
            Some(d) => string_map(d)?,
            None => BTreeMap::new(),
        };
        let category_field = match root.get("category_field") {
            None => None,
            Some(n) => Some(
                n.as_str()
                    .ok_or_else(|| err(n.span, "`category_field` must be a field name"))?
                    .to_string(),
            ),
        };
        let caseless = match root.get("caseless") {
            Some(c) => string_map(c)?,
            None => BTreeMap::new(),
        };
        let types = match root.get("types") {
            Some(c) => string_map(c)?,
            None => BTreeMap::new(),
        };
        Ok(Mapping {
            source: source.to_string(),
            target: target.to_string(),
            identity,
            fields,
            logsources,
            default_logsource,
            caseless,
            category_field,
            types,
            categories: None,
            pack: None,
            identity_given: root.get("identity").is_some(),
            constants: match root.get("constants") {
                Some(c) => string_map(c)?
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect(),
                None => BTreeMap::new(),
            },
            filter: match root.get("filter") {
                Some(c) => string_map(c)?,
                None => BTreeMap::new(),
            },
        })
    }

    /// `over` merged over this mapping: its fields, log sources, caseless twins and types
    /// replace or add to these; its `identity`, `default` and `category_field`, where it sets
    /// them, replace these.
    pub fn merge(&mut self, over: Mapping) {
        self.fields.extend(over.fields);
        for (k, v) in over.logsources {
            self.logsources.insert(k, v);
        }
        self.caseless.extend(over.caseless);
        self.types.extend(over.types);
        self.constants.extend(over.constants);
        self.filter.extend(over.filter);
        if over.identity_given {
            self.identity = over.identity;
        }
        if !over.default_logsource.is_empty() {
            self.default_logsource = over.default_logsource;
        }
        if over.category_field.is_some() {
            self.category_field = over.category_field;
        }
        self.source = format!("{} merged over {}", over.source, self.source);
    }

    /// The target's name for a field, or `None` if the mapping does not cover it.
    pub fn field<'a>(&'a self, name: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        if let Some(f) = self.fields.get(name) {
            return Some(Cow::Borrowed(f));
        }
        let template = self.identity.as_deref()?;
        if template == "{field}" {
            return Some(Cow::Borrowed(name));
        }
        Some(Cow::Owned(
            template
                .replace("{field_underscore}", &underscore(name))
                .replace("{field}", name),
        ))
    }

    /// Settings for a logsource category (the category's own, else the default).
    pub fn logsource(&self, category: Option<&str>) -> &BTreeMap<String, String> {
        category
            .and_then(|c| self.logsources.get(c))
            .unwrap_or(&self.default_logsource)
    }
}

/// The first problem of a mapping file against a target and the schema, positioned: a file
/// written for another target, or a `fields`/`caseless` key that is not a schema field (or
/// alias).
pub fn problems(
    text: &str,
    target: &str,
    schema: &crate::semantics::schema::Schema,
) -> Option<Diagnostic> {
    let root = yaml::parse(text).ok()?.into_iter().next()?.root;
    if let Some(t) = root.get("target")
        && t.as_str() != Some(target)
    {
        return Some(
            err(
                t.span,
                format!(
                    "this mapping is for target `{}`, not `{target}`",
                    t.scalar_text().unwrap_or_default()
                ),
            )
            .with_help(format!(
                "write `target: {target}`, or compile to `{}`",
                t.scalar_text().unwrap_or_default()
            )),
        );
    }
    let known = |f: &str| {
        schema.products.values().any(|p| {
            p.envelope.contains_key(f)
                || p.aliases.contains_key(f)
                || p.categories.values().any(|c| c.fields.contains_key(f))
        })
    };
    for key in ["fields", "caseless"] {
        for (k, _) in root.get(key).and_then(Node::as_map).into_iter().flatten() {
            if !known(&k.raw) {
                let names: Vec<&str> = schema
                    .products
                    .values()
                    .flat_map(|p| {
                        p.envelope
                            .keys()
                            .chain(p.categories.values().flat_map(|c| c.fields.keys()))
                            .map(String::as_str)
                    })
                    .collect();
                let d = err(k.span, format!("`{}` is not a schema field", k.raw));
                let sugg = crate::report::diagnostic::suggest(&k.raw, names, 1);
                return Some(match crate::report::diagnostic::did_you_mean(&sugg) {
                    Some(h) => d.with_help(h),
                    None => d.with_help("run `aisigma schema` to list the fields"),
                });
            }
        }
    }
    None
}
