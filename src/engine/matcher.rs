//! The reference evaluator: does one JSON event match a rule's detection?
//!
//! Its semantics are the contract every backend must reproduce; `docs/semantics.md` states
//! them. Regexes are compiled once per rule; field paths are resolved against both flat
//! dotted keys and nested objects.

use crate::regex::casefold::{self, CaseMode};
use crate::regex::pcre::pcre_only_constructs;
use crate::semantics::ir::{CmpOp, Expr, Position, Pred, Test, TimePart};
use crate::semantics::ir::{regex_source, regex_source_ascii};
use crate::syntax::sigma_string::SigmaString;
use crate::syntax::span::Span;
use regex::Regex;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("placeholder `%{name}%` has no value, so the rule cannot be evaluated")]
    Placeholder { name: String, span: Span },
    #[error("regex `{pattern}` uses {construct}, which the engine cannot evaluate")]
    UnsupportedRegex {
        pattern: String,
        construct: String,
        span: Span,
    },
    #[error("the value is too complex to evaluate: {message}")]
    TooComplex { message: String, span: Span },
    #[error("regex `{pattern}` does not compile: {message}")]
    BadRegex {
        pattern: String,
        message: String,
        span: Span,
    },
}

impl EngineError {
    pub fn span(&self) -> Span {
        match self {
            EngineError::Placeholder { span, .. }
            | EngineError::UnsupportedRegex { span, .. }
            | EngineError::BadRegex { span, .. }
            | EngineError::TooComplex { span, .. } => *span,
        }
    }
}

/// A field path. Segments `i..=j` joined by dots are the slice
/// `name[starts[i]..ends[j]]`, so every split into object keys is available without
/// allocating (memory stays linear in the name's length).
#[derive(Debug)]
struct FieldPath {
    name: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// The field's other names ([`super::aliases`]), read where this one finds nothing.
    alts: Vec<FieldPath>,
}

impl FieldPath {
    fn new(name: &str) -> FieldPath {
        let mut p = FieldPath::plain(name);
        p.alts = super::aliases::alternates(name)
            .iter()
            .map(|a| FieldPath::plain(a))
            .collect();
        p
    }

    fn plain(name: &str) -> FieldPath {
        let mut starts = vec![0];
        let mut ends = Vec::new();
        for (i, b) in name.bytes().enumerate() {
            if b == b'.' {
                ends.push(i);
                starts.push(i + 1);
            }
        }
        ends.push(name.len());
        FieldPath {
            name: name.to_string(),
            starts,
            ends,
            alts: Vec::new(),
        }
    }

    /// Every value the path reaches (flat dotted keys, nested objects, or a mix); where it
    /// reaches none, the values of the first other name that reaches some.
    fn lookup<'a>(&self, event: &'a Value, out: &mut Vec<&'a Value>) {
        let before = out.len();
        self.walk(event, 0, out);
        for alt in &self.alts {
            if out.len() > before {
                break;
            }
            alt.walk(event, 0, out);
        }
    }

    fn walk<'a>(&self, v: &'a Value, i: usize, out: &mut Vec<&'a Value>) {
        if i == self.starts.len() {
            out.push(v);
            return;
        }
        match v {
            Value::Object(m) => {
                for j in i..self.ends.len() {
                    if let Some(child) = m.get(&self.name[self.starts[i]..self.ends[j]]) {
                        self.walk(child, j + 1, out);
                    }
                }
            }
            Value::Array(items) if i > 0 => items.iter().for_each(|it| self.walk(it, i, out)),
            _ => {}
        }
    }
}

#[derive(Debug)]
enum StrMatch {
    Exact(String),
    /// Equal under ASCII case folding.
    AsciiExact(String),
    Pattern(Regex),
}

#[derive(Debug)]
enum CTest {
    Str(StrMatch),
    Regex(Regex),
    Num(CmpOp, f64),
    Bool(bool),
    Null,
    Exists(bool),
    Cidr(ipnet::IpNet),
    FieldRef {
        other: FieldPath,
        position: Position,
        /// `None`: case-sensitive.
        case: Option<CaseMode>,
    },
    TimePart(TimePart, i64),
}

#[derive(Debug)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    AtLeast(usize, Vec<Node>),
    Pred {
        field: Option<FieldPath>,
        test: CTest,
    },
}

/// A rule detection compiled for evaluation.
#[derive(Debug)]
pub struct Matcher {
    root: Node,
}

use crate::regex::translate::REGEX_SIZE_LIMIT;

