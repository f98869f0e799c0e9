//! Literals a detection needs: for an expression, a conjunction of clauses, each a set of
//! lower-cased ASCII literals one of which the matched text must contain (ASCII
//! case-insensitively). `scan` uses them, with the field each is needed in, to skip the rules
//! an event cannot match; backends use a field's clause as a cheap index-friendly prefilter in
//! front of a regex (Splunk's base search).

use crate::semantics::ir::{Expr, Pred, Test};
use crate::syntax::sigma_string::Part;
use regex_syntax::hir::{Class, Hir, HirKind};

/// Shortest literal worth testing: shorter ones occur in almost every line.
pub const MIN_LITERAL: usize = 3;

/// The longest ASCII run of `s`, lower-cased, if it is long enough.
fn best_run(s: &str) -> Option<String> {
    let best = s
        .split(|c: char| !c.is_ascii())
        .max_by_key(|r| r.len())
        .unwrap_or("");
    (best.len() >= MIN_LITERAL).then(|| best.to_ascii_lowercase())
}

/// Text that occurs in most lines whatever the event says: the field names (keys) of the
/// schema. A literal found in it is a poor filter (`prompt` is in the key `ai.prompt.text`),
/// so another literal set is preferred when there is a choice.
#[derive(Clone, Debug, Default)]
pub struct Noise {
    text: String,
}

impl Noise {
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Noise {
        let mut text = String::new();
        for k in keys {
            text.push_str(&k.to_ascii_lowercase());
            text.push('\n');
        }
        Noise { text }
    }

    /// How good a clause is: its shortest literal's length (longer literals are rarer),
    /// where a literal found in the noise counts as empty.
    fn score<L: AsRef<str>>(&self, clause: &[L]) -> usize {
        clause
            .iter()
            .map(|l| {
                let l = l.as_ref();
                if self.text.contains(l) { 0 } else { l.len() }
            })
            .min()
            .unwrap_or(0)
    }

    /// The clauses of `cnf`, best first (a better score; then fewer literals), at most
    /// [`MAX_CLAUSES`] of them.
    fn rank<L: Ord + AsRef<str>>(&self, mut cnf: Vec<Vec<L>>) -> Vec<Vec<L>> {
        for c in &mut cnf {
            c.sort();
            c.dedup();
        }
        cnf.sort();
        cnf.dedup();
        cnf.sort_by_key(|c| (std::cmp::Reverse(self.score(c)), c.len()));
        cnf.truncate(MAX_CLAUSES);
        cnf
    }
}

/// A conjunction of clauses, each a disjunction of literals: the matched text must contain,
/// for every clause, one of its literals (ASCII case-insensitively). Empty: nothing is known.
pub type TextCnf = Vec<Vec<String>>;

/// A literal needed in a field's value (a keyword's, in any value, without a field). An empty
/// `text` only needs the field to be there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lit {
    pub field: Option<String>,
    pub text: String,
}

