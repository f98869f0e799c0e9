//! The second candidate filter of `aisigma scan`: rules that need a field to equal one of a
//! few values, looked up by the event's values in hash tables.
//!
//! Many rules can only match when a field holds one of a few exact values (`EventID: 4688`,
//! `Channel: Security`, a list of process names). For each rule, [`eq_clause`] finds such a
//! field-value set where there is one (an `or` of equality tests, or one operand of an `and`).
//! After the literal [`crate::scan::prefilter`] and the decoding of the line, each indexed field
//! of the event is resolved once ([`EventView::each_key`]) and its values are looked up; a
//! candidate rule with a set is evaluated only if one of its values was found.
//!
//! Soundness: a string equality holds only if the two texts are equal with ASCII letters
//! lowered (that is what the key compares, whether the test is case-sensitive or not), and a
//! numeric equality only if the event's number ([`crate::engine::matcher`]'s reading of a
//! JSON number or numeric text) equals the value, which the key compares by its bits (with
//! `-0` written as `0`). Under `--unicode-exact` letters outside ASCII can fold to ASCII
//! ones, so string values are not indexed there.

use crate::engine::matcher::{EventView, FieldTable};
use crate::regex::casefold::CaseMode;
use crate::semantics::ir::{CmpOp, Expr, Pred, Test};
use rustc_hash::FxHashMap;

/// What an equality needs of a field's value.
#[derive(Clone, Debug, PartialEq)]
enum Key {
    /// The text with ASCII letters lowered.
    Text(String),
    /// A number, by its bits.
    Num(u64),
}

fn num_key(n: f64) -> u64 {
    if n == 0.0 { 0.0f64 } else { n }.to_bits()
}

/// A set of (field, value) pairs one of which the event must hold for `e` to be true, if one
/// is known. `text` says whether string equalities count.
fn eq_clause(e: &Expr, text: bool) -> Option<Vec<(&str, Key)>> {
    match e {
        Expr::Pred(Pred {
            field: Some(f),
            test,
            ..
        }) => match test {
            Test::Num {
                op: CmpOp::Eq,
                value,
                ..
            } if value.is_finite() => Some(vec![(f.as_str(), Key::Num(num_key(*value)))]),
            Test::Str { pattern, .. } if text => pattern
                .as_plain()
                .map(|s| vec![(f.as_str(), Key::Text(s.to_ascii_lowercase()))]),
            _ => None,
        },
        Expr::Or(items) | Expr::AtLeast(1.., items) => {
            let mut all = Vec::new();
            for i in items {
                all.extend(eq_clause(i, text)?);
            }
            (!all.is_empty()).then_some(all)
        }
        // The operand with the fewest values (the most selective, as a rule of thumb).
        Expr::And(items) => items
            .iter()
            .filter_map(|i| eq_clause(i, text))
            .min_by_key(Vec::len),
        Expr::Pred(_) | Expr::Not(_) | Expr::AtLeast(..) => None,
    }
}

/// The rules' field-value sets, as hash tables.
#[derive(Debug, Default)]
pub struct ValueIndex {
    /// The fields some set names, ascending.
    fields: Vec<u32>,
    /// By field number: does some set name it?
    named: Vec<bool>,
    texts: FxHashMap<u32, FxHashMap<Box<str>, Vec<u32>>>,
    nums: FxHashMap<(u32, u64), Vec<u32>>,
    /// Per rule: does it have a set?
    indexed: Vec<bool>,
}

/// Per-thread buffers of [`ValueIndex::retain`].
#[derive(Debug, Default)]
pub struct Marks {
    stamp: u32,
    found: Vec<u32>,
    fields: Vec<u32>,
}

impl ValueIndex {
    /// The index of `exprs` (one per rule), with field numbers from `table`.
    pub fn new(exprs: &[Expr], table: &mut FieldTable, mode: CaseMode) -> ValueIndex {
        let mut ix = ValueIndex::default();
        let text = mode == CaseMode::Ascii;
        for (rule, e) in exprs.iter().enumerate() {
            let clause = eq_clause(e, text);
            ix.indexed.push(clause.is_some());
            for (field, key) in clause.into_iter().flatten() {
                let f = table.id(field);
                if let Err(at) = ix.fields.binary_search(&f) {
                    ix.fields.insert(at, f);
                }
                let rules = match key {
                    Key::Text(t) => ix
                        .texts
                        .entry(f)
                        .or_default()
                        .entry(t.into_boxed_str())
                        .or_default(),
                    Key::Num(n) => ix.nums.entry((f, n)).or_default(),
                };
                if rules.last() != Some(&(rule as u32)) {
                    rules.push(rule as u32);
                }
            }
        }
        ix.named = vec![false; table.len()];
        for &f in &ix.fields {
            ix.named[f as usize] = true;
        }
        ix
    }

