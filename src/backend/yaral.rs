//! Google SecOps (Chronicle) YARA-L 2.0: the `events` section of a single-event rule over
//! `$e`, a UDM event. The `chronicle` format wraps it into a complete rule with `meta` and
//! `condition: $e`.
//!
//! - A case-sensitive plain value is `$e.field = "value"`; every other string test is a regex
//!   literal, `$e.field = /.../`, rendered from the rule's meaning
//!   ([`crate::regex::translate`], [`Flavor::Re2`]: Chronicle's regexes are RE2 and search
//!   the value, like the engine's). Case folding is written out, so `nocase` is never used.
//! - Fields the mapping sends to `additional.fields["name"]` hold strings (YARA-L's map access
//!   returns strings only), so numbers are compared as `cast.as_int(...)` /
//!   `cast.as_float(...)`, after a regex checks that the value is a decimal number (the casts
//!   turn anything else, and a missing value, into 0). Booleans are the strings
//!   `true`/`false` in any case.
//! - `cidr`: `net.ip_in_range_cidr($e.field, "net")` (IPv4 and IPv6).
//! - UDM has no null: a missing string is `""`, so `null`/`exists` are `= ""` / `!= ""`, and an
//!   empty string counts as missing (documented in docs/backends.md).
//!
//! - Fields the schema types as arrays: `additional.fields` holds strings only, so the
//!   ingestion parser joins a list's values with U+001F ([`LIST_SEPARATOR`]), and a string or
//!   regex test searches that text with a regex confined to one value. (A repeated UDM field
//!   would not do: YARA-L evaluates it one element at a time across the whole `events`
//!   section, which is not "some element matches" per predicate.)
//!
//! Correlations are multi-event rules: each input rule's predicates over its own event
//! variable, the group-by fields bound to placeholders (`$e.principal.user.userid = $g1`),
//! `match: $g1 over T`, and a `condition` on `#e` (event count), `#v` (distinct values) or an
//! `outcome` sum. Google SecOps evaluates `over T` on hop windows whose hop is not published,
//! so they compile with an `AIS803` warning; ordered sequences are ordered at one-second
//! resolution. Refused: averages, percentiles and medians (no such aggregation in rules),
//! counts compared with `<`, `<=`, `=` or `!=` (those make a non-existence rule), windows that
//! are not whole minutes between 1m and 48h, and correlations without `group-by`.
//!
//! Refused: keyword searches, field references, date parts, placeholders, and non-string
//! tests on array fields.

use super::column::Column;
use super::correlation::{Correlation, Rendered};
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::refusal::Unsupported;
use super::text::{Shape, StrTest, any_regex};
use crate::regex::casefold::CaseMode;
use crate::regex::translate::{self, Flavor};
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Pred, Test, cidr_forms};
use crate::semantics::schema::BaseType;
use crate::syntax::ast::CmpOp;
use crate::syntax::span::Span;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The YARA-L dialect over the event variable `$var`: `e` for a single-event rule, `e1`,
/// `e2`, ... for the inputs of a correlation.
pub struct Yaral {
    pub var: &'static str,
}

/// The dialect of single-event rules (`$e`).
pub const SINGLE: Yaral = Yaral { var: "e" };

/// The dialects of a correlation's inputs, one event variable each; a correlation over more
/// rules is refused.
pub static INPUTS: [Yaral; 8] = [
    Yaral { var: "e1" },
    Yaral { var: "e2" },
    Yaral { var: "e3" },
    Yaral { var: "e4" },
    Yaral { var: "e5" },
    Yaral { var: "e6" },
    Yaral { var: "e7" },
    Yaral { var: "e8" },
];

/// A YARA-L double-quoted string, or `None` if the value holds a character that has no
/// documented escape (a control character other than line feed and tab).
pub fn string(s: &str) -> Option<String> {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => return None,
            c => o.push(c),
        }
    }
    o.push('"');
    Some(o)
}

