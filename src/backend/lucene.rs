//! Elasticsearch query string (Lucene syntax), for Kibana `query` rules with
//! `language: lucene`.
//!
//! Assumes keyword-mapped fields (as ECS maps the `gen_ai.*` identifiers), where a term is the
//! whole value and matching is case-sensitive:
//! - a case-sensitive plain value is a quoted term: `field:"value"`;
//! - every other string test is a Lucene regular expression, `field:/.../`, rendered from the
//!   rule's meaning ([`crate::regex::translate`]): case-insensitive letters become classes such
//!   as `[Kk\u{212A}]`, `*` becomes `.*`, `?` becomes `.` (one code point), everything else is
//!   escaped. Lucene regexes match the whole value, which is what a Sigma string value means;
//!   the rule's `re` searches are rewritten to whole-value matches.
//! - numbers are ranges (`field:[5 TO *]`, `field:{5 TO *]`), which Elasticsearch evaluates
//!   numerically on numeric fields;
//! - `cidr` is a quoted CIDR term on an `ip` field: `source.ip:"10.0.0.0/8"`;
//! - `null` / `exists` use `_exists_`;
//! - `not x` is written `(*:* AND NOT x)`, so that it never forms a purely negative clause.
//!
//! Lucene's boolean logic is two-valued: a predicate on a missing field is false, so `not` of
//! it is true, as in aisigma's semantics, without guards.
//!
//! Correlations: `event_count` and `value_count` over one rule become Kibana threshold rules
//! (`--format kibana-ndjson` only): the query is the rule's, `threshold.field` the group-by
//! fields, and the count a `threshold.value` or a `cardinality` entry, both "at least". A
//! threshold rule counts the events of one run's look-back, so it runs every `timespan` over
//! the last `timespan`: fixed windows, with an `AIS803` warning.
//!
//! Refused: keyword searches (their meaning would depend on the index's `default_field`
//! setting and analyzers), field references, date parts, placeholders, and regex assertions
//! that cannot be rewritten as a whole-value match.

use super::column::Column;
use super::correlation::{Correlation, DAYS_TO_MS, Rendered};
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::refusal::Unsupported;
use super::text::{Shape, StrTest};
use crate::regex::casefold::CaseMode;
use crate::regex::translate::{self, Flavor};
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{CmpOp, Pred, Test};
use crate::syntax::sigma_string::Part;
use crate::syntax::sigma_string::SigmaString;
use crate::syntax::span::Span;
use serde_json::json;

pub struct Lucene;

/// A field name with every character that is not a letter, digit, `.`, `_` or `@` escaped,
/// and the first letter of a name spelled like an operator (`AND`, `OR`, `NOT`, `TO`).
pub fn field(name: &str) -> String {
    let mut o = String::with_capacity(name.len() + 1);
    if ["AND", "OR", "NOT", "TO"].contains(&name) {
        o.push('\\');
    }
    for c in name.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '@') {
            o.push(c);
        } else {
            o.push('\\');
            o.push(c);
        }
    }
    o
}