    /// Rules with a field-value set.
    pub fn indexed_rules(&self) -> usize {
        self.indexed.iter().filter(|&&b| b).count()
    }

    /// Keep of `rules` those without a set, and those one of whose values the event holds.
    pub fn retain(&self, rules: &mut Vec<usize>, view: &mut EventView, marks: &mut Marks) {
        if self.fields.is_empty() || !rules.iter().any(|&r| self.indexed[r]) {
            return;
        }
        marks.stamp = marks.stamp.wrapping_add(1);
        if marks.stamp == 0 {
            marks.found.iter_mut().for_each(|s| *s = 0);
            marks.stamp = 1;
        }
        marks.found.resize(self.indexed.len(), 0);
        let stamp = marks.stamp;
        let mut fields = std::mem::take(&mut marks.fields);
        view.fields_in(&mut fields);
        for &f in fields
            .iter()
            .filter(|&&f| self.named.get(f as usize) == Some(&true))
        {
            let texts = self.texts.get(&f);
            view.each_key(f, &mut |text, num| {
                let mut mark = |rs: &Vec<u32>| {
                    for &r in rs {
                        marks.found[r as usize] = stamp;
                    }
                };
                if let Some(rs) = text.zip(texts).and_then(|(t, m)| m.get(t)) {
                    mark(rs);
                }
                if let Some(rs) = num.and_then(|n| self.nums.get(&(f, num_key(n)))) {
                    mark(rs);
                }
            });
        }
        marks.fields = fields;
        rules.retain(|&r| !self.indexed[r] || marks.found[r] == stamp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::matcher::Slots;
    use crate::semantics::check::check_str;
    use crate::semantics::schema::Schema;

    fn exprs(detections: &[&str]) -> Vec<Expr> {
        let schema = Schema::builtin();
        detections
            .iter()
            .map(|d| {
                let rule = format!(
                    "title: t\nid: 6a0f3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b\nstatus: test\nlevel: low\n\
                     date: 2026-01-01\nlogsource: {{product: windows}}\ndetection:\n{d}"
                );
                let r = check_str("t.yml", &rule, &schema);
                r.docs[0].expr.clone().expect("checks")
            })
            .collect()
    }

    fn kept(ix: &ValueIndex, table: &FieldTable, event: serde_json::Value, n: usize) -> Vec<usize> {
        let mut slots = Slots::default();
        let mut view = EventView::new(&event, table, &mut slots);
        let mut rules: Vec<usize> = (0..n).collect();
        ix.retain(&mut rules, &mut view, &mut Marks::default());
        rules
    }

    #[test]
    fn rules_are_kept_by_the_values_they_need() {
        let e = exprs(&[
            "  sel:\n    EventID: 4688\n    CommandLine|contains: x\n  condition: sel\n",
            "  sel:\n    Channel:\n      - Security\n      - System\n  condition: sel\n",
            "  sel:\n    EventID: 1\n  filter:\n    Image: a\n  condition: sel or not filter\n",
            "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n",
        ]);
        let mut table = FieldTable::new();
        let ix = ValueIndex::new(&e, &mut table, CaseMode::Ascii);
        assert_eq!(ix.indexed_rules(), 2);
        assert_eq!(
            kept(&ix, &table, serde_json::json!({"EventID": 4688}), 4),
            [0, 2, 3]
        );
        assert_eq!(
            kept(&ix, &table, serde_json::json!({"EventID": "4688.0"}), 4),
            [0, 2, 3]
        );
        assert_eq!(
            kept(&ix, &table, serde_json::json!({"Channel": "SYSTEM"}), 4),
            [1, 2, 3]
        );
        assert_eq!(
            kept(
                &ix,
                &table,
                serde_json::json!({"Channel": ["x", "security"]}),
                4
            ),
            [1, 2, 3]
        );
        assert_eq!(
            kept(&ix, &table, serde_json::json!({"EventID": -0.0}), 4),
            [2, 3]
        );
        // Under Unicode folding only numbers are indexed.
        let mut table = FieldTable::new();
        let ix = ValueIndex::new(&e, &mut table, CaseMode::Unicode);
        assert_eq!(ix.indexed_rules(), 1);
    }
}
