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
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::lucene::{elastic_regexes, string_regexes};
use super::refusal::Unsupported;
use super::text::{StrTest, any_regex};
use crate::regex::casefold::CaseMode;
use crate::regex::translate::lucene_lower_pairs;
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Pred, Test};
use crate::semantics::schema::BaseType;
use crate::syntax::sigma_string::{Part, SigmaString};
use crate::syntax::span::Span;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Eql;

/// An EQL string literal: `"` and `\` escaped, control characters as `\u{..}` with 2 to 8
/// hex digits (Elasticsearch rejects `\u{7}`: "Unicode sequence should use [2-8] hex digits",
/// x-pack/plugin/eql/.../parser/AbstractBuilder.java).
pub fn string(s: &str) -> String {
    super::literal::quote(s, |c, o| {
        if super::literal::common_escape(c, o) {
            return true;
        }
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            let _ = write!(o, "\\u{{{:02x}}}", c as u32);
            return true;
        }
        false
    })
}

/// EQL's keywords and literals (its grammar's `AND` ... `WITH` tokens); a field segment
/// spelled like one is quoted.
const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "join", "like", "maxspan", "not", "null", "of", "or",
    "regex", "runs", "sample", "sequence", "true", "until", "where", "with",
];

/// A field reference: bare when every segment is an identifier and no keyword, else in
/// backticks.
pub fn field(name: &str) -> String {
    let plain = name.split('.').all(|seg| {
        let mut cs = seg.chars();
        cs.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(seg))
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

/// A pattern in `like`/`:` syntax: `*` and `?` are the wildcards, every other character
/// (backslash included) is literal.
fn like_pattern(p: &SigmaString) -> String {
    let mut s = String::new();
    for part in &p.parts {
        match part {
            Part::Lit(l) => s.push_str(l),
            Part::AnyRun => s.push('*'),
            Part::AnyOne => s.push('?'),
            Part::Placeholder(_) => unreachable!("placeholders are a separate test"),
        }
    }
    s
}

/// `f regex ...` matching any of the patterns exactly (ASCII letters folded unless cased).
fn ascii_regex(f: &str, t: &StrTest) -> Result<String, Unsupported> {
    let case = (!t.cased).then_some(CaseMode::Ascii);
    folded_regex(f, &any_regex(t, case, false), t.span, true)
}

/// `f regex ...` for an engine regex; with `loose`, a pattern whose letters are all
/// case-insensitive is written `f regex~ ...` with plain letters (Elasticsearch's
/// case-insensitive regex query folds at least the ASCII letters).
fn folded_regex(f: &str, source: &str, span: Span, loose: bool) -> Result<String, Unsupported> {
    let regexes = elastic_regexes(source, span)?;
    let folded = loose
        && crate::regex::translate::parse(source)
            .is_ok_and(|h| crate::regex::translate::ascii_folded_only(&h, false));
    if !folded || regexes.iter().all(|r| lucene_lower_pairs(r) == *r) {
        return Ok(regex(f, &regexes));
    }
    let lowered: Vec<String> = regexes.iter().map(|r| lucene_lower_pairs(r)).collect();
    let list: Vec<String> = lowered.iter().map(|r| string(r)).collect();
    Ok(match list.as_slice() {
        [one] => format!("{f} regex~ {one}"),
        many => format!("{f} regex~ ({})", many.join(", ")),
    })
}

/// Under `not`, a test is guarded with `?f != null`: EQL's comparisons with a missing field are
/// null, and `not null` is null.
fn guard(negated: bool, f: &str, body: String) -> String {
    if negated {
        format!("(?{f} != null and {body})")
    } else {
        body
    }
}

impl Dialect for Eql {
    fn name(&self) -> &'static str {
        "eql"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "EQL has no full-text search; name the field"
    }

    /// String tests with `:` (case-insensitive, `*` and `?` wildcards, lists), `==`/`in`
    /// and `like` when cased, and an exact regex for values with a literal `*` or `?` (which
    /// `:` and `like` cannot escape).
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        let f = field(&col.name);
        if t.chars().any(|c| matches!(c, '\u{0}' | '\u{1}')) {
            return Err(Unsupported::new(
                "a value with the character U+0000 or U+0001",
                "Elastic's EQL parser rejects them in strings (and U+0001 is its wildcard \
                 escape)",
                t.span,
            ));
        }
        if let Some(u) = super::lucene::ip_string_refusal(col, t.span) {
            return Err(u);
        }
        if col
            .ty
            .is_some_and(|ty| !matches!(ty.base, BaseType::String))
        {
            return Ok(guard(cx.negated, &f, ascii_regex(&f, t)?));
        }
        let mut wild = Vec::new();
        let mut exact = Vec::new();
        let mut regexes = Vec::new();
        for p in &t.patterns {
            let literal_wildcard = p
                .parts
                .iter()
                .any(|x| matches!(x, Part::Lit(l) if l.contains(['*', '?'])));
            match (p.as_plain(), literal_wildcard) {
                (Some(v), _) if t.cased => exact.push(string(&v)),
                (_, false) => wild.push(string(&like_pattern(p))),
                (_, true) => regexes.push(p.clone()),
            }
        }
        let list = |op: &str, items: &[String]| match items {
            [one] => format!("{f} {op} {one}"),
            many => format!("{f} {op} ({})", many.join(", ")),
        };
        let mut parts = Vec::new();
        if !exact.is_empty() {
            parts.push(list(if exact.len() == 1 { "==" } else { "in" }, &exact));
        }
        if !wild.is_empty() {
            parts.push(list(if t.cased { "like" } else { ":" }, &wild));
        }
        if !regexes.is_empty() {
            let rest = StrTest {
                patterns: regexes,
                ..t.clone()
            };
            parts.push(ascii_regex(&f, &rest)?);
        }
        let body = if parts.len() == 1 {
            parts.remove(0)
        } else {
            format!("({})", parts.join(" or "))
        };
        Ok(guard(cx.negated, &f, body))
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let negated = cx.negated;
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
            Test::Cidr(net) => {
                if let Some(u) = super::column::cidr_needs_ip(col, pred.span, "EQL") {
                    return Err(u);
                }
                format!("cidrMatch({f}, {})", string(&net.to_string()))
            }
            Test::Regex { pattern, flags } => {
                let source = cx.regex_source(pattern, *flags);
                folded_regex(&f, &source, pred.span, cx.loose_case())?
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
        // Elasticsearch wants 2 to 8 hex digits.
        assert_eq!(string("\u{7}\u{2028}"), r#""\u{07}\u{2028}""#);
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
