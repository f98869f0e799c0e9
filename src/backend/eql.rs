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
//! - `regex`: Lucene regular expressions, which match the whole value; the rule's regexes and
//!   the string values the operators above cannot express exactly are rendered by
//!   [`crate::regex::translate`].
//!
//! - Correlations: `temporal_ordered` is `sequence [by keys] with maxspan=T [any where (...)
//!   and ?key != null] ...` (an input without its group value is in no group, as in the
//!   engine), whose state machine the engine follows (`docs/semantics.md`, Correlations). Per-rule
//!   `aliases` become per-query `by` keys. EQL has no aggregations: the other types are
//!   refused.
//!
//! Refused (AIS801): regex assertions that have no whole-value form, keyword searches (EQL has no full-text search), field references (EQL cannot compare two
//! fields), date parts and unresolved placeholders.

use super::column::Column;
use super::correlation::{self, Correlation, Rendered};
use super::dialect::Dialect;
use super::literal::number;
use super::lucene::{elastic_regexes, string_regexes};
use super::refusal::Unsupported;
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Pred, Test};
use crate::syntax::sigma_string::Part;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Eql;

/// An EQL string literal: `"` and `\` escaped, control characters as `\u{..}`.
pub fn string(s: &str) -> String {
    super::literal::quote(s, |c, o| {
        if super::literal::common_escape(c, o) {
            return true;
        }
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            let _ = write!(o, "\\u{{{:x}}}", c as u32);
            return true;
        }
        false
    })
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

/// `field regex "re"`, or `field regex ("re1", "re2")` for several regexes (any may match).
fn regex(f: &str, regexes: &[String]) -> String {
    let list: Vec<String> = regexes.iter().map(|r| string(r)).collect();
    if list.len() == 1 {
        format!("{f} regex {}", list[0])
    } else {
        format!("{f} regex ({})", list.join(", "))
    }
}

impl Dialect for Eql {
    fn name(&self) -> &'static str {
        "eql"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "EQL has no full-text search; name the field"
    }

    fn predicate(&self, col: &Column, pred: &Pred, negated: bool) -> Result<String, Unsupported> {
        let name = col.name.as_str();
        let f = field(name);
        let body = match &pred.test {
            Test::Str { pattern, cased } => {
                let lits = || {
                    pattern.parts.iter().filter_map(|p| match p {
                        Part::Lit(l) => Some(l.as_str()),
                        _ => None,
                    })
                };
                // Elasticsearch's case-insensitive operators compare a character with its
                // Java lower and upper case only; where that differs from Unicode simple case
                // folding (`k` and the Kelvin sign, `s` and `ſ`, ...), or a `*`/`?` must be
                // literal (`like` has no escape), the value is matched by an exact regex.
                let folds = *cased || lits().all(crate::regex::casefold::lower_upper_is_fold);
                let like_ok = !lits().any(|l| l.contains(['*', '?', '\u{1}']));
                match pattern.as_plain() {
                    Some(text) if *cased => format!("{f} == {}", string(&text)),
                    Some(text) if folds => format!("{f} in~ ({})", string(&text)),
                    None if folds && like_ok => {
                        let mut p = String::new();
                        for part in &pattern.parts {
                            match part {
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
                    _ => regex(&f, &string_regexes(pattern, *cased, pred.span)?),
                }
            }
            Test::Num { op, value, .. } => format!("{f} {} {}", op.symbol(), number(*value)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null | Test::Exists(false) => return Ok(format!("?{f} == null")),
            Test::Exists(true) => return Ok(format!("?{f} != null")),
            Test::Cidr(net) => format!("cidrMatch({f}, {})", string(&net.to_string())),
            Test::Regex { pattern, flags } => {
                let source = crate::semantics::ir::regex_source(pattern, *flags);
                regex(&f, &elastic_regexes(&source, pred.span)?)
            }
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        };
        Ok(if negated {
            format!("(?{f} != null and {body})")
        } else {
            body
        })
    }

    fn query(
        &self,
        condition: &str,
        _logsource: &BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        format!("any where {condition}")
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        if c.kind != Kind::TemporalOrdered {
            return Err(c.refuse_type(
                "EQL has no aggregations; it expresses only ordered sequences \
                 (`temporal_ordered`). Compile counts and sums to esql or spl",
            ));
        }
        c.refuse_arrays()?;
        let keys = |i: &correlation::Input| -> String {
            let names: Vec<String> = i.group.iter().map(|g| field(&g.name)).collect();
            names.join(", ")
        };
        // One `by` for the sequence when every rule holds the group in the same fields.
        let shared = c.inputs.windows(2).all(|w| w[0].group == w[1].group);
        let mut q = String::from("sequence");
        if shared && !c.group_names.is_empty() {
            let _ = write!(q, " by {}", keys(&c.inputs[0]));
        }
        let _ = write!(q, " with maxspan={}", c.span_in(correlation::DAYS_TO_MS));
        for i in &c.inputs {
            // An input without a group value belongs to no group (the engine leaves it out);
            // whether Elasticsearch joins missing keys is left unasked.
            let present: Vec<String> = i
                .group
                .iter()
                .map(|g| format!(" and ?{} != null", field(&g.name)))
                .collect();
            if present.is_empty() {
                let _ = write!(q, "\n  [any where {}]", i.condition);
            } else {
                let _ = write!(q, "\n  [any where ({}){}]", i.condition, present.concat());
            }
            if !shared && !c.group_names.is_empty() {
                let _ = write!(q, " by {}", keys(i));
            }
        }
        Ok(Rendered {
            query: q,
            ..Rendered::default()
        })
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
