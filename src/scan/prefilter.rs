//! Literal prefilter for `aisigma scan`: which rules can possibly match an event, decided from
//! the values of the fields their literals are needed in, before any rule is evaluated.
//!
//! For each rule, [`necessary`] gives clauses of literals, each needed in the value of one
//! field (a keyword's in any value of the event), or `None` when nothing is known. A rule is a
//! candidate when every one of its clauses has a literal found, or when it has no clause. Only
//! candidates are evaluated.
//!
//! Each field with literals gets one Aho-Corasick automaton over them (leftmost-longest, run
//! so that every literal that occurs is reported, see [`Prefilter::candidates`]), once per
//! event on each value the field reaches ([`EventView::each_folded`]). Those are the values exactly as
//! the engine reads them (decoded, every element of an array, a field's other names where it
//! has none), with ASCII letters lowered and the two non-ASCII characters whose simple case
//! folding is an ASCII letter, `ſ` (U+017F) and `K` (U+212A), written as `s` and `k`. So a
//! literal that a value must contain (ASCII case-insensitively, or with either folding) is
//! found: that is the soundness argument. Literals are ASCII and lower-cased ([`Lit`]); one with
//! empty text only needs the field to reach a value. Keys are never searched, so a literal that
//! is also a field name costs nothing.

use crate::engine::matcher::{EventView, FieldTable};
pub use crate::semantics::literals::{Cnf, Lit, MAX_CLAUSES, MIN_LITERAL, Noise, necessary};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The literals of one field, and the presence literal, by literal number.
#[derive(Debug)]
struct FieldSearch {
    /// `None`: keywords (every value of the event).
    field: Option<u32>,
    /// The literal texts, by pattern number.
    texts: Vec<Box<str>>,
    /// Their search, built when an event first holds the field: a large rule set names
    /// many fields that a given stream never holds, and building their automata is most
    /// of what loading would otherwise cost (`None`: no text).
    search: OnceLock<Option<Search>>,
    /// The literal number of each pattern.
    lits: Vec<u32>,
    /// The literal met when the field reaches a value.
    presence: Option<u32>,
}

#[derive(Debug)]
struct Search {
    automaton: AhoCorasick,
    /// For each pattern, the other patterns that are its prefixes: they occur wherever it
    /// does (see [`Prefilter::candidates`]).
    prefixes: Vec<Vec<u32>>,
}

impl FieldSearch {
    fn search(&self) -> Option<&Search> {
        self.search
            .get_or_init(|| {
                if self.texts.is_empty() {
                    return None;
                }
                let bytes: usize = self.texts.iter().map(|t| t.len()).sum();
                // Each text's proper prefixes that are texts too: a lookup per prefix, so
                // the cost follows the texts' lengths, not their number squared.
                let number: rustc_hash::FxHashMap<&str, u32> = self
                    .texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (&**t, i as u32))
                    .collect();
                let prefixes = self
                    .texts
                    .iter()
                    .map(|t| {
                        (1..t.len())
                            .filter(|&k| t.is_char_boundary(k))
                            .filter_map(|k| number.get(&t[..k]).copied())
                            .collect()
                    })
                    .collect();
                let automaton = AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(if bytes <= DFA_LIMIT {
                        AhoCorasickKind::DFA
                    } else {
                        AhoCorasickKind::ContiguousNFA
                    }))
                    .build(self.texts.iter().map(|t| t.as_bytes()))
                    .expect("literals of bounded size build");
                Some(Search {
                    automaton,
                    prefixes,
                })
            })
            .as_ref()
    }
}

/// The compiled prefilter over a list of rules.
#[derive(Debug)]
pub struct Prefilter {
    searches: Vec<FieldSearch>,
    /// The search of each field (by its number), if it has one.
    search_of: Vec<Option<u32>>,
    /// For each literal, the clauses that list it.
    clauses_of: Vec<Vec<u32>>,
    /// For each clause, its rule.
    rule_of: Vec<u32>,
    /// For each rule, its number of clauses.
    needs: Vec<u32>,
    /// Rules without clauses: always candidates.
    always: Vec<usize>,
}

/// Literal tables up to this many bytes get a DFA (fastest, but its memory and build time
/// grow with the patterns times the alphabet); larger ones a contiguous NFA.
const DFA_LIMIT: usize = 4 * 1024;

