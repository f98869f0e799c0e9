//! Literal prefilter for `aisigma scan`: which rules can possibly match an event, decided on
//! the raw JSON line before it is parsed.
//!
//! For each rule, [`necessary`] computes a set of literals such that the rule can only match
//! an event whose raw line contains one of them (ASCII case-insensitively), or `None` when no
//! such set is known. One Aho-Corasick automaton over every literal of every rule finds the
//! literals of a line in one pass; a rule is a candidate when one of its literals occurs, or
//! when it has no literal set. Only candidates are evaluated.
//!
//! Soundness rests on how JSON writes text: a character that no JSON encoder escapes appears
//! in the raw line exactly as in the decoded value. Literals therefore keep only such
//! characters ([`safe`]: ASCII letters, digits, space and punctuation other than
//! `" \ / < > & ' + \``, which some encoders write as escapes). For case-insensitive values
//! the letters `k` and `s` are left out too, because the engine's case folding also matches
//! the Kelvin sign and the long s, which a line holds as other bytes. A literal is used only
//! when it has at least [`MIN_LITERAL`] characters.

use crate::ir::{Expr, Pred, Test};
use crate::sigma_string::Part;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Shortest literal worth testing: shorter ones occur in almost every line.
pub const MIN_LITERAL: usize = 3;

/// A character that every JSON encoder writes as itself.
fn safe(c: char, case_insensitive: bool) -> bool {
    let plain = c.is_ascii_alphanumeric()
        || (c.is_ascii_punctuation()
            && !matches!(c, '"' | '\\' | '/' | '<' | '>' | '&' | '\'' | '+' | '`'))
        || c == ' ';
    plain && !(case_insensitive && matches!(c, 'k' | 'K' | 's' | 'S'))
}

/// The longest run of safe characters in `s`, lower-cased, if it is long enough.
fn best_run(s: &str, case_insensitive: bool) -> Option<String> {
    let mut best = "";
    for run in s.split(|c| !safe(c, case_insensitive)) {
        if run.len() > best.len() {
            best = run;
        }
    }
    (best.len() >= MIN_LITERAL).then(|| best.to_ascii_lowercase())
}

/// Literals one of which the raw line must contain for `e` to be true; `None` if unknown.
pub fn necessary(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Pred(p) => pred(p),
        // Every operand must hold: any one operand's set will do; take the most selective.
        Expr::And(items) => items
            .iter()
            .filter_map(necessary)
            .max_by_key(|set| set.iter().map(String::len).min().unwrap_or(0)),
        // Some operand must hold: the union, if every operand has a set.
        Expr::Or(items) => union(items),
        Expr::AtLeast(n, items) if *n >= 1 => union(items),
        Expr::AtLeast(..) | Expr::Not(_) => None,
    }
}

fn union(items: &[Expr]) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for it in items {
        all.extend(necessary(it)?);
    }
    all.sort();
    all.dedup();
    (!all.is_empty()).then_some(all)
}

fn pred(p: &Pred) -> Option<Vec<String>> {
    // A literal from the value, if the test needs one.
    let value = match &p.test {
        Test::Str { pattern, cased } => pattern
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Lit(l) => best_run(l, !cased),
                _ => None,
            })
            .max_by_key(String::len)
            .map(|l| vec![l]),
        Test::Regex { pattern, flags } => {
            regex_literals(&crate::lower::regex_source(pattern, *flags))
        }
        _ => None,
    };
    if value.is_some() {
        return value;
    }
    // Otherwise the field's name: a test that needs a present field needs its key in the
    // line, and the last segment of the path is a key whether the event is flat or nested.
    let field = p.field.as_deref()?;
    let needs_field = !matches!(p.test, Test::Null | Test::Exists(false));
    let last = field.rsplit('.').next().unwrap_or(field);
    needs_field
        .then(|| best_run(last, false).filter(|r| r.len() == last.len()))
        .flatten()
        .map(|l| vec![l])
}

