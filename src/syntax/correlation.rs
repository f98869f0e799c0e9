//! The correlation grammar: a `correlation:` block in, the correlation AST out.
//!
//! Sigma 2.1's correlation types and aisigma's `baseline` and `first_seen` extensions: the
//! type, the referenced `rules`, `group-by`, `timespan`, `condition`, `aliases` and the
//! baseline settings, each checked for its form. [`crate::semantics::correlation`] checks
//! them across files against the schema.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, Severity, did_you_mean, suggest};
use crate::syntax::ast::{BaselineSpec, CmpOp, CorrAlias, CorrCondition, Correlation};
use crate::syntax::span::Spanned;
use crate::syntax::yaml::{Kind, Node};
pub const TYPES: &[&str] = &[
    "event_count",
    "value_count",
    "temporal",
    "temporal_ordered",
    "value_sum",
    "value_avg",
    "value_percentile",
    "value_median",
    "baseline",
    "first_seen",
];

/// The types that are aisigma extensions, not Sigma 2.1.
pub const EXTENSIONS: &[&str] = &["baseline", "first_seen"];

/// Aggregates a `baseline` correlation can compare.
pub const AGGREGATES: &[&str] = &["count", "sum", "avg", "max", "distinct"];

/// A timespan (`30s`, `10m`, `1h`, `7d`, and pySigma's `w`, `M` = 30 days, `y` = 365 days)
/// in milliseconds.
pub fn timespan_ms(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let num: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let per: i64 = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        'M' => 30 * 86_400_000,
        'y' => 365 * 86_400_000,
        _ => return None,
    };
    num.checked_mul(per).filter(|&ms| ms > 0)
}

const OPS: &[&str] = &["gt", "gte", "lt", "lte", "eq", "neq"];

fn strings(node: &Node, what: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    match &node.kind {
        Kind::Str(s) => vec![Spanned::new(s.clone(), node.span)],
        Kind::Seq(items) => items
            .iter()
            .filter_map(|i| match &i.kind {
                Kind::Str(s) => Some(Spanned::new(s.clone(), i.span)),
                _ => {
                    diags.error(
                        Code::InvalidCorrelation,
                        i.span,
                        format!("`{what}` entries must be strings"),
                    );
                    None
                }
            })
            .collect(),
        _ => {
            diags.error(
                Code::InvalidCorrelation,
                node.span,
                format!("`{what}` must be a string or a list of strings"),
            );
            Vec::new()
        }
    }
}

