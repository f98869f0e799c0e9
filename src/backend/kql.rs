//! Microsoft Sentinel KQL: `<Table> | where <condition>`, one custom table per category.
//!
//! - A case-sensitive plain value is `==`; a case-sensitive `*x*`, `x*`, `*x` is
//!   `contains_cs` / `startswith_cs` / `endswith_cs` (ordinal, exact). A value whose
//!   characters have no case is compared the same way whatever the rule's case mode.
//! - Every other string test is `matches regex`. Kusto's regex engine is the Rust `regex`
//!   crate, which aisigma's engine uses too; the pattern is rendered from the rule's meaning
//!   ([`crate::regex::translate`], [`crate::regex::translate::Flavor::Rust`]), with case folding
//!   written out, so no undocumented folding of Kusto's `=~`/`has`/`contains` enters.
//! - Numbers: `>`, `>=`, `==`, ... (`todouble()` on columns the schema does not type as
//!   numbers); booleans: `== true`; `cidr`: `ipv4_is_in_range` / `ipv6_is_in_range` on values
//!   that are plain addresses; `null`/`exists`: `isempty` / `isnotempty`.
//! - A custom table's string column holds `""` for a missing value, so a missing string field
//!   and an empty one are the same to every query (documented in docs/backends.md). Other
//!   columns are `null` when missing, and KQL's logic is three-valued (`not(null)` is `null`,
//!   which `where` drops): under `not`, every such predicate is guarded with
//!   `isnotnull(c) and ...`.
//!
//! - A test on a field the schema types as an array (a `dynamic` column) means "some element
//!   matches": an `mv-apply` stage before the `where` counts the matching elements.
//!
//! Correlations (`summarize ... by bin(TimeGenerated, T)`) count over fixed windows aligned
//! to the epoch, not the engine's sliding ones: compiled with an `AIS803` warning.
//! `value_count` and `temporal` use the exact `count_distinct()`, percentiles and medians are
//! computed exactly from the sorted values (`make_list_if` + `array_sort_asc`, interpolated as
//! the engine does), not with the approximate `percentile()`.
//!
//! Refused: keyword searches, field references, date parts and placeholders.

use super::column::Column;
use super::correlation::{Correlation, DAYS_TO_MS, Rendered};
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::refusal::Unsupported;
use super::text::{Shape, StrTest};
use crate::regex::casefold::CaseMode;
use crate::regex::translate::{self, Flavor};
use crate::semantics::correlation::{Agg, Kind};
use crate::semantics::ir::{Pred, Test, cidr_forms};
use crate::semantics::schema::BaseType;
use crate::syntax::sigma_string::{Part, SigmaString};
use crate::syntax::span::Span;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Kql;

/// A KQL string literal: `"` and `\` escaped, line breaks and tabs as `\n` `\r` `\t`, other
/// control and line-separator characters as `\uXXXX`.
pub fn string(s: &str) -> String {
    super::literal::quote(s, |c, o| {
        if super::literal::common_escape(c, o) {
            return true;
        }
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            let _ = write!(o, "\\u{:04x}", c as u32);
            return true;
        }
        false
    })
}

/// Operator words that contain `_` and could be mistaken for a column name.
const UNDERSCORE_KEYWORDS: &[&str] = &[
    "contains_cs",
    "endswith_cs",
    "has_all",
    "has_any",
    "has_cs",
    "hasprefix_cs",
    "hassuffix_cs",
    "in_cs",
    "startswith_cs",
];

/// A column reference: bare when it is an identifier that cannot be a keyword (it contains
/// `_` or an upper-case letter; every KQL keyword is lower case), else `['name']`.
pub fn column(name: &str) -> String {
    let mut cs = name.chars();
    let ident = cs
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let not_keyword = name.contains('_') || name.chars().any(|c| c.is_ascii_uppercase());
    if ident && not_keyword && !UNDERSCORE_KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        let mut o = String::from("['");
        for c in name.chars() {
            match c {
                '\'' => o.push_str("\\'"),
                '\\' => o.push_str("\\\\"),
                c => o.push(c),
            }
        }
        o.push_str("']");
        o
    }
}

/// `c matches regex "..."` for an engine regex source.
fn matches_regex(c: &str, source: &str, span: Span, loose: bool) -> Result<String, Unsupported> {
    let re = super::literal::search_regex(
        source,
        Flavor::Rust,
        "Kusto's regex engine (the Rust regex crate)",
        span,
        loose,
    )?;
    Ok(format!("{c} matches regex {}", string(&re)))
}

