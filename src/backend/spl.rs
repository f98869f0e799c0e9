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
use super::dialect::{Cx, Dialect};
use super::literal::number;
use super::refusal::Unsupported;
use super::text::{Shape, StrTest, any_regex};
use crate::regex::casefold::CaseMode;
use crate::regex::translate::Flavor;
use crate::semantics::correlation::Kind;
use crate::semantics::ir::{Expr, Pred, Test, cidr_forms};
use crate::syntax::sigma_string::{Part, SigmaString};
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

/// The `index=… sourcetype=… source=…` terms that select a log source, or the search macro
/// that stands for them (`macro`, set by the splunk-app format: see [`with_macros`]).
pub fn logsource_terms(logsource: &BTreeMap<String, String>) -> String {
    if let Some(m) = logsource.get("macro")
        && !m.is_empty()
        && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return format!("`{m}`");
    }
    ["index", "sourcetype", "source"]
        .iter()
        .filter_map(|key| Some(format!("{key}={}", search_value(logsource.get(*key)?))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A Splunk app's log-source macros: one per category of `mapping` (and its default), named
/// `<prefix>_<category>`, as (name, category, the terms it
/// stands for), and the mapping whose queries use them.
pub fn with_macros(
    mapping: &crate::backend::mapping::Mapping,
    prefix: &str,
) -> (
    crate::backend::mapping::Mapping,
    Vec<(String, String, String)>,
) {
    let name = |category: &str| {
        format!("{prefix}_{category}").replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    };
    let mut out = mapping.clone();
    let mut macros = Vec::new();
    let mut add = |category: &str, l: &mut BTreeMap<String, String>| {
        let terms = logsource_terms(l);
        if !terms.is_empty() {
            l.insert("macro".into(), name(category));
            macros.push((name(category), category.to_string(), terms));
        }
    };
    for (category, l) in out.logsources.iter_mut() {
        add(category, l);
    }
    add("default", &mut out.default_logsource);
    macros.sort();
    (out, macros)
}

/// A `search` term value (index, sourcetype): bare when it is a plain word, else quoted with
/// `"` and `\` escaped; control characters and `$` are not allowed (checked by the caller).
fn search_value(s: &str) -> String {
    let bare = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '*'));
    if bare { s.to_string() } else { string(s) }
}

/// A field name the search language reads bare: an identifier with dots.
fn search_field(name: &str) -> Option<&str> {
    let mut cs = name.chars();
    let ok = cs
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        // The search language's operators (upper case only) and its term functions.
        && !matches!(name, "AND" | "OR" | "NOT" | "XOR" | "IN" | "TERM" | "CASE");
    ok.then_some(name)
}

/// A value the base search compares exactly (case-insensitively, as the engine): printable
/// ASCII, as JSON writes it into the raw event, whose terms the index looks up; no `*`
/// (a wildcard the search language cannot escape), no backtick (a macro) and no `$` (a token
/// of a saved search). With `leading_wildcard` (the index is not consulted for the value's
/// first term), also characters outside ASCII that have no case (such as `windash`'s dashes),
/// which a JSON writer may escape in the raw event.
fn search_text(s: &str, leading_wildcard: bool) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            let caseless_other = leading_wildcard
                && !c.is_ascii()
                && !c.is_control()
                && c.to_lowercase().eq(c.to_uppercase());
            (('\x20'..='~').contains(&c) || caseless_other) && !matches!(c, '*' | '`' | '$')
        })
}

