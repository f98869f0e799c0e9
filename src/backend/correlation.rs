//! Correlations for the targets: what a dialect gets to render one. The referenced rules are
//! compiled as the correlation's inputs ([`Input`]); what the correlation computes over them
//! (the same plan the engine runs) is handed to the target's `Dialect::correlation`, which
//! renders it ([`Rendered`]) or refuses.
//!
//! A target that can only count over fixed time buckets (not the engine's sliding windows)
//! still compiles, with an `AIS803` warning that says how its alerts differ; everything the
//! target cannot express at all is refused with `AIS801`, naming the rule, the construct and
//! the target.

use super::column::Column;
use super::literal::number;
use super::refusal::Unsupported;
use crate::semantics::correlation::Kind;
use crate::syntax::ast::CmpOp;
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
                format!("{value} {sym} {}", number(b))
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