fn compile_str(
    pattern: &SigmaString,
    case: Option<CaseMode>,
    span: Span,
) -> Result<StrMatch, EngineError> {
    match (pattern.as_plain(), case) {
        (Some(p), None) => Ok(StrMatch::Exact(p)),
        (Some(p), Some(CaseMode::Ascii)) => Ok(StrMatch::AsciiExact(p)),
        _ => regex::RegexBuilder::new(&pattern.to_regex(case))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(StrMatch::Pattern)
            .map_err(|e| EngineError::TooComplex {
                message: e.to_string(),
                span,
            }),
    }
}

fn compile_pred(p: &Pred, mode: CaseMode) -> Result<Node, EngineError> {
    let case = |cased: bool| (!cased).then_some(mode);
    let test = match &p.test {
        Test::Str { pattern, cased } => CTest::Str(compile_str(pattern, case(*cased), p.span)?),
        Test::Regex { pattern, flags } => {
            if let Some(c) = pcre_only_constructs(pattern).first() {
                return Err(EngineError::UnsupportedRegex {
                    pattern: pattern.clone(),
                    construct: c.to_string(),
                    span: p.span,
                });
            }
            let source = match mode {
                CaseMode::Ascii => regex_source_ascii(pattern, *flags),
                CaseMode::Unicode => regex_source(pattern, *flags),
            };
            let re = regex::RegexBuilder::new(&source)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| EngineError::BadRegex {
                    pattern: pattern.clone(),
                    message: e.to_string(),
                    span: p.span,
                })?;
            CTest::Regex(re)
        }
        Test::Num { op, value, .. } => CTest::Num(*op, *value),
        Test::Bool(b) => CTest::Bool(*b),
        Test::Null => CTest::Null,
        Test::Exists(b) => CTest::Exists(*b),
        Test::Cidr(n) => CTest::Cidr(*n),
        Test::FieldRef {
            other,
            position,
            cased,
        } => CTest::FieldRef {
            other: FieldPath::new(other),
            position: *position,
            case: case(*cased),
        },
        Test::TimePart { part, value } => CTest::TimePart(*part, *value),
        Test::Placeholder { name } => {
            return Err(EngineError::Placeholder {
                name: name.clone(),
                span: p.span,
            });
        }
    };
    Ok(Node::Pred {
        field: p.field.as_deref().map(FieldPath::new),
        test,
    })
}

fn compile_expr(e: &Expr, mode: CaseMode) -> Result<Node, EngineError> {
    let all = |v: &[Expr]| {
        v.iter()
            .map(|x| compile_expr(x, mode))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match e {
        Expr::And(v) => Node::And(all(v)?),
        Expr::Or(v) => Node::Or(all(v)?),
        Expr::AtLeast(n, v) => Node::AtLeast(*n, all(v)?),
        Expr::Not(inner) => Node::Not(Box::new(compile_expr(inner, mode)?)),
        Expr::Pred(p) => compile_pred(p, mode)?,
    })
}

impl Matcher {
    /// The matcher of `expr` under the default case contract ([`CaseMode::Ascii`]).
    pub fn new(expr: &Expr) -> Result<Matcher, EngineError> {
        Matcher::with_mode(expr, CaseMode::default())
    }

    /// The matcher of `expr` with case-insensitive tests compared by `mode`.
    pub fn with_mode(expr: &Expr, mode: CaseMode) -> Result<Matcher, EngineError> {
        Ok(Matcher {
            root: compile_expr(expr, mode)?,
        })
    }

    pub fn matches(&self, event: &Value) -> bool {
        eval(&self.root, event)
    }
}

fn eval(n: &Node, event: &Value) -> bool {
    match n {
        Node::And(v) => v.iter().all(|x| eval(x, event)),
        Node::Or(v) => v.iter().any(|x| eval(x, event)),
        Node::Not(x) => !eval(x, event),
        Node::AtLeast(k, v) => v.iter().filter(|x| eval(x, event)).take(*k).count() >= *k,
        Node::Pred { field: None, test } => {
            let mut found = false;
            each_scalar(event, &mut |v| found = found || test_scalar(test, v, event));
            found
        }
        Node::Pred {
            field: Some(path),
            test,
        } => {
            let mut vals = Vec::new();
            path.lookup(event, &mut vals);
            match test {
                CTest::Null => !vals.iter().any(|v| present(v)),
                CTest::Exists(want) => vals.iter().any(|v| present(v)) == *want,
                _ => {
                    let mut hit = false;
                    for v in vals {
                        each_element(v, &mut |x| hit = hit || test_scalar(test, x, event));
                    }
                    hit
                }
            }
        }
    }
}

