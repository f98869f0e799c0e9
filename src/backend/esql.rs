//! Elasticsearch ES|QL: `FROM <index> METADATA _id, _index, _version | WHERE <condition>`.
//!
//! - A case-sensitive plain value is `==`; every other string test is `RLIKE` with a Lucene
//!   regular expression rendered from the rule's meaning ([`crate::regex::translate`]), which
//!   matches the whole value, as Sigma values do.
//! - Numbers, booleans: `>`, `>=`, `==`, ...; `cidr`: `CIDR_MATCH(field, "net")`;
//!   `null`/`exists`: `IS NULL` / `IS NOT NULL`.
//! - ES|QL has three-valued logic: a comparison with a missing field is `null`, and `WHERE`
//!   drops the row; `NOT null` is `null` too. Under `not`, every predicate is therefore
//!   guarded with `field IS NOT NULL AND ...`, so `not` of a predicate on a missing field is
//!   true, as in aisigma's semantics.
//! - A field that holds several values makes single-value operators return `null`. For a
//!   field the schema types as an array, a string or regex test searches its values joined by
//!   `MV_CONCAT` with U+001F, with a regex confined to one value; other tests on arrays are
//!   refused.
//!
//! Correlations are `STATS ... BY group, BUCKET(@timestamp, T)` (Elasticsearch 8.14+): fixed
//! windows aligned to the epoch, not the engine's sliding ones, so they compile with an
//! `AIS803` warning. `value_count` counts distinct values exactly with two `STATS` (ES|QL's
//! `COUNT_DISTINCT` is approximate); percentiles and medians are refused (`PERCENTILE` and
//! `MEDIAN` are approximate t-digests), as are ordered sequences (compile those to eql).
//!
//! Refused: keyword searches, field references, date parts, placeholders, non-string tests on
//! array fields, and regex assertions with no whole-value form.

use super::column::Column;
use super::correlation::{Correlation, Rendered};
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::lucene::{any_of, elastic_regexes, string_regexes};
use super::refusal::Unsupported;
use super::text::{StrTest, any_regex};
use crate::regex::casefold::CaseMode;
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Pred, Test};
use crate::semantics::schema::BaseType;
use crate::syntax::sigma_string::{Part, SigmaString};
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Esql;

/// An ES|QL string literal. The grammar allows `\"`, `\\`, `\n`, `\r` and `\t` escapes and
/// every other character raw except a raw line break.
pub fn string(s: &str) -> String {
    super::literal::quote(s, super::literal::common_escape)
}

/// ES|QL's keywords and literals (case-insensitive); a field segment spelled like one is
/// quoted, so that `null` or `NOT` is read as a field.
const KEYWORDS: &[&str] = &[
    "and", "as", "asc", "by", "desc", "false", "first", "from", "in", "is", "last", "like",
    "limit", "metadata", "not", "null", "nulls", "on", "or", "rlike", "true", "where", "with",
];

/// A field name: bare when every segment is an identifier and no keyword, else in backticks.
pub fn field(name: &str) -> String {
    let plain = name.split('.').enumerate().all(|(i, seg)| {
        let mut cs = seg.chars();
        let first_ok = cs.next().is_some_and(|c| {
            c.is_ascii_alphabetic() || ((c == '_' || c == '@') && seg.len() > 1 && i == 0)
        });
        first_ok
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(seg))
    });
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// A time span as an ES|QL literal: `10 minutes`, `1 hour`, `500 milliseconds`.
fn duration(ms: i64) -> String {
    for (unit, name) in [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1_000, "second"),
        (1, "millisecond"),
    ] {
        if ms % unit == 0 {
            let n = ms / unit;
            return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
        }
    }
    unreachable!("every span is a whole number of milliseconds")
}

/// The separator `MV_CONCAT` puts between the values of a multi-valued field.
const SEP: char = '\u{1f}';

/// A string or regex test on a multi-valued field: "some value matches R" is a regex over the
/// values joined with [`SEP`], `(.*SEP)?(R')(SEP.*)?`, where R' is R with `SEP` removed from
/// every class, so that its match lies inside one value. A value that itself holds `SEP` can
/// only make the test match more (it is read as two values).
fn array_predicate(f: &str, name: &str, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
    let source = match &pred.test {
        Test::Str { pattern, cased } => {
            pattern.to_regex(crate::backend::literal::unicode_case(*cased))
        }
        Test::Regex { pattern, flags } => cx.regex_source(pattern, *flags),
        _ => {
            return Err(Unsupported::new(
                format!("a non-string test on the multi-valued field `{name}`"),
                "ES|QL operators return null on a field with several values; only string and \
                 regex tests are written for them (over MV_CONCAT of the values)",
                pred.span,
            ));
        }
    };
    array_search(f, name, &source, pred.span, cx.negated)
}

