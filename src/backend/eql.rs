//! Elastic EQL (Elasticsearch syntax).
//!
//! Semantics used (Elasticsearch EQL syntax reference):
//! - `in~ (...)`: case-insensitive equality without wildcards; `==`: case-sensitive.
//! - `like~` / `like`: wildcard match (`*`, `?`), case-insensitive / case-sensitive.
//! - `?field == null` / `?field != null`: absent-or-null / present; `cidrMatch(field, "net")`.
//! - Comparisons with a missing field are `null` in EQL's three-valued logic, so under `not`
//!   every predicate is guarded with `?field != null and ...`: then `not` of a predicate on an
//!   absent field is true, as in aisigma's semantics.
//!
//! - In `like` patterns Elasticsearch maps `*` and `?` to wildcards and escapes every other
//!   character, backslash included, before building the Lucene query (x-pack EQL
//!   `StringUtils.toLikePattern` and QL `StringUtils.likeToLuceneWildcard`), so a backslash is a
//!   literal character there.
//!
//! Refused (AIS801): regular expressions (their translation to Elasticsearch regex syntax is
//! not implemented yet), a literal `*` or `?` inside a wildcard pattern (no escape exists),
//! keyword searches (EQL has no full-text search), field references (EQL cannot compare two
//! fields), date parts and unresolved placeholders.

use super::{Dialect, Unsupported};
use crate::ir::{CmpOp, Pred, Test};
use crate::sigma_string::Part;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Eql;

/// An EQL string literal: `"` and `\` escaped, control characters as `\u{..}`.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A field reference: bare when every segment is an identifier, else in backticks.
pub fn field(name: &str) -> String {
    let plain = name.split('.').all(|seg| {
        let mut cs = seg.chars();
        cs.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Dialect for Eql {
    fn name(&self) -> &'static str {
        "eql"
    }

    fn predicate(
        &self,
        field_name: Option<&str>,
        pred: &Pred,
        negated: bool,
    ) -> Result<String, Unsupported> {
        let Some(name) = field_name else {
            return Err(Unsupported::new(
                "keyword (field-less) searches",
                "EQL has no full-text search; name the field",
                pred.span,
            ));
        };
        let f = field(name);
        let body = match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain() {
                Some(text) if *cased => format!("{f} == {}", string(&text)),
                Some(text) => format!("{f} in~ ({})", string(&text)),
                None => {
                    let mut p = String::new();
                    for part in &pattern.parts {
                        match part {
                            // Elasticsearch turns every `*` and `?` of a `like` pattern into a
                            // wildcard and uses U+0001 as its internal escape character.
                            Part::Lit(l) if l.contains(['*', '?', '\u{1}']) => {
                                return Err(Unsupported::new(
                                    "a literal `*` or `?` inside a wildcard pattern",
                                    "EQL `like` patterns have no escape: every `*` and `?` is a wildcard",
                                    pred.span,
                                ));
                            }
                            Part::Lit(l) => p.push_str(l),
                            Part::AnyRun => p.push('*'),
                            Part::AnyOne => p.push('?'),
                            Part::Placeholder(_) => {
                                unreachable!("placeholders are a separate test")
                            }
                        }
                    }
                    format!(
                        "{f} {} {}",
                        if *cased { "like" } else { "like~" },
                        string(&p)
                    )
                }
            },
            Test::Num { op, value, .. } => {
                let sym = match op {
                    CmpOp::Eq => "==",
                    CmpOp::Lt => "<",
                    CmpOp::Lte => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Gte => ">=",
                };
                format!("{f} {sym} {}", number(*value))
            }
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null | Test::Exists(false) => return Ok(format!("?{f} == null")),
            Test::Exists(true) => return Ok(format!("?{f} != null")),
            Test::Cidr(net) => format!("cidrMatch({f}, {})", string(&net.to_string())),
            Test::Regex { .. } => {
                return Err(Unsupported::new(
                    "regular expressions (`re`)",
                    "translating regexes to Elasticsearch regex syntax is not implemented yet for EQL",
                    pred.span,
                ));
            }
            Test::FieldRef { .. } => {
                return Err(Unsupported::new(
                    "field references (`fieldref`)",
                    "EQL cannot compare a field with another field",
                    pred.span,
                ));
            }
            Test::TimePart { .. } => {
                return Err(Unsupported::new(
                    "date-part modifiers (`hour`, `day`, ...)",
                    "EQL has no date-part functions",
                    pred.span,
                ));
            }
            Test::Placeholder { name } => {
                return Err(Unsupported::new(
                    format!("placeholder `%{name}%`"),
                    "placeholders need values before compilation",
                    pred.span,
                ));
            }
        };
        Ok(if negated {
            format!("(?{f} != null and {body})")
        } else {
            body
        })
    }

    fn query(&self, condition: &str, _logsource: &BTreeMap<String, String>) -> String {
        format!("any where {condition}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(string("x\ny\u{1b}"), r#""x\ny\u{1b}""#);
        assert_eq!(string("ünï"), "\"ünï\"");
    }

    #[test]
    fn field_names() {
        assert_eq!(field("gen_ai.request.model"), "gen_ai.request.model");
        assert_eq!(field("@timestamp"), "`@timestamp`");
        assert_eq!(field("my-field.x"), "`my-field.x`");
        assert_eq!(field("a`b"), "`a``b`");
        assert_eq!(field("6x"), "`6x`");
    }
}
