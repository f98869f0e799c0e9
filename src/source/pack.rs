//! A source pack (`backends/sources/NAME.yaml`, docs/sources.md): one product's telemetry,
//! its categories, how its raw records become schema events, and where it lands per target.

use super::path::Path;
use crate::backend::mapping::Mapping;
use crate::backend::target::Target;
use crate::report::diagnostic::{Code, Diagnostic};
use crate::semantics::schema::Schema;
use crate::syntax::span::Span;
use crate::syntax::yaml::{self, Kind, Node};
use serde_json::Value;
use std::collections::BTreeMap;

/// How a raw line is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// One OTLP/JSON export request per line ([`super::otlp`]).
    Otlp,
}

/// How a record's category is decided.
#[derive(Clone, Debug)]
pub enum CategoryRule {
    /// Every record has this category.
    Const(String),
    /// From a value in the record: translated by `map` (when given), else `default`.
    Path {
        path: Path,
        map: BTreeMap<String, String>,
        default: Option<String>,
    },
}

/// `record:`.
#[derive(Clone, Debug)]
pub struct Record {
    pub format: Format,
    /// An array in the line holding the records (`Records`).
    pub each: Option<Path>,
    pub category: CategoryRule,
    /// A schema field that `fields` does not list is read under its own name.
    pub identity: bool,
}

/// Where a schema field's values come from in a raw record. (A pack holds a few dozen, built
/// once: the variants' sizes do not matter.)
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Spec {
    Const(Value),
    All(Vec<Spec>),
    /// The values at `paths`, then each step that is set, in this order.
    Values {
        paths: Vec<Path>,
        json: bool,
        /// Keep the objects whose value at each path is one of the listed texts.
        filter: Vec<(Path, Vec<String>)>,
        then: Option<Path>,
        capture: Option<regex::Regex>,
        map: Option<BTreeMap<String, Value>>,
        default: Option<Value>,
        /// The value when the paths find nothing.
        missing: Option<Value>,
    },
}

/// A parsed source pack.
#[derive(Clone, Debug)]
pub struct Pack {
    pub name: String,
    pub version: u64,
    pub title: String,
    pub description: String,
    pub references: Vec<String>,
    pub categories: Vec<String>,
    pub record: Record,
    /// Schema field -> spec, in the file's order.
    pub fields: Vec<(String, Spec)>,
    /// Target name -> the target section (`elastic` expanded to eql, lucene and esql).
    pub targets: BTreeMap<String, Mapping>,
    /// The pack's YAML text.
    pub text: String,
}

fn err(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::SchemaFile, span, msg)
}

