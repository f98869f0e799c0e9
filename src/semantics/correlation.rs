//! Correlations across files: every rule a correlation references, resolved by id or name;
//! the fields it reads, checked against each input's schema; and its plan, what it computes
//! over its inputs ([`Plan`]), which the engine runs and the backends render.

use crate::report::diagnostic::{Code, Diagnostic, did_you_mean, suggest};
use crate::semantics::checked::FileResult;
use crate::semantics::schema::Schema;
use crate::semantics::typecheck::Scope;
use crate::syntax::ast::{Body, CmpOp, Correlation};
use std::collections::HashMap;

/// What a baseline aggregates per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    Sum,
    Avg,
    Max,
    Distinct,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    Sum,
    Avg,
    Percentile(f64),
    Median,
    Baseline {
        agg: Agg,
        history: usize,
        min_history: usize,
        min_value: Option<f64>,
    },
    FirstSeen {
        learning: i64,
    },
}

/// A correlation ready to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// The nodes it reads, in the order of `rules`.
    pub inputs: Vec<usize>,
    pub group_names: Vec<String>,
    /// `group_fields[i][g]`: the field of input `i` that holds group-by value `g`.
    pub group_fields: Vec<Vec<String>>,
    pub timespan: i64,
    pub bounds: Vec<(CmpOp, f64)>,
    pub field: Option<String>,
}

/// The plan of a correlation whose `rules` resolved to `inputs` (with their id and name).
pub fn plan(
    c: &Correlation,
    inputs: Vec<usize>,
    refs: &[(Option<String>, Option<String>)],
    label: &str,
) -> Result<Plan, String> {
    let timespan = c
        .timespan
        .as_ref()
        .and_then(|t| crate::syntax::correlation::timespan_ms(&t.value))
        .ok_or_else(|| format!("correlation `{label}` has no valid timespan"))?;
    let cond = c.condition.as_ref();
    if let Some(e) = cond.and_then(|c| c.expression.as_ref()) {
        return Err(format!(
            "correlation `{label}`: boolean conditions over rule names (`{}`) are not evaluated yet",
            e.value
        ));
    }
    let bounds = cond.map(|c| c.bounds.clone()).unwrap_or_default();
    let field = cond.and_then(|c| c.field.as_ref()).map(|f| f.value.clone());
    let kind = match c.kind.value.as_str() {
        "event_count" => Kind::EventCount,
        "value_count" => Kind::ValueCount,
        "temporal" => Kind::Temporal,
        "temporal_ordered" => Kind::TemporalOrdered,
        "value_sum" => Kind::Sum,
        "value_avg" => Kind::Avg,
        "value_median" => Kind::Median,
        "value_percentile" => Kind::Percentile(cond.and_then(|c| c.percentile).unwrap_or(50.0)),
        "baseline" => {
            let b = c
                .baseline
                .as_ref()
                .ok_or_else(|| format!("correlation `{label}` has no baseline"))?;
            let agg = match b.aggregate.as_ref().map(|a| a.value.as_str()) {
                Some("count") => Agg::Count,
                Some("sum") => Agg::Sum,
                Some("avg") => Agg::Avg,
                Some("max") => Agg::Max,
                Some("distinct") => Agg::Distinct,
                _ => return Err(format!("correlation `{label}` has no baseline aggregate")),
            };
            Kind::Baseline {
                agg,
                history: b.history as usize,
                min_history: (b.min_history as usize).max(1),
                min_value: b.min_value,
            }
        }
        "first_seen" => Kind::FirstSeen {
            learning: c
                .baseline
                .as_ref()
                .and_then(|b| b.learning.as_ref())
                .and_then(|l| crate::syntax::correlation::timespan_ms(&l.value))
                .unwrap_or(0),
        },
        other => return Err(format!("correlation type `{other}` is unknown")),
    };
    let field = match &kind {
        Kind::Baseline { .. } => c
            .baseline
            .as_ref()
            .and_then(|b| b.field.as_ref())
            .map(|f| f.value.clone()),
        _ => field,
    };
    let group_names: Vec<String> = c.group_by.iter().map(|g| g.value.clone()).collect();
    // An alias names, per rule, the field that holds its value.
    let group_fields = refs
        .iter()
        .map(|(id, name)| {
            group_names
                .iter()
                .map(|g| {
                    c.aliases
                        .iter()
                        .find(|a| a.name.value == *g)
                        .and_then(|a| {
                            a.fields.iter().find(|(r, _)| {
                                name.as_deref() == Some(r.value.as_str())
                                    || id.as_deref() == Some(r.value.to_lowercase().as_str())
                            })
                        })
                        .map_or_else(|| g.clone(), |(_, f)| f.value.clone())
                })
                .collect()
        })
        .collect();
    Ok(Plan {
        kind,
        inputs,
        group_names,
        group_fields,
        timespan,
        bounds,
        field,
    })
}

/// The id (lower-cased) and name of a document, for references.
pub fn keys_of(doc: &crate::syntax::ast::Doc) -> (Option<String>, Option<String>) {
    (
        doc.meta.id.as_ref().map(|i| i.value.to_lowercase()),
        doc.meta.name.as_ref().map(|n| n.value.clone()),
    )
}

/// Does a correlation of this type (or baseline aggregate) need a numeric field?
fn needs_number(c: &Correlation) -> bool {
    match c.kind.value.as_str() {
        "value_sum" | "value_avg" | "value_percentile" | "value_median" => true,
        "baseline" => c
            .baseline
            .as_ref()
            .and_then(|b| b.aggregate.as_ref())
            .is_some_and(|a| matches!(a.value.as_str(), "sum" | "avg" | "max")),
        _ => false,
    }
}

