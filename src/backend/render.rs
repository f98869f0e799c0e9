//! The shared renderer: the detection IR's boolean structure (grouping, `not`, `N of`) over a
//! dialect's predicates. Compound operands are always grouped, so the output never depends on
//! a target's operator precedence.

use super::column::Column;
use super::dialect::{Dialect, common_refusal};
use super::refusal::Unsupported;
use crate::semantics::ir::Expr;
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
}

pub(crate) fn render(d: &dyn Dialect, e: &Expr, negated: bool, out: &mut Out) -> String {
    match e {
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
                    if matches!(x, Expr::Pred(_) | Expr::Not(_)) {
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
        Expr::Pred(p) => {
            let rendered = match (common_refusal(d, p), p.field.as_deref()) {
                (Some(u), _) => Err(u),
                (None, Some(f)) => (out.map)(f, p.span)
                    .and_then(|col| d.staged_predicate(&col, p, negated, &mut out.stages)),
                (None, None) => unreachable!("keyword searches are refused by common_refusal"),
            };
            rendered.unwrap_or_else(|u| {
                // `N of` expansions render a predicate several times; report it once.
                if !out.errors.contains(&u) {
                    out.errors.push(u);
                }
                String::new()
            })
        }
    }
}

/// `parts` joined by `op`, in parenthesised chunks of at most [`Dialect::max_chain`] operands.
fn chain(d: &dyn Dialect, parts: Vec<String>, op: &str) -> String {
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