/// Literals one of which every match of the regex contains (its prefix literals, each cut to
/// its best safe run), or `None`.
fn regex_literals(source: &str) -> Option<Vec<String>> {
    let hir = crate::regex_translate::parse(source).ok()?;
    let mut best: Option<Vec<String>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let seq = Extractor::new().kind(kind).extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() {
            continue;
        }
        let mut out = Vec::new();
        for l in lits {
            // Case variants of a folded literal (`K`, `k`, Kelvin sign) are all listed, so a
            // run without `k`/`s` is not needed here: every variant must yield a run.
            let text = std::str::from_utf8(l.as_bytes()).ok()?;
            out.push(best_run(text, false)?);
        }
        out.sort();
        out.dedup();
        let score = |v: &Vec<String>| v.iter().map(String::len).min().unwrap_or(0);
        if best.as_ref().is_none_or(|b| score(&out) > score(b)) {
            best = Some(out);
        }
    }
    best
}

/// The compiled prefilter over a list of rules.
#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// For each literal, the rules that list it.
    rules_of: Vec<Vec<usize>>,
    /// Rules without a literal set: always candidates.
    always: Vec<usize>,
    rules: usize,
}

impl Prefilter {
    /// `sets[i]`: rule `i`'s literal set, from [`necessary`].
    pub fn new(sets: &[Option<Vec<String>>]) -> Prefilter {
        let mut literals: Vec<String> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, set) in sets.iter().enumerate() {
            match set {
                None => always.push(rule),
                Some(lits) => {
                    for l in lits {
                        let id = *index.entry(l.clone()).or_insert_with(|| {
                            literals.push(l.clone());
                            rules_of.push(Vec::new());
                            literals.len() - 1
                        });
                        rules_of[id].push(rule);
                    }
                }
            }
        }
        let automaton = (!literals.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .expect("literals of bounded size build")
        });
        Prefilter {
            automaton,
            rules_of,
            always,
            rules: sets.len(),
        }
    }

    /// Number of rules that have a literal set.
    pub fn filtered_rules(&self) -> usize {
        self.rules - self.always.len()
    }

    /// Mark in `out` (one flag per rule) the rules that may match `line`.
    pub fn candidates(&self, line: &[u8], out: &mut Vec<bool>) {
        out.clear();
        out.resize(self.rules, false);
        for &r in &self.always {
            out[r] = true;
        }
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(line) {
                for &r in &self.rules_of[m.pattern().as_usize()] {
                    out[r] = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_str;
    use crate::schema::Schema;

    fn set(detection: &str) -> Option<Vec<String>> {
        let text = format!(
            "title: t\nid: 7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {{product: x}}\ndetection:\n{}",
            detection
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let r = check_str("r.yml", &text, &Schema::builtin());
        necessary(r.docs[0].expr.as_ref().unwrap())
    }

    #[test]
    fn literals_of_values_and_fields() {
        assert_eq!(
            set("sel:\n  f|contains: 'ignore previous'\ncondition: sel"),
            Some(vec!["ignore previou".to_string()])
        );
        assert_eq!(
            set("sel:\n  f|contains|cased: 'Ignore/Previous'\ncondition: sel"),
            Some(vec!["previous".to_string()])
        );
        // Numbers: the field's key.
        assert_eq!(
            set("sel:\n  tokens.count|gt: 5\ncondition: sel"),
            Some(vec!["count".to_string()])
        );
        // Or: the union; not: nothing known.
        assert_eq!(
            set("a:\n  f: alpha\nb:\n  g: beta\ncondition: a or b"),
            Some(vec!["alpha".to_string(), "beta".to_string()])
        );
        assert_eq!(set("a:\n  f: alpha\ncondition: not a"), None);
        assert_eq!(set("a:\n  f: null\ncondition: a"), None);
        assert_eq!(
            set("a:\n  f|re: '(?i)curl|wget'\ncondition: a"),
            Some(vec!["curl".to_string(), "wget".to_string()])
        );
    }

    #[test]
    fn candidates_are_found_case_insensitively() {
        let p = Prefilter::new(&[Some(vec!["alpha".into()]), None, Some(vec!["beta".into()])]);
        let mut out = Vec::new();
        p.candidates(br#"{"f":"xALPHAx"}"#, &mut out);
        assert_eq!(out, vec![true, true, false]);
    }
}