/// True if no character of the pattern's literals has a case (digits, punctuation...), so
/// case-insensitive and case-sensitive matching agree.
fn caseless(pattern: &SigmaString) -> bool {
    pattern.parts.iter().all(|p| match p {
        Part::Lit(l) => l.chars().all(|c| {
            let f = translate::fold_closure(c);
            f.ranges().len() == 1 && f.ranges()[0].start() == c && f.ranges()[0].end() == c
        }),
        _ => true,
    })
}

/// A string test with ordinal operators where the pattern allows, else a regex.
fn string_test(
    c: &str,
    pattern: &SigmaString,
    cased: bool,
    span: Span,
) -> Result<String, Unsupported> {
    if cased || caseless(pattern) {
        match &pattern.parts[..] {
            [Part::Lit(l)] => return Ok(format!("{c} == {}", string(l))),
            [Part::AnyRun, Part::Lit(l), Part::AnyRun] => {
                return Ok(format!("{c} contains_cs {}", string(l)));
            }
            [Part::Lit(l), Part::AnyRun] => {
                return Ok(format!("{c} startswith_cs {}", string(l)));
            }
            [Part::AnyRun, Part::Lit(l)] => {
                return Ok(format!("{c} endswith_cs {}", string(l)));
            }
            _ => {}
        }
    }
    matches_regex(
        c,
        &pattern.to_search_regex(crate::backend::literal::unicode_case(cased)),
        span,
        false,
    )
}

