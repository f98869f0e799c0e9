//! The rule AST: what a rule says, with the source span of every node.

use crate::syntax::condition::Cond;
use crate::syntax::modifier::Modifier;
use crate::syntax::span::{Span, Spanned};

/// A scalar value written in a detection.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValueNode {
    pub value: Value,
    /// The scalar's source text (numbers keep their spelling, e.g. `0x10`).
    pub raw: String,
    pub span: Span,
}

impl ValueNode {
    /// Textual form used for string matching of non-string values.
    pub fn text(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(_) => self.raw.clone(),
        }
    }
}

/// One `field|modifiers: value(s)` entry of a detection map. `field` is `None` for `'|all': [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldItem {
    pub field: Option<Spanned<String>>,
    pub modifiers: Vec<Spanned<Modifier>>,
    pub values: Vec<ValueNode>,
    /// The value was written as a YAML list.
    pub is_list: bool,
    pub key_span: Span,
    pub span: Span,
}

impl FieldItem {
    pub fn has(&self, m: Modifier) -> bool {
        self.modifiers.iter().any(|x| x.value == m)
    }
}

/// The body of a search identifier.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchExpr {
    /// A map: all items must match (AND).
    Map(Vec<FieldItem>, Span),
    /// A list: any element must match (OR).
    List(Vec<SearchExpr>, Span),
    /// A field-less keyword, matched anywhere in the event.
    Keyword(ValueNode),
    /// A body that did not parse (already reported); never evaluated.
    Invalid(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub name: Spanned<String>,
    pub expr: SearchExpr,
}

/// A condition as written, and its parse.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionSrc {
    pub text: String,
    pub span: Span,
    /// Offset of the text's first character from `span.start` (1 for quoted scalars).
    pub text_offset: usize,
    pub single_line: bool,
    pub parsed: Option<Cond>,
}

impl ConditionSrc {
    /// The span of characters `off..off+len` of the condition text.
    pub fn span_of(&self, off: usize, len: usize) -> Span {
        if self.single_line {
            self.span.sub(self.text_offset + off, len.max(1))
        } else {
            self.span
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub searches: Vec<Search>,
    /// Several conditions (a YAML list) are ORed.
    pub conditions: Vec<ConditionSrc>,
    pub span: Span,
}

impl Detection {
    pub fn search(&self, name: &str) -> Option<&Search> {
        self.searches.iter().find(|s| s.name.value == name)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logsource {
    pub product: Option<Spanned<String>>,
    pub category: Option<Spanned<String>>,
    pub service: Option<Spanned<String>>,
    pub definition: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
}

/// Metadata shared by every document kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    pub title: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub taxonomy: Option<Spanned<String>>,
    pub status: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub license: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub modified: Option<Spanned<String>>,
    pub level: Option<Spanned<String>>,
    pub references: Vec<Spanned<String>>,
    pub tags: Vec<Spanned<String>>,
    pub falsepositives: Vec<Spanned<String>>,
    pub fields: Vec<Spanned<String>>,
    pub scope: Vec<Spanned<String>>,
    pub related: Vec<Related>,
    pub logsource: Option<Logsource>,
    /// How the rule's artifacts run once deployed (`deploy:`).
    pub deploy: Option<Deploy>,
}

/// The `deploy:` block: schedule, suppression and the targets a rule is not meant for
/// (`crate::syntax::deploy`). Durations are in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deploy {
    pub interval: Option<Spanned<i64>>,
    pub delay: Option<Spanned<i64>>,
    pub suppress: Option<Suppress>,
    pub not_for: Vec<Spanned<String>>,
    pub span: Span,
}

/// `deploy.suppress`: after an alert, hold back the rule's alerts with the same `by` values
/// (all of its alerts when `by` is empty) for `duration`.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppress {
    pub duration: Option<Spanned<i64>>,
    pub by: Vec<Spanned<String>>,
    pub span: Span,
}

/// A Sigma correlation, or one of aisigma's baseline correlations (`baseline`,
/// `first_seen`); see `docs/rule-format.md#correlations`.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    pub kind: Spanned<String>,
    pub rules: Vec<Spanned<String>>,
    pub group_by: Vec<Spanned<String>>,
    pub timespan: Option<Spanned<String>>,
    pub condition: Option<CorrCondition>,
    pub aliases: Vec<CorrAlias>,
    /// Also emit the referenced rules as rules of their own.
    pub generate: bool,
    pub baseline: Option<BaselineSpec>,
    pub span: Span,
}