/// A quoted term: `"` and `\` escaped; everything else is literal inside quotes.
pub fn phrase(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

/// Longest regex Elasticsearch accepts by default: the index setting `index.max_regex_length`,
/// counted in UTF-16 code units.
pub const MAX_REGEX_LENGTH: usize = 1000;

/// The Lucene regexes for a string or `re` test (`source` is its engine pattern), as the three
/// Elastic targets use them: query-string `/.../`, EQL `regex`, ES|QL `RLIKE`. The value
/// matches when any of them matches: a pattern longer than Elasticsearch accepts is split into
/// alternatives ([`translate::lucene_alternatives`]), packed into as few regexes as fit.
/// Refused when the pattern has no whole-value form, or when a piece that cannot be split
/// further is still too long.
pub fn elastic_regexes(source: &str, span: Span) -> Result<Vec<String>, Unsupported> {
    elastic_regexes_within(source, span, MAX_REGEX_LENGTH)
}

/// [`elastic_regexes`] with room left for `MAX_REGEX_LENGTH - max` characters of wrapping.
pub fn elastic_regexes_within(
    source: &str,
    span: Span,
    max: usize,
) -> Result<Vec<String>, Unsupported> {
    let refuse = |why: String| {
        Unsupported::new(
            format!("a regular expression with {why}"),
            "Elasticsearch regexes (Lucene syntax) match the whole value and have no assertions; \
             only `^`, `$` and `\\b` at the edges of the pattern can be rewritten",
            span,
        )
    };
    // Lucene gives up determinizing a union of counted repetitions (`a{16}|b{36}`) long before
    // it gives up on each of them: such a pattern's top-level alternatives get one regex each.
    if let Some(branches) = translate::counted_branches(source, 8) {
        let mut out = Vec::new();
        for b in branches {
            out.extend(elastic_regexes_within(&b, span, max)?);
        }
        return Ok(out);
    }
    let len = |s: &str| s.encode_utf16().count();
    let whole = translate::translate(source, Flavor::Lucene).map_err(refuse)?;
    if len(&whole) <= max {
        return Ok(vec![whole]);
    }
    let mut packed: Vec<Vec<String>> = Vec::new();
    let mut size = 0;
    for alt in translate::lucene_alternatives(source, max).map_err(refuse)? {
        let n = len(&alt);
        if n > max {
            return Err(Unsupported::new(
                format!("a value or regular expression whose Lucene regex has {n} characters"),
                format!(
                    "Elasticsearch refuses regexes longer than {MAX_REGEX_LENGTH} characters (the \
                     index setting `index.max_regex_length`); case-insensitive letters and `\\b` \
                     are written out, so split the value or pattern into shorter ones"
                ),
                span,
            ));
        }
        // `(a|b)` costs the parts, one `|` between each two and the parentheses: adding `n`
        // to a group of `size` gives `size + 1 + n`, plus 2.
        match packed.last_mut() {
            Some(group) if size + n + 3 <= max => {
                group.push(alt);
                size += n + 1;
            }
            _ => {
                size = n;
                packed.push(vec![alt]);
            }
        }
    }
    Ok(packed
        .into_iter()
        .map(|g| {
            if g.len() == 1 {
                g.into_iter().next().unwrap_or_default()
            } else {
                format!("({})", g.join("|"))
            }
        })
        .collect())
}

/// The longest run of alternatives (in characters of engine regex) that one grouped regex
/// holds, so that its Lucene form stays under Elasticsearch's `index.max_regex_length` (1,000)
/// without being split. Determinization is no concern for such groups: every query of the
/// SigmaHQ corpus with unbounded groups ran in Lucene 9 under Elasticsearch's limit of 10,000
/// units of effort, but one (a rule's own counted repetition, see
/// tests/conformance/lucene/too_complex.txt).
const GROUP_BUDGET: usize = 600;

/// Engine regexes for "any of the patterns", values of one shape sharing a regex: every
/// `*value*` in `.*(?:a|b).*`, every `value*` in `(?:a|b).*`, and so on, which Lucene
/// determinizes into one automaton over the values, like a keyword matcher. (An alternation of
/// whole patterns, `.*a.*|.*b.*`, is far costlier: each branch's `.*` multiplies the states.)
/// Other wildcard patterns get a regex each.
fn grouped_regexes(t: &StrTest, case: Option<CaseMode>) -> Vec<String> {
    let flags = SigmaString::regex_flags(case);
    // (open at the start, open at the end) -> bodies, in order of first appearance.
    let mut groups: Vec<((bool, bool), Vec<String>)> = Vec::new();
    let mut out = Vec::new();
    for p in &t.patterns {
        let (open, text) = match Shape::of(p) {
            Shape::Exact(t) => ((false, false), t),
            Shape::Contains(t) => ((true, true), t),
            Shape::Prefix(t) => ((false, true), t),
            Shape::Suffix(t) => ((true, false), t),
            Shape::Glob(_) => {
                out.push(format!("{flags}^{}$", p.regex_body(case)));
                continue;
            }
        };
        let body = SigmaString::literal(&text).regex_body(case);
        match groups.iter_mut().find(|(o, _)| *o == open) {
            Some((_, bodies)) => {
                if !bodies.contains(&body) {
                    bodies.push(body)
                }
            }
            None => groups.push((open, vec![body])),
        }
    }
    for ((start, end), bodies) in groups {
        let (start, end) = (if start { ".*" } else { "" }, if end { ".*" } else { "" });
        let mut chunk: Vec<String> = Vec::new();
        let mut size = 0;
        let mut flush = |chunk: &mut Vec<String>| {
            if !chunk.is_empty() {
                out.push(format!("{flags}^{start}(?:{}){end}$", chunk.join("|")));
                chunk.clear();
            }
        };
        for b in bodies {
            if size + b.len() > GROUP_BUDGET {
                flush(&mut chunk);
                size = 0;
            }
            size += b.len() + 1;
            chunk.push(b);
        }
        flush(&mut chunk);
    }
    out
}

/// [`elastic_regexes`] for a string value.
pub fn string_regexes(
    pattern: &SigmaString,
    cased: bool,
    span: Span,
) -> Result<Vec<String>, Unsupported> {
    elastic_regexes(
        &pattern.to_regex(crate::backend::literal::unicode_case(cased)),
        span,
    )
}

/// `field OP re` for each regex, ORed (parenthesised when there are several).
pub fn any_of(regexes: &[String], one: impl Fn(&str) -> String, or: &str) -> String {
    let parts: Vec<String> = regexes.iter().map(|r| one(r)).collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(&format!(" {or} ")))
    }
}

