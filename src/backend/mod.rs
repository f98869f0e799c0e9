//! Backends: render the detection IR as a target's query language.
//!
//! A target is a [`Dialect`]: it says how to write one predicate, a field name and a string
//! literal, and the shared renderer here does the boolean structure (grouping, `not`,
//! `N of`). Defaults are the common case, in the spirit of PRQL's `DialectHandler`; a dialect
//! overrides only where its language differs. A construct a target cannot express exactly is
//! refused with [`Unsupported`], which becomes an `AIS801` error naming the rule, the construct
//! and the target: a backend never emits an approximation.

pub mod artifact;
pub mod correlation;
pub mod eql;
pub mod esql;
pub mod kql;
pub mod lucene;
pub mod mapping;
pub mod spl;
pub mod yaral;

use crate::report::diagnostic::{Code, Diagnostic};
use crate::semantics::ir::{Expr, Pred, Test};
use crate::semantics::schema::{FieldType, Schema};
use crate::syntax::ast::Doc;
use crate::syntax::span::Span;
use mapping::Mapping;

/// A field as the target names it, with its schema type when the schema knows the field.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: Option<FieldType>,
}

/// A query language aisigma compiles to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Elastic Event Query Language
    Eql,
    /// Elasticsearch query string (Lucene syntax)
    Lucene,
    /// Elasticsearch ES|QL
    Esql,
    /// Microsoft Sentinel KQL
    Kql,
    /// Splunk SPL
    Spl,
    /// Google SecOps (Chronicle) YARA-L 2.0
    Yaral,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Eql => "eql",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Kql => "kql",
            Target::Spl => "spl",
            Target::Yaral => "yaral",
        }
    }

    /// The artifact formats of the target.
    pub fn formats(self) -> &'static [artifact::Format] {
        use artifact::Format;
        const KIBANA: &[Format] = &[Format {
            name: "kibana-ndjson",
            template: "kibana-ndjson.j2",
            builtin: include_str!("../../backends/elastic/kibana-ndjson.j2"),
            pack: Some("rules.ndjson"),
            extension: "ndjson",
        }];
        const SENTINEL: &[Format] = &[
            Format {
                name: "sentinel-rule",
                template: "sentinel-rule.j2",
                builtin: include_str!("../../backends/kql/sentinel-rule.j2"),
                pack: None,
                extension: "yaml",
            },
            Format {
                name: "sentinel-arm",
                template: "sentinel-arm.j2",
                builtin: include_str!("../../backends/kql/sentinel-arm.j2"),
                pack: None,
                extension: "json",
            },
        ];
        const SPLUNK: &[Format] = &[Format {
            name: "savedsearches",
            template: "savedsearches.j2",
            builtin: include_str!("../../backends/spl/savedsearches.j2"),
            pack: Some("savedsearches.conf"),
            extension: "conf",
        }];
        const CHRONICLE: &[Format] = &[Format {
            name: "chronicle",
            template: "chronicle.j2",
            builtin: include_str!("../../backends/yaral/chronicle.j2"),
            pack: None,
            extension: "yaral",
        }];
        match self {
            Target::Eql | Target::Lucene | Target::Esql => KIBANA,
            Target::Kql => SENTINEL,
            Target::Spl => SPLUNK,
            Target::Yaral => CHRONICLE,
        }
    }

    pub fn format(self, name: &str) -> Option<&'static artifact::Format> {
        self.formats().iter().find(|f| f.name == name)
    }

    /// The built-in mapping file of the target.
    pub fn builtin_mapping(self) -> Mapping {
        let (path, text) = match self {
            Target::Eql => (
                "backends/eql/mapping.yaml",
                include_str!("../../backends/eql/mapping.yaml"),
            ),
            Target::Lucene => (
                "backends/lucene/mapping.yaml",
                include_str!("../../backends/lucene/mapping.yaml"),
            ),
            Target::Esql => (
                "backends/esql/mapping.yaml",
                include_str!("../../backends/esql/mapping.yaml"),
            ),
            Target::Kql => (
                "backends/kql/mapping.yaml",
                include_str!("../../backends/kql/mapping.yaml"),
            ),
            Target::Spl => (
                "backends/spl/mapping.yaml",
                include_str!("../../backends/spl/mapping.yaml"),
            ),
            Target::Yaral => (
                "backends/yaral/mapping.yaml",
                include_str!("../../backends/yaral/mapping.yaml"),
            ),
        };
        Mapping::parse(path, text).expect("built-in mappings are valid (tested)")
    }

    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            Target::Eql => &eql::Eql,
            Target::Lucene => &lucene::Lucene,
            Target::Esql => &esql::Esql,
            Target::Kql => &kql::Kql,
            Target::Spl => &spl::Spl,
            Target::Yaral => &yaral::SINGLE,
        }
    }

    /// File extension of a query written with `-o`.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Eql => "eql",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Kql => "kql",
            Target::Spl => "spl",
            Target::Yaral => "yaral",
        }
    }
}

