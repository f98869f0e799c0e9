//! The shared renderer: the detection IR's boolean structure (grouping, `not`, `N of`) over a
//! dialect's predicates. Compound operands are always grouped, so the output never depends on
//! a target's operator precedence.

use super::column::Column;
use super::dialect::{Cx, Dialect, common_refusal};
use super::refusal::Unsupported;
use super::text::StrTest;
use crate::semantics::ir::{Expr, Pred, Test};
use crate::syntax::span::Span;

/// Render an expression; compound children of `and`/`or` are grouped, so the output never
/// depends on the target's operator precedence. A refusal is recorded in `errors` and
/// rendering goes on, so that one run reports every refusal of a rule; the text is only used
/// when `errors` stays empty.
/// What rendering collects: refusals, and the pipeline stages some predicates need.
pub(crate) struct Out<'a> {
    pub map: &'a dyn Fn(&str, Span) -> Result<Column, Unsupported>,
    pub errors: Vec<Unsupported>,
    pub stages: Vec<String>,
    /// `--unicode-exact`: string tests by Unicode simple case folding, one predicate at a
    /// time ([`Dialect::predicate`]); else by the default contract, as lists
    /// ([`Dialect::strings`]).
    pub unicode_exact: bool,
}

impl Out<'_> {
    fn refuse(&mut self, u: Unsupported) -> String {
        // `N of` expansions render a predicate several times; report it once.
        if !self.errors.contains(&u) {
            self.errors.push(u);
        }
        String::new()
    }
}

/// One operand of an `or`: a field's string tests gathered into a list, or any other item.
enum Operand<'e> {
    Strings(&'e str, StrTest),
    Item(&'e Expr),
}

/// The operands of an `or`, each field's string tests (of one case mode) gathered at the
/// place of the first.
fn operands(items: &[Expr]) -> Vec<Operand<'_>> {
    let mut out: Vec<Operand> = Vec::new();
    for x in items {
        if let Expr::Pred(Pred {
            field: Some(f),
            test: Test::Str { pattern, cased },
            span,
        }) = x
        {
            let same = out.iter_mut().find_map(|o| match o {
                Operand::Strings(g, t) if *g == f.as_str() && t.cased == *cased => Some(t),
                _ => None,
            });
            match same {
                Some(t) => t.patterns.push(pattern.clone()),
                None => out.push(Operand::Strings(
                    f,
                    StrTest {
                        patterns: vec![pattern.clone()],
                        cased: *cased,
                        span: *span,
                    },
                )),
            }
        } else {
            out.push(Operand::Item(x));
        }
    }
    out
}

/// True if `x` renders as an operand that needs no further grouping: an `or` of one field's
/// string tests, which [`Dialect::strings`] writes grouped.
fn self_grouped(x: &Expr, out: &Out) -> bool {
    matches!(x, Expr::Or(items) if !out.unicode_exact && one_operand(items))
}

/// True if an `or` of these items renders as one operand (one field's string tests).
pub(crate) fn one_operand(items: &[Expr]) -> bool {
    operands(items).len() == 1
}

fn render_strings(d: &dyn Dialect, f: &str, t: &StrTest, negated: bool, out: &mut Out) -> String {
    let cx = Cx {
        negated,
        unicode_exact: out.unicode_exact,
    };
    match (out.map)(f, t.span).and_then(|col| d.strings(&col, t, cx, &mut out.stages)) {
        Ok(s) => s,
        Err(u) => out.refuse(u),
    }
}