/// A case-insensitive pattern as an eval test of one value `v` of the field (inside
/// `mvfilter`): `lower(v)="x"` for a whole value, `like(lower(v), "%x_")` for wildcards
/// (`*` is `%`, `?` is `_`). `None` where that would not be exact: a letter outside ASCII
/// (what `lower` does to it is not documented), `$` (a saved search's token delimiter), a
/// backtick (a macro), and under `not` a literal `%` or `_` in a wildcard pattern (`like`
/// has no escape for its wildcards, so the test matches more).
fn eval_test(v: &str, p: &SigmaString, negated: bool) -> Option<String> {
    let mut pattern = String::new();
    let mut plain = true;
    let mut like_wildcard = false;
    for part in &p.parts {
        match part {
            Part::Lit(l) => {
                for c in l.chars() {
                    let cased = c.to_lowercase().ne(c.to_uppercase());
                    if matches!(c, '$' | '`') || c.is_control() || (!c.is_ascii() && cased) {
                        return None;
                    }
                    like_wildcard |= matches!(c, '%' | '_');
                    pattern.push(c.to_ascii_lowercase());
                }
            }
            Part::AnyRun => {
                plain = false;
                pattern.push('%');
            }
            Part::AnyOne => {
                plain = false;
                pattern.push('_');
            }
            Part::Placeholder(_) => return None,
        }
    }
    if plain {
        return Some(format!("lower({v})={}", string(&pattern)));
    }
    // A literal `%` or `_` is a wildcard of `like` too: the test then matches more, which
    // only a test outside `not` may.
    if like_wildcard && negated {
        return None;
    }
    Some(format!("like(lower({v}), {})", string(&pattern)))
}

/// The base search of an SPL query: `field="value"`, `field IN (...)` with `*` at the ends of a
/// value, `NOT`, `AND`, `OR`; the conjuncts it cannot express go to `| where`
/// ([`Dialect::search_stage`]).
pub struct SplSearch;

/// Refusal of a construct by the base search: it moves to `| where`, never to the user.
fn not_in_search(span: Span) -> Unsupported {
    Unsupported::new(
        "a test the base search cannot express",
        "it goes to `| where`",
        span,
    )
}

impl Dialect for SplSearch {
    fn name(&self) -> &'static str {
        "spl"
    }

    fn keyword_search_reason(&self) -> &'static str {
        Spl.keyword_search_reason()
    }

    /// Booleans (JSON `true` is extracted as the text `true`, which the search compares
    /// case-insensitively, as the engine does); everything else goes to `| where`.
    fn predicate(&self, col: &Column, pred: &Pred, _cx: Cx) -> Result<String, Unsupported> {
        match (&pred.test, search_field(&col.name)) {
            (Test::Bool(b), Some(f)) => Ok(format!("{f}={b}")),
            _ => Err(not_in_search(pred.span)),
        }
    }

    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        _cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        let f = search_field(&col.name).ok_or_else(|| not_in_search(t.span))?;
        if t.cased {
            return Err(not_in_search(t.span));
        }
        let values: Option<Vec<String>> = t
            .shapes()
            .into_iter()
            .map(|s| {
                let leading = matches!(s, Shape::Contains(_) | Shape::Suffix(_));
                let v = s.text().filter(|v| search_text(v, leading))?;
                Some(string(&match s {
                    Shape::Exact(_) => v.to_string(),
                    Shape::Contains(_) => format!("*{v}*"),
                    Shape::Prefix(_) => format!("{v}*"),
                    Shape::Suffix(_) => format!("*{v}"),
                    Shape::Glob(_) => return None,
                }))
            })
            .collect();
        match values.ok_or_else(|| not_in_search(t.span))?.as_slice() {
            [one] => Ok(format!("{f}={one}")),
            many => Ok(format!("{f} IN ({})", many.join(", "))),
        }
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
}

/// The base-search terms implied by a conjunct left to `| where` ([`Dialect::implied_term`]),
/// each one self-contained (a field test, or an `OR` group in parentheses), to be joined by
/// spaces (the search's implied `AND`).
fn implied_terms(
    e: &Expr,
    map: &dyn Fn(&str, Span) -> Result<Column, Unsupported>,
) -> Option<Vec<String>> {
    match e {
        Expr::Pred(p) => implied_by_pred(p, map).map(|t| vec![t]),
        Expr::And(items) => {
            let terms: Vec<String> = items
                .iter()
                .filter_map(|x| implied_terms(x, map))
                .flatten()
                .collect();
            (!terms.is_empty()).then_some(terms)
        }
        Expr::Or(items) | Expr::AtLeast(_, items) => {
            if matches!(e, Expr::AtLeast(0, _)) {
                return None;
            }
            // The search command evaluates OR before AND, implied or written: `a b OR c` is
            // `a AND (b OR c)` (Splunk Search Manual, "Boolean expressions with logical
            // operators"). So an operand of several terms is parenthesised.
            let mut alternatives: Vec<String> = Vec::new();
            for x in items {
                let terms = implied_terms(x, map)?;
                let alt = match terms.len() {
                    1 => terms.join(""),
                    _ => format!("({})", terms.join(" ")),
                };
                if !alternatives.contains(&alt) {
                    alternatives.push(alt);
                }
            }
            Some(vec![match alternatives.len() {
                1 => alternatives.join(""),
                _ => format!("({})", alternatives.join(" OR ")),
            }])
        }
        Expr::Not(_) => None,
    }
}

