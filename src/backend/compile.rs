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
    /// `AIS805`: tests the source decided at compile time (fields it does not carry).
    pub warnings: Vec<Diagnostic>,
}

/// Choices that change how every rule is compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Compare case-insensitive strings by Unicode simple case folding, written out as regexes
    /// on every target (`--unicode-exact`), instead of the targets' own operators.
    pub unicode_exact: bool,
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

/// Compile a checked document with the default options. Errors are diagnostics positioned in
/// the rule file.
pub fn compile(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_with(doc, expr, target, mapping, schema, &Options::default())
}

/// [`compile`] with `opts`.
pub fn compile_with(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
    opts: &Options,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_parts_in(doc, expr, target, target.dialect(), mapping, schema, opts).map(|p| Compiled {
        query: p.query,
        logsource: p.logsource,
        warnings: p.warnings,
        correlation: None,
    })
}

/// [`compile_with`], keeping the condition and the stages apart (correlations build on them),
/// with a given dialect of the target (YARA-L's per-input event variables).
pub fn compile_parts_in(
    doc: &Doc,
    expr: &Expr,
    target: Target,
    d: &dyn Dialect,
    mapping: &Mapping,
    schema: &Schema,
    opts: &Options,
) -> Result<Parts, Vec<Diagnostic>> {
    let category = doc.category();
    if let Some(e) = not_carried(doc, mapping, target) {
        return Err(vec![e]);
    }
    let mut warnings = Vec::new();
    let folded =
        decide_by_source(doc, expr, mapping, target, &mut warnings).map_err(|d| vec![d])?;
    let expr = folded.as_ref().unwrap_or(expr);
    // The landing's filter: target fields compared exactly (named with a leading NUL, which
    // no schema field has, so that `map` passes them through).
    let filtered;
    let expr = if mapping.filter.is_empty() {
        expr
    } else {
        use crate::semantics::ir::{Pred, Test};
        let mut items: Vec<Expr> = mapping
            .filter
            .iter()
            .map(|(f, v)| {
                Expr::Pred(Pred {
                    field: Some(format!("\0{f}")),
                    // Splunk's search compares values case-insensitively; the filter values
                    // are the vendor's fixed lower-case names.
                    test: Test::Str {
                        pattern: crate::syntax::sigma_string::SigmaString::literal(v),
                        cased: target != Target::Spl,
                    },
                    span: doc.span,
                })
            })
            .collect();
        items.push(expr.clone());
        filtered = Expr::And(items);
        &filtered
    };
    let map = |f: &str, span: Span| -> Result<Column, Unsupported> {
        let mapping_field = |f: &str| source_field(mapping, f);
        if let Some(raw) = f.strip_prefix('\0') {
            return Ok(Column {
                name: raw.to_string(),
                ty: Some(crate::semantics::schema::FieldType {
                    base: crate::semantics::schema::BaseType::String,
                    array: false,
                }),
                caseless: None,
            });
        }
        if let Some(name) = mapping_field(f)
            && matches!(target, Target::Eql | Target::Lucene)
            && mapping
                .types
                .get(name.as_str())
                .is_some_and(|t| t == "text")
        {
            return Err(Unsupported::new(
                format!(
                    "field `{f}` (`{name}`, a `text` field in {})",
                    mapping.source
                ),
                "a `text` field is analysed into words: Lucene and EQL match its words, not \
                 its whole value as the rule means (ES|QL compares the whole value)",
                span,
            ));
        }
        mapping_field(f)
            .map(|name| {
                let mut ty = field_type(doc, schema, f);
                // An address on an Elastic field the source does not map as `ip` (a keyword
                // holding the text) has string semantics there.
                if matches!(target, Target::Eql | Target::Lucene | Target::Esql)
                    && mapping.pack.is_some()
                    && ty.is_some_and(|t| t.base == crate::semantics::schema::BaseType::Ip)
                    && mapping.types.get(name.as_str()).map(String::as_str) != Some("ip")
                {
                    ty = ty.map(|t| crate::semantics::schema::FieldType {
                        base: crate::semantics::schema::BaseType::String,
                        ..t
                    });
                }
                Column {
                    name,
                    ty,
                    caseless: mapping.caseless.get(f).cloned(),
                }
            })
            .ok_or_else(|| match &mapping.pack {
                Some(pack) => Unsupported {
                    code: Code::NotInSource,
                    ..Unsupported::new(
                        format!("field `{f}` (not in source `{pack}`)"),
                        format!(
                            "source `{pack}` does not carry `{f}` on {} (`aisigma sources show \
                             {pack} --target {}` lists its fields)",
                            target.name(),
                            target.name()
                        ),
                        span,
                    )
                },
                None => Unsupported {
                    code: Code::UnmappedField,
                    ..Unsupported::new(
                        format!("field `{f}`"),
                        format!("`{f}` is not mapped in {}", mapping.source),
                        span,
                    )
                },
            })
    };
    let mut out = Out {
        map: &map,
        errors: Vec::new(),
        stages: Vec::new(),
        unicode_exact: opts.unicode_exact,
    };
    let scoped = scope(expr, mapping, schema.scope(doc), doc.span);
    let expr = scoped.as_ref().unwrap_or(expr);
    let cond = match d.search_stage() {
        Some(search) if !opts.unicode_exact => two_stages(d, search, expr, &mut out),
        _ => render(d, expr, false, &mut out),
    };
    if out.errors.is_empty()
        && let Some((c, why)) = cond
            .chars()
            .filter(|c| c.is_control())
            .find_map(|c| d.raw_control_reason(c).map(|w| (c, w)))
    {
        out.errors.push(Unsupported::new(
            format!(
                "a value or regular expression that needs the control character U+{:04X}",
                c as u32
            ),
            why,
            doc.span,
        ));
    }
    if out.errors.is_empty() {
        let logsource = mapping.logsource(category).clone();
        return Ok(Parts {
            query: d.query(&cond, &logsource, &out.stages),
            condition: cond,
            stages: out.stages,
            logsource,
            warnings,
        });
    }
    let rule = doc.label();
    Err(out
        .errors
        .into_iter()
        .map(|u| u.into_diagnostic(&rule, target.name()))
        .collect())
}