impl Dialect for Kql {
    fn name(&self) -> &'static str {
        "kql"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "KQL's `search`/`has` match terms, not the substrings a Sigma keyword means; name \
                 the field"
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let negated = cx.negated;
        if col.ty.is_some_and(|t| t.array) {
            return Err(Unsupported::new(
                format!("a test on the multi-valued field `{}`", col.name),
                "internal: array tests need a pipeline stage (staged_predicate)",
                pred.span,
            ));
        }
        let base = col.ty.map(|t| t.base);
        let c = column(&col.name);
        // Columns that are strings in the table: never null, missing is "".
        let string_column = matches!(base, None | Some(BaseType::String) | Some(BaseType::Ip));
        let as_text = if string_column {
            c.clone()
        } else {
            format!("tostring({c})")
        };
        // The expression whose `null` (missing value, failed conversion) must not reach a
        // `not`: KQL's `not(null)` is `null`, which `where` drops.
        let mut nullable: Option<String> = None;
        let body = match &pred.test {
            Test::Str { .. } | Test::Regex { .. } => {
                let t = match &pred.test {
                    Test::Str { pattern, cased } => {
                        string_test(&as_text, pattern, *cased, pred.span)?
                    }
                    Test::Regex { pattern, flags } => matches_regex(
                        &as_text,
                        &cx.regex_source(pattern, *flags),
                        pred.span,
                        cx.loose_case(),
                    )?,
                    _ => unreachable!("matched above"),
                };
                if string_column {
                    t
                } else {
                    // tostring(null) is "", which a pattern may match: test presence first.
                    format!("(isnotnull({c}) and {t})")
                }
            }
            Test::Num { op, value, .. } => {
                let n = if base.is_some_and(|b| b.is_numeric()) {
                    c.clone()
                } else {
                    format!("todouble({c})")
                };
                let body = format!("{n} {} {}", op.symbol(), number(*value));
                nullable = Some(n);
                body
            }
            Test::Bool(b) => match base {
                Some(BaseType::Bool) => {
                    nullable = Some(c.clone());
                    format!("{c} == {b}")
                }
                // The engine accepts the strings "true"/"false" in any ASCII case;
                // tostring(null) is "", never null.
                _ => format!("tolower(tostring({c})) == \"{b}\""),
            },
            Test::Null | Test::Exists(false) => return Ok(format!("isempty({c})")),
            Test::Exists(true) => return Ok(format!("isnotempty({c})")),
            Test::Cidr(net) => {
                // Each form of the range ([`cidr_forms`]: an IPv4 range also as its mapped
                // IPv6 range), on plain addresses only, as the engine parses them: the range
                // functions also accept prefixes (`10.0.0.0/24`) as the value. coalesce: they
                // return null for a value that is not an address.
                let parts: Vec<String> = cidr_forms(net)
                    .iter()
                    .map(|n| {
                        let n = string(&n.to_string());
                        if n.contains(':') {
                            format!(
                                "({as_text} contains \":\" and not({as_text} contains \"/\") and \
                                 coalesce(ipv6_is_in_range(trim(@\"\\s+\", {as_text}), {n}), false))"
                            )
                        } else {
                            // A dotted quad that reads back as written: what the engine parses
                            // (no prefix, no leading zeros).
                            let t = format!("trim(@\"\\s+\", {as_text})");
                            format!(
                                "(format_ipv4(parse_ipv4({t})) == {t} and \
                                 coalesce(ipv4_is_in_range({t}, {n}), false))"
                            )
                        }
                    })
                    .collect();
                if parts.len() == 1 {
                    parts.into_iter().next().unwrap_or_default()
                } else {
                    format!("({})", parts.join(" or "))
                }
            }
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        };
        Ok(match nullable {
            Some(n) if negated => format!("(isnotnull({n}) and {body})"),
            _ => body,
        })
    }

    /// String tests with KQL's own operators: `=~` / `in~` for whole values, `contains`,
    /// `startswith`, `endswith` (their `_cs` forms and `==` / `in` when cased), and
    /// `matches regex` for other wildcard patterns. On an array column, an `mv-apply` stage
    /// counts the matching elements.
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        cx: Cx,
        stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        if let Some(ty) = col.ty.filter(|t| t.array) {
            let c = column(&col.name);
            let n = stages.len() + 1;
            let element_ty = crate::semantics::schema::FieldType { array: false, ..ty };
            let element = Column {
                name: format!("__v{n}"),
                ty: Some(element_ty),
                caseless: None,
            };
            let element_cx = Cx {
                negated: false,
                ..cx
            };
            let test = self.strings(&element, t, element_cx, &mut Vec::new())?;
            stages.push(format!(
                "mv-apply __v{n} = {c} to typeof({}) on (summarize __p{n} = countif({test}))",
                column_type(element_ty)
            ));
            return Ok(format!("__p{n} > 0"));
        }
        let base = col.ty.map(|t| t.base);
        let c = column(&col.name);
        let string_column = matches!(base, None | Some(BaseType::String) | Some(BaseType::Ip));
        let text = if string_column {
            c.clone()
        } else {
            format!("tostring({c})")
        };
        let cs = if t.cased { "_cs" } else { "" };
        let mut parts = Vec::new();
        let mut exact = Vec::new();
        for shape in t.shapes() {
            match shape {
                Shape::Exact(v) => exact.push(string(&v)),
                Shape::Contains(v) => parts.push(format!("{text} contains{cs} {}", string(&v))),
                Shape::Prefix(v) => parts.push(format!("{text} startswith{cs} {}", string(&v))),
                Shape::Suffix(v) => parts.push(format!("{text} endswith{cs} {}", string(&v))),
                Shape::Glob(p) => {
                    let case = (!t.cased).then_some(CaseMode::Ascii);
                    parts.push(matches_regex(
                        &text,
                        &p.to_search_regex(case),
                        t.span,
                        true,
                    )?);
                }
            }
        }
        if !exact.is_empty() {
            let eq = match (exact.len(), t.cased) {
                (1, false) => format!("{text} =~ {}", exact[0]),
                (1, true) => format!("{text} == {}", exact[0]),
                (_, false) => format!("{text} in~ ({})", exact.join(", ")),
                (_, true) => format!("{text} in ({})", exact.join(", ")),
            };
            parts.insert(0, eq);
        }
        let body = if parts.len() == 1 {
            parts.remove(0)
        } else {
            format!("({})", super::render::chain(self, parts, "or"))
        };
        Ok(if string_column {
            body
        } else {
            // tostring(null) is "", which a pattern may match: test presence first.
            format!("(isnotnull({c}) and {body})")
        })
    }

    /// A test on an array (`dynamic`) column means "some element matches": an `mv-apply`
    /// stage counts the matching elements of each row into `__pN` (zero for a missing or
    /// empty array), and the condition tests `__pN > 0`.
    fn staged_predicate(
        &self,
        col: &Column,
        pred: &Pred,
        cx: Cx,
        stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        let Some(ty) = col.ty.filter(|t| t.array) else {
            return self.predicate(col, pred, cx);
        };
        let c = column(&col.name);
        if matches!(pred.test, Test::Null | Test::Exists(_)) {
            // An array is there when it holds a non-null element (`[]` and `[null]` are not,
            // as for Elasticsearch's `exists`).
            let n = stages.len() + 1;
            stages.push(format!(
                "mv-apply __v{n} = {c} to typeof(dynamic) on (summarize __p{n} = countif(isnotnull(__v{n})))"
            ));
            return Ok(match pred.test {
                Test::Exists(true) => format!("__p{n} > 0"),
                _ => format!("__p{n} == 0"),
            });
        }
        let n = stages.len() + 1;
        let element_ty = crate::semantics::schema::FieldType { array: false, ..ty };
        let element = Column {
            name: format!("__v{n}"),
            ty: Some(element_ty),
            caseless: None,
        };
        let test = self.predicate(
            &element,
            pred,
            Cx {
                negated: false,
                ..cx
            },
        )?;
        stages.push(format!(
            "mv-apply __v{n} = {c} to typeof({}) on (summarize __p{n} = countif({test}))",
            column_type(element_ty)
        ));
        Ok(format!("__p{n} > 0"))
    }

    fn not(&self, inner: &str) -> String {
        format!("not({inner})")
    }

    /// Kusto.Language stops analysing a query nested deeper than about 490 binary operators
    /// (KS245); a flat chain of `or`s nests one level per operand.
    fn max_chain(&self) -> Option<usize> {
        Some(64)
    }

    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        stages: &[String],
    ) -> String {
        let table = logsource
            .get("table")
            .map(String::as_str)
            .unwrap_or("AIEvents_CL");
        let mut q = column(table);
        for s in stages {
            q.push_str(" | ");
            q.push_str(s);
        }
        let _ = write!(q, " | where {condition}");
        if !stages.is_empty() {
            let names: Vec<String> = (1..=stages.len()).map(|n| format!("__p{n}")).collect();
            let _ = write!(q, " | project-away {}", names.join(", "));
        }
        q
    }

    fn correlation(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        c.refuse_arrays()?;
        match c.kind {
            Kind::TemporalOrdered => self.sequence(c),
            Kind::FirstSeen { learning } => self.first_seen(c, learning),
            Kind::Baseline {
                agg,
                history,
                min_history,
                min_value,
            } => self.baseline(c, agg, history, min_history, min_value),
            _ => self.bucketed(c),
        }
    }
}