/// Every document by its id (lower-cased) and its `name`; the first one wins.
pub fn index(results: &[FileResult]) -> HashMap<String, (usize, usize)> {
    let mut by_key = HashMap::new();
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            if let Some(id) = &cd.doc.meta.id {
                by_key.entry(id.value.to_lowercase()).or_insert((fi, di));
            }
            if let Some(n) = &cd.doc.meta.name {
                by_key.entry(n.value.clone()).or_insert((fi, di));
            }
        }
    }
    by_key
}

/// The document a correlation's `rules` entry names: a `name`, or an id in any case.
pub fn resolve<'a>(
    index: &'a HashMap<String, (usize, usize)>,
    reference: &str,
) -> Option<&'a (usize, usize)> {
    index
        .get(reference)
        .or_else(|| index.get(&reference.to_lowercase()))
}

/// Type checks across files: every field a correlation reads (its `group-by` fields, through
/// aliases, and the field it aggregates) must exist in the schema of each rule it
/// references, numeric where it is summed or averaged; a correlation over correlations can
/// group only by their `group-by` fields, which is all their alerts carry.
pub fn field_findings(results: &[FileResult], schema: &Schema) -> Vec<(usize, Diagnostic)> {
    let by_key = index(results);
    let mut extra: Vec<(usize, Diagnostic)> = Vec::new();
    for (fi, r) in results.iter().enumerate() {
        for cd in &r.docs {
            let Some(Body::Correlation(c)) = &cd.doc.body else {
                continue;
            };
            let value_field = match c.kind.value.as_str() {
                "baseline" => c.baseline.as_ref().and_then(|b| b.field.as_ref()),
                _ => c.condition.as_ref().and_then(|x| x.field.as_ref()),
            };
            for rf in &c.rules {
                let Some(&(tf, td)) = resolve(&by_key, &rf.value) else {
                    continue;
                };
                let tdoc = &results[tf].docs[td].doc;
                let alias_of = |g: &str| {
                    c.aliases
                        .iter()
                        .find(|a| a.name.value == g)
                        .and_then(|a| a.fields.iter().find(|(r, _)| r.value == rf.value))
                        .map(|(_, f)| f.clone())
                };
                match &tdoc.body {
                    Some(Body::Correlation(inner)) => {
                        let carried: Vec<&str> =
                            inner.group_by.iter().map(|g| g.value.as_str()).collect();
                        for g in &c.group_by {
                            let f = alias_of(&g.value).unwrap_or_else(|| g.clone());
                            if !carried.contains(&f.value.as_str()) {
                                extra.push((fi, Diagnostic::new(
                                    Code::InvalidCorrelation,
                                    f.span,
                                    format!("`{}` is not a group-by field of correlation `{}`, whose alerts carry only {}", f.value, tdoc.label(), if carried.is_empty() { "their time".to_string() } else { carried.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ") }),
                                ).with_help("group a correlation over correlations by the fields they group by")));
                            }
                        }
                    }
                    Some(Body::Detection(_)) => {
                        let mut ignore = crate::report::diagnostic::Diagnostics::default();
                        let Some(scope) = tdoc
                            .meta
                            .logsource
                            .as_ref()
                            .and_then(|ls| Scope::of(schema, ls, &mut ignore))
                        else {
                            continue;
                        };
                        let mut fields: Vec<(crate::syntax::span::Spanned<String>, &str)> = c
                            .group_by
                            .iter()
                            .map(|g| (alias_of(&g.value).unwrap_or_else(|| g.clone()), "group-by"))
                            .collect();
                        if let Some(v) = value_field {
                            fields.push((v.clone(), "aggregated"));
                        }
                        for (f, role) in fields {
                            match scope.type_of(&f.value) {
                                None => {
                                    let names = scope.schema.field_names(&scope.category);
                                    let sugg = suggest(&f.value, names.iter().copied(), 3);
                                    extra.push((fi, Diagnostic::new(
                                        Code::UnknownField,
                                        f.span,
                                        format!("{role} field `{}` does not exist in category `{}` of rule `{}`", f.value, scope.category, tdoc.label()),
                                    ).with_help(did_you_mean(&sugg).unwrap_or_else(|| format!("run `aisigma schema --category {}` to list the fields", scope.category)))));
                                }
                                Some(t)
                                    if role == "aggregated"
                                        && needs_number(c)
                                        && !t.base.is_numeric() =>
                                {
                                    extra.push((fi, Diagnostic::new(
                                        Code::InvalidCorrelation,
                                        f.span,
                                        format!("`{}` is of type {t} in category `{}`: a `{}` correlation needs a number", f.value, scope.category, c.kind.value),
                                    )));
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    extra
}

/// The detection documents that only serve as inputs of correlations: referenced by a
/// correlation without `generate: true`, and by none with it. Sigma does not emit such rules
/// on their own; `compile` and `scan` leave them out (their correlation uses them).
pub fn hidden_inputs(results: &[FileResult]) -> std::collections::HashSet<(usize, usize)> {
    let by_key = index(results);
    let mut hidden = std::collections::HashSet::new();
    let mut shown = std::collections::HashSet::new();
    for r in results {
        for cd in &r.docs {
            let Some(Body::Correlation(c)) = &cd.doc.body else {
                continue;
            };
            for rf in &c.rules {
                let Some(&at) = resolve(&by_key, &rf.value) else {
                    continue;
                };
                if results[at.0].docs[at.1].doc.detection().is_none() {
                    continue;
                }
                if c.generate {
                    shown.insert(at);
                } else {
                    hidden.insert(at);
                }
            }
        }
    }
    hidden.retain(|at| !shown.contains(at));
    hidden
}