/// A construct the target cannot express exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    /// What the rule uses, e.g. "regular expressions (`re`)".
    pub construct: String,
    /// Why the target cannot express it (shown as help).
    pub reason: String,
    pub span: Span,
    /// `AIS801` for a construct, `AIS802` for a field the mapping lacks.
    pub code: Code,
}

impl Unsupported {
    pub fn new(construct: impl Into<String>, reason: impl Into<String>, span: Span) -> Self {
        Unsupported {
            construct: construct.into(),
            reason: reason.into(),
            span,
            code: Code::UnsupportedConstruct,
        }
    }

    fn into_diagnostic(self, rule: &str, target: Target) -> Diagnostic {
        Diagnostic::new(
            self.code,
            self.span,
            format!(
                "rule `{rule}`: {} cannot be compiled to {}",
                self.construct,
                target.name()
            ),
        )
        .with_help(self.reason)
    }
}

/// A number as every target writes it: an integer without a fraction, else Rust's shortest
/// round-trip form.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A double-quoted string literal: `escape` writes the escape of a character that needs one
/// (and returns true), per the target's table; every other character is copied.
pub fn quote(s: &str, escape: impl Fn(char, &mut String) -> bool) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if !escape(c, &mut o) {
            o.push(c);
        }
    }
    o.push('"');
    o
}

/// The escapes most targets share: `"` and `\` with a backslash, line feed, carriage return
/// and tab as `\n`, `\r`, `\t`.
pub fn common_escape(c: char, o: &mut String) -> bool {
    let e = match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => return false,
    };
    o.push_str(e);
    true
}

/// An engine regex in a target's search flavor (PCRE, Rust, RE2); refused, naming the
/// target's engine, when the flavor cannot express it exactly.
pub fn search_regex(
    source: &str,
    flavor: crate::regex::translate::Flavor,
    engine: &str,
    span: Span,
) -> Result<String, Unsupported> {
    search_regex_unicode(source, flavor, engine, span).map(|(re, _)| re)
}

/// [`search_regex`], and whether the pattern can match non-ASCII text
/// ([`crate::regex::translate::needs_unicode`]), from one parse.
pub fn search_regex_unicode(
    source: &str,
    flavor: crate::regex::translate::Flavor,
    engine: &str,
    span: Span,
) -> Result<(String, bool), Unsupported> {
    let unsupported = |why: String| {
        Unsupported::new(
            format!("a regular expression with {why}"),
            format!("{engine} cannot express it"),
            span,
        )
    };
    let hir = crate::regex::translate::parse(source).map_err(unsupported)?;
    let re = crate::regex::translate::translate_hir(&hir, flavor).map_err(unsupported)?;
    Ok((re, crate::regex::translate::hir_needs_unicode(&hir)))
}

/// The tests no target compiles, refused the same way for all before a dialect sees them:
/// keyword searches, unresolved placeholders, and the field references and date parts no
/// backend implements.
fn common_refusal(d: &dyn Dialect, p: &Pred) -> Option<Unsupported> {
    let target = d.name();
    if p.field.is_none() {
        return Some(Unsupported::new(
            "keyword (field-less) searches",
            d.keyword_search_reason(),
            p.span,
        ));
    }
    let (construct, reason) = match &p.test {
        Test::Placeholder { name } => (
            format!("placeholder `%{name}%`"),
            "placeholders need values before compilation".to_string(),
        ),
        Test::FieldRef { .. } => (
            "field references (`fieldref`)".to_string(),
            format!("comparing two fields is not implemented for {target}"),
        ),
        Test::TimePart { .. } => (
            "date-part modifiers (`hour`, `day`, ...)".to_string(),
            format!("date parts are not implemented for {target}"),
        ),
        _ => return None,
    };
    Some(Unsupported::new(construct, reason, p.span))
}

/// How a target writes queries. Only [`Dialect::predicate`] has no default.
pub trait Dialect: Sync {
    fn name(&self) -> &'static str;