pub(crate) fn render(d: &dyn Dialect, e: &Expr, negated: bool, out: &mut Out) -> String {
    match e {
        Expr::Or(items) if !out.unicode_exact => {
            let parts: Vec<String> = operands(items)
                .into_iter()
                .map(|o| match o {
                    Operand::Strings(f, t) => render_strings(d, f, &t, negated, out),
                    Operand::Item(x) => {
                        let s = render(d, x, negated, out);
                        if matches!(x, Expr::Pred(_) | Expr::Not(_)) || self_grouped(x, out) {
                            s
                        } else {
                            d.group(&s)
                        }
                    }
                })
                .collect();
            if parts.len() == 1 {
                return parts.into_iter().next().unwrap_or_default();
            }
            chain(d, parts, d.or_op())
        }
        Expr::And(items) | Expr::Or(items) => {
            let op = if matches!(e, Expr::And(_)) {
                d.and_op()
            } else {
                d.or_op()
            };
            let parts: Vec<String> = items
                .iter()
                .map(|x| {
                    let s = render(d, x, negated, out);
                    if matches!(x, Expr::Pred(_) | Expr::Not(_)) || self_grouped(x, out) {
                        s
                    } else {
                        d.group(&s)
                    }
                })
                .collect();
            chain(d, parts, op)
        }
        Expr::Not(inner) => d.not(&render(d, inner, !negated, out)),
        Expr::AtLeast(n, items) => {
            let Some(combos) = combinations(items.len(), *n, d.max_at_least_expansion()) else {
                out.errors.push(Unsupported::new(
                    format!("`{n} of` over {} search identifiers", items.len()),
                    format!(
                        "it expands to more than {} alternatives",
                        d.max_at_least_expansion()
                    ),
                    first_span(e).unwrap_or_default(),
                ));
                return String::new();
            };
            let expanded = Expr::Or(
                combos
                    .into_iter()
                    .map(|c| Expr::And(c.into_iter().map(|i| items[i].clone()).collect()))
                    .collect(),
            );
            render(d, &expanded, negated, out)
        }
        Expr::Pred(
            p @ Pred {
                field: Some(f),
                test: Test::Str { pattern, cased },
                ..
            },
        ) if !out.unicode_exact => {
            let t = StrTest {
                patterns: vec![pattern.clone()],
                cased: *cased,
                span: p.span,
            };
            render_strings(d, f, &t, negated, out)
        }
        Expr::Pred(p) => {
            let rendered = match (common_refusal(d, p), p.field.as_deref()) {
                (Some(u), _) => Err(u),
                (None, Some(f)) => (out.map)(f, p.span).and_then(|col| {
                    let cx = Cx {
                        negated,
                        unicode_exact: out.unicode_exact,
                    };
                    d.staged_predicate(&col, p, cx, &mut out.stages)
                }),
                (None, None) => unreachable!("keyword searches are refused by common_refusal"),
            };
            rendered.unwrap_or_else(|u| out.refuse(u))
        }
    }
}

/// `parts` joined by `op`, in parenthesised chunks of at most [`Dialect::max_chain`] operands.
pub(crate) fn chain(d: &dyn Dialect, parts: Vec<String>, op: &str) -> String {
    let sep = format!(" {op} ");
    match d.max_chain() {
        Some(max) if parts.len() > max && max > 1 => {
            let groups: Vec<String> = parts.chunks(max).map(|c| d.group(&c.join(&sep))).collect();
            chain(d, groups, op)
        }
        _ => parts.join(&sep),
    }
}

fn first_span(e: &Expr) -> Option<Span> {
    let mut s = None;
    e.preds(&mut |p| {
        if s.is_none() {
            s = Some(p.span);
        }
    });
    s
}

/// All `k`-subsets of `0..n`, or `None` if there are more than `limit`.
fn combinations(n: usize, k: usize, limit: usize) -> Option<Vec<Vec<usize>>> {
    let mut count: u128 = 1;
    for i in 0..k {
        count = count * (n - i) as u128 / (i + 1) as u128;
        if count > limit as u128 {
            return None;
        }
    }
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.clone());
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
            return Some(out);
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_enumerate_subsets() {
        assert_eq!(
            combinations(4, 2, 100).unwrap(),
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combinations(3, 3, 100).unwrap(), vec![vec![0, 1, 2]]);
        assert!(combinations(30, 15, 1000).is_none());
    }
}