impl AsRef<str> for Lit {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// [`TextCnf`] with the field of each literal: the event must hold, for every clause, one of
/// its literals in the value of the literal's field.
pub type Cnf = Vec<Vec<Lit>>;

/// Most clauses kept per rule.
pub const MAX_CLAUSES: usize = 4;

/// What the line must contain for `e` to be true.
pub fn necessary(e: &Expr, noise: &Noise) -> Cnf {
    match e {
        Expr::Pred(p) => pred(p, noise),
        // Every operand must hold: all their clauses.
        Expr::And(items) => noise.rank(items.iter().flat_map(|i| necessary(i, noise)).collect()),
        // Some operand must hold: one clause, the union of each operand's best clause.
        Expr::Or(items) => union(items.iter().map(|i| necessary(i, noise))),
        Expr::AtLeast(n, items) if *n >= 1 => union(items.iter().map(|i| necessary(i, noise))),
        Expr::AtLeast(..) | Expr::Not(_) => Vec::new(),
    }
}

/// The union of the best clause of each (ranked) CNF; nothing if one of them is empty.
fn union<L: Ord>(cnfs: impl Iterator<Item = Vec<Vec<L>>>) -> Vec<Vec<L>> {
    let mut all = Vec::new();
    for c in cnfs {
        match c.into_iter().next() {
            Some(best) => all.extend(best),
            None => return Vec::new(),
        }
    }
    all.sort();
    all.dedup();
    if all.is_empty() {
        Vec::new()
    } else {
        vec![all]
    }
}

fn pred(p: &Pred, noise: &Noise) -> Cnf {
    let lit = |text: String| Lit {
        field: p.field.clone(),
        text,
    };
    let value = value_literals(p, noise);
    if !value.is_empty() {
        return value
            .into_iter()
            .map(|c| c.into_iter().map(lit).collect())
            .collect();
    }
    // Otherwise the field's presence: a test that needs a present field.
    let needs_field = !matches!(p.test, Test::Null | Test::Exists(false));
    match &p.field {
        Some(_) if needs_field => vec![vec![lit(String::new())]],
        _ => Vec::new(),
    }
}

/// What a string or regex test's matched *value* must contain (empty: nothing known).
pub fn value_literals(p: &Pred, noise: &Noise) -> TextCnf {
    // Every literal part of a pattern; a regex's literal pieces.
    let value: TextCnf = match &p.test {
        Test::Str { pattern, .. } => pattern
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Lit(l) => best_run(l).map(|r| vec![r]),
                _ => None,
            })
            .collect(),
        Test::Regex { pattern, flags } => {
            let hir = crate::regex::translate::parse(&crate::semantics::ir::regex_source(
                pattern, *flags,
            ));
            hir.map(|h| as_cnf(pieces(&h, noise))).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    noise.rank(value)
}

/// Largest finite language tracked by [`pieces`].
const MAX_LANGUAGE: usize = 32;

/// What a regex needs of the text it matches.
enum Piece {
    /// Exactly one of these strings (lower-cased ASCII), as a contiguous part of the match:
    /// the regex's finite language. `""` stands for zero-width items.
    Lang(Vec<String>),
    /// Literals the match contains (see [`TextCnf`]).
    Cnf(TextCnf),
}

fn as_cnf(p: Piece) -> TextCnf {
    match p {
        Piece::Lang(mut v) if v.iter().all(|s| s.len() >= MIN_LITERAL) => {
            v.sort();
            v.dedup();
            vec![v]
        }
        Piece::Lang(_) => Vec::new(),
        Piece::Cnf(c) => c,
    }
}

/// The ASCII characters (lower-cased, after folding `ſ` and `K`) a small class stands for:
/// `[Kk\u{212A}]`, what `(?i)k` becomes, is `k`; `None` for a large or non-ASCII class.
fn class_chars(c: &Class) -> Option<Vec<char>> {
    let mut chars: Vec<char> = Vec::new();
    let mut add = |start: u32, end: u32| {
        if end - start > 8 || chars.len() > 16 {
            return false;
        }
        chars.extend((start..=end).filter_map(char::from_u32));
        true
    };
    let small = match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .all(|r| add(r.start() as u32, r.end() as u32)),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .all(|r| add(r.start().into(), r.end().into())),
    };
    if !small {
        return None;
    }
    let mut folded: Vec<char> = chars
        .into_iter()
        .map(|c| match c {
            '\u{17F}' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    folded.sort_unstable();
    folded.dedup();
    (folded.iter().all(char::is_ascii) && folded.len() <= 8).then_some(folded)
}

fn pieces(h: &Hir, noise: &Noise) -> Piece {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Piece::Lang(vec![String::new()]),
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) if s.is_ascii() => Piece::Lang(vec![s.to_ascii_lowercase()]),
            Ok(s) => Piece::Cnf(best_run(s).map(|r| vec![vec![r]]).unwrap_or_default()),
            Err(_) => Piece::Cnf(Vec::new()),
        },
        HirKind::Class(c) => match class_chars(c) {
            Some(cs) => Piece::Lang(cs.into_iter().map(String::from).collect()),
            None => Piece::Cnf(Vec::new()),
        },
        HirKind::Capture(c) => pieces(&c.sub, noise),
        HirKind::Repetition(r) => match (r.min, r.max, pieces(&r.sub, noise)) {
            (1, Some(1), p) => p,
            (0, Some(1), Piece::Lang(mut v)) if v.len() < MAX_LANGUAGE => {
                v.push(String::new());
                Piece::Lang(v)
            }
            (0, ..) => Piece::Cnf(Vec::new()),
            (_, _, p) => Piece::Cnf(as_cnf(p)),
        },
        HirKind::Alternation(branches) => {
            let parts: Vec<Piece> = branches.iter().map(|b| pieces(b, noise)).collect();
            let words: usize = parts
                .iter()
                .map(|p| match p {
                    Piece::Lang(v) => v.len(),
                    Piece::Cnf(_) => MAX_LANGUAGE + 1,
                })
                .sum();
            if words <= MAX_LANGUAGE {
                let mut all = Vec::new();
                for p in parts {
                    if let Piece::Lang(v) = p {
                        all.extend(v);
                    }
                }
                Piece::Lang(all)
            } else {
                Piece::Cnf(union(parts.into_iter().map(|p| noise.rank(as_cnf(p)))))
            }
        }
        HirKind::Concat(items) => {
            // `cur`: the language of the current run of finite pieces; a piece that would make
            // it too large, or an unknown piece, ends the run.
            let mut cur = vec![String::new()];
            let mut cnf: TextCnf = Vec::new();
            let mut broken = false;
            for it in items {
                match pieces(it, noise) {
                    Piece::Lang(v) if cur.len() * v.len() <= MAX_LANGUAGE => {
                        cur = cur
                            .iter()
                            .flat_map(|a| v.iter().map(move |b| format!("{a}{b}")))
                            .collect();
                    }
                    Piece::Lang(v) => {
                        broken = true;
                        cnf.extend(as_cnf(Piece::Lang(std::mem::replace(&mut cur, v))));
                    }
                    Piece::Cnf(c) => {
                        broken = true;
                        let done = std::mem::replace(&mut cur, vec![String::new()]);
                        cnf.extend(as_cnf(Piece::Lang(done)));
                        cnf.extend(c);
                    }
                }
            }
            if broken {
                cnf.extend(as_cnf(Piece::Lang(cur)));
                Piece::Cnf(noise.rank(cnf))
            } else {
                Piece::Lang(cur)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::check::check_str;
    use crate::semantics::schema::Schema;

    /// The literals, a presence written `field?`.
    fn set(detection: &str) -> TextCnf {
        let text = format!(
            "title: t\nid: 7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {{product: x}}\ndetection:\n{}",
            detection
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let r = check_str("r.yml", &text, &Schema::builtin());
        necessary(r.docs[0].expr.as_ref().unwrap(), &Noise::default())
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|l| match l.text.as_str() {
                        "" => format!("{}?", l.field.unwrap_or_default()),
                        t => t.to_string(),
                    })
                    .collect()
            })
            .collect()
    }