fn keys(n: &Node, allowed: &[&str], what: &str) -> Result<(), Diagnostic> {
    let m = n
        .as_map()
        .ok_or_else(|| err(n.span, format!("{what} must be a mapping")))?;
    for (k, _) in m {
        if !allowed.contains(&k.raw.as_str()) {
            return Err(err(
                k.span,
                format!(
                    "unknown key `{}` in {what} (expected one of: {})",
                    k.raw,
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn string(n: &Node, what: &str) -> Result<String, Diagnostic> {
    n.scalar_text()
        .filter(|_| !matches!(n.kind, Kind::Null))
        .map(str::to_string)
        .ok_or_else(|| err(n.span, format!("{what} must be a string")))
}

fn path(n: &Node) -> Result<Path, Diagnostic> {
    let t = string(n, "a path")?;
    Path::parse(&t).ok_or_else(|| err(n.span, format!("`{t}` is not a path (empty segment)")))
}

fn paths(n: &Node) -> Result<Vec<Path>, Diagnostic> {
    match n.as_seq() {
        Some(items) => items.iter().map(path).collect(),
        None => Ok(vec![path(n)?]),
    }
}

fn spec(n: &Node) -> Result<Spec, Diagnostic> {
    if let Some(items) = n.as_seq() {
        return Ok(Spec::All(items.iter().map(spec).collect::<Result<_, _>>()?));
    }
    if n.as_map().is_none() {
        return Ok(Spec::Values {
            paths: vec![path(n)?],
            json: false,
            filter: Vec::new(),
            then: None,
            capture: None,
            map: None,
            default: None,
            missing: None,
        });
    }
    keys(
        n,
        &[
            "path", "const", "map", "default", "missing", "capture", "json", "where", "then",
        ],
        "a field entry",
    )?;
    if let Some(c) = n.get("const") {
        if n.as_map().is_some_and(|m| m.len() > 1) {
            return Err(err(n.span, "`const` stands alone in a field entry"));
        }
        return Ok(Spec::Const(c.to_json()));
    }
    let p = n
        .get("path")
        .ok_or_else(|| err(n.span, "a field entry needs `path` or `const`"))?;
    let capture = match n.get("capture") {
        None => None,
        Some(c) => {
            let t = string(c, "`capture`")?;
            let re = regex::Regex::new(&t)
                .map_err(|e| err(c.span, format!("`capture` is not a valid regex: {e}")))?;
            if re.captures_len() < 2 {
                return Err(err(c.span, "`capture` needs a capture group"));
            }
            Some(re)
        }
    };
    let map = match n.get("map") {
        None => None,
        Some(m) => {
            let entries = m
                .as_map()
                .ok_or_else(|| err(m.span, "`map` must map raw values to values"))?;
            Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.raw.clone(), v.to_json()))
                    .collect(),
            )
        }
    };
    let json = match n.get("json") {
        None => false,
        Some(j) => match j.kind {
            Kind::Bool(b) => b,
            _ => return Err(err(j.span, "`json` must be true or false")),
        },
    };
    let mut filter = Vec::new();
    if let Some(w) = n.get("where") {
        let m = w.as_map().ok_or_else(|| {
            err(
                w.span,
                "`where` must map paths to a value or a list of values",
            )
        })?;
        for (k, v) in m {
            let key = Path::parse(&k.raw)
                .ok_or_else(|| err(k.span, format!("`{}` is not a path", k.raw)))?;
            let values = match v.as_seq() {
                Some(items) => items
                    .iter()
                    .map(|x| string(x, "a `where` value"))
                    .collect::<Result<_, _>>()?,
                None => vec![string(v, "a `where` value")?],
            };
            filter.push((key, values));
        }
    }
    Ok(Spec::Values {
        paths: paths(p)?,
        json,
        filter,
        then: n.get("then").map(path).transpose()?,
        capture,
        map,
        default: n.get("default").map(Node::to_json),
        missing: n.get("missing").map(Node::to_json),
    })
}

fn category_rule(n: &Node) -> Result<CategoryRule, Diagnostic> {
    if n.as_map().is_none() {
        return Ok(CategoryRule::Const(string(n, "`record.category`")?));
    }
    keys(n, &["path", "map", "default"], "`record.category`")?;
    let p = n.get("path").ok_or_else(|| {
        err(
            n.span,
            "`record.category` needs `path` (or is a category name)",
        )
    })?;
    let mut map = BTreeMap::new();
    if let Some(m) = n.get("map") {
        for (k, v) in m
            .as_map()
            .ok_or_else(|| err(m.span, "`map` must map raw values to categories"))?
        {
            map.insert(k.raw.clone(), string(v, "a category")?);
        }
    }
    Ok(CategoryRule::Path {
        path: path(p)?,
        map,
        default: n
            .get("default")
            .map(|d| string(d, "a category"))
            .transpose()?,
    })
}

const ELASTIC: [&str; 3] = ["eql", "lucene", "esql"];

impl Pack {
    /// Parse a pack (errors are positioned in its text).
    pub fn parse(text: &str) -> Result<Pack, Diagnostic> {
        let root = yaml::parse(text)?
            .into_iter()
            .next()
            .map(|d| d.root)
            .ok_or_else(|| err(Span::file_start(), "the source pack is empty"))?;
        keys(
            &root,
            &[
                "name",
                "version",
                "title",
                "description",
                "references",
                "categories",
                "record",
                "fields",
                "targets",
            ],
            "a source pack",
        )?;
        let req = |k: &str| {
            root.get(k)
                .ok_or_else(|| err(root.span, format!("missing `{k}`")))
        };
        let name = string(req("name")?, "`name`")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                req("name")?.span,
                "`name` must be lower-case letters, digits and `-`",
            ));
        }
        let version = match req("version")?.kind {
            Kind::Int(v) if v > 0 => v as u64,
            _ => {
                return Err(err(
                    req("version")?.span,
                    "`version` must be a positive integer",
                ));
            }
        };
        let list = |k: &str| -> Result<Vec<String>, Diagnostic> {
            match root.get(k) {
                None => Ok(Vec::new()),
                Some(n) => n
                    .as_seq()
                    .ok_or_else(|| err(n.span, format!("`{k}` must be a list")))?
                    .iter()
                    .map(|x| string(x, k))
                    .collect(),
            }
        };
        let categories = list("categories")?;
        if categories.is_empty() {
            return Err(err(
                root.span,
                "`categories` must list at least one category",
            ));
        }
        let rec = req("record")?;
        keys(rec, &["format", "each", "category", "identity"], "`record`")?;
        let format = match rec.get("format").map(|f| (f, f.as_str())) {
            None | Some((_, Some("json"))) => Format::Json,
            Some((_, Some("otlp"))) => Format::Otlp,
            Some((f, _)) => return Err(err(f.span, "`record.format` must be `json` or `otlp`")),
        };
        let category = match rec.get("category") {
            Some(c) => category_rule(c)?,
            None if categories.len() == 1 => CategoryRule::Const(categories[0].clone()),
            None => {
                return Err(err(
                    rec.span,
                    "`record.category` is required when the pack has several categories",
                ));
            }
        };
        let identity = match rec.get("identity").map(|n| &n.kind) {
            None | Some(Kind::Bool(false)) => false,
            Some(Kind::Bool(true)) => true,
            Some(_) => return Err(err(rec.span, "`record.identity` must be true or false")),
        };
        let record = Record {
            format,
            each: rec.get("each").map(path).transpose()?,
            category,
            identity,
        };
        let mut fields = Vec::new();
        if let Some(f) = root.get("fields") {
            for (k, v) in f
                .as_map()
                .ok_or_else(|| err(f.span, "`fields` must map schema fields to paths"))?
            {
                fields.push((k.raw.clone(), spec(v)?));
            }
        }
        let mut targets = BTreeMap::new();
        if let Some(t) = root.get("targets") {
            let m = t
                .as_map()
                .ok_or_else(|| err(t.span, "`targets` must map target names to sections"))?;
            let origin = format!("source `{name}`");
            for (k, v) in m {
                if k.raw == "elastic" {
                    for e in ELASTIC {
                        targets
                            .entry(e.to_string())
                            .or_insert(Mapping::from_node(&origin, e, v)?);
                    }
                } else if Target::from_name(&k.raw).is_some() {
                    targets.insert(k.raw.clone(), Mapping::from_node(&origin, &k.raw, v)?);
                } else {
                    return Err(err(
                        k.span,
                        format!(
                            "unknown target `{}` (expected spl, kql, eql, lucene, esql, yaral or \
                             elastic)",
                            k.raw
                        ),
                    ));
                }
            }
            // A target's own section replaces `elastic`'s.
            for (k, v) in m {
                if ELASTIC.contains(&k.raw.as_str()) {
                    targets.insert(k.raw.clone(), Mapping::from_node(&origin, &k.raw, v)?);
                }
            }
        }
        for m in targets.values_mut() {
            m.categories = Some(categories.clone());
            m.pack = Some(name.clone());
            // A constant of the records is one in every target's copy of them.
            for (f, spec) in &fields {
                if let Spec::Const(v) = spec
                    && !m.fields.contains_key(f)
                {
                    m.constants.entry(f.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        Ok(Pack {
            name,
            version,
            title: root
                .get("title")
                .map(|t| string(t, "`title`"))
                .transpose()?
                .unwrap_or_default(),
            description: root
                .get("description")
                .map(|t| string(t, "`description`"))
                .transpose()?
                .unwrap_or_default()
                .trim()
                .to_string(),
            references: list("references")?,
            categories,
            record,
            fields,
            targets,
            text: text.to_string(),
        })
    }

    /// Problems against the schema: unknown categories, and fields (in `fields` and in each
    /// target section) that the schema does not define for the pack's categories.
    pub fn problems(&self, schema: &Schema) -> Vec<String> {
        let mut out = Vec::new();
        let Some(ai) = schema.product("ai") else {
            return vec!["the schema has no `ai` product".to_string()];
        };
        for c in &self.categories {
            if !ai.categories.contains_key(c) {
                out.push(format!("unknown category `{c}`"));
            }
        }
        let known = |f: &str| self.categories.iter().any(|c| ai.field(c, f).is_some());
        for (f, _) in &self.fields {
            if !known(f) {
                out.push(format!(
                    "`fields`: `{f}` is not a schema field of the pack's categories"
                ));
            }
        }
        for (t, m) in &self.targets {
            for f in m
                .fields
                .keys()
                .chain(m.caseless.keys())
                .chain(m.constants.keys())
            {
                if !known(f) {
                    out.push(format!(
                        "`targets.{t}`: `{f}` is not a schema field of the pack's categories"
                    ));
                }
            }
            for c in m.logsources.keys() {
                if !self.categories.contains(c) {
                    out.push(format!(
                        "`targets.{t}.logsources`: `{c}` is not one of the pack's categories"
                    ));
                }
            }
        }
        if let CategoryRule::Const(c) = &self.record.category
            && !self.categories.contains(c)
        {
            out.push(format!(
                "`record.category`: `{c}` is not one of the pack's categories"
            ));
        }
        if let CategoryRule::Path { map, default, .. } = &self.record.category {
            for c in map.values().chain(default) {
                if !self.categories.contains(c) {
                    out.push(format!(
                        "`record.category`: `{c}` is not one of the pack's categories"
                    ));
                }
            }
        }
        out
    }

    /// The values `scan --source` can give a field, where the pack fixes them (a constant, or
    /// a `map` without default): `null` stands for "absent". `None`: any value.
    pub fn possible_values(&self, field: &str) -> Option<Vec<Value>> {
        fn of(spec: &Spec, out: &mut Vec<Value>) -> bool {
            match spec {
                Spec::Const(v) => {
                    out.push(v.clone());
                    true
                }
                // The entries' values together form an array, which a test matches when it
                // matches one element: deciding on each possible value (and on absence)
                // decides every array of them.
                Spec::All(items) => items.iter().all(|x| of(x, out)),
                Spec::Values {
                    map: Some(m),
                    default: None,
                    missing,
                    ..
                } => {
                    out.extend(m.values().cloned());
                    out.push(missing.clone().unwrap_or(Value::Null));
                    true
                }
                _ => false,
            }
        }
        let (_, spec) = self.fields.iter().find(|(f, _)| f == field)?;
        let mut out = Vec::new();
        of(spec, &mut out).then(|| {
            out.sort_by_key(|v| v.to_string());
            out.dedup();
            out
        })
    }

    /// The schema fields `scan --source` can fill for a category: listed in `fields`, or (with
    /// `record.identity`) any field of the category.
    pub fn scan_fields<'a>(&'a self, schema: &'a Schema, category: &str) -> Vec<&'a str> {
        let mut v: Vec<&str> = self.fields.iter().map(|(f, _)| f.as_str()).collect();
        if self.record.identity
            && let Some(ai) = schema.product("ai")
        {
            v.extend(ai.field_names(category));
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}