/// Is a value there, as Elasticsearch's `exists` sees it: not null, not an empty array, not an
/// array of nulls, not an empty object.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => items.iter().any(present),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// Apply `f` to a value, or to each element of an array (recursively).
fn each_element<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| each_element(i, f)),
        other => f(other),
    }
}

/// Every scalar in the event, for keyword searches.
/// The text of the first scalar value `path` reaches in the event (flat dotted keys or
/// nested objects, as rules resolve fields), if any.
pub fn text_at(event: &Value, path: &str) -> Option<String> {
    let mut found = Vec::new();
    FieldPath::new(path).lookup(event, &mut found);
    found
        .into_iter()
        .find_map(|v| text_of(v).map(|t| t.into_owned()))
}

/// The first number `path` reaches in the event: a JSON number, or a string that parses as
/// a finite number.
pub fn number_at(event: &Value, path: &str) -> Option<f64> {
    let mut found = Vec::new();
    FieldPath::new(path).lookup(event, &mut found);
    let mut scalars = Vec::new();
    for v in found {
        each_scalar(v, &mut |s| scalars.push(s));
    }
    scalars.into_iter().find_map(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

fn each_scalar<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| each_scalar(i, f)),
        Value::Object(m) => m.values().for_each(|i| each_scalar(i, f)),
        Value::Null => {}
        other => f(other),
    }
}

/// The textual form of a scalar for string matching (`None` for null, objects, arrays).
fn text_of(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn test_scalar(t: &CTest, v: &Value, event: &Value) -> bool {
    match t {
        CTest::Str(m) => text_of(v).is_some_and(|s| match m {
            StrMatch::Exact(e) => s == e.as_str(),
            StrMatch::AsciiExact(e) => s.eq_ignore_ascii_case(e),
            StrMatch::Pattern(re) => re.is_match(&s),
        }),
        CTest::Regex(re) => text_of(v).is_some_and(|s| re.is_match(&s)),
        CTest::Num(op, n) => number_of(v).is_some_and(|x| op.apply(x, *n)),
        CTest::Bool(b) => match v {
            Value::Bool(x) => x == b,
            Value::String(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        CTest::Cidr(net) => v
            .as_str()
            .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| crate::semantics::ir::cidr_holds(net, ip)),
        CTest::TimePart(part, want) => {
            let Some(epoch) = text_of(v).and_then(|s| crate::syntax::time::parse_timestamp(&s))
            else {
                return false;
            };
            let (y, mo, d, h, mi, w) = crate::syntax::time::parts(epoch);
            *want
                == match part {
                    TimePart::Year => y,
                    TimePart::Month => mo,
                    TimePart::Day => d,
                    TimePart::Hour => h,
                    TimePart::Minute => mi,
                    TimePart::Week => w,
                }
        }
        CTest::FieldRef {
            other,
            position,
            case,
        } => {
            let Some(a) = text_of(v) else { return false };
            let mut others = Vec::new();
            other.lookup(event, &mut others);
            let mut hit = false;
            for o in others {
                each_element(o, &mut |x| {
                    if let Some(b) = text_of(x) {
                        hit = hit || compare_text(&a, &b, *position, *case);
                    }
                });
            }
            hit
        }
        CTest::Null | CTest::Exists(_) => unreachable!("handled per field"),
    }
}

fn compare_text(a: &str, b: &str, pos: Position, case: Option<CaseMode>) -> bool {
    let (a, b) = match case {
        None => (a.to_string(), b.to_string()),
        Some(mode) => (casefold::lower(a, mode), casefold::lower(b, mode)),
    };
    match pos {
        Position::Exact => a == b,
        Position::Contains => a.contains(&b),
        Position::StartsWith => a.starts_with(&b),
        Position::EndsWith => a.ends_with(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_values(name: &str, ev: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        FieldPath::new(name).lookup(ev, &mut out);
        let mut v: Vec<Value> = out.into_iter().cloned().collect();
        v.sort_by_key(|x| x.to_string());
        v
    }

    #[test]
    fn flat_nested_and_mixed_lookup() {
        let ev = json!({"gen_ai.request.model": "a", "gen_ai": {"request": {"model": "b"}, "usage.input_tokens": 5}});
        assert_eq!(
            field_values("gen_ai.request.model", &ev),
            vec![json!("a"), json!("b")]
        );
        assert_eq!(
            field_values("gen_ai.usage.input_tokens", &ev),
            vec![json!(5)]
        );
        assert!(field_values("gen_ai.missing", &ev).is_empty());
        let ev = json!({"tools": [{"name": "x"}, {"name": "y"}]});
        assert_eq!(
            field_values("tools.name", &ev),
            vec![json!("x"), json!("y")]
        );
    }
}