    fn cnf(clauses: &[&[&str]]) -> TextCnf {
        clauses
            .iter()
            .map(|c| c.iter().map(|l| l.to_string()).collect())
            .collect()
    }

    #[test]
    fn literals_of_values_and_fields() {
        assert_eq!(
            set("sel:\n  f|contains: 'ignore previous'\ncondition: sel"),
            cnf(&[&["ignore previous"]])
        );
        // Every literal part of a pattern; runs end at non-ASCII characters.
        assert_eq!(
            set("sel:\n  f|contains|cased: 'Ignore/Previous é*shutdown now'\ncondition: sel"),
            cnf(&[&["ignore/previous "], &["shutdown now"]])
        );
        // Numbers: the field's presence.
        assert_eq!(
            set("sel:\n  tokens.count|gt: 5\ncondition: sel"),
            cnf(&[&["tokens.count?"]])
        );
        // Or: the union; not: nothing known.
        assert_eq!(
            set("a:\n  f: alpha\nb:\n  g: beta\ncondition: a or b"),
            cnf(&[&["alpha", "beta"]])
        );
        assert_eq!(set("a:\n  f: alpha\ncondition: not a"), cnf(&[]));
        assert_eq!(set("a:\n  f: null\ncondition: a"), cnf(&[]));
        // And: every operand's clauses, best first.
        assert_eq!(
            set("a:\n  f: alpha\n  g: longer value\ncondition: a"),
            cnf(&[&["longer value"], &["alpha"]])
        );
    }

    fn regex(source: &str) -> TextCnf {
        let noise = Noise::new(["ai.prompt.text", "gen_ai.system"]);
        as_cnf(pieces(
            &crate::regex::translate::parse(source).unwrap(),
            &noise,
        ))
    }

    #[test]
    fn literals_of_regexes() {
        assert_eq!(regex("(?i)curl|wget"), cnf(&[&["curl", "wget"]]));
        // Case-insensitive classes are letters again, `s` and `k` included.
        assert_eq!(regex("(?i)\\bdisk mask\\b"), cnf(&[&["disk mask"]]));
        // Every piece of a concatenation (the best first); alternations inside it.
        assert_eq!(
            regex("(?i)\\b(act|respond)\\s+as\\s+an?\\s+(unfiltered|uncensored)\\s+ai"),
            cnf(&[&["uncensored", "unfiltered"], &["act", "respond"]])
        );
        assert_eq!(regex("x(abc)?y"), cnf(&[]));
        assert_eq!(regex("(abcd){2,}z"), cnf(&[&["abcd"]]));
        assert_eq!(regex("ab|.*"), cnf(&[]));
        // Small classes and optional parts multiply out.
        assert_eq!(
            regex("\\bgh[pousr]_[A-Za-z0-9]{36}\\b"),
            cnf(&[&["gho_", "ghp_", "ghr_", "ghs_", "ghu_"]])
        );
        assert_eq!(regex("(?i)prompts?"), cnf(&[&["prompt", "prompts"]]));
        // A literal found in the field names ranks last.
        assert_eq!(
            regex("(?i)(ignore|skip)\\s+(system|prompt)"),
            cnf(&[&["ignore", "skip"], &["prompt", "system"]])
        );
        // An alternation keeps the best clause of each branch.
        assert_eq!(
            regex("(?i)what\\s+are\\s+your\\s+rules|\\bgithub_pat_[A-Z]{22,}"),
            cnf(&[&["github_pat_", "rules"]])
        );
    }
}