impl Prefilter {
    /// `cnfs[i]`: rule `i`'s requirements, from [`necessary`]; fields are numbered in `table`.
    pub fn new(cnfs: &[Cnf], table: &mut FieldTable) -> Prefilter {
        let mut clauses_of: Vec<Vec<u32>> = Vec::new();
        let mut rule_of = Vec::new();
        let mut needs = Vec::new();
        let mut always = Vec::new();
        let mut index: BTreeMap<&Lit, usize> = BTreeMap::new();
        for (rule, cnf) in cnfs.iter().enumerate() {
            needs.push(cnf.len() as u32);
            if cnf.is_empty() {
                always.push(rule);
            }
            for clause in cnf {
                let id = rule_of.len() as u32;
                rule_of.push(rule as u32);
                for l in clause {
                    let next = index.len();
                    let lit = *index.entry(l).or_insert(next);
                    if lit == clauses_of.len() {
                        clauses_of.push(Vec::new());
                    }
                    clauses_of[lit].push(id);
                }
            }
        }
        // One search per field, in field-name order (the map's order).
        // Per field: the literal texts, their numbers, and the presence literal's number.
        type Texts<'l> = (Vec<&'l str>, Vec<u32>, Option<u32>);
        let mut by_field: BTreeMap<Option<&str>, Texts> = BTreeMap::new();
        for (lit, &id) in &index {
            let entry = by_field.entry(lit.field.as_deref()).or_default();
            if lit.text.is_empty() {
                entry.2 = Some(id as u32);
            } else {
                entry.0.push(&lit.text);
                entry.1.push(id as u32);
            }
        }
        let searches = by_field
            .into_iter()
            .map(|(field, (texts, lits, presence))| FieldSearch {
                field: field.map(|f| table.id(f)),
                texts: texts.into_iter().map(Box::from).collect(),
                search: OnceLock::new(),
                lits,
                presence,
            })
            .collect::<Vec<FieldSearch>>();
        let mut search_of = vec![None; table.len()];
        for (i, s) in searches.iter().enumerate() {
            if let Some(f) = s.field {
                search_of[f as usize] = Some(i as u32);
            }
        }
        Prefilter {
            searches,
            search_of,
            clauses_of,
            rule_of,
            needs,
            always,
        }
    }

    /// Number of rules that have clauses.
    pub fn filtered_rules(&self) -> usize {
        self.needs.len() - self.always.len()
    }

    /// Put in `scratch.rules` the rules that may match the event of `view`, ascending.
    pub fn candidates(&self, view: &mut EventView, scratch: &mut Scratch) {
        scratch.rules.clear();
        scratch.rules.extend_from_slice(&self.always);
        if scratch.clause_hit.len() != self.rule_of.len() {
            scratch.clause_hit = vec![false; self.rule_of.len()];
            scratch.satisfied = vec![0; self.needs.len()];
        }
        let found = |lit: u32, scratch: &mut Scratch| {
            for &c in &self.clauses_of[lit as usize] {
                if !scratch.clause_hit[c as usize] {
                    scratch.clause_hit[c as usize] = true;
                    scratch.hit.push(c);
                    let r = self.rule_of[c as usize] as usize;
                    scratch.satisfied[r] += 1;
                    if scratch.satisfied[r] == self.needs[r] {
                        scratch.rules.push(r);
                    }
                }
            }
        };
        // Only the fields the event's keys lead to, and the keywords.
        view.fields_in(&mut scratch.fields);
        let fields = std::mem::take(&mut scratch.fields);
        let searches = fields
            .iter()
            .filter_map(|&f| self.search_of.get(f as usize).copied().flatten())
            .map(|i| &self.searches[i as usize])
            .chain(self.searches.iter().filter(|s| s.field.is_none()));
        for s in searches {
            let mut any = false;
            view.each_folded(s.field, &mut |text| {
                any = true;
                let Some(Search {
                    automaton: ac,
                    prefixes,
                }) = s.search()
                else {
                    return;
                };
                // Every literal that occurs, without an overlapping search: at each position
                // where a literal starts, the leftmost-longest search reports the longest
                // one, and every other literal starting there is a prefix of it (both are the
                // text from there on). Searching again from the next position visits every
                // start. A leftmost search can use the automaton's SIMD prefilter, which an
                // overlapping one cannot.
                let mut at = 0;
                while at < text.len() {
                    let Some(m) = ac.find(Input::new(text).range(at..)) else {
                        break;
                    };
                    let p = m.pattern().as_usize();
                    found(s.lits[p], scratch);
                    for &q in &prefixes[p] {
                        found(s.lits[q as usize], scratch);
                    }
                    at = m.start() + 1;
                }
            });
            if let (true, Some(p)) = (any, s.presence) {
                found(p, scratch);
            }
        }
        scratch.fields = fields;
        for c in scratch.hit.drain(..) {
            scratch.clause_hit[c as usize] = false;
            scratch.satisfied[self.rule_of[c as usize] as usize] = 0;
        }
        scratch.rules.sort_unstable();
    }
}