/// The base-search term implied by one predicate (see [`implied_terms`]).
fn implied_by_pred(
    p: &Pred,
    map: &dyn Fn(&str, Span) -> Result<Column, Unsupported>,
) -> Option<String> {
    let col = map(p.field.as_deref()?, p.span).ok()?;
    let f = search_field(&col.name)?;
    if let Test::Str { pattern, .. } = &p.test {
        let t = StrTest {
            patterns: vec![pattern.clone()],
            cased: false,
            span: p.span,
        };
        if let Ok(s) = SplSearch.strings(&col, &t, Cx::default(), &mut Vec::new()) {
            return Some(s);
        }
    }
    // A number, an address or a boolean needs the field to have a value.
    if matches!(
        p.test,
        Test::Num { .. } | Test::Cidr(_) | Test::Bool(_) | Test::Exists(true)
    ) {
        return Some(format!("{f}=*"));
    }
    if !matches!(p.test, Test::Str { .. } | Test::Regex { .. }) {
        return None;
    }
    let noise = crate::semantics::literals::Noise::default();
    let clause = crate::semantics::literals::value_literals(p, &noise)
        .into_iter()
        .next()?;
    let values: Option<Vec<String>> = clause
        .iter()
        .map(|l| search_text(l, true).then(|| string(&format!("*{l}*"))))
        .collect();
    match values?.as_slice() {
        [one] => Some(format!("{f}={one}")),
        many => Some(format!("{f} IN ({})", many.join(", "))),
    }
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
fn mvfind(f: &str, source: &str, span: Span, loose: bool) -> Result<String, Unsupported> {
    let (re, unicode) =
        super::literal::search_regex_unicode(source, Flavor::Pcre, "Splunk's PCRE", span, loose)?;
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

    /// String tests in `| where` (what the base search cannot express): `lower(v)="x"` and
    /// `like(lower(v), "%x%")` over the values (`mvfilter`, so any value of a multi-valued
    /// field), or, for what those cannot write exactly (cased patterns, `%` or `_` in a value,
    /// letters outside ASCII, `$`), one PCRE through `mvfind`, with the ASCII letters folded
    /// unless cased.
    fn strings(
        &self,
        col: &Column,
        t: &StrTest,
        cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        let f = field(&col.name, t.span)?;
        let tests: Option<Vec<String>> = (!t.cased)
            .then(|| {
                t.patterns
                    .iter()
                    .map(|p| eval_test(&f, p, cx.negated))
                    .collect()
            })
            .flatten();
        if let Some(tests) = tests {
            // Several whole values: one `in(lower(v), "a", "b")` (eval's `in` function).
            let prefix = format!("lower({f})=");
            let (exact, other): (Vec<&String>, Vec<&String>) =
                tests.iter().partition(|t| t.starts_with(&prefix));
            let mut parts: Vec<String> = other.into_iter().cloned().collect();
            if exact.len() > 1 {
                let values: Vec<&str> = exact.iter().map(|t| &t[prefix.len()..]).collect();
                parts.insert(0, format!("in(lower({f}), {})", values.join(", ")));
            } else {
                parts.splice(0..0, exact.into_iter().cloned());
            }
            return Ok(format!("isnotnull(mvfilter({}))", parts.join(" OR ")));
        }
        let case = (!t.cased).then_some(CaseMode::Ascii);
        mvfind(&f, &any_regex(t, case, true), t.span, true)
    }

    fn search_stage(&self) -> Option<&'static dyn Dialect> {
        Some(&SplSearch)
    }

    /// A base-search term implied by a conjunct left to `| where`: for a regex or wildcard
    /// pattern, the literals its matches must contain (`field IN ("*lit*", ...)`, compared by
    /// the search on the extracted value, case-insensitively: a superset); for string tests
    /// the base search can write, those; for a number, an address or a boolean, `field=*`;
    /// through `and` any operand's, through `or` all of them. `where` still decides exactly.
    fn implied_term(
        &self,
        e: &Expr,
        map: &dyn Fn(&str, Span) -> Result<Column, Unsupported>,
    ) -> Option<String> {
        implied_terms(e, map).map(|terms| terms.join(" "))
    }

    fn predicate(&self, col: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported> {
        let f = field(&col.name, pred.span)?;
        let array = col.ty.is_some_and(|t| t.array);
        // A scalar test `t` on every value of a multi-valued field, or on the one value.
        Ok(match &pred.test {
            Test::Str { pattern, cased } => mvfind(
                &f,
                &pattern.to_search_regex(crate::backend::literal::unicode_case(*cased)),
                pred.span,
                false,
            )?,
            Test::Regex { pattern, flags } => mvfind(
                &f,
                &cx.regex_source(pattern, *flags),
                pred.span,
                cx.loose_case(),
            )?,
            // A comparison with a null operand is null, which `where` and `mvfilter` drop;
            // only under `not` must a missing value be made false first (`isnotnull`).
            Test::Num { op, value, .. } => {
                let cmp = format!("tonumber({f}) {} {}", op.symbol(), number(*value));
                match (array, cx.negated) {
                    (true, _) => format!("isnotnull(mvfilter({cmp}))"),
                    (false, true) => format!("(isnotnull(tonumber({f})) AND {cmp})"),
                    (false, false) => cmp,
                }
            }
            // JSON booleans are extracted as the strings "true"/"false"; the engine also
            // accepts those strings in any ASCII case.
            // JSON booleans are extracted as the text `true`/`false`; the engine also reads
            // those strings in any ASCII case.
            Test::Bool(b) => format!("isnotnull(mvfilter(lower({f})=\"{b}\"))"),
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
            Test::Cidr(net) => {
                // Each form of the range: an IPv4 range also as its mapped IPv6 range.
                let any: Vec<String> = cidr_forms(net)
                    .iter()
                    .map(|n| format!("cidrmatch({}, trim({f}))", string(&n.to_string())))
                    .collect();
                let any = if any.len() == 1 {
                    any.join("")
                } else {
                    format!("({})", any.join(" OR "))
                };
                match (array, cx.negated) {
                    (true, _) => format!("isnotnull(mvfilter({any}))"),
                    (false, true) => format!("(isnotnull({f}) AND {any})"),
                    (false, false) => any,
                }
            }
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

    /// `search <index, sourcetype, source> <base-search terms> | where <condition>`; the terms
    /// are the stage of [`SplSearch`], and `| where` is left out when nothing is left for it.
    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        stages: &[String],
    ) -> String {
        let mut q = String::from("search");
        let terms = logsource_terms(logsource);
        if !terms.is_empty() {
            q.push(' ');
            q.push_str(&terms);
        }
        for s in stages {
            q.push(' ');
            q.push_str(s);
        }
        if q == "search" {
            q.push_str(" *");
        }
        if condition.is_empty() {
            q
        } else {
            format!("{q} | where {condition}")
        }
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
    fn search_operators_are_not_field_names() {
        assert_eq!(
            search_field("gen_ai.request.model"),
            Some("gen_ai.request.model")
        );
        for op in ["OR", "AND", "NOT", "IN", "XOR", "TERM", "CASE", "a-b", "1a"] {
            assert_eq!(search_field(op), None, "{op}");
        }
        // Lower case is a field: the operators must be capitalized.
        assert_eq!(search_field("or"), Some("or"));
    }

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
