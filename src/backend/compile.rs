//! Compiling checked rules for a target: the condition rendered with the target's mapping,
//! wrapped into its query, with the log source's settings; refusals as diagnostics.

use super::column::Column;
use super::correlation::{Correlation, Input};
use super::dialect::Dialect;
use super::mapping::Mapping;
use super::refusal::Unsupported;
use super::render::{Out, render};
use super::target::Target;
use crate::report::diagnostic::{Code, Diagnostic};
use crate::semantics::checked::FileResult;
use crate::semantics::correlation::{Kind, Plan};
use crate::semantics::ir::Expr;
use crate::semantics::schema::{FieldType, Schema};
use crate::syntax::ast::{Body, Doc};
use crate::syntax::span::Span;

/// A rule compiled for one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub query: String,
    pub logsource: std::collections::BTreeMap<String, String>,
    /// Warnings the user must see (`AIS803`: a correlation that the target evaluates
    /// differently from the engine).
    pub warnings: Vec<Diagnostic>,
    /// For a correlation: its type, window, group-by and target settings, for templates.
    pub correlation: Option<serde_json::Value>,
}

/// A rule's condition rendered for a target, and what wraps it into a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    pub query: String,
    pub condition: String,
    pub stages: Vec<String>,
    pub logsource: std::collections::BTreeMap<String, String>,
}

/// The schema type of field `f` for the logsource of `doc`.
pub(crate) fn field_type(doc: &Doc, schema: &Schema, f: &str) -> Option<FieldType> {
    let category = doc.category().unwrap_or("");
    let product = schema.product(
        doc.meta
            .logsource
            .as_ref()
            .and_then(|l| l.product.as_ref())
            .map(|c| c.value.as_str())
            .unwrap_or(""),
    )?;
    product
        .field(category, f)
        .or_else(|| product.field(category, &product.aliases.get(f)?.to))
        .map(|d| d.ty)
}

/// Compile a checked document. Errors are diagnostics positioned in the rule file.
pub fn compile(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_parts(doc, expr, target, mapping, schema).map(|p| Compiled {
        query: p.query,
        logsource: p.logsource,
        warnings: Vec::new(),
        correlation: None,
    })
}

/// [`compile`], keeping the condition and the stages apart (correlations build on them).
pub fn compile_parts(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Parts, Vec<Diagnostic>> {
    compile_parts_in(doc, expr, target, target.dialect(), mapping, schema)
}

/// [`compile_parts`] with a given dialect of the target (YARA-L's per-input event variables).
pub fn compile_parts_in(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    d: &dyn Dialect,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Parts, Vec<Diagnostic>> {
    let category = doc.category();
    let map = |f: &str, span: Span| -> Result<Column, Unsupported> {
        mapping
            .field(f)
            .map(|name| Column {
                name: name.into_owned(),
                ty: field_type(doc, schema, f),
            })
            .ok_or_else(|| Unsupported {
                code: Code::UnmappedField,
                ..Unsupported::new(
                    format!("field `{f}`"),
                    format!("`{f}` is not mapped in {}", mapping.source),
                    span,
                )
            })
    };
    let mut out = Out {
        map: &map,
        errors: Vec::new(),
        stages: Vec::new(),
    };
    let cond = render(d, expr, false, &mut out);
    if out.errors.is_empty() {
        let logsource = mapping.logsource(category).clone();
        return Ok(Parts {
            query: d.query(&cond, &logsource, &out.stages),
            condition: cond,
            stages: out.stages,
            logsource,
        });
    }
    let rule = doc.label();
    Err(out
        .errors
        .into_iter()
        .map(|u| u.into_diagnostic(&rule, target.name()))
        .collect())
}

/// Compile the correlation at `at` (file, document) of `results`.
pub fn compile_correlation(
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
    let max = target.dialect().max_inputs();
    if docs.len() > max {
        return Err(fail(
            c.kind.span,
            format!(
                "rule `{label}`: a correlation over more than {max} rules cannot be compiled to {}",
                target.name()
            ),
            "split the correlation".into(),
        ));
    }
    let plan: Plan =
        crate::semantics::correlation::plan(c, (0..docs.len()).collect(), &refs, &label)
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
        // A target may render each input with its own dialect (YARA-L's event variables).
        let dialect: &dyn Dialect = if docs.len() > 1 {
            target.dialect().for_input(i).unwrap_or(target.dialect())
        } else {
            target.dialect()
        };
        let parts = compile_parts_in(&input.doc, expr, target, dialect, mapping, schema).map_err(
            |diags| {
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
            },
        )?;
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
                ty: field_type(&input.doc, schema, f),
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
        Err(u) => Err(vec![u.into_diagnostic(&label, target.name())]),
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
