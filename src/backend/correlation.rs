//! Correlations for the targets. The referenced rules are compiled as the correlation's
//! inputs; what the correlation computes over them (the same [`Plan`] the engine runs) is
//! handed to the target's [`Dialect::correlation`], which renders it or refuses.
//!
//! A target that can only count over fixed time buckets (not the engine's sliding windows)
//! still compiles, with an `AIS803` warning that says how its alerts differ; everything the
//! target cannot express at all is refused with `AIS801`, naming the rule, the construct and
//! the target.

use super::mapping::Mapping;
use super::{Column, Compiled, Dialect, Target, Unsupported};
use crate::engine::correlate::{Kind, Plan};
use crate::report::diagnostic::{Code, Diagnostic};
use crate::semantics::check::FileResult;
use crate::semantics::schema::Schema;
use crate::syntax::ast::{Body, CmpOp};
use crate::syntax::span::Span;
use std::collections::BTreeMap;

/// One referenced rule, compiled for the target.
#[derive(Clone, Debug)]
pub struct Input {
    /// The rule's label (title, name or id), for messages.
    pub label: String,
    /// The rule's complete single-rule query.
    pub query: String,
    /// Its condition alone, and the pipeline stages that must run before it (KQL).
    pub condition: String,
    pub stages: Vec<String>,
    pub logsource: BTreeMap<String, String>,
    /// The fields holding the group-by values (after `aliases`), in `group-by` order.
    pub group: Vec<Column>,
    /// The field a `value_*` correlation aggregates, if any.
    pub field: Option<Column>,
}

/// A correlation over compiled inputs.
#[derive(Clone, Debug)]
pub struct Correlation {
    pub label: String,
    pub kind: Kind,
    /// The window, in milliseconds, and as written in the rule (`10m`).
    pub timespan: i64,
    pub timespan_text: String,
    pub bounds: Vec<(CmpOp, f64)>,
    /// The `group-by` names; alerts carry the group values under these names.
    pub group_names: Vec<String>,
    pub inputs: Vec<Input>,
    /// Where refusals point: the correlation's `type`.
    pub span: Span,
}

