//! Splunk SPL: `search index="…" sourcetype="…" | where <condition>`.
//!
//! The condition is an eval expression, not `search` terms: `search` matches terms
//! case-insensitively with its own tokenizer and wildcard rules, which cannot express a Sigma
//! value exactly. In the eval expression:
//! - every string test is `isnotnull(mvfind('field', "<regex>"))`: `mvfind` returns the index
//!   of the first value that matches (so a multi-valued field, e.g. a JSON array extracted as
//!   `field{}`, matches when any value does) or `NULL`. The regex is PCRE rendered from the
//!   rule's meaning ([`crate::regex::translate`], [`Flavor::Pcre`]): case folding written out,
//!   `(*UTF)` when a character outside ASCII is involved, `$` written `\x{24}` so that no
//!   `$token$` appears in a saved search;
//! - numbers: `tonumber('field') > n`, booleans: the strings `true`/`false` in any case (as
//!   JSON booleans are extracted), `cidr`: `cidrmatch("net", 'field')`; on fields the schema
//!   types as arrays, these go through `mvfilter(...)`, which keeps the matching values;
//! - `null`/`exists`: `isnull('field')` / `isnotnull('field')`.
//!
//! Every predicate is written so that it is true or false, never `NULL` (a missing field is
//! tested first), so `NOT` and `AND`/`OR` are two-valued, as in aisigma's semantics.
//!
//! Correlations run over sliding windows, as in the engine: the inputs (one search, or a
//! `multisearch` with one subsearch per rule) are sorted by `_time`, `streamstats
//! time_window=T` computes the window's value at each input per group, and a second
//! `streamstats current=f window=1 global=f` fetches the group's previous verdict, so that an
//! alert fires where the condition starts to hold. Splunk caps a window at
//! `max_stream_window` events (10,000 by default), which the `AIS803` warning says.
//!
//! Refused: keyword searches (they would search `_raw`, the event's JSON text, not values),
//! field references, date parts, placeholders, and field names that contain `'` or `\`
//! (eval has no escape for them).

use super::column::Column;
use super::correlation::{Correlation, DAYS_TO_MS, Rendered};
use super::dialect::Dialect;
use super::literal::number;
use super::refusal::Unsupported;
use crate::regex::translate::Flavor;
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Pred, Test};
use crate::syntax::span::Span;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Spl;

/// An eval string literal. Eval removes one level of backslash escaping, so `\` is doubled and
/// `"` escaped; line breaks and other control characters never reach it (regexes write them
/// as `\x{..}` escapes, and other values are not written as literals).
pub fn string(s: &str) -> String {
    super::literal::quote(s, |c, o| match c {
        '"' | '\\' => {
            o.push('\\');
            o.push(c);
            true
        }
        _ => false,
    })
}

/// A quoted `search` term value (index, sourcetype): `"` and `\` escaped; control characters
/// and `$` are not allowed (checked by the caller).
fn search_value(s: &str) -> String {
    string(s)
}

/// A field name in an eval expression: `'name'`.
fn field(name: &str, span: Span) -> Result<String, Unsupported> {
    if name.contains(['\'', '\\']) || name.chars().any(char::is_control) {
        return Err(Unsupported::new(
            format!("the field name `{name}`"),
            "Splunk eval has no escape for `'` or `\\` in a field name; map the field to \
             another name",
            span,
        ));
    }
    Ok(format!("'{name}'"))
}

/// `isnotnull(mvfind('f', "re"))` for an engine regex source.
fn mvfind(f: &str, source: &str, span: Span) -> Result<String, Unsupported> {
    let (re, unicode) =
        super::literal::search_regex_unicode(source, Flavor::Pcre, "Splunk's PCRE", span)?;
    let re = if unicode { format!("(*UTF){re}") } else { re };
    Ok(format!("isnotnull(mvfind({f}, {}))", string(&re)))
}