///
/// `references` receives the `rules` it names even when the correlation is invalid (an
/// unknown `type`), so that they are resolved in the same pass as everything else.
pub fn parse(
    node: &Node,
    diags: &mut Diagnostics,
    references: &mut Vec<Spanned<String>>,
) -> Option<Correlation> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            node.span,
            "`correlation` must be a mapping",
        );
        return None;
    };
    let mut kind = None;
    let mut rules = Vec::new();
    let mut group_by = Vec::new();
    let mut timespan = None;
    let mut condition = None;
    let mut aliases = Vec::new();
    let mut generate = false;
    let mut baseline_node = None;
    for (k, v) in map {
        match k.raw.as_str() {
            "type" => match v.as_str() {
                Some(t) if TYPES.contains(&t) => kind = Some(Spanned::new(t.to_string(), v.span)),
                _ => {
                    let sugg = suggest(&v.raw, TYPES.iter().copied(), 1);
                    let mut d = Diagnostic::new(
                        Code::InvalidCorrelation,
                        v.span,
                        format!("unknown correlation type `{}`", v.raw),
                    );
                    d = d.with_help(
                        did_you_mean(&sugg)
                            .unwrap_or_else(|| format!("use one of {}", TYPES.join(", "))),
                    );
                    diags.push(d);
                }
            },
            "rules" => rules = strings(v, "rules", diags),
            "group-by" => group_by = strings(v, "group-by", diags),
            "timespan" | "timeframe" => {
                let text = v.raw.clone();
                let unit = text.chars().last().unwrap_or(' ');
                let num_ok = text.len() > 1
                    && text[..text.len() - unit.len_utf8()]
                        .bytes()
                        .all(|b| b.is_ascii_digit());
                if !num_ok || !"smhdwMy".contains(unit) || timespan_ms(&text).is_none() {
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidCorrelation,
                            v.span,
                            format!("invalid timespan `{text}`"),
                        )
                        .with_help("write a number followed by s, m, h or d, e.g. `10m`"),
                    );
                } else if "wMy".contains(unit) {
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidCorrelation,
                            v.span,
                            format!("timespan unit `{unit}` is a pySigma extension, not Sigma 2.1"),
                        )
                        .with_severity(Severity::Warning)
                        .with_help("Sigma 2.1 allows s, m, h and d"),
                    );
                }
                timespan = Some(Spanned::new(text, v.span));
            }
            "condition" => condition = Some(v),
            "aliases" => aliases = parse_aliases(v, diags),
            "generate" => match v.kind {
                Kind::Bool(b) => generate = b,
                _ => diags.error(
                    Code::InvalidCorrelation,
                    v.span,
                    "`generate` must be true or false",
                ),
            },
            "baseline" | "learning" => baseline_node = Some((k.raw.as_str(), v)),
            other => diags.push(Diagnostic::new(
                Code::UnknownKey,
                k.span,
                format!("unknown correlation key `{other}` is ignored"),
            )),
        }
    }
    references.clone_from(&rules);
    if kind.is_none() && !map.iter().any(|(k, _)| k.raw == "type") {
        diags.error(
            Code::InvalidCorrelation,
            node.span,
            "correlation needs a `type`",
        );
    }
    let extended = condition.is_some_and(|c| matches!(c.kind, Kind::Str(_)));
    if rules.is_empty() && !extended {
        diags.error(
            Code::InvalidCorrelation,
            node.span,
            "correlation needs `rules`: the ids or names of the rules it correlates",
        );
    }
    if timespan.is_none() {
        diags.push(
            Diagnostic::new(
                Code::InvalidCorrelation,
                node.span,
                "correlation needs a `timespan`",
            )
            .with_help("e.g. `timespan: 10m`"),
        );
    }
    // What follows depends on the type; without one, the checks above are all there is.
    let kind = kind?;
    let temporal = kind.value.starts_with("temporal");
    let first_seen = kind.value == "first_seen";
    let parsed_condition = match condition {
        None if !temporal => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidCorrelation,
                    node.span,
                    format!("a `{}` correlation needs a `condition`", kind.value),
                )
                .with_help(if first_seen {
                    "e.g. `condition: {field: gen_ai.request.model}`"
                } else {
                    "e.g. `condition: {gte: 10}`"
                }),
            );
            None
        }
        None => None,
        Some(c) => check_condition(c, &kind.value, diags),
    };
    let baseline = match (kind.value.as_str(), baseline_node) {
        ("baseline", Some(("baseline", b))) => parse_baseline(b, diags),
        ("first_seen", Some(("learning", l))) => Some(BaselineSpec {
            aggregate: None,
            field: None,
            history: 0,
            min_history: 0,
            min_value: None,
            learning: timespan_of(l, diags),
            span: l.span,
        }),
        ("baseline", _) => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidCorrelation,
                    node.span,
                    "a `baseline` correlation needs a `baseline` block",
                )
                .with_help("e.g. `baseline: {aggregate: sum, field: gen_ai.usage.output_tokens, history: 24}`"),
            );
            None
        }
        (_, Some((key, b))) => {
            diags.error(
                Code::InvalidCorrelation,
                b.span,
                if key == "baseline" {
                    "`baseline` only applies to `baseline` correlations"
                } else {
                    "`learning` only applies to `first_seen` correlations"
                },
            );
            None
        }
        (_, None) => None,
    };
    Some(Correlation {
        kind,
        rules,
        group_by,
        timespan,
        condition: parsed_condition,
        aliases,
        generate,
        baseline,
        span: node.span,
    })
}

fn timespan_of(v: &Node, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    if timespan_ms(&v.raw).is_none() {
        diags.push(
            Diagnostic::new(
                Code::InvalidCorrelation,
                v.span,
                format!("invalid timespan `{}`", v.raw),
            )
            .with_help("write a number followed by s, m, h or d, e.g. `7d`"),
        );
        return None;
    }
    Some(Spanned::new(v.raw.clone(), v.span))
}