/// A compiled correlation: the query, and what the user must know about how it differs.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub query: String,
    /// `AIS803` warnings: (what differs, why / what to do).
    pub warnings: Vec<(String, String)>,
    /// Target-specific settings an artifact template needs (a Kibana threshold, the window),
    /// as a JSON object.
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl Correlation {
    /// The Sigma type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::EventCount => "event_count",
            Kind::ValueCount => "value_count",
            Kind::Temporal => "temporal",
            Kind::TemporalOrdered => "temporal_ordered",
            Kind::Sum => "value_sum",
            Kind::Avg => "value_avg",
            Kind::Percentile(_) => "value_percentile",
            Kind::Median => "value_median",
            Kind::Baseline { .. } => "baseline",
            Kind::FirstSeen { .. } => "first_seen",
        }
    }

    /// A refusal of this correlation's `construct` for `why`.
    pub fn refuse(&self, construct: impl Into<String>, why: impl Into<String>) -> Unsupported {
        Unsupported::new(construct, why, self.span)
    }

    /// A refusal of the whole type.
    pub fn refuse_type(&self, why: impl Into<String>) -> Unsupported {
        self.refuse(format!("`{}` correlations", self.type_name()), why)
    }

    /// Refuse group-by or value fields the schema types as arrays: the engine uses a field's
    /// first value, which no target's grouping reproduces.
    pub fn refuse_arrays(&self) -> Result<(), Unsupported> {
        for i in &self.inputs {
            for c in i.group.iter().chain(i.field.as_ref()) {
                if c.ty.is_some_and(|t| t.array) {
                    return Err(self.refuse(
                        format!(
                            "grouping or aggregating the multi-valued field `{}`",
                            c.name
                        ),
                        "the engine uses a list's first value; targets group by every value or \
                         by the whole list, so the groups would differ",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The value column for `value_*` types.
    pub fn value_field(&self, input: usize) -> Option<&Column> {
        self.inputs[input].field.as_ref()
    }

    /// The window rendered as a count of `unit` milliseconds with a suffix, choosing the
    /// largest of `units` that divides the timespan exactly.
    pub fn span_in(&self, units: &[(i64, &str)]) -> String {
        span_text(self.timespan, units)
    }

    /// The condition as `value OP bound` joined by `and_op`, with `value` as the left operand;
    /// `temporal` without a condition requires every rule.
    pub fn condition(&self, value: &str, and_op: &str, neq: &str, eq: &str) -> String {
        let bounds: Vec<(CmpOp, f64)> = if self.bounds.is_empty() {
            match self.kind {
                Kind::Temporal | Kind::TemporalOrdered => {
                    vec![(CmpOp::Gte, self.inputs.len() as f64)]
                }
                _ => vec![],
            }
        } else {
            self.bounds.clone()
        };
        bounds
            .iter()
            .map(|&(op, b)| {
                let sym = match op {
                    CmpOp::Eq => eq,
                    CmpOp::Neq => neq,
                    _ => op.symbol(),
                };
                format!("{value} {sym} {}", super::number(b))
            })
            .collect::<Vec<_>>()
            .join(&format!(" {and_op} "))
    }
}

/// `ms` as a count of the largest of `units` (milliseconds per unit, largest first) that
/// divides it exactly, with its suffix (`90m`); else in the last unit.
pub fn span_text(ms: i64, units: &[(i64, &str)]) -> String {
    for &(unit, suffix) in units {
        if ms % unit == 0 {
            return format!("{}{suffix}", ms / unit);
        }
    }
    let &(unit, suffix) = units.last().expect("units are not empty");
    format!("{}{suffix}", ms / unit)
}

/// Milliseconds per unit, largest first, for [`Correlation::span_in`].
pub const DAYS_TO_MS: &[(i64, &str)] = &[
    (86_400_000, "d"),
    (3_600_000, "h"),
    (60_000, "m"),
    (1_000, "s"),
    (1, "ms"),
];

/// Compile the correlation at `at` (file, document) of `results`.
pub fn compile(
    results: &[FileResult],
    at: (usize, usize),
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Compiled, Vec<Diagnostic>> {
    let cd = &results[at.0].docs[at.1];
    let label = cd.doc.label();
    let Some(Body::Correlation(c)) = &cd.doc.body else {
        unreachable!("compile is called for correlation documents");
    };
    let fail = |span: Span, msg: String, help: String| {
        vec![Diagnostic::new(Code::UnsupportedConstruct, span, msg).with_help(help)]
    };
    let index = crate::semantics::correlation::index(results);
    let mut refs = Vec::new();
    let mut docs = Vec::new();
    for r in &c.rules {
        let Some(&(fi, di)) = crate::semantics::correlation::resolve(&index, &r.value) else {
            return Err(vec![Diagnostic::new(
                Code::UnknownRuleReference,
                r.span,
                format!("rule `{label}`: `{}` is no loaded rule", r.value),
            )]);
        };
        let input = &results[fi].docs[di];
        match &input.doc.body {
            Some(Body::Detection(_)) => {}
            Some(Body::Correlation(_)) => {
                return Err(fail(
                    r.span,
                    format!(
                        "rule `{label}`: a correlation over a correlation (`{}`) cannot be compiled to {}",
                        r.value,
                        target.name()
                    ),
                    "chained correlations are evaluated by `aisigma test`; compiling a chain is \
                     not implemented for any target yet"
                        .into(),
                ));
            }
            _ => {
                return Err(fail(
                    r.span,
                    format!("rule `{label}`: `{}` is not a detection rule", r.value),
                    "correlations reference detection rules or correlations".into(),
                ));
            }
        }
        refs.push((
            input.doc.meta.id.as_ref().map(|i| i.value.to_lowercase()),
            input.doc.meta.name.as_ref().map(|n| n.value.clone()),
        ));
        docs.push((r, input, fi));
    }
    let plan: Plan = crate::engine::correlate::plan(c, (0..docs.len()).collect(), &refs, &label)
        .map_err(|e| fail(c.kind.span, format!("rule `{label}`: {e}"), String::new()))?;
    let mut inputs = Vec::new();
    for (i, (r, input, _)) in docs.iter().enumerate() {
        let Some(expr) = &input.expr else {
            return Err(fail(
                r.span,
                format!(
                    "rule `{label}`: the referenced rule `{}` has errors",
                    r.value
                ),
                "fix the referenced rule first (`aisigma check`)".into(),
            ));
        };
        // YARA-L names each input's event variable (`$e1`, `$e2`, ...).
        let dialect: &dyn Dialect = match (target, docs.len()) {
            (Target::Yaral, 2..) => match super::yaral::INPUTS.get(i) {
                Some(d) => d,
                None => {
                    return Err(fail(
                        c.kind.span,
                        format!(
                            "rule `{label}`: a correlation over more than {} rules cannot be compiled to yaral",
                            super::yaral::INPUTS.len()
                        ),
                        "split the correlation".into(),
                    ));
                }
            },
            _ => target.dialect(),
        };
        let parts = super::compile_parts_in(&input.doc, expr, target, dialect, mapping, schema)
            .map_err(|diags| {
                let first = &diags[0];
                fail(
                    r.span,
                    format!(
                        "rule `{label}`: its input `{}` cannot be compiled to {}: {}",
                        r.value,
                        target.name(),
                        first.message
                    ),
                    first.help.clone().unwrap_or_default(),
                )
            })?;
        let column = |f: &str| -> Result<Column, Vec<Diagnostic>> {
            let name = mapping.field(f).ok_or_else(|| {
                vec![
                    Diagnostic::new(
                        Code::UnmappedField,
                        c.kind.span,
                        format!(
                            "rule `{label}`: field `{f}` cannot be compiled to {}",
                            target.name()
                        ),
                    )
                    .with_help(format!("`{f}` is not mapped in {}", mapping.source)),
                ]
            })?;
            Ok(Column {
                name: name.into_owned(),
                ty: super::field_type(&input.doc, schema, f),
            })
        };
        let group = plan.group_fields[i]
            .iter()
            .map(|f| column(f))
            .collect::<Result<Vec<_>, _>>()?;
        let field = match &plan.field {
            Some(f) if !matches!(plan.kind, Kind::Temporal | Kind::TemporalOrdered) => {
                Some(column(f)?)
            }
            _ => None,
        };
        inputs.push(Input {
            label: input.doc.label(),
            query: parts.query,
            condition: parts.condition,
            stages: parts.stages,
            logsource: parts.logsource,
            group,
            field,
        });
    }
    let corr = Correlation {
        label: label.clone(),
        kind: plan.kind,
        timespan: plan.timespan,
        timespan_text: c
            .timespan
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default(),
        bounds: plan.bounds,
        group_names: plan.group_names,
        inputs,
        span: c.kind.span,
    };
    let d: &dyn Dialect = target.dialect();
    match d.correlation(&corr) {
        Ok(r) => {
            let warnings = r
                .warnings
                .into_iter()
                .map(|(what, help)| {
                    Diagnostic::new(
                        Code::CorrelationApproximation,
                        c.kind.span,
                        format!("rule `{label}` on {}: {what}", target.name()),
                    )
                    .with_help(help)
                })
                .collect();
            Ok(Compiled {
                query: r.query,
                logsource: corr.inputs[0].logsource.clone(),
                warnings,
                correlation: Some(serde_json::Value::Object(settings(&corr, r.settings))),
            })
        }
        Err(u) => Err(vec![u.into_diagnostic(&label, target)]),
    }
}

/// What every artifact template gets about a correlation, plus the target's own settings.
fn settings(
    c: &Correlation,
    extra: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), c.type_name().into());
    m.insert("timespan".into(), c.timespan_text.clone().into());
    m.insert("timespan_seconds".into(), (c.timespan / 1000).max(1).into());
    // How far back a scheduled query must read to see one whole window (a baseline: its
    // history too; first_seen: its learning time too).
    let lookback = match c.kind {
        Kind::Baseline { history, .. } => c.timespan * (history as i64 + 1),
        Kind::FirstSeen { learning } => c.timespan + learning,
        _ => c.timespan,
    };
    m.insert("lookback_seconds".into(), (lookback / 1000).max(1).into());
    m.insert(
        "group_by".into(),
        serde_json::Value::Array(c.group_names.iter().map(|g| g.clone().into()).collect()),
    );
    m.extend(extra);
    m
}