/// Most values `make_list_if` collects per window (its documented maximum).
const MAX_LIST: u32 = 1_048_576;

/// The inputs of a correlation: each rule's query with its rule number, group values and
/// aggregated value as columns, in one `union` when there are several.
fn correlation_inputs(c: &Correlation) -> String {
    let mut parts = Vec::new();
    for (i, input) in c.inputs.iter().enumerate() {
        let mut ext = vec![format!("aisigma_rule = {i}")];
        for (g, col) in input.group.iter().enumerate() {
            ext.push(format!("aisigma_g{g} = tostring({})", column(&col.name)));
        }
        if let Some(col) = &input.field {
            let f = column(&col.name);
            ext.push(match c.kind {
                Kind::ValueCount
                | Kind::FirstSeen { .. }
                | Kind::Baseline {
                    agg: Agg::Distinct, ..
                } => format!("aisigma_v = tostring({f})"),
                _ => format!("aisigma_v = todouble({f})"),
            });
        }
        parts.push(format!("{} | extend {}", input.query, ext.join(", ")));
    }
    let mut q = if parts.len() == 1 {
        parts.remove(0)
    } else {
        let p: Vec<String> = parts.iter().map(|p| format!("({p})")).collect();
        format!("union {}", p.join(", "))
    };
    if !c.group_names.is_empty() {
        let present: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("isnotempty(aisigma_g{g})"))
            .collect();
        let _ = write!(q, " | where {}", present.join(" and "));
    }
    q
}

/// The group columns renamed to the `group-by` names.
fn group_projection(c: &Correlation) -> Vec<String> {
    c.group_names
        .iter()
        .enumerate()
        .map(|(g, name)| format!("{} = aisigma_g{g}", column(name)))
        .collect()
}