/// On a source pack, the fields it holds as constants and those it does not carry, decided
/// as `scan --source` decides them on its events: `None` when nothing is to decide (no pack,
/// no constant), the rest of the rule, or `AIS804` when the source decides the whole rule.
/// Tests left out on fields the source lacks give an `AIS805` warning.
fn decide_by_source(
    doc: &Doc,
    expr: &Expr,
    mapping: &Mapping,
    target: Target,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Option<Expr>, Diagnostic> {
    use super::constants::{Folded, Known, fold_with};
    if mapping.pack.is_none() && mapping.constants.is_empty() {
        return Ok(None);
    }
    let known = |f: &str| {
        if let Some(v) = source_constant(mapping, f) {
            return Some(Known::Const(v.clone()));
        }
        (mapping.pack.is_some() && source_field(mapping, f).is_none()).then_some(Known::Absent)
    };
    let rest = match fold_with(expr, &known) {
        Folded::Const(b) => return Err(constant_rule(doc, expr, mapping, target, b)),
        Folded::Expr(e) => e,
    };
    let mut gone: Vec<(String, Span)> = Vec::new();
    expr.preds(&mut |p| {
        if let Some(f) = &p.field
            && matches!(known(f), Some(Known::Absent))
            && !gone.iter().any(|(g, _)| g == f)
        {
            gone.push((f.clone(), p.span));
        }
    });
    if let Some((_, span)) = gone.first() {
        let pack = mapping.pack.as_deref().unwrap_or(&mapping.source);
        let names: Vec<String> = gone.iter().map(|(f, _)| format!("`{f}`")).collect();
        warnings.push(
            Diagnostic::new(
                Code::DecidedBySource,
                *span,
                format!(
                    "rule `{}`: source `{pack}` does not carry {} on {}, so the query leaves out \
                     the rule's tests on {}",
                    doc.label(),
                    names.join(", "),
                    target.name(),
                    if names.len() == 1 { "it" } else { "them" }
                ),
            )
            .with_help(
                "they are decided as on events without the field: a filter on it removes \
                 nothing, a required value on it is never there; map the field (`--mapping`) \
                 if the data holds it under another name",
            ),
        );
    }
    Ok(Some(rest))
}

/// The target's name for a field: its own, else that of its deprecated or current name (the
/// schema's aliases), as the engine reads events.
fn source_field(mapping: &Mapping, f: &str) -> Option<String> {
    mapping.field(f).map(|n| n.into_owned()).or_else(|| {
        crate::engine::aliases::alternates(f)
            .iter()
            .find_map(|a| mapping.field(a).map(|n| n.into_owned()))
    })
}

/// A source's constant value of a field, by its name or an alias of it.
fn source_constant<'a>(mapping: &'a Mapping, f: &str) -> Option<&'a serde_json::Value> {
    mapping.constants.get(f).or_else(|| {
        crate::engine::aliases::alternates(f)
            .iter()
            .find_map(|a| mapping.constants.get(a.as_str()))
    })
}

/// A rule that the source decides (`AIS804`): its constant fields and the fields it does
/// not carry make it never match there, or match every event.
fn constant_rule(
    doc: &Doc,
    expr: &Expr,
    mapping: &Mapping,
    target: Target,
    matches: bool,
) -> Diagnostic {
    let pack = mapping.pack.as_deref().unwrap_or(&mapping.source);
    let mut read = Vec::new();
    expr.preds(&mut |p| read.extend(p.field.clone()));
    read.sort();
    read.dedup();
    let mut why: Vec<String> = Vec::new();
    let absent: Vec<String> = read
        .iter()
        .filter(|f| source_constant(mapping, f).is_none() && source_field(mapping, f).is_none())
        .map(|f| format!("`{f}`"))
        .collect();
    if !absent.is_empty() {
        why.push(format!("it does not carry {}", absent.join(", ")));
    }
    // The constants explain the verdict only when no missing field does.
    if why.is_empty() {
        for f in &read {
            if let Some(v) = source_constant(mapping, f) {
                why.push(format!("`{f}` is always {v}"));
            }
        }
    }
    Diagnostic::new(
        Code::NotInSource,
        doc.span,
        format!(
            "rule `{}` {} on source `{pack}`, so it is not compiled to {}",
            doc.label(),
            if matches {
                "matches every event"
            } else {
                "never matches"
            },
            target.name()
        ),
    )
    .with_help(format!(
        "on {} in source `{pack}`: {}",
        target.name(),
        why.join("; ")
    ))
}