/// "Some value of the multi-valued field matches the engine regex `source`": a regex over the
/// values joined with [`SEP`], confined to one value.
fn array_search(
    f: &str,
    name: &str,
    source: &str,
    span: crate::syntax::span::Span,
    negated: bool,
) -> Result<String, Unsupported> {
    let element = crate::regex::translate::exclude_char(source, SEP).map_err(|why| {
        Unsupported::new(
            format!("a value with {why} on the multi-valued field `{name}`"),
            "the values are joined with U+001F to be searched",
            span,
        )
    })?;
    let wrap = |r: &str| format!("(.*{SEP})?({r})({SEP}.*)?");
    let room = super::lucene::MAX_REGEX_LENGTH - wrap("").chars().count();
    let regexes = super::lucene::elastic_regexes_within(&element, span, room)?;
    let joined = format!("MV_CONCAT({f}, {})", string(&SEP.to_string()));
    let body = any_of(
        &regexes,
        |r| format!("{joined} RLIKE {}", string(&wrap(r))),
        "OR",
    );
    Ok(if negated {
        format!("({f} IS NOT NULL AND {body})")
    } else {
        body
    })
}

/// A value ES|QL can compare lower-cased: no control character its strings cannot escape,
/// and every character's lower case one character that does not depend on its neighbours
/// (Java's `toLowerCase` turns a final `Σ` into `ς` and `İ` into two characters).
fn lowerable(s: &str) -> bool {
    s.chars().all(|c| {
        (!c.is_control() || matches!(c, '\t' | '\n' | '\r'))
            && (c.is_ascii() || {
                let mut l = c.to_lowercase();
                l.next().is_some() && l.next().is_none() && !matches!(c, 'Σ' | 'σ' | 'ς')
            })
    })
}