    /// One predicate over an already-mapped field name. `negated` is true when the predicate
    /// sits under an odd number of `not`s, for targets whose missing-field logic needs care.
    fn predicate(&self, column: &Column, pred: &Pred, negated: bool)
    -> Result<String, Unsupported>;

    /// Why the target cannot run a keyword (field-less) search exactly: every target refuses
    /// them, each for its own reason.
    fn keyword_search_reason(&self) -> &'static str;

    /// [`Dialect::predicate`] for targets that need extra pipeline stages before the filter
    /// (KQL's `mv-apply` for arrays): a stage pushed to `stages` runs before the condition.
    fn staged_predicate(
        &self,
        column: &Column,
        pred: &Pred,
        negated: bool,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        self.predicate(column, pred, negated)
    }

    fn and_op(&self) -> &'static str {
        "and"
    }

    fn or_op(&self) -> &'static str {
        "or"
    }

    /// Negation of a rendered operand (always parenthesised, so no precedence question arises
    /// between `not` and a comparison).
    fn not(&self, inner: &str) -> String {
        format!("not ({inner})")
    }

    fn group(&self, inner: &str) -> String {
        format!("({inner})")
    }

    /// Wrap the rendered condition into a complete query; `stages` are those of
    /// [`Dialect::staged_predicate`].
    fn query(
        &self,
        condition: &str,
        _logsource: &std::collections::BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        condition.to_string()
    }

    /// Longest flat `and`/`or` chain the target's parser handles; longer chains are written as
    /// parenthesised chunks (a parser that nests binary operators otherwise hits its depth
    /// limit). `None`: no limit.
    fn max_chain(&self) -> Option<usize> {
        None
    }

    /// Most alternatives an `N of` may expand to before it is refused.
    fn max_at_least_expansion(&self) -> usize {
        256
    }

    /// A correlation over compiled inputs ([`correlation`]); by default the target has none.
    fn correlation(
        &self,
        c: &correlation::Correlation,
    ) -> Result<correlation::Rendered, Unsupported> {
        Err(c.refuse(
            "correlation rules",
            format!("the {} target has no aggregations over events", self.name()),
        ))
    }
}

/// Render an expression; compound children of `and`/`or` are grouped, so the output never
/// depends on the target's operator precedence. A refusal is recorded in `errors` and
/// rendering goes on, so that one run reports every refusal of a rule; the text is only used
/// when `errors` stays empty.
/// What rendering collects: refusals, and the pipeline stages some predicates need.
struct Out<'a> {
    map: &'a dyn Fn(&str, Span) -> Result<Column, Unsupported>,
    errors: Vec<Unsupported>,
    stages: Vec<String>,
}

fn render(d: &dyn Dialect, e: &Expr, negated: bool, out: &mut Out) -> String {
    match e {
        Expr::And(items) | Expr::Or(items) => {
            let op = if matches!(e, Expr::And(_)) {
                d.and_op()
            } else {
                d.or_op()
            };
            let parts: Vec<String> = items
                .iter()
                .map(|x| {
                    let s = render(d, x, negated, out);
                    if matches!(x, Expr::Pred(_) | Expr::Not(_)) {
                        s
                    } else {
                        d.group(&s)
                    }
                })
                .collect();
            chain(d, parts, op)
        }
        Expr::Not(inner) => d.not(&render(d, inner, !negated, out)),
        Expr::AtLeast(n, items) => {
            let Some(combos) = combinations(items.len(), *n, d.max_at_least_expansion()) else {
                out.errors.push(Unsupported::new(
                    format!("`{n} of` over {} search identifiers", items.len()),
                    format!(
                        "it expands to more than {} alternatives",
                        d.max_at_least_expansion()
                    ),
                    first_span(e).unwrap_or_default(),
                ));
                return String::new();
            };
            let expanded = Expr::Or(
                combos
                    .into_iter()
                    .map(|c| Expr::And(c.into_iter().map(|i| items[i].clone()).collect()))
                    .collect(),
            );
            render(d, &expanded, negated, out)
        }
        Expr::Pred(p) => {
            let rendered = match (common_refusal(d, p), p.field.as_deref()) {
                (Some(u), _) => Err(u),
                (None, Some(f)) => (out.map)(f, p.span)
                    .and_then(|col| d.staged_predicate(&col, p, negated, &mut out.stages)),
                (None, None) => unreachable!("keyword searches are refused by common_refusal"),
            };
            rendered.unwrap_or_else(|u| {
                // `N of` expansions render a predicate several times; report it once.
                if !out.errors.contains(&u) {
                    out.errors.push(u);
                }
                String::new()
            })
        }
    }
}