/// A rule whose category the mapping's source pack does not carry (`AIS804`).
fn not_carried(doc: &Doc, mapping: &Mapping, target: Target) -> Option<Diagnostic> {
    let (pack, cats) = (mapping.pack.as_ref()?, mapping.categories.as_ref()?);
    let category = doc.category();
    if category.is_some_and(|c| cats.iter().any(|x| x == c)) {
        return None;
    }
    let what = match category {
        Some(c) => format!("`{c}` events"),
        None => "events of a rule without `logsource.category`".to_string(),
    };
    Some(
        Diagnostic::new(
            Code::NotInSource,
            doc.span,
            format!(
                "rule `{}`: source `{pack}` carries no {what}, so the rule cannot be compiled to {} \
                 for it",
                doc.label(),
                target.name()
            ),
        )
        .with_help(format!("source `{pack}` carries: {}", cats.join(", "))),
    )
}

/// The rule's condition scoped to its category ([`Schema::scope`]: a category of the
/// rule's product schema), where the mapping names the field that holds it
/// ([`Mapping::category_field`]): events of the category, or without one, as `scan` keeps
/// them.
fn scope(expr: &Expr, mapping: &Mapping, category: Option<&str>, span: Span) -> Option<Expr> {
    use crate::semantics::ir::{Pred, Test};
    use crate::syntax::sigma_string::SigmaString;
    let field = mapping.category_field.as_ref()?;
    let category = category?;
    let pred = |test| {
        Expr::Pred(Pred {
            field: Some(field.clone()),
            test,
            span,
        })
    };
    let in_scope = Expr::Or(vec![
        pred(Test::Null),
        // The category is a schema identifier, compared exactly (as `scan` does).
        pred(Test::Str {
            pattern: SigmaString::literal(category),
            cased: true,
        }),
    ]);
    Some(Expr::And(vec![in_scope, expr.clone()]))
}

/// A target whose queries filter in two stages (Splunk's base search, then `where`): each
/// top-level conjunct the search stage can express goes there, as one stage (rendered by
/// `search`); the others form the condition.
fn two_stages(d: &dyn Dialect, search: &dyn Dialect, expr: &Expr, out: &mut Out) -> String {
    // Conjuncts, with `not (a or b)` as `not a` and `not b` (so that each may go to the stage
    // that can express it).
    fn flatten(e: &Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::And(items) => items.iter().for_each(|x| flatten(x, out)),
            Expr::Not(inner) => match &**inner {
                Expr::Or(items) if !super::render::one_operand(items) => items
                    .iter()
                    .for_each(|x| flatten(&Expr::Not(Box::new(x.clone())), out)),
                Expr::Not(x) => flatten(x, out),
                _ => out.push(e.clone()),
            },
            e => out.push(e.clone()),
        }
    }
    let mut owned = Vec::new();
    flatten(expr, &mut owned);
    let conjuncts: Vec<&Expr> = owned.iter().collect();
    let mut terms = Vec::new();
    let mut rest = Vec::new();
    for c in conjuncts {
        let mut trial = Out {
            map: out.map,
            errors: Vec::new(),
            stages: Vec::new(),
            unicode_exact: false,
        };
        let s = render(search, c, false, &mut trial);
        if trial.errors.is_empty() && trial.stages.is_empty() {
            terms.push(match c {
                Expr::Or(items) if super::render::one_operand(items) => s,
                Expr::And(_) | Expr::Or(_) | Expr::AtLeast(..) => search.group(&s),
                _ => s,
            });
        } else {
            if let Some(t) = d.implied_term(c, out.map) {
                terms.push(t);
            }
            rest.push(c.clone());
        }
    }
    if !terms.is_empty() {
        out.stages.push(terms.join(" "));
    }
    match rest.len() {
        0 => String::new(),
        1 => render(d, &rest[0], false, out),
        _ => render(d, &Expr::And(rest), false, out),
    }
}

/// Compile the correlation at `at` (file, document) of `results` with the default options.
pub fn compile_correlation(
    results: &[FileResult],
    at: (usize, usize),
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_correlation_with(results, at, target, mapping, schema, &Options::default())
}

/// [`compile_correlation`] with `opts`.
pub fn compile_correlation_with(
    results: &[FileResult],
    at: (usize, usize),
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
    opts: &Options,
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
        let parts = compile_parts_in(&input.doc, expr, target, dialect, mapping, schema, opts)
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
            let name = source_field(mapping, f).ok_or_else(|| {
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
                name,
                ty: field_type(&input.doc, schema, f),
                caseless: None,
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