/// A `LIKE` pattern: `*` and `?` are the wildcards; a literal `*`, `?` or `\` is escaped
/// with `\`.
fn like_pattern(p: &SigmaString, lower: bool) -> String {
    let mut s = String::new();
    for part in &p.parts {
        match part {
            Part::Lit(l) => {
                for c in l.chars() {
                    if matches!(c, '*' | '?' | '\\') {
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
    s
}

impl Dialect for Esql {
    fn name(&self) -> &'static str {
        "esql"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "ES|QL has no full-text search over all fields; name the field"
    }

    /// String tests with ES|QL functions: `TO_LOWER(f) == "v"` / `IN (...)` for whole values
    /// and `TO_LOWER(f) LIKE "*v*"` for patterns (ES|QL has no case-insensitive operator),
    /// `==`, `IN` and `LIKE` when cased; an `RLIKE` regex for values `TO_LOWER` cannot compare
    /// and for multi-valued fields.
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        if let Some(u) = super::lucene::ip_string_refusal(col, t.span) {
            return Err(u);
        }
        let f = field(&col.name);
        let regex_case = (!t.cased).then_some(CaseMode::Ascii);
        if col.ty.is_some_and(|ty| ty.array) {
            let source = any_regex(t, regex_case, false);
            return array_search(&f, &col.name, &source, t.span, cx.negated);
        }
        let native = col.ty.is_none_or(|ty| ty.base == BaseType::String)
            && t.patterns.iter().all(|p| {
                p.parts.iter().all(|x| match x {
                    Part::Lit(l) => lowerable(l),
                    _ => true,
                })
            });
        let body = if !native {
            any_of(
                &elastic_regexes(&any_regex(t, regex_case, false), t.span)?,
                |r| format!("{f} RLIKE {}", string(r)),
                "OR",
            )
        } else {
            let lhs = if t.cased {
                f.clone()
            } else {
                format!("TO_LOWER({f})")
            };
            let mut exact = Vec::new();
            let mut parts = Vec::new();
            for p in &t.patterns {
                match p.as_plain() {
                    Some(v) if t.cased => exact.push(string(&v)),
                    Some(v) => exact.push(string(&v.to_lowercase())),
                    None => {
                        parts.push(format!("{lhs} LIKE {}", string(&like_pattern(p, !t.cased))))
                    }
                }
            }
            match exact.len() {
                0 => {}
                1 => parts.insert(0, format!("{lhs} == {}", exact[0])),
                _ => parts.insert(0, format!("{lhs} IN ({})", exact.join(", "))),
            }
            if parts.len() == 1 {
                parts.remove(0)
            } else {
                format!("({})", parts.join(" OR "))
            }
        };
        Ok(if cx.negated {
            format!("({f} IS NOT NULL AND {body})")
        } else {
            body
        })
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let negated = cx.negated;
        let f = field(&col.name);
        if col.ty.is_some_and(|t| t.array) {
            return array_predicate(&f, &col.name, pred, cx);
        }
        let body = match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain() {
                Some(text) if *cased => format!("{f} == {}", string(&text)),
                _ => any_of(
                    &string_regexes(pattern, *cased, pred.span)?,
                    |r| format!("{f} RLIKE {}", string(r)),
                    "OR",
                ),
            },
            Test::Regex { pattern, flags } => {
                let source = cx.regex_source(pattern, *flags);
                any_of(
                    &elastic_regexes(&source, pred.span)?,
                    |r| format!("{f} RLIKE {}", string(r)),
                    "OR",
                )
            }
            Test::Num { op, value, .. } => format!("{f} {} {}", op.symbol(), number(*value)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null | Test::Exists(false) => return Ok(format!("{f} IS NULL")),
            Test::Exists(true) => return Ok(format!("{f} IS NOT NULL")),
            // A field that holds addresses as text is converted; TO_IP gives null for text that
            // is not an address, where the test is false, as in the engine.
            Test::Cidr(net) if col.ty.is_some_and(|t| t.base != BaseType::Ip) => format!(
                "COALESCE(CIDR_MATCH(TO_IP({f}), {}), false)",
                string(&net.to_string())
            ),
            Test::Cidr(net) => format!("CIDR_MATCH({f}, {})", string(&net.to_string())),
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        };
        Ok(if negated {
            format!("({f} IS NOT NULL AND {body})")
        } else {
            body
        })
    }

    fn raw_control_reason(&self, c: char) -> Option<&'static str> {
        (!matches!(c, '\t' | '\n' | '\r' | SEP)).then_some(
            "an ES|QL string has escapes only for tab, line feed and carriage return, so the \
             query would hold the character raw",
        )
    }

    fn and_op(&self) -> &'static str {
        "AND"
    }

    fn or_op(&self) -> &'static str {
        "OR"
    }

    fn not(&self, inner: &str) -> String {
        format!("NOT ({inner})")
    }

    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        let index = logsource
            .get("index")
            .map(String::as_str)
            .unwrap_or("logs-*");
        format!("FROM {index} METADATA _id, _index, _version | WHERE {condition}")
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        match c.kind {
            Kind::TemporalOrdered => {
                return Err(
                    c.refuse_type("ES|QL has no sequences; compile ordered sequences to eql")
                );
            }
            Kind::Percentile(_) | Kind::Median => {
                return Err(c.refuse_type(
                    "ES|QL's PERCENTILE and MEDIAN are approximate (t-digest), so a value near \
                     the bound could be misjudged",
                ));
            }
            Kind::Baseline { .. } | Kind::FirstSeen { .. } => {
                return Err(c.refuse_type("baselines are not compiled to esql yet"));
            }
            _ => {}
        }
        c.refuse_arrays()?;
        let first = &c.inputs[0];
        let index = |i: &super::correlation::Input| i.logsource.get("index").cloned();
        if c.inputs.iter().any(|i| index(i) != index(first)) {
            return Err(c.refuse(
                "rules over different indices",
                "one ES|QL query reads one FROM source, and a condition cannot tell which \
                 index pattern an event came from",
            ));
        }
        if c.inputs
            .iter()
            .any(|i| i.group != first.group || i.field != first.field)
        {
            return Err(c.refuse(
                "`aliases` that name different fields per rule",
                "an event that matches two of the rules would need two group values in one row",
            ));
        }
        let from = index(first).unwrap_or_else(|| "logs-*".into());
        let conds: Vec<String> = c
            .inputs
            .iter()
            .map(|i| format!("({})", i.condition))
            .collect();
        let mut q = format!("FROM {from} | WHERE {}", conds.join(" OR "));
        let mut evals = Vec::new();
        let multi = c.inputs.len() > 1;
        if multi {
            for (i, cond) in conds.iter().enumerate() {
                evals.push(format!("aisigma_r{i} = CASE({cond}, 1, 0)"));
            }
        }
        for (g, col) in first.group.iter().enumerate() {
            evals.push(format!("aisigma_g{g} = TO_STRING({})", field(&col.name)));
        }
        if let Some(col) = &first.field {
            evals.push(match c.kind {
                Kind::ValueCount => format!("aisigma_v = TO_STRING({})", field(&col.name)),
                _ => format!("aisigma_v = TO_DOUBLE({})", field(&col.name)),
            });
        }
        if !evals.is_empty() {
            let _ = write!(q, " | EVAL {}", evals.join(", "));
        }
        let groups: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("aisigma_g{g}"))
            .collect();
        if !groups.is_empty() {
            let present: Vec<String> = groups.iter().map(|g| format!("{g} IS NOT NULL")).collect();
            let _ = write!(q, " | WHERE {}", present.join(" AND "));
        }
        let span = duration(c.timespan);
        let mut by = groups.clone();
        by.push("aisigma_window".into());
        let by_bucket = {
            let mut b = groups.clone();
            b.push(format!("aisigma_window = BUCKET(@timestamp, {span})"));
            b.join(", ")
        };
        let by = by.join(", ");
        let last = "aisigma_last = MAX(@timestamp)";
        match c.kind {
            Kind::EventCount if multi => {
                let sum: Vec<String> = (0..c.inputs.len())
                    .map(|i| format!("aisigma_r{i}"))
                    .collect();
                let _ = write!(
                    q,
                    " | STATS aisigma_value = SUM({}), {last} BY {by_bucket}",
                    sum.join(" + ")
                );
            }
            Kind::EventCount => {
                let _ = write!(
                    q,
                    " | STATS aisigma_value = COUNT(*), {last} BY {by_bucket}"
                );
            }
            Kind::ValueCount => {
                // Exact distinct count: one row per value, then count the non-null values.
                let _ = write!(
                    q,
                    " | STATS {last} BY {by_bucket}, aisigma_v \
                     | STATS aisigma_value = COUNT(aisigma_v), aisigma_last = MAX(aisigma_last) BY {by}"
                );
            }
            Kind::Temporal => {
                let present: Vec<String> = (0..c.inputs.len())
                    .map(|i| format!("aisigma_r{i} = MAX(aisigma_r{i})"))
                    .collect();
                let sum: Vec<String> = (0..c.inputs.len())
                    .map(|i| format!("aisigma_r{i}"))
                    .collect();
                if multi {
                    let _ = write!(
                        q,
                        " | STATS {}, {last} BY {by_bucket} | EVAL aisigma_value = {}",
                        present.join(", "),
                        sum.join(" + ")
                    );
                } else {
                    let _ = write!(
                        q,
                        " | STATS aisigma_value = COUNT(*), {last} BY {by_bucket} | EVAL aisigma_value = 1"
                    );
                }
            }
            Kind::Sum => {
                let _ = write!(
                    q,
                    " | STATS aisigma_value = SUM(aisigma_v), {last} BY {by_bucket} \
                     | EVAL aisigma_value = COALESCE(aisigma_value, 0)"
                );
            }
            Kind::Avg => {
                let _ = write!(
                    q,
                    " | STATS aisigma_value = AVG(aisigma_v), {last} BY {by_bucket}"
                );
            }
            _ => unreachable!("refused above"),
        }
        let _ = write!(
            q,
            " | WHERE {}",
            c.condition("aisigma_value", "AND", "!=", "==")
        );
        let mut keep = vec!["aisigma_last".to_string()];
        for (g, name) in c.group_names.iter().enumerate() {
            let _ = write!(q, " | RENAME aisigma_g{g} AS {}", field(name));
            keep.push(field(name));
        }
        keep.push("aisigma_value".into());
        keep.push("aisigma_window".into());
        let _ = write!(q, " | KEEP {}", keep.join(", "));
        Ok(Rendered {
            query: q,
            warnings: vec![(
                format!(
                    "`{}` is evaluated over fixed windows of {span} (`BUCKET(@timestamp, {span})`, \
                     Elasticsearch 8.14+), not sliding ones",
                    c.type_name()
                ),
                "events that straddle a window boundary are counted in two windows, so a burst \
                 the engine alerts on can be missed; one alert per group and window. Run the \
                 rule every window, over at least one window of look-back"
                    .to_string(),
            )],
            ..Rendered::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(field("gen_ai.request.model"), "gen_ai.request.model");
        assert_eq!(field("@timestamp"), "@timestamp");
        assert_eq!(field("a-b"), "`a-b`");
        assert_eq!(field("x.`y"), "`x.``y`");
    }
}