/// `parts` joined by `op`, in parenthesised chunks of at most [`Dialect::max_chain`] operands.
fn chain(d: &dyn Dialect, parts: Vec<String>, op: &str) -> String {
    let sep = format!(" {op} ");
    match d.max_chain() {
        Some(max) if parts.len() > max && max > 1 => {
            let groups: Vec<String> = parts.chunks(max).map(|c| d.group(&c.join(&sep))).collect();
            chain(d, groups, op)
        }
        _ => parts.join(&sep),
    }
}

fn first_span(e: &Expr) -> Option<Span> {
    let mut s = None;
    e.preds(&mut |p| {
        if s.is_none() {
            s = Some(p.span);
        }
    });
    s
}

/// All `k`-subsets of `0..n`, or `None` if there are more than `limit`.
fn combinations(n: usize, k: usize, limit: usize) -> Option<Vec<Vec<usize>>> {
    let mut count: u128 = 1;
    for i in 0..k {
        count = count * (n - i) as u128 / (i + 1) as u128;
        if count > limit as u128 {
            return None;
        }
    }
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.clone());
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
            return Some(out);
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// A rule compiled for one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub query: String,
    pub logsource: std::collections::BTreeMap<String, String>,
    /// Warnings the user must see (`AIS803`: a correlation that the target evaluates
    /// differently from the engine).
    pub warnings: Vec<Diagnostic>,
    /// For a correlation: its type, window, group-by and target settings, for templates.
    pub correlation: Option<serde_json::Value>,
}

/// A rule's condition rendered for a target, and what wraps it into a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    pub query: String,
    pub condition: String,
    pub stages: Vec<String>,
    pub logsource: std::collections::BTreeMap<String, String>,
}

/// The schema type of field `f` for the logsource of `doc`.
pub(crate) fn field_type(doc: &Doc, schema: &Schema, f: &str) -> Option<FieldType> {
    let category = doc.category().unwrap_or("");
    let product = schema.product(
        doc.meta
            .logsource
            .as_ref()
            .and_then(|l| l.product.as_ref())
            .map(|c| c.value.as_str())
            .unwrap_or(""),
    )?;
    product
        .field(category, f)
        .or_else(|| product.field(category, &product.aliases.get(f)?.to))
        .map(|d| d.ty)
}

/// Compile a checked document. Errors are diagnostics positioned in the rule file.
pub fn compile(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_parts(doc, expr, target, mapping, schema).map(|p| Compiled {
        query: p.query,
        logsource: p.logsource,
        warnings: Vec::new(),
        correlation: None,
    })
}

/// [`compile`], keeping the condition and the stages apart (correlations build on them).
pub fn compile_parts(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Parts, Vec<Diagnostic>> {
    compile_parts_in(doc, expr, target, target.dialect(), mapping, schema)
}

/// [`compile_parts`] with a given dialect of the target (YARA-L's per-input event variables).
pub fn compile_parts_in(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    d: &dyn Dialect,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Parts, Vec<Diagnostic>> {
    let category = doc.category();
    let map = |f: &str, span: Span| -> Result<Column, Unsupported> {
        mapping
            .field(f)
            .map(|name| Column {
                name: name.into_owned(),
                ty: field_type(doc, schema, f),
            })
            .ok_or_else(|| Unsupported {
                code: Code::UnmappedField,
                ..Unsupported::new(
                    format!("field `{f}`"),
                    format!("`{f}` is not mapped in {}", mapping.source),
                    span,
                )
            })
    };
    let mut out = Out {
        map: &map,
        errors: Vec::new(),
        stages: Vec::new(),
    };
    let cond = render(d, expr, false, &mut out);
    if out.errors.is_empty() {
        let logsource = mapping.logsource(category).clone();
        return Ok(Parts {
            query: d.query(&cond, &logsource, &out.stages),
            condition: cond,
            stages: out.stages,
            logsource,
        });
    }
    let rule = doc.label();
    Err(out
        .errors
        .into_iter()
        .map(|u| u.into_diagnostic(&rule, target))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_enumerate_subsets() {
        assert_eq!(
            combinations(4, 2, 100).unwrap(),
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combinations(3, 3, 100).unwrap(), vec![vec![0, 1, 2]]);
        assert!(combinations(30, 15, 1000).is_none());
    }
}