/// A comparison of a correlation condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn parse(s: &str) -> Option<CmpOp> {
        Some(match s {
            "gt" => CmpOp::Gt,
            "gte" => CmpOp::Gte,
            "lt" => CmpOp::Lt,
            "lte" => CmpOp::Lte,
            "eq" => CmpOp::Eq,
            "neq" => CmpOp::Neq,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
            CmpOp::Eq => "eq",
            CmpOp::Neq => "neq",
        }
    }

    /// The operator as C-like languages write it (`>=`, `!=`).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
        }
    }

    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            CmpOp::Gt => value > bound,
            CmpOp::Gte => value >= bound,
            CmpOp::Lt => value < bound,
            CmpOp::Lte => value <= bound,
            CmpOp::Eq => value == bound,
            CmpOp::Neq => value != bound,
        }
    }
}

/// `condition` of a correlation: a field (for `value_*`, `first_seen`, `baseline`), one or
/// two bounds, the percentile; or a boolean expression over rule names (temporal).
#[derive(Clone, Debug, PartialEq)]
pub struct CorrCondition {
    pub field: Option<Spanned<String>>,
    pub bounds: Vec<(CmpOp, f64)>,
    pub percentile: Option<f64>,
    pub expression: Option<Spanned<String>>,
    pub span: Span,
}

/// `aliases: {name: {rule: field, ...}}`: one group-by name read from a different field per
/// rule.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrAlias {
    pub name: Spanned<String>,
    /// (rule id or name, field)
    pub fields: Vec<(Spanned<String>, Spanned<String>)>,
}

/// The `baseline` block of a `baseline` correlation (and `learning` of `first_seen`).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineSpec {
    /// `count`, `sum`, `avg`, `max` or `distinct`.
    pub aggregate: Option<Spanned<String>>,
    pub field: Option<Spanned<String>>,
    /// Number of earlier windows the current one is compared with.
    pub history: u32,
    /// Fewest earlier windows before the correlation may fire.
    pub min_history: u32,
    /// Smallest aggregate that may fire.
    pub min_value: Option<f64>,
    /// `first_seen`: how long after a group's first event nothing fires.
    pub learning: Option<Spanned<String>>,
    pub span: Span,
}

/// A test of a correlation: timestamped events and the alerts they must raise.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrTest {
    pub name: Option<String>,
    pub events: Vec<(serde_json::Value, Span)>,
    pub expect: ExpectAlerts,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExpectAlerts {
    /// This many alerts.
    Count(usize),
    /// Exactly these alerts, in time order.
    List(Vec<ExpectedAlert>),
}

/// An expected alert: when it fires and for which group (both optional).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAlert {
    pub timestamp: Option<String>,
    pub group: Option<serde_json::Map<String, serde_json::Value>>,
    pub span: Span,
}

/// A Sigma meta filter (parsed and checked; applying it comes later).
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// Referenced rules; empty means every rule of the logsource.
    pub rules: Vec<Spanned<String>>,
    pub detection: Detection,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Detection(Detection),
    Correlation(Box<Correlation>),
    Filter(Filter),
}

/// One event of an in-rule test and the verdict it expects.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCase {
    pub expect_match: bool,
    pub event: serde_json::Value,
    pub span: Span,
}

/// One YAML document: a detection rule, a correlation or a filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub meta: Meta,
    pub body: Option<Body>,
    pub tests: Option<Vec<TestCase>>,
    /// The tests of a correlation document.
    pub corr_tests: Option<Vec<CorrTest>>,
    /// The ids or names of the rules a correlation or filter names, kept even when the rest
    /// of its body is invalid, so that every reference is checked in the same pass.
    pub references: Vec<Spanned<String>>,
    pub span: Span,
}

impl Doc {
    pub fn detection(&self) -> Option<&Detection> {
        match &self.body {
            Some(Body::Detection(d)) => Some(d),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.body {
            Some(Body::Correlation(_)) => "correlation",
            Some(Body::Filter(_)) => "filter",
            _ => "rule",
        }
    }

    /// The `logsource.category`, if any.
    pub fn category(&self) -> Option<&str> {
        self.meta
            .logsource
            .as_ref()
            .and_then(|l| l.category.as_ref())
            .map(|c| c.value.as_str())
    }

    /// The best short label for messages: the title, else the id, else "rule".
    pub fn label(&self) -> String {
        self.meta
            .title
            .as_ref()
            .map(|t| t.value.clone())
            .or_else(|| self.meta.id.as_ref().map(|i| i.value.clone()))
            .unwrap_or_else(|| "untitled rule".into())
    }
}