/// A field path of `$e`: dotted identifiers, optionally ending in a map access
/// `["key"]` (the key without `"`, `\` or control characters). `None` if the mapped name is
/// not of that form.
pub fn field(name: &str) -> Option<String> {
    field_of("e", name)
}

/// [`field`] of the event variable `$var`.
pub fn field_of(var: &str, name: &str) -> Option<String> {
    let (path, key) = match name.split_once('[') {
        Some((p, rest)) => {
            let key = rest.strip_prefix('"')?.strip_suffix("\"]")?;
            if key.contains(['"', '\\']) || key.chars().any(char::is_control) {
                return None;
            }
            (p, Some(key))
        }
        None => (name, None),
    };
    let ok = path.split('.').all(|seg| {
        let mut cs = seg.chars();
        cs.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    ok.then(|| match key {
        Some(k) => format!("${var}.{path}[\"{k}\"]"),
        None => format!("${var}.{path}"),
    })
}

/// `$e.f = /re/` for an engine regex source; `loose` as for
/// [`super::literal::search_regex`].
fn regex(f: &str, source: &str, span: Span, loose: bool) -> Result<String, Unsupported> {
    regex_nocase(f, source, false, loose, span)
}

/// The separator between the values of a list kept in `additional.fields` (the ingestion
/// parser joins the values with it; a map value can only be a string).
pub const LIST_SEPARATOR: char = '\u{1f}';

/// A string or regex test on a list field: the regex searches the joined values, confined to
/// one value ([`translate::list_search`]). A pattern that matches the empty string is
/// guarded with `!= ""`, since an empty list, a missing field and `[""]` all read as `""`.
fn array_predicate(f: &str, name: &str, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
    let source = match &pred.test {
        Test::Str { pattern, cased } => {
            pattern.to_search_regex(crate::backend::literal::unicode_case(*cased))
        }
        Test::Regex { pattern, flags } => cx.regex_source(pattern, *flags),
        _ => {
            return Err(Unsupported::new(
                format!("a non-string test on the list field `{name}`"),
                "a list is kept in additional.fields as one string (its values joined with \
                 U+001F); only string and regex tests can search it",
                pred.span,
            ));
        }
    };
    let list = translate::list_search(&source, LIST_SEPARATOR).map_err(|why| {
        Unsupported::new(
            format!("a pattern with {why} on the list field `{name}`"),
            "the values are searched joined with U+001F; only anchors at the edges of the \
             pattern can be rewritten for that",
            pred.span,
        )
    })?;
    let test = regex(f, &list, pred.span, cx.loose_case())?;
    let matches_empty = regex::Regex::new(&source).is_ok_and(|r| r.is_match(""));
    Ok(if matches_empty {
        format!("({f} != \"\" and {test})")
    } else {
        test
    })
}

/// A decimal number as text (what the casts read), with an optional exponent (`5E2`) and the
/// whitespace the engine trims.
const NUMBER_RE: &str = r"^\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$";

/// `$e.f = /re/`, or `... nocase`, for an engine regex source.
fn regex_nocase(
    f: &str,
    source: &str,
    nocase: bool,
    loose: bool,
    span: Span,
) -> Result<String, Unsupported> {
    let re = super::literal::search_regex(source, Flavor::Re2, "Chronicle's RE2", span, loose)?;
    Ok(format!(
        "{f} = /{re}/{}",
        if nocase { " nocase" } else { "" }
    ))
}

impl Dialect for Yaral {
    fn name(&self) -> &'static str {
        "yaral"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "YARA-L has no search over all fields; name the field"
    }

    /// String tests as Google's own rules write them: `$e.f = "v" nocase` for whole values,
    /// `strings.contains(strings.to_lower($e.f), "v")` for substrings,
    /// `strings.starts_with(...)` for prefixes, `/v$/ nocase` regexes for suffixes and other
    /// patterns; without `nocase` and `to_lower` when cased.
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        let Some(f) = field_of(self.var, &col.name) else {
            return Err(Unsupported::new(
                format!("the mapped field name `{}`", col.name),
                "a YARA-L field is a dotted UDM path, optionally ending in [\"key\"]",
                t.span,
            ));
        };
        if col.ty.is_some_and(|ty| ty.array) {
            let case = (!t.cased).then_some(CaseMode::Ascii);
            let source = any_regex(t, case, true);
            let pred = Pred {
                field: Some(col.name.clone()),
                test: Test::Regex {
                    pattern: source,
                    flags: Default::default(),
                },
                span: t.span,
            };
            return array_predicate(&f, &col.name, &pred, cx);
        }
        let nocase = if t.cased { "" } else { " nocase" };
        let mut parts = Vec::new();
        for (p, shape) in t.patterns.iter().zip(t.shapes()) {
            let lit = shape.text().and_then(string);
            parts.push(match (&shape, lit) {
                (Shape::Exact(_), Some(l)) => format!("{f} = {l}{nocase}"),
                (Shape::Contains(v), Some(l)) if t.cased => format!("strings.contains({f}, {l})"),
                (Shape::Contains(v), Some(_)) if v.is_ascii() => format!(
                    "strings.contains(strings.to_lower({f}), {})",
                    string(&v.to_ascii_lowercase()).unwrap_or_default()
                ),
                (Shape::Prefix(_), Some(l)) if t.cased => format!("strings.starts_with({f}, {l})"),
                (Shape::Prefix(v), Some(_)) if v.is_ascii() => format!(
                    "strings.starts_with(strings.to_lower({f}), {})",
                    string(&v.to_ascii_lowercase()).unwrap_or_default()
                ),
                _ => regex_nocase(&f, &p.to_search_regex(None), !t.cased, true, t.span)?,
            });
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            format!("({})", parts.join(" or "))
        })
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let Some(f) = field_of(self.var, &col.name) else {
            return Err(Unsupported::new(
                format!("the mapped field name `{}`", col.name),
                "a YARA-L field is a dotted UDM path, optionally ending in [\"key\"]",
                pred.span,
            ));
        };
        if col.ty.is_some_and(|t| t.array) {
            return array_predicate(&f, &col.name, pred, cx);
        }
        let in_map = col.name.contains('[');
        let base = col.ty.map(|t| t.base);
        Ok(match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain().and_then(|t| string(&t)) {
                Some(lit) if *cased => format!("{f} = {lit}"),
                _ => regex(
                    &f,
                    &pattern.to_search_regex(crate::backend::literal::unicode_case(*cased)),
                    pred.span,
                    false,
                )?,
            },
            Test::Regex { pattern, flags } => regex(
                &f,
                &cx.regex_source(pattern, *flags),
                pred.span,
                cx.loose_case(),
            )?,
            Test::Num { op, value, .. } => {
                let cmp = *op;
                let op = match op.symbol() {
                    "==" => "=",
                    s => s,
                };
                if *value < 0.0 {
                    return Err(Unsupported::new(
                        "a comparison with a negative number",
                        "YARA-L has no negative number literals",
                        pred.span,
                    ));
                }
                if in_map || !base.is_some_and(|b| b.is_numeric()) {
                    let cast = if base == Some(BaseType::Int) {
                        "cast.as_int"
                    } else {
                        "cast.as_float"
                    };
                    let compared = format!("{cast}({f}) {op} {}", number(*value));
                    // The casts read anything that is not a number as 0: where 0 passes the
                    // comparison, the value is first checked to be a number.
                    if cmp.apply(0.0, *value) {
                        format!("({f} = /{NUMBER_RE}/ and {compared})")
                    } else {
                        compared
                    }
                } else {
                    format!("{f} {op} {}", number(*value))
                }
            }
            // Booleans are the strings `true`/`false` (in any ASCII case, as the engine reads).
            Test::Bool(b) => format!("{f} = \"{b}\" nocase"),
            Test::Null | Test::Exists(false) => format!("{f} = \"\""),
            Test::Exists(true) => format!("{f} != \"\""),
            Test::Cidr(net) => {
                // Each form of the range: an IPv4 range also as its mapped IPv6 range.
                let any: Vec<String> = cidr_forms(net)
                    .iter()
                    .map(|n| format!("net.ip_in_range_cidr({f}, \"{n}\")"))
                    .collect();
                if any.len() == 1 {
                    any.join("")
                } else {
                    format!("({})", any.join(" or "))
                }
            }
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        })
    }

    /// The events section as one expression: the category's UDM selectors from the mapping
    /// (`$e.metadata.<key> = "value"`), and the condition.
    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        let mut parts: Vec<String> = logsource
            .iter()
            .filter_map(|(k, v)| {
                let f = field_of(self.var, &format!("metadata.{k}"))?;
                Some(format!("{f} = {}", string(v)?))
            })
            .collect();
        parts.push(format!("({condition})"));
        parts.join(" and ")
    }

    fn for_input(&self, i: usize) -> Option<&'static dyn Dialect> {
        INPUTS.get(i).map(|d| d as &dyn Dialect)
    }

    fn max_inputs(&self) -> usize {
        INPUTS.len()
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        match c.kind {
            Kind::Avg | Kind::Percentile(_) | Kind::Median => {
                return Err(c.refuse_type(
                    "YARA-L rules have no average, percentile or median aggregation (the \
                     outcome section offers sum, count, min, max and count_distinct)",
                ));
            }
            Kind::Baseline { .. } | Kind::FirstSeen { .. } => {
                return Err(c.refuse_type("baselines are not compiled to yaral yet"));
            }
            Kind::EventCount | Kind::ValueCount | Kind::Sum if c.inputs.len() > 1 => {
                return Err(c.refuse(
                    format!("a `{}` over several rules", c.type_name()),
                    "YARA-L counts one event variable; an event matching two of the rules would \
                     count once, not twice as in the engine",
                ));
            }
            _ => {}
        }
        c.refuse_arrays()?;
        if c.group_names.is_empty() {
            return Err(c.refuse(
                "a correlation without `group-by`",
                "a multi-event YARA-L rule needs a match variable",
            ));
        }
        if c.timespan % 60_000 != 0 || !(60_000..=48 * 3_600_000).contains(&c.timespan) {
            return Err(c.refuse(
                format!("the timespan `{}`", c.timespan_text),
                "a YARA-L match window is a whole number of minutes from 1m to 48h",
            ));
        }
        let span = c.span_in(&super::correlation::DAYS_TO_MS[..3]);
        let vars: Vec<&str> = if c.inputs.len() == 1 {
            vec!["e"]
        } else {
            INPUTS.iter().take(c.inputs.len()).map(|d| d.var).collect()
        };
        let mut events = Vec::new();
        for (input, var) in c.inputs.iter().zip(&vars) {
            events.push(input.query.clone());
            for (g, col) in input.group.iter().enumerate() {
                let f = field_of(var, &col.name).ok_or_else(|| {
                    c.refuse(
                        format!("the mapped field name `{}`", col.name),
                        "not a UDM path",
                    )
                })?;
                events.push(format!("{f} = $g{}", g + 1));
            }
        }
        let value_field = |col: &Column| {
            field_of(vars[0], &col.name).ok_or_else(|| {
                c.refuse(
                    format!("the mapped field name `{}`", col.name),
                    "not a UDM path",
                )
            })
        };
        // Counts accept only `>` and `>=` (a positive bound): the other comparisons make a
        // non-existence rule.
        let count_condition = |what: &str| -> Result<String, Unsupported> {
            let mut parts = Vec::new();
            for &(op, b) in &c.bounds {
                match op {
                    CmpOp::Gt if b >= 0.0 && b.fract() == 0.0 => {
                        parts.push(format!("{what} > {}", number(b)))
                    }
                    CmpOp::Gte if b >= 1.0 && b.fract() == 0.0 => {
                        parts.push(format!("{what} >= {}", number(b)))
                    }
                    _ => {
                        return Err(c.refuse(
                            format!("the count condition `{} {}`", op.name(), number(b)),
                            "YARA-L counts are compared with `>` or `>=` a positive whole number; \
                             other comparisons make a non-existence rule",
                        ));
                    }
                }
            }
            Ok(parts.join(" and "))
        };
        let mut outcome = None;
        let condition = match c.kind {
            Kind::EventCount => count_condition("#e")?,
            Kind::ValueCount => {
                let col = c.value_field(0).expect("value_count has a field");
                let f = value_field(col)?;
                events.push(format!("{f} != \"\""));
                events.push(format!("{f} = $value"));
                count_condition("#value")?
            }
            Kind::Sum => {
                let col = c.value_field(0).expect("value_sum has a field");
                let f = value_field(col)?;
                let numeric =
                    !col.name.contains('[') && col.ty.is_some_and(|t| t.base.is_numeric());
                let v = if numeric {
                    f
                } else {
                    format!("cast.as_float({f})")
                };
                outcome = Some(format!("$aisigma_value = sum({v})"));
                format!("$e and {}", c.condition("$aisigma_value", "and", "!=", "="))
            }
            Kind::Temporal | Kind::TemporalOrdered => {
                let all = c.bounds.is_empty() || c.bounds == [(CmpOp::Gte, c.inputs.len() as f64)];
                if !all {
                    return Err(c.refuse(
                        "a temporal condition other than \"all rules\"",
                        "YARA-L's condition cannot count how many of the event variables matched",
                    ));
                }
                if c.kind == Kind::TemporalOrdered {
                    for w in vars.windows(2) {
                        events.push(format!(
                            "${}.metadata.event_timestamp.seconds <= ${}.metadata.event_timestamp.seconds",
                            w[0], w[1]
                        ));
                    }
                }
                vars.iter()
                    .map(|v| format!("${v}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            }
            _ => unreachable!("refused above"),
        };
        let groups: Vec<String> = (1..=c.group_names.len())
            .map(|g| format!("$g{g}"))
            .collect();
        let mut q = String::from("events:\n");
        for e in &events {
            let _ = writeln!(q, "    {e}");
        }
        let _ = write!(q, "\n  match:\n    {} over {span}\n", groups.join(", "));
        if let Some(o) = outcome {
            let _ = write!(q, "\n  outcome:\n    {o}\n");
        }
        let _ = write!(q, "\n  condition:\n    {condition}");
        let mut warnings = vec![(
            format!(
                "`{}` is evaluated over hop windows of {span}, not sliding ones",
                c.type_name()
            ),
            "Google SecOps does not publish the hop size, so events spread over almost the whole \
             timespan may share no hop window and be missed; overlapping windows can raise \
             several detections for one burst"
                .to_string(),
        )];
        if c.kind == Kind::TemporalOrdered {
            warnings.push((
                "the order of the steps is checked at one-second resolution".to_string(),
                "steps within the same second count as ordered whichever comes first, and every \
                 ordered combination in a window matches (EQL's state machine keeps one partial \
                 sequence per step)"
                    .to_string(),
            ));
        }
        Ok(Rendered {
            query: q,
            warnings,
            ..Rendered::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\nd").unwrap(), r#""a\"b\\c\nd""#);
        assert_eq!(string("a\rb"), None);
        assert_eq!(field("principal.ip").unwrap(), "$e.principal.ip");
        assert_eq!(
            field("additional.fields[\"gen_ai.system\"]").unwrap(),
            "$e.additional.fields[\"gen_ai.system\"]"
        );
        assert_eq!(field("additional.fields[\"a\\\"]\"]"), None);
        assert_eq!(field("a b"), None);
    }
}
