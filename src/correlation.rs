//! Sigma correlation rules: parsed and checked. Evaluation and compilation are not implemented
//! yet; the checker reports that with `AIS601`.

use crate::ast::Correlation;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Severity, did_you_mean, suggest};
use crate::span::Spanned;
use crate::yaml::{Kind, Node};

pub const TYPES: &[&str] = &[
    "event_count",
    "value_count",
    "temporal",
    "temporal_ordered",
    "value_sum",
    "value_avg",
    "value_percentile",
    "value_median",
];

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

pub fn parse(node: &Node, diags: &mut Diagnostics) -> Option<Correlation> {
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
                if !num_ok || !"smhdwMy".contains(unit) {
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
            "aliases" => check_aliases(v, diags),
            "generate" => {
                if !matches!(v.kind, Kind::Bool(_)) {
                    diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        "`generate` must be true or false",
                    );
                }
            }
            other => diags.push(Diagnostic::new(
                Code::UnknownKey,
                k.span,
                format!("unknown correlation key `{other}` is ignored"),
            )),
        }
    }
    let Some(kind) = kind else {
        if !map.iter().any(|(k, _)| k.raw == "type") {
            diags.error(
                Code::InvalidCorrelation,
                node.span,
                "correlation needs a `type`",
            );
        }
        return None;
    };
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
    let temporal = kind.value.starts_with("temporal");
    match condition {
        None if !temporal => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidCorrelation,
                    node.span,
                    format!("a `{}` correlation needs a `condition`", kind.value),
                )
                .with_help("e.g. `condition: {gte: 10}`"),
            );
        }
        None => {}
        Some(c) => check_condition(c, &kind.value, diags),
    }
    Some(Correlation {
        kind,
        rules,
        group_by,
        timespan,
        span: node.span,
    })
}

fn check_condition(c: &Node, kind: &str, diags: &mut Diagnostics) {
    if let Kind::Str(_) = c.kind {
        if !kind.starts_with("temporal") {
            diags.error(
                Code::InvalidCorrelation,
                c.span,
                "a boolean condition over rule names is only valid for temporal correlations",
            );
        }
        return;
    }
    let Some(map) = c.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "the correlation `condition` must be a mapping such as `{gte: 10}`",
        );
        return;
    };
    let needs_field = kind.starts_with("value_");
    let mut bounds = 0;
    let mut has_field = false;
    for (k, v) in map {
        match k.raw.as_str() {
            "field" => {
                has_field = true;
                if v.as_str().is_none() && v.as_seq().is_none() {
                    diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        "`field` must name a field",
                    );
                }
            }
            "percentile" => {
                let ok = matches!(v.kind, Kind::Int(p) if (1..=100).contains(&p))
                    || matches!(v.kind, Kind::Float(p) if p > 0.0 && p <= 100.0);
                if kind != "value_percentile" {
                    diags.error(
                        Code::InvalidCorrelation,
                        k.span,
                        "`percentile` only applies to `value_percentile`",
                    );
                } else if !ok {
                    diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        "`percentile` must be a number between 1 and 100",
                    );
                }
            }
            op if OPS.contains(&op) => {
                bounds += 1;
                if !matches!(v.kind, Kind::Int(_) | Kind::Float(_)) {
                    diags.error(
                        Code::InvalidCorrelation,
                        v.span,
                        format!("`{op}` needs a number, found `{}`", v.raw),
                    );
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
    if bounds == 0 {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "the condition needs a comparison: one of gt, gte, lt, lte, eq, neq",
        );
    } else if bounds > 2 {
        diags.error(
            Code::InvalidCorrelation,
            c.span,
            "the condition may hold at most two bounds (a range)",
        );
    }
    if needs_field && !has_field {
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
}

fn check_aliases(v: &Node, diags: &mut Diagnostics) {
    let Some(map) = v.as_map() else {
        diags.error(
            Code::InvalidCorrelation,
            v.span,
            "`aliases` must map alias names to `{rule: field}` mappings",
        );
        return;
    };
    for (_, per_rule) in map {
        match per_rule.as_map() {
            Some(m) if m.iter().all(|(_, f)| f.as_str().is_some()) => {}
            _ => diags.error(
                Code::InvalidCorrelation,
                per_rule.span,
                "each alias must map rule names to field names",
            ),
        }
    }
}