impl Dialect for Spl {
    fn name(&self) -> &'static str {
        "spl"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "a Splunk keyword search matches the raw event text (JSON with its escapes), not \
                 field values; name the field"
    }

    fn predicate(&self, col: &Column, pred: &Pred, _negated: bool) -> Result<String, Unsupported> {
        let f = field(&col.name, pred.span)?;
        let array = col.ty.is_some_and(|t| t.array);
        // A scalar test `t` on every value of a multi-valued field, or on the one value.
        let values = |t: String| {
            if array {
                format!("isnotnull(mvfilter({t}))")
            } else {
                format!("({t})")
            }
        };
        Ok(match &pred.test {
            Test::Str { pattern, cased } => {
                mvfind(&f, &pattern.to_search_regex(!cased), pred.span)?
            }
            Test::Regex { pattern, flags } => mvfind(
                &f,
                &crate::semantics::ir::regex_source(pattern, *flags),
                pred.span,
            )?,
            Test::Num { op, value, .. } => values(format!(
                "isnotnull(tonumber({f})) AND tonumber({f}) {} {}",
                op.symbol(),
                number(*value)
            )),
            // JSON booleans are extracted as the strings "true"/"false"; the engine also
            // accepts those strings in any ASCII case.
            Test::Bool(b) => {
                let re: String = b
                    .to_string()
                    .chars()
                    .map(|c| format!("[{}{c}]", c.to_ascii_uppercase()))
                    .collect();
                format!("isnotnull(mvfind({f}, {}))", string(&format!("\\A{re}\\z")))
            }
            Test::Null | Test::Exists(_) if array => {
                return Err(Unsupported::new(
                    format!("`null`/`exists` on the multi-valued field `{}`", col.name),
                    "Splunk extracts no field for an empty JSON array, so an empty array and a \
                     missing field cannot be told apart",
                    pred.span,
                ));
            }
            Test::Null | Test::Exists(false) => format!("isnull({f})"),
            Test::Exists(true) => format!("isnotnull({f})"),
            Test::Cidr(net) => values(format!(
                "isnotnull({f}) AND cidrmatch({}, trim({f}))",
                string(&net.to_string())
            )),
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        })
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
        let mut q = String::from("search");
        for key in ["index", "sourcetype", "source"] {
            if let Some(v) = logsource.get(key) {
                q.push_str(&format!(" {key}={}", search_value(v)));
            }
        }
        if q == "search" {
            q.push_str(" *");
        }
        format!("{q} | where {condition}")
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        let agg = match c.kind {
            Kind::EventCount => "count",
            Kind::ValueCount | Kind::Temporal => "dc",
            Kind::Sum => "sum",
            Kind::Avg => "avg",
            Kind::TemporalOrdered => {
                return Err(c.refuse_type(
                    "SPL has no sequence state machine (`streamstats` cannot carry one partial \
                     sequence per step); compile ordered sequences to eql or kql",
                ));
            }
            Kind::Percentile(_) | Kind::Median => {
                return Err(c.refuse_type(
                    "Splunk's `perc`/`median` are approximate above 1,000 values and do not \
                     interpolate between ranks as the engine does",
                ));
            }
            Kind::FirstSeen { .. } => "",
            Kind::Baseline { .. } => {
                return Err(c.refuse_type(
                    "baselines are not compiled to spl yet (they need the group's empty windows \
                     as zeros, which `bin` + `stats` do not produce)",
                ));
            }
        };
        c.refuse_arrays()?;
        let n = c.group_names.len();
        let groups: Vec<String> = (0..n).map(|g| format!("aisigma_g{g}")).collect();
        // Per input: its search, its rule number, its group values and aggregated value.
        let mut subsearches = Vec::new();
        for (i, input) in c.inputs.iter().enumerate() {
            let mut evals = vec![format!("aisigma_rule={i}")];
            for (g, col) in input.group.iter().enumerate() {
                evals.push(format!("aisigma_g{g}={}", field(&col.name, c.span)?));
            }
            if let Some(col) = &input.field {
                let f = field(&col.name, c.span)?;
                evals.push(match c.kind {
                    Kind::ValueCount | Kind::FirstSeen { .. } => format!("aisigma_v={f}"),
                    _ => format!("aisigma_v=tonumber({f})"),
                });
            }
            subsearches.push(format!("{} | eval {}", input.query, evals.join(", ")));
        }
        let mut q = if subsearches.len() == 1 {
            subsearches.remove(0)
        } else {
            let parts: Vec<String> = subsearches.iter().map(|s| format!("[{s}]")).collect();
            format!("| multisearch {}", parts.join(" "))
        };
        if n > 0 {
            let present: Vec<String> = groups.iter().map(|g| format!("isnotnull({g})")).collect();
            let _ = write!(q, " | where {}", present.join(" AND "));
        }
        let by = if n > 0 {
            format!(" by {}", groups.join(" "))
        } else {
            String::new()
        };
        if let Kind::FirstSeen { learning } = c.kind {
            return Ok(first_seen(c, q, &by, learning));
        }
        let arg = match c.kind {
            Kind::EventCount => String::new(),
            Kind::Temporal => "(aisigma_rule)".into(),
            _ => "(aisigma_v)".into(),
        };
        let value = match c.kind {
            // A sum over no numbers is 0 in the engine, null in Splunk.
            Kind::Sum => "coalesce(aisigma_value, 0)",
            _ => "aisigma_value",
        };
        let _ = write!(
            q,
            " | sort 0 _time | streamstats time_window={} {agg}{arg} as aisigma_value{by} \
             | eval aisigma_hold=if({}, 1, 0) \
             | streamstats current=f window=1 global=f last(aisigma_hold) as aisigma_prev{by} \
             | where aisigma_hold=1 AND coalesce(aisigma_prev, 0)=0",
            c.span_in(&DAYS_TO_MS[..4]),
            c.condition(value, "AND", "!=", "=="),
        );
        finish(&mut q, c, "aisigma_value");
        Ok(Rendered {
            query: q,
            warnings: vec![(
                "a `streamstats` window holds at most `max_stream_window` events (10,000 by \
                 default), even with `time_window`"
                    .to_string(),
                "a group with more events than that in one timespan is counted (or summed) \
                 over its latest 10,000 only; raise `max_stream_window` in limits.conf \
                 [default] for busier groups"
                    .to_string(),
            )],
            ..Rendered::default()
        })
    }
}