impl Kql {
    /// `temporal_ordered` as a `scan` state machine: one step per rule, evaluated from the
    /// last step to the first for each row, as EQL's sequences. Rows are sorted by group, so
    /// the groups' sequences never interleave, and each step requires the previous step's
    /// group and a start within the timespan.
    fn sequence(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        let span = c.span_in(DAYS_TO_MS);
        let n = c.inputs.len();
        let groups: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("aisigma_g{g}"))
            .collect();
        let mut q = correlation_inputs(c);
        let mut order: Vec<String> = groups.iter().map(|g| format!("{g} asc")).collect();
        order.push("TimeGenerated asc".into());
        // Rows of one event: the later step first, so that an event never moves a sequence
        // two steps.
        order.push("aisigma_rule desc".into());
        let _ = write!(
            q,
            " | sort by {} | scan declare (aisigma_start: datetime, aisigma_done: bool) with (",
            order.join(", ")
        );
        for k in 0..n {
            let mut cond = vec![format!("aisigma_rule == {k}")];
            let assign = if k == 0 {
                "aisigma_start = TimeGenerated".to_string()
            } else {
                let prev = format!("s{k}");
                for g in &groups {
                    cond.push(format!("{g} == {prev}.{g}"));
                }
                cond.push(format!("TimeGenerated - {prev}.aisigma_start <= {span}"));
                format!("aisigma_start = {prev}.aisigma_start")
            };
            let done = if k + 1 == n {
                ", aisigma_done = true"
            } else {
                ""
            };
            let _ = write!(
                q,
                " step s{}: {} => {assign}{done};",
                k + 1,
                cond.join(" and ")
            );
        }
        q.push_str(" ) | where aisigma_done == true");
        let mut cols = vec!["TimeGenerated".to_string()];
        cols.extend(group_projection(c));
        cols.push("aisigma_start".into());
        let _ = write!(q, " | project {}", cols.join(", "));
        Ok(Rendered {
            query: q,
            ..Rendered::default()
        })
    }

    /// `first_seen` per row: sorted by group, value and time, a row's value is known when the
    /// previous row of the same group and value is within the timespan (`prev()`); sorted by
    /// group and time, `row_number` finds the group's first input and `row_window_session`
    /// its first time.
    fn first_seen(&self, c: &Correlation, learning_ms: i64) -> Result<Rendered, Unsupported> {
        let span = c.span_in(DAYS_TO_MS);
        let groups: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("aisigma_g{g}"))
            .collect();
        let same = |cols: &[String]| -> String {
            if cols.is_empty() {
                "true".to_string()
            } else {
                cols.iter()
                    .map(|g| format!("{g} == prev({g})"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            }
        };
        let mut with_value = groups.clone();
        with_value.push("aisigma_v".into());
        let order = |cols: &[String]| -> String {
            let mut o: Vec<String> = cols.iter().map(|g| format!("{g} asc")).collect();
            o.push("TimeGenerated asc".into());
            o.join(", ")
        };
        let mut q = correlation_inputs(c);
        let _ = write!(
            q,
            " | where isnotempty(aisigma_v) \
             | sort by {} \
             | extend aisigma_known = {} and TimeGenerated - prev(TimeGenerated) <= {span} \
             | sort by {} \
             | extend aisigma_n = row_number(1, not({})) \
             | extend aisigma_first = row_window_session(TimeGenerated, 36500d, 36500d, not({})) \
             | where not(aisigma_known) and aisigma_n > 1 \
             and TimeGenerated - aisigma_first >= {}",
            order(&with_value),
            same(&with_value),
            order(&groups),
            same(&groups),
            same(&groups),
            super::correlation::span_text(learning_ms, DAYS_TO_MS),
        );
        let mut cols = vec!["TimeGenerated".to_string()];
        cols.extend(group_projection(c));
        cols.push(format!("{} = aisigma_v", column("value")));
        let _ = write!(q, " | project {}", cols.join(", "));
        let mut warnings = vec![(
            "`first_seen` knows only the values inside the rule's query period".to_string(),
            "the sentinel formats set the query period to the timespan plus the learning time, \
             at most 14 days; a value last seen before the period counts as new"
                .to_string(),
        )];
        if c.timespan + learning_ms > 14 * 86_400_000 {
            warnings.push((
                format!(
                    "the timespan ({}) and learning time need more than the 14 days a Sentinel \
                     scheduled rule may look back",
                    c.timespan_text
                ),
                "values last seen more than 14 days ago count as new, and a group first seen in the last 14 days is learning again: alerts can repeat or be missed; scan or Splunk keep the whole timespan"
                    .to_string(),
            ));
        }
        Ok(Rendered {
            query: q,
            warnings,
            ..Rendered::default()
        })
    }

    /// A baseline over epoch-aligned windows (`bin`): each window's aggregate against the
    /// group's previous `history` windows counted from its first window in the query period,
    /// empty ones as 0 (a left join on the group, summed with `sumif`), as a z-score with the
    /// engine's deviation floor. Only `count`, `sum` and `distinct`: for `avg` and `max` the
    /// engine skips empty windows, which needs the last N non-empty windows per window.
    fn baseline(
        &self,
        c: &Correlation,
        agg: Agg,
        history: usize,
        min_history: usize,
        min_value: Option<f64>,
    ) -> Result<Rendered, Unsupported> {
        let value = match agg {
            Agg::Count => "count()",
            Agg::Sum => "sum(aisigma_v)",
            Agg::Distinct => "count_distinct(aisigma_v)",
            Agg::Avg | Agg::Max => {
                return Err(c.refuse(
                    "an `avg` or `max` baseline",
                    "the engine compares with the group's last non-empty windows, which this \
                     query does not select; `count`, `sum` and `distinct` baselines compile",
                ));
            }
        };
        let span = c.span_in(DAYS_TO_MS);
        let groups: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("aisigma_g{g}"))
            .collect();
        let mut by = groups.clone();
        by.push(format!("aisigma_window = bin(TimeGenerated, {span})"));
        let keys = if groups.is_empty() {
            // One group: join on a constant.
            "aisigma_all".to_string()
        } else {
            groups.join(", ")
        };
        let constant = if groups.is_empty() {
            " | extend aisigma_all = 1"
        } else {
            ""
        };
        let mut q = format!(
            "let aisigma_windows = {} | summarize aisigma_value = {value}, TimeGenerated = \
             max(TimeGenerated) by {}{constant}; ",
            correlation_inputs(c),
            by.join(", ")
        );
        let _ = write!(
            q,
            "let aisigma_firsts = aisigma_windows | summarize aisigma_first = min(aisigma_window) \
             by {keys}; \
             aisigma_windows \
             | join kind=inner aisigma_firsts on {keys} \
             | join kind=leftouter (aisigma_windows | project {keys}, aisigma_hw = aisigma_window, \
             aisigma_hv = todouble(aisigma_value)) on {keys} \
             | extend aisigma_in = isnotnull(aisigma_hw) and aisigma_hw < aisigma_window \
             and aisigma_hw >= aisigma_window - {history} * {span} \
             | summarize aisigma_s = sumif(aisigma_hv, aisigma_in), \
             aisigma_ss = sumif(aisigma_hv * aisigma_hv, aisigma_in) \
             by {keys}, aisigma_window, aisigma_value = todouble(aisigma_value), TimeGenerated, \
             aisigma_first \
             | extend aisigma_n = min_of({history}, toint((aisigma_window - aisigma_first) / {span})) \
             | where aisigma_n >= {min_history}"
        );
        if let Some(m) = min_value {
            let _ = write!(q, " and aisigma_value >= {}", number(m));
        }
        let _ = write!(
            q,
            " | extend aisigma_mean = aisigma_s / aisigma_n \
             | extend aisigma_sd = max_of(sqrt(max_of(aisigma_ss / aisigma_n - aisigma_mean * \
             aisigma_mean, 0.0)), abs(aisigma_mean) / 10.0, 1.0) \
             | extend aisigma_z = (aisigma_value - aisigma_mean) / aisigma_sd \
             | where {}",
            c.condition("aisigma_z", "and", "!=", "==")
        );
        let mut cols = vec!["TimeGenerated".to_string()];
        cols.extend(group_projection(c));
        cols.extend(
            [
                "aisigma_value",
                "aisigma_z",
                "aisigma_mean",
                "aisigma_window",
            ]
            .map(String::from),
        );
        let _ = write!(q, " | project {}", cols.join(", "));
        Ok(Rendered {
            query: q,
            warnings: vec![(
                "the baseline judges each window's aggregate so far when the rule runs, and \
                 the group's history starts at its first window in the query period"
                    .to_string(),
                "the engine alerts at the first event that makes the window an outlier; here a \
                 window alerts when a run finds it one (once per run), and a group seen \
                 before the query period has a shorter history (the sentinel formats read the \
                 history windows plus one)"
                    .to_string(),
            )],
            ..Rendered::default()
        })
    }

    /// Counts, sums, averages and percentiles over fixed windows.
    fn bucketed(&self, c: &Correlation) -> Result<Rendered, Unsupported> {
        let span = c.span_in(DAYS_TO_MS);
        let mut by: Vec<String> = (0..c.group_names.len())
            .map(|g| format!("aisigma_g{g}"))
            .collect();
        by.push(format!("aisigma_window = bin(TimeGenerated, {span})"));
        let by = by.join(", ");
        let mut q = correlation_inputs(c);
        let (agg, post) = match c.kind {
            Kind::EventCount => ("count()".to_string(), None),
            Kind::ValueCount => ("count_distinct(aisigma_v)".to_string(), None),
            Kind::Temporal => ("count_distinct(aisigma_rule)".to_string(), None),
            Kind::Sum => ("sum(aisigma_v)".to_string(), None),
            Kind::Avg => ("avg(aisigma_v)".to_string(), None),
            Kind::Percentile(p) => (String::new(), Some(p)),
            Kind::Median => (String::new(), Some(50.0)),
            _ => unreachable!("handled by the caller"),
        };
        match post {
            None => {
                let _ = write!(
                    q,
                    " | summarize aisigma_value = {agg}, TimeGenerated = max(TimeGenerated) by {by}"
                );
            }
            Some(p) => {
                // The engine's percentile: linear interpolation between the closest ranks.
                let _ = write!(
                    q,
                    " | summarize aisigma_list = make_list_if(aisigma_v, isnotnull(aisigma_v), {MAX_LIST}), \
                     TimeGenerated = max(TimeGenerated) by {by} \
                     | extend aisigma_sorted = array_sort_asc(aisigma_list) \
                     | extend aisigma_n = array_length(aisigma_sorted) \
                     | extend aisigma_rank = {} / 100.0 * (aisigma_n - 1) \
                     | extend aisigma_lo = toint(floor(aisigma_rank, 1)) \
                     | extend aisigma_value = iff(aisigma_lo + 1 < aisigma_n, \
                     todouble(aisigma_sorted[aisigma_lo]) + (todouble(aisigma_sorted[aisigma_lo + 1]) \
                     - todouble(aisigma_sorted[aisigma_lo])) * (aisigma_rank - aisigma_lo), \
                     todouble(aisigma_sorted[aisigma_lo])) \
                     | where aisigma_n > 0",
                    number(p.clamp(0.0, 100.0))
                );
            }
        }
        let value = match c.kind {
            Kind::Sum => "coalesce(aisigma_value, 0.0)",
            _ => "aisigma_value",
        };
        let _ = write!(q, " | where {}", c.condition(value, "and", "!=", "=="));
        let mut cols = vec!["TimeGenerated".to_string()];
        cols.extend(group_projection(c));
        cols.push("aisigma_value".into());
        cols.push("aisigma_window".into());
        let _ = write!(q, " | project {}", cols.join(", "));
        let mut warnings = vec![(
            format!(
                "`{}` is evaluated over fixed windows of {span} (`bin(TimeGenerated, {span})`), not \
                 sliding ones",
                c.type_name()
            ),
            "events that straddle a window boundary are counted in two windows, so a burst the \
             engine alerts on can be missed; one alert per group and window. Schedule the rule \
             every window, or halve the timespan to catch straddling bursts"
                .to_string(),
        )];
        if post.is_some() {
            warnings.push((
                format!(
                    "percentiles are computed from at most {MAX_LIST} values per group and window"
                ),
                "`make_list_if` stops at its maximum size".to_string(),
            ));
        }
        Ok(Rendered {
            query: q,
            warnings,
            ..Rendered::default()
        })
    }
}