/// A wildcard term of the query string: `*` and `?` are the wildcards; every reserved
/// character and white space is escaped with `\\`. `None` if the pattern holds `<` or `>`
/// (which the query string cannot escape) or a control character.
fn wildcard_term(p: &SigmaString, lower: bool) -> Option<String> {
    let mut s = String::new();
    for part in &p.parts {
        match part {
            Part::Lit(l) => {
                for c in l.chars() {
                    if matches!(c, '<' | '>') || c.is_control() {
                        return None;
                    }
                    if "+-=&|!(){}[]^\"~*?:\\/".contains(c) || c.is_whitespace() {
                        s.push('\\');
                    }
                    if lower {
                        s.extend(c.to_lowercase());
                    } else {
                        s.push(c);
                    }
                }
            }
            Part::AnyRun => s.push('*'),
            Part::AnyOne => s.push('?'),
            Part::Placeholder(_) => unreachable!("placeholders are a separate test"),
        }
    }
    Some(s)
}

/// A term the query string writes exactly: a quoted phrase for a whole value (on a keyword
/// field, the whole value), else a wildcard term.
fn term(p: &SigmaString, lower: bool) -> Option<String> {
    match p.as_plain() {
        Some(v) if !v.chars().any(char::is_control) => {
            Some(phrase(&if lower { v.to_lowercase() } else { v }))
        }
        Some(_) => None,
        None => wildcard_term(p, lower),
    }
}

/// `f:t` or `f:(t1 OR t2)`.
fn field_terms(f: &str, terms: &[String]) -> String {
    match terms {
        [one] => format!("{f}:{one}"),
        many => format!("{f}:({})", many.join(" OR ")),
    }
}

/// Refusal of a string test on a field Elasticsearch maps as `ip` (it rejects wildcard, prefix
/// and regex queries there, and compares addresses, not text).
pub fn ip_string_refusal(col: &Column, span: crate::syntax::span::Span) -> Option<Unsupported> {
    col.ty
        .filter(|t| t.base == crate::semantics::schema::BaseType::Ip)
        .map(|_| {
            Unsupported::new(
                format!("a string test on the `ip` field `{}`", col.name),
                "Elasticsearch maps `ip` fields as addresses: it rejects wildcard, prefix and \
                 regular-expression queries on them; compare with a plain address or `|cidr`",
                span,
            )
        })
}