/// The alerts' columns: the time, the group values under their `group-by` names, and `value`.
fn finish(q: &mut String, c: &Correlation, value: &str) {
    let mut table = vec!["_time".to_string()];
    for (g, name) in c.group_names.iter().enumerate() {
        let _ = write!(q, " | rename aisigma_g{g} AS {}", string(name));
        table.push(string(name));
    }
    table.push(value.into());
    let _ = write!(q, " | table {}", table.join(" "));
}

/// `first_seen` per input: the value is new when no earlier input of the group had it in the
/// last timespan (`streamstats current=f time_window=T count by group, value`), and the group
/// is past its first input and its learning time (`streamstats count min(_time) by group`).
fn first_seen(c: &Correlation, mut q: String, by: &str, learning_ms: i64) -> Rendered {
    let by_value = if by.is_empty() {
        " by aisigma_v".to_string()
    } else {
        format!("{by} aisigma_v")
    };
    let _ = write!(
        q,
        " | where isnotnull(aisigma_v) | sort 0 _time \
         | streamstats current=f time_window={} count as aisigma_known{by_value} \
         | streamstats count as aisigma_n min(_time) as aisigma_first{by} \
         | where coalesce(aisigma_known, 0)=0 AND aisigma_n > 1 AND _time - aisigma_first >= {}",
        c.span_in(&DAYS_TO_MS[..4]),
        number(learning_ms as f64 / 1000.0)
    );
    finish(&mut q, c, "aisigma_v");
    Rendered {
        query: q,
        warnings: vec![(
            "`first_seen` knows only the values inside the search's time range".to_string(),
            "schedule the search over at least the timespan plus the learning time (the \
             savedsearches format does); a value last seen before the range counts as new"
                .to_string(),
        )],
        ..Rendered::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(
            field("gen_ai.request.model", Span::default()).unwrap(),
            "'gen_ai.request.model'"
        );
        assert!(field("a'b", Span::default()).is_err());
    }
}