/// Per-thread buffers of [`Prefilter::candidates`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// The candidate rules of the last event, ascending.
    pub rules: Vec<usize>,
    clause_hit: Vec<bool>,
    satisfied: Vec<u32>,
    hit: Vec<u32>,
    fields: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::matcher::Slots;

    fn cnf(clauses: &[&[(&str, &str)]]) -> Cnf {
        clauses
            .iter()
            .map(|c| {
                c.iter()
                    .map(|(f, t)| Lit {
                        field: (!f.is_empty()).then(|| f.to_string()),
                        text: t.to_string(),
                    })
                    .collect()
            })
            .collect()
    }

    fn rules(p: &Prefilter, table: &FieldTable, event: &str) -> Vec<usize> {
        let v: serde_json::Value = serde_json::from_str(event).unwrap();
        let mut slots = Slots::default();
        let mut view = EventView::new(&v, table, &mut slots);
        let mut scratch = Scratch::default();
        p.candidates(&mut view, &mut scratch);
        scratch.rules
    }

    #[test]
    fn candidates_are_found_in_their_fields_case_insensitively() {
        let mut table = FieldTable::new();
        let p = Prefilter::new(
            &[
                cnf(&[&[("f", "alpha")]]),
                cnf(&[]),
                cnf(&[&[("f", "beta")]]),
                cnf(&[&[("f", "gamma"), ("g", "delta")], &[("f", "epsilon")]]),
                cnf(&[&[("", "kill")]]),
                cnf(&[&[("n", "")]]),
            ],
            &mut table,
        );
        let r = |e: &str| rules(&p, &table, e);
        assert_eq!(r(r#"{"f":"xALPHAx"}"#), vec![0, 1]);
        // Escapes are decoded, and letters that fold to ASCII ones found.
        assert_eq!(r(r#"{"f":"x\u0042ETA"}"#), vec![1, 2]);
        assert_eq!(r(r#"{"f":"ſ \u212Aill"}"#), vec![1, 4]);
        // A literal in another field, or in a key, is not found.
        assert_eq!(r(r#"{"g":"alpha", "alpha": 1}"#), vec![1]);
        // Every clause must be satisfied, and the counts start afresh on each event.
        assert_eq!(r(r#"{"f":"epsilon", "g": "DELTA"}"#), vec![1, 3]);
        assert_eq!(r(r#"{"f":"epsilon"}"#), vec![1]);
        // Array elements one by one; presence.
        assert_eq!(r(r#"{"f":["x", "alpha"], "n": 0}"#), vec![0, 1, 5]);
    }

    #[test]
    fn overlapping_and_nested_literals_are_all_found() {
        // Literals that start at the same place, inside one another, and overlap: each rule
        // needs one of them, so each must be reported wherever it occurs.
        let lits = ["abcd", "abc", "bc", "b", "cdx", "d", "zz"];
        let cnfs: Vec<Cnf> = lits.iter().map(|l| cnf(&[&[("f", l)]])).collect();
        let mut table = FieldTable::new();
        let p = Prefilter::new(&cnfs, &mut table);
        let r = |e: &str| rules(&p, &table, e);
        assert_eq!(r(r#"{"f":"xabcdx"}"#), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(r(r#"{"f":"abc"}"#), vec![1, 2, 3]);
        assert_eq!(r(r#"{"f":"bcdxzzz"}"#), vec![2, 3, 4, 5, 6]);
        // The brute force agrees on every short text over the literals' letters.
        let alphabet = ['a', 'b', 'c', 'd', 'x', 'z'];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            texts = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for t in &texts {
                let want: Vec<usize> = (0..lits.len()).filter(|&i| t.contains(lits[i])).collect();
                assert_eq!(r(&format!(r#"{{"f":"{t}"}}"#)), want, "{t}");
            }
        }
    }
}
