//! Fields a source holds as a constant (a source pack's `{const: V}` entries, e.g.
//! `ai.audit.service: azure_openai`), and fields it never has: their tests are decided at
//! compile time, by the engine, as `scan` decides them on the source's events, so that a rule
//! written for several sources keeps only what can vary on this one.

use crate::engine::matcher::Matcher;
use crate::semantics::ir::Expr;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An expression with the tests on constant fields decided.
#[derive(Debug, PartialEq)]
pub enum Folded {
    Const(bool),
    Expr(Expr),
}

/// What the source holds in a field.
#[derive(Clone, Debug, PartialEq)]
pub enum Known {
    /// The same value in every event.
    Const(Value),
    /// Never a value (the source does not carry the field).
    Absent,
    /// One of these values in every event (`null`: the field is absent).
    OneOf(Vec<Value>),
}

/// Decide the tests on `constants` in `e`, and simplify.
pub fn fold(e: &Expr, constants: &BTreeMap<String, Value>) -> Folded {
    fold_with(e, &|f| constants.get(f).cloned().map(Known::Const))
}

/// Decide the tests on the fields `known` knows, and simplify.
pub fn fold_with(e: &Expr, known: &dyn Fn(&str) -> Option<Known>) -> Folded {
    match e {
        Expr::Pred(p) => {
            let Some(field) = p.field.as_deref() else {
                return Folded::Expr(e.clone());
            };
            let mut event = Map::new();
            match known(field) {
                None => return Folded::Expr(e.clone()),
                Some(Known::Absent) => {}
                Some(Known::Const(v)) => {
                    event.insert(field.to_string(), v);
                }
                // Decided when every possible value gives the same verdict.
                Some(Known::OneOf(values)) => {
                    let Ok(m) = Matcher::new(e) else {
                        return Folded::Expr(e.clone());
                    };
                    let verdicts: Vec<bool> = values
                        .iter()
                        .map(|v| {
                            let mut ev = Map::new();
                            if !v.is_null() {
                                ev.insert(field.to_string(), v.clone());
                            }
                            m.matches(&Value::Object(ev))
                        })
                        .collect();
                    return match verdicts.first() {
                        Some(&b) if verdicts.iter().all(|&x| x == b) => Folded::Const(b),
                        _ => Folded::Expr(e.clone()),
                    };
                }
            }
            // A comparison with another field is decided only when that one is known too.
            if let crate::semantics::ir::Test::FieldRef { other, .. } = &p.test {
                match known(other) {
                    None | Some(Known::OneOf(_)) => return Folded::Expr(e.clone()),
                    Some(Known::Absent) => {}
                    Some(Known::Const(v)) => {
                        event.insert(other.clone(), v);
                    }
                }
            }
            match Matcher::new(e) {
                Ok(m) => Folded::Const(m.matches(&Value::Object(event))),
                Err(_) => Folded::Expr(e.clone()),
            }
        }
        Expr::Not(inner) => match fold_with(inner, known) {
            Folded::Const(b) => Folded::Const(!b),
            Folded::Expr(x) => Folded::Expr(Expr::Not(Box::new(x))),
        },
        Expr::And(items) | Expr::Or(items) => {
            let and = matches!(e, Expr::And(_));
            let mut kept = Vec::new();
            for x in items {
                match fold_with(x, known) {
                    // false decides an `and`, true an `or`.
                    Folded::Const(b) if b != and => return Folded::Const(b),
                    Folded::Const(_) => {}
                    Folded::Expr(x) => kept.push(x),
                }
            }
            match kept.len() {
                0 => Folded::Const(and),
                1 => Folded::Expr(kept.pop().expect("one item")),
                _ if and => Folded::Expr(Expr::And(kept)),
                _ => Folded::Expr(Expr::Or(kept)),
            }
        }
        Expr::AtLeast(n, items) => {
            let mut need = *n;
            let mut kept = Vec::new();
            for x in items {
                match fold_with(x, known) {
                    Folded::Const(true) => need = need.saturating_sub(1),
                    Folded::Const(false) => {}
                    Folded::Expr(x) => kept.push(x),
                }
            }
            if need == 0 {
                Folded::Const(true)
            } else if kept.len() < need {
                Folded::Const(false)
            } else if need == 1 {
                fold_or(kept)
            } else {
                Folded::Expr(Expr::AtLeast(need, kept))
            }
        }
    }
}

fn fold_or(mut kept: Vec<Expr>) -> Folded {
    if kept.len() == 1 {
        Folded::Expr(kept.pop().expect("one item"))
    } else {
        Folded::Expr(Expr::Or(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::schema::Schema;
    use serde_json::json;

    fn expr(detection: &str) -> Expr {
        let text = format!(
            "title: t\nid: 0b6c3f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f\nstatus: test\nlevel: low\n\
             date: 2026-12-03\nlogsource: {{product: ai, category: ai_access_audit}}\n\
             detection:\n{detection}"
        );
        let r = crate::semantics::check::check_str("t.yml", &text, &Schema::builtin());
        r.docs[0].expr.clone().expect("the rule lowers")
    }

    #[test]
    fn constant_fields_decide_their_tests() {
        let c: BTreeMap<String, Value> =
            [("ai.audit.service".to_string(), json!("bedrock"))].into();
        let sel = "    sel:\n        ai.audit.service: bedrock\n        event.action: X\n";
        // On its own service the test goes; on another the rule never matches.
        let Folded::Expr(e) = fold(&expr(&format!("{sel}    condition: sel\n")), &c) else {
            panic!("a test remains");
        };
        assert!(matches!(e, Expr::Pred(ref p) if p.field.as_deref() == Some("event.action")));
        let other: BTreeMap<String, Value> =
            [("ai.audit.service".to_string(), json!("vertex_ai"))].into();
        assert_eq!(
            fold(&expr(&format!("{sel}    condition: sel\n")), &other),
            Folded::Const(false)
        );
        // `not`, `or` and `1 of` fold through.
        let d = "    a:\n        ai.audit.service: vertex_ai\n    b:\n        event.action: Y\n";
        assert_eq!(
            fold(&expr(&format!("{d}    condition: a or not b\n")), &c),
            fold(&expr(&format!("{d}    condition: not b\n")), &c)
        );
        assert_eq!(
            fold(&expr(&format!("{d}    condition: not a\n")), &c),
            Folded::Const(true)
        );
        assert_eq!(
            fold(&expr(&format!("{d}    condition: 1 of them\n")), &c),
            fold(&expr(&format!("{d}    condition: b\n")), &c)
        );
        // Case-insensitive, as the engine compares.
        let sel2 = "    sel:\n        ai.audit.service: BEDROCK\n        event.action: X\n";
        assert!(matches!(
            fold(&expr(&format!("{sel2}    condition: sel\n")), &c),
            Folded::Expr(_)
        ));
    }
}