/// A Kusto column type for a schema type: what `--format tables` declares.
pub fn column_type(ty: crate::semantics::schema::FieldType) -> &'static str {
    if ty.array {
        return "dynamic";
    }
    match ty.base {
        BaseType::String | BaseType::Ip => "string",
        BaseType::Int => "long",
        BaseType::Float => "real",
        BaseType::Bool => "bool",
        BaseType::Timestamp => "datetime",
        BaseType::Json => "dynamic",
    }
}

/// The custom tables the KQL output queries, for `--format tables`: for every category the
/// mapping gives a `table`, the schema's fields (envelope and category) under their mapped
/// column names, plus Sentinel's required `TimeGenerated`. Two fields that map to one column
/// with different types are an error.
pub fn tables(
    mapping: &super::mapping::Mapping,
    schema: &crate::semantics::schema::Schema,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let product = schema.product("ai");
    for (category, settings) in &mapping.logsources {
        let Some(table) = settings.get("table") else {
            continue;
        };
        let columns = out.entry(table.clone()).or_default();
        columns.insert("TimeGenerated".into(), "datetime".into());
        let Some(p) = product else { continue };
        let mut fields: Vec<(&String, &crate::semantics::schema::FieldDef)> =
            p.envelope.iter().collect();
        if let Some(cat) = p.categories.get(category) {
            fields.extend(cat.fields.iter());
        }
        for (name, def) in fields {
            let Some(col) = mapping.field(name) else {
                continue;
            };
            let ty = column_type(def.ty);
            match columns.get(col.as_ref()) {
                Some(t) if t != ty => {
                    return Err(format!(
                        "{}: fields of category `{category}` map to column `{col}` of table \
                         `{table}` with two types ({t} and {ty})",
                        mapping.source
                    ));
                }
                Some(_) => {}
                None => {
                    columns.insert(col.into_owned(), ty.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// An ARM template that creates the custom `tables` (Microsoft.OperationalInsights
/// `workspaces/tables`, api-version 2025-07-01) and, per table, a data collection rule
/// (Microsoft.Insights `dataCollectionRules`, 2024-03-11, kind `Direct`) whose stream
/// `Custom-<table>` flows into it, for the Logs Ingestion API. Column types are the Tables
/// API's (`dateTime`, `boolean`) and the DCR's (`datetime`, `boolean`).
pub fn tables_arm(tables: &BTreeMap<String, BTreeMap<String, String>>) -> serde_json::Value {
    use serde_json::json;
    let table_type = |t: &str| {
        match t {
            "datetime" => "dateTime",
            "bool" => "boolean",
            other => other,
        }
        .to_string()
    };
    let dcr_type = |t: &str| {
        match t {
            "bool" => "boolean",
            other => other,
        }
        .to_string()
    };
    let mut resources = Vec::new();
    for (table, columns) in tables {
        let cols = |f: &dyn Fn(&str) -> String| -> Vec<serde_json::Value> {
            columns
                .iter()
                .map(|(c, t)| json!({"name": c, "type": f(t)}))
                .collect()
        };
        resources.push(json!({
            "type": "Microsoft.OperationalInsights/workspaces/tables",
            "apiVersion": "2025-07-01",
            "name": format!("[concat(parameters('workspace'), '/{table}')]"),
            "properties": {
                "schema": {"name": table, "columns": cols(&table_type)},
                "plan": "Analytics",
            },
        }));
        let stream = format!("Custom-{table}");
        resources.push(json!({
            "type": "Microsoft.Insights/dataCollectionRules",
            "apiVersion": "2024-03-11",
            "name": format!("aisigma-{}", table.trim_end_matches("_CL").to_lowercase()),
            "location": "[parameters('location')]",
            "kind": "Direct",
            "dependsOn": [format!("[resourceId('Microsoft.OperationalInsights/workspaces/tables', parameters('workspace'), '{table}')]")],
            "properties": {
                "description": format!("aisigma: AI telemetry into {table}"),
                "streamDeclarations": {stream.clone(): {"columns": cols(&dcr_type)}},
                "destinations": {"logAnalytics": [{
                    "workspaceResourceId": "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace'))]",
                    "name": "workspace",
                }]},
                "dataFlows": [{
                    "streams": [stream.clone()],
                    "destinations": ["workspace"],
                    "transformKql": "source",
                    "outputStream": stream,
                }],
            },
        }));
    }
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspace": {"type": "String"},
            "location": {"type": "String", "defaultValue": "[resourceGroup().location]"},
        },
        "resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(column("gen_ai_request_model"), "gen_ai_request_model");
        assert_eq!(column("TimeGenerated"), "TimeGenerated");
        assert_eq!(column("where"), "['where']");
        assert_eq!(column("has_any"), "['has_any']");
        assert_eq!(column("a.b'c"), r"['a.b\'c']");
    }

    #[test]
    fn caseless_values() {
        assert!(caseless(&SigmaString::parse("*10.0.*", false)));
        assert!(!caseless(&SigmaString::parse("*a*", false)));
    }
}