fn parse_baseline(node: &Node, diags: &mut Diagnostics) -> Option<BaselineSpec> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            node.span,
            "`baseline` must be a mapping: `{aggregate, field, history, min_history, min_value}`",
        );
        return None;
    };
    let mut spec = BaselineSpec {
        aggregate: None,
        field: None,
        history: 24,
        min_history: 0,
        min_value: None,
        learning: None,
        span: node.span,
    };
    let mut min_history = None;
    let count = |v: &Node, what: &str, diags: &mut Diagnostics| match v.kind {
        Kind::Int(n) if (1..=10_000).contains(&n) => Some(n as u32),
        _ => {
            diags.error(
                Code::InvalidCorrelation,
                v.span,
                format!("`{what}` must be a whole number of windows from 1 to 10000"),
            );
            None
        }
    };
    for (k, v) in map {
        match k.raw.as_str() {
            "aggregate" => match v.as_str() {
                Some(a) if AGGREGATES.contains(&a) => {
                    spec.aggregate = Some(Spanned::new(a.to_string(), v.span));
                }
                _ => {
                    let sugg = suggest(&v.raw, AGGREGATES.iter().copied(), 1);
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidCorrelation,
                            v.span,
                            format!("unknown baseline aggregate `{}`", v.raw),
                        )
                        .with_help(
                            did_you_mean(&sugg)
                                .unwrap_or_else(|| format!("use one of {}", AGGREGATES.join(", "))),
                        ),
                    );
                }
            },
            "field" => match v.as_str() {
                Some(f) => spec.field = Some(Spanned::new(f.to_string(), v.span)),
                None => diags.error(
                    Code::InvalidCorrelation,
                    v.span,
                    "`field` must name a field",
                ),
            },
            "history" => spec.history = count(v, "history", diags).unwrap_or(spec.history),
            "min_history" => min_history = count(v, "min_history", diags),
            "min_value" => match v.kind {
                Kind::Int(n) => spec.min_value = Some(n as f64),
                Kind::Float(f) if f.is_finite() => spec.min_value = Some(f),
                _ => diags.error(
                    Code::InvalidCorrelation,
                    v.span,
                    "`min_value` must be a number",
                ),
            },
            other => {
                let known = ["aggregate", "field", "history", "min_history", "min_value"];
                let sugg = suggest(other, known.iter().copied(), 1);
                let mut d = Diagnostic::new(
                    Code::InvalidCorrelation,
                    k.span,
                    format!("unknown baseline key `{other}`"),
                );
                if let Some(h) = did_you_mean(&sugg) {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
    // By default a quarter of the history must be known before anything fires.
    spec.min_history = min_history
        .unwrap_or(spec.history.div_ceil(4))
        .min(spec.history);
    match spec.aggregate.as_ref().map(|a| a.value.as_str()) {
        None => diags.error(
            Code::InvalidCorrelation,
            node.span,
            "`baseline` needs `aggregate`: count, sum, avg, max or distinct",
        ),
        Some("count") => {}
        Some(a) if spec.field.is_none() => diags.error(
            Code::InvalidCorrelation,
            node.span,
            format!("a `{a}` baseline needs the `field` it aggregates"),
        ),
        Some(_) => {}
    }
    Some(spec)
}

fn check_condition(c: &Node, kind: &str, diags: &mut Diagnostics) -> Option<CorrCondition> {
    if let Kind::Str(text) = &c.kind {
        if !kind.starts_with("temporal") {
            diags.error(
                Code::InvalidCorrelation,
                c.span,
                "a boolean condition over rule names is only valid for temporal correlations",
            );
            return None;
        }
        return Some(CorrCondition {
            field: None,
            bounds: Vec::new(),
            percentile: None,
            expression: Some(Spanned::new(text.clone(), c.span)),
            span: c.span,
        });
    }
    let Some(map) = c.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "the correlation `condition` must be a mapping such as `{gte: 10}`",
        );
        return None;
    };
    let needs_field = kind.starts_with("value_") || kind == "first_seen";
    let mut cond = CorrCondition {
        field: None,
        bounds: Vec::new(),
        percentile: None,
        expression: None,
        span: c.span,
    };
    for (k, v) in map {
        match k.raw.as_str() {
            "field" => match v.as_str() {
                Some(f) => cond.field = Some(Spanned::new(f.to_string(), v.span)),
                None => diags.error(
                    Code::InvalidCorrelation,
                    v.span,
                    "`field` must name one field",
                ),
            },
            "percentile" => {
                let p = match v.kind {
                    Kind::Int(p) if (1..=100).contains(&p) => Some(p as f64),
                    Kind::Float(p) if p > 0.0 && p <= 100.0 => Some(p),
                    _ => None,
                };
                if kind != "value_percentile" {
                    diags.error(
                        Code::InvalidCorrelation,
                        k.span,
                        "`percentile` only applies to `value_percentile`",
                    );
                } else if p.is_none() {
                    diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        "`percentile` must be a number between 1 and 100",
                    );
                }
                cond.percentile = p;
            }
            op if CmpOp::parse(op).is_some() => {
                let bound = match v.kind {
                    Kind::Int(n) => Some(n as f64),
                    Kind::Float(f) if f.is_finite() => Some(f),
                    _ => None,
                };
                match (bound, CmpOp::parse(op)) {
                    (Some(b), Some(o)) => cond.bounds.push((o, b)),
                    _ => diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        format!("`{op}` needs a number, found `{}`", v.raw),
                    ),
                }
            }
            other => {
                let sugg = suggest(other, OPS.iter().copied(), 1);
                let mut d = Diagnostic::new(
                    Code::InvalidCorrelation,
                    k.span,
                    format!("unknown condition operator `{other}`"),
                );
                if let Some(h) = did_you_mean(&sugg) {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
    let bounds = map
        .iter()
        .filter(|(k, _)| CmpOp::parse(&k.raw).is_some())
        .count();
    if kind == "first_seen" {
        if bounds > 0 {
            diags.error(
                Code::InvalidCorrelation,
                c.span,
                "a `first_seen` condition takes only `field`: the value that must be new",
            );
        }
    } else if bounds == 0 {
        diags.push(
            Diagnostic::new(
                Code::InvalidCorrelation,
                c.span,
                "the condition needs a comparison: one of gt, gte, lt, lte, eq, neq",
            )
            .with_help(if kind == "baseline" {
                "a baseline compares the z-score: e.g. `condition: {gt: 3}`"
            } else {
                "e.g. `condition: {gte: 10}`"
            }),
        );
    } else if bounds > 2 {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "the condition may hold at most two bounds (a range)",
        );
    }
    if needs_field && cond.field.is_none() && !map.iter().any(|(k, _)| k.raw == "field") {
        diags.push(
            Diagnostic::new(
                Code::InvalidCorrelation,
                c.span,
                format!("a `{kind}` condition needs `field`"),
            )
            .with_help("e.g. `condition: {field: user.id, gte: 10}`"),
        );
    }
    if kind == "value_percentile" && !map.iter().any(|(k, _)| k.raw == "percentile") {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "a `value_percentile` condition needs `percentile`",
        );
    }
    Some(cond)
}

fn parse_aliases(v: &Node, diags: &mut Diagnostics) -> Vec<CorrAlias> {
    let Some(map) = v.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            v.span,
            "`aliases` must map alias names to `{rule: field}` mappings",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, per_rule) in map {
        match per_rule.as_map() {
            Some(m) if m.iter().all(|(_, f)| f.as_str().is_some()) => out.push(CorrAlias {
                name: Spanned::new(name.raw.clone(), name.span),
                fields: m
                    .iter()
                    .map(|(r, f)| {
                        (
                            Spanned::new(r.raw.clone(), r.span),
                            Spanned::new(f.raw.clone(), f.span),
                        )
                    })
                    .collect(),
            }),
            _ => diags.error(
                Code::InvalidCorrelation,
                per_rule.span,
                "each alias must map rule names to field names",
            ),
        }
    }
    out
}