impl Dialect for Lucene {
    fn name(&self) -> &'static str {
        "lucene"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "an unfielded query-string term searches the index's `default_field` with each \
                 field's analyzer, which does not mean \"any value contains\"; name the field"
    }

    /// String tests: terms when cased (keyword fields compare exactly); case-insensitive
    /// terms on the mapping's lower-cased twin field (`caseless`); else one regex with the
    /// ASCII letters folded (the query string has no case-insensitive option).
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        _cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        if let Some(u) = ip_string_refusal(col, t.span) {
            return Err(u);
        }
        if let Some(c) = t.chars().find(|c| c.is_control()) {
            return Err(Unsupported::new(
                format!("a value with the control character U+{:04X}", c as u32),
                "a Lucene query string has no escape for control characters, so the query \
                 would not stay on one line",
                t.span,
            ));
        }
        let target = match (&col.caseless, t.cased) {
            (_, true) => Some((field(&col.name), false)),
            (Some(c), false) => Some((field(c), true)),
            (None, false) => None,
        };
        if let Some((f, lower)) = target {
            let terms: Option<Vec<String>> = t.patterns.iter().map(|p| term(p, lower)).collect();
            if let Some(terms) = terms {
                return Ok(field_terms(&f, &terms));
            }
        }
        let f = field(&col.name);
        let case = (!t.cased).then_some(CaseMode::Ascii);
        let mut regexes = Vec::new();
        for source in grouped_regexes(t, case) {
            for r in elastic_regexes(&source, t.span)? {
                if !regexes.contains(&r) {
                    regexes.push(r);
                }
            }
        }
        Ok(any_of(&regexes, |r| format!("{f}:/{r}/"), "OR"))
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let f = field(&col.name);
        Ok(match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain() {
                Some(text) if *cased => format!("{f}:{}", phrase(&text)),
                _ => any_of(
                    &string_regexes(pattern, *cased, pred.span)?,
                    |r| format!("{f}:/{r}/"),
                    "OR",
                ),
            },
            Test::Regex { pattern, flags } => {
                let source = cx.regex_source(pattern, *flags);
                any_of(
                    &elastic_regexes(&source, pred.span)?,
                    |r| format!("{f}:/{r}/"),
                    "OR",
                )
            }
            Test::Num { op, value, .. } => {
                let v = number(*value);
                match op {
                    CmpOp::Eq => format!("{f}:[{v} TO {v}]"),
                    CmpOp::Gt => format!("{f}:{{{v} TO *]"),
                    CmpOp::Gte => format!("{f}:[{v} TO *]"),
                    CmpOp::Lt => format!("{f}:[* TO {v}}}"),
                    CmpOp::Lte => format!("{f}:[* TO {v}]"),
                }
            }
            Test::Bool(b) => format!("{f}:{b}"),
            Test::Null | Test::Exists(false) => format!("(*:* AND NOT _exists_:{f})"),
            Test::Exists(true) => format!("_exists_:{f}"),
            Test::Cidr(net) => {
                if let Some(u) = super::column::cidr_needs_ip(col, pred.span, "Lucene") {
                    return Err(u);
                }
                format!("{f}:{}", phrase(&net.to_string()))
            }
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        })
    }

    fn raw_control_reason(&self, _c: char) -> Option<&'static str> {
        Some(
            "a Lucene query string (and its regexes) has no escape for control characters, so \
             the query would not stay on one line; a regex's `.` is any character but a line \
             feed, which Lucene can only write with a raw one: write `(?s)` (or the `s` flag) \
             if line feeds may match, or compile to eql or esql",
        )
    }

    fn and_op(&self) -> &'static str {
        "AND"
    }

    fn or_op(&self) -> &'static str {
        "OR"
    }

    fn not(&self, inner: &str) -> String {
        format!("(*:* AND NOT ({inner}))")
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        if !matches!(c.kind, Kind::EventCount | Kind::ValueCount) {
            return Err(c.refuse_type(
                "a Lucene query only filters events; Kibana threshold rules (`--format \
                 kibana-ndjson`) express `event_count` and `value_count`. Compile the others to \
                 esql, eql or another target",
            ));
        }
        if c.inputs.len() > 1 {
            return Err(c.refuse(
                "a threshold over several rules",
                "a threshold rule has one query; an event matching two of the rules would count \
                 once, not twice as in the engine",
            ));
        }
        c.refuse_arrays()?;
        let input = &c.inputs[0];
        if input.group.len() > 3 {
            return Err(c.refuse(
                "more than 3 `group-by` fields",
                "Kibana threshold rules group by at most 3 fields (5 from Kibana 9.2)",
            ));
        }
        // "At least N": `gte N`, or `gt N` for a whole N; anything else has no threshold form.
        let at_least = match c.bounds.as_slice() {
            [(crate::syntax::ast::CmpOp::Gte, b)] if *b >= 1.0 && b.fract() == 0.0 => *b,
            [(crate::syntax::ast::CmpOp::Gt, b)] if *b >= 0.0 && b.fract() == 0.0 => b + 1.0,
            _ => {
                return Err(c.refuse(
                    "a count condition other than \"at least N\"",
                    "a Kibana threshold fires when the count meets or exceeds a whole number \
                     (`gte`, or `gt`); there is no upper bound or equality",
                ));
            }
        };
        let fields: Vec<String> = input.group.iter().map(|g| g.name.clone()).collect();
        let threshold = match c.kind {
            Kind::EventCount => json!({"field": fields, "value": at_least as i64}),
            _ => {
                let f = c.value_field(0).expect("value_count has a field");
                json!({
                    "field": fields,
                    "value": 1,
                    "cardinality": [{"field": f.name, "value": at_least as i64}],
                })
            }
        };
        let span = c.span_in(&DAYS_TO_MS[..4]);
        let mut settings = serde_json::Map::new();
        settings.insert("threshold".into(), threshold);
        settings.insert("interval".into(), span.clone().into());
        settings.insert("from".into(), format!("now-{span}").into());
        settings.insert("artifact_only".into(), "kibana-ndjson".into());
        let mut warnings = vec![(
            format!(
                "`{}` is a Kibana threshold rule that counts over each run's look-back: fixed \
                 windows of {span}, not sliding ones",
                c.type_name()
            ),
            "a burst that straddles two runs is split between them and can be missed; the \
             rule runs every timespan over the last timespan"
                .to_string(),
        )];
        if c.kind == Kind::ValueCount {
            warnings.push((
                "the threshold's distinct count is Elasticsearch's `cardinality` aggregation"
                    .into(),
                "it is exact only up to about 3,000 distinct values".into(),
            ));
        }
        Ok(Rendered {
            query: input.query.clone(),
            warnings,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(field("gen_ai.request.model"), "gen_ai.request.model");
        assert_eq!(field("a-b c:d"), r"a\-b\ c\:d");
        assert_eq!(phrase(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn string_values_as_regexes() {
        let s = |v: &str, cased| {
            let mut v =
                string_regexes(&SigmaString::parse(v, false), cased, Span::default()).unwrap();
            assert_eq!(v.len(), 1);
            v.remove(0)
        };
        assert_eq!(s("ab*c?", false), "[Aa][Bb].*[Cc].");
        assert_eq!(s("a/b\"", true), "a\\/b\\\"");
        assert_eq!(s("K", false), "[Kk\u{212A}]");
    }

    #[test]
    fn long_regexes_are_split_or_refused() {
        let span = Span::default();
        // 40 case-insensitive alternatives of 30 letters: one regex would be ~5000 long.
        let words: Vec<String> = (0..40)
            .map(|i| format!("w{i:02}{}", "x".repeat(27)))
            .collect();
        let source = format!("(?i){}", words.join("|"));
        let parts = elastic_regexes(&source, span).unwrap();
        assert!(parts.len() > 1);
        assert!(
            parts
                .iter()
                .all(|p| p.encode_utf16().count() <= MAX_REGEX_LENGTH)
        );
        // That the parts together mean the pattern is tested in tests/regex_translate_props.rs.
        // One literal that is too long by itself cannot be split.
        let long = format!("(?i){}", "y".repeat(300));
        let err = elastic_regexes(&long, span).unwrap_err();
        assert!(
            err.construct.contains("1204 characters"),
            "{}",
            err.construct
        );
        assert!(err.reason.contains("index.max_regex_length"));
    }
}
