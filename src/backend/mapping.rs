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
        Ok(Mapping {
            source: source.to_string(),
            target,
            identity,
            fields,
            logsources,
            default_logsource,
            caseless,
            category_field,
        })
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
