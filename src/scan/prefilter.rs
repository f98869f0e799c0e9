//! Literal prefilter for `aisigma scan`: which rules can possibly match an event, decided on
//! the raw JSON line before it is parsed.
//!
//! For each rule, [`necessary`] computes a set of literals such that the rule can only match
//! an event whose line contains one of them (ASCII case-insensitively), or `None` when no
//! such set is known. One Aho-Corasick automaton over every literal of every rule finds the
//! literals of a line in one pass; a rule is a candidate when one of its literals occurs, or
//! when it has no literal set. Only candidates are evaluated.
//!
//! Soundness: the automaton runs on the line's *normalized* text ([`normalize`]), in which
//! every JSON escape is decoded (`\"`, `\\`, `\/`, `\n`, `\u00e9`, surrogate pairs) and the two
//! non-ASCII characters whose simple case folding is an ASCII letter, `ſ` (U+017F) and `K`
//! (U+212A), are written as `s` and `k`. Every string value of the event, decoded and case
//! folded as the engine folds it, is then a substring of the normalized text up to ASCII case,
//! so a literal that a value must contain is found. Literals are ASCII: a run of the value
//! broken at every other character, kept when it has at least [`MIN_LITERAL`] characters.
//! A line with no backslash and none of the lead bytes of `ſ` and `K` is its own normalized
//! text and is not copied.

use crate::semantics::ir::{Expr, Pred, Test};
use crate::syntax::sigma_string::Part;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
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
    fn score(&self, clause: &[String]) -> usize {
        clause
            .iter()
            .map(|l| {
                if self.text.contains(l.as_str()) {
                    0
                } else {
                    l.len()
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// The clauses of `cnf`, best first (a better score; then fewer literals), at most
    /// [`MAX_CLAUSES`] of them.
    fn rank(&self, mut cnf: Cnf) -> Cnf {
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

/// A conjunction of clauses, each a disjunction of literals: the line must contain, for
/// every clause, one of its literals (ASCII case-insensitively). Empty: nothing is known.
pub type Cnf = Vec<Vec<String>>;

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
fn union(cnfs: impl Iterator<Item = Cnf>) -> Cnf {
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
    // Literals from the value, if the test needs them: every literal part of a pattern.
    let value: Cnf = match &p.test {
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
    if !value.is_empty() {
        return noise.rank(value);
    }
    // Otherwise the field's name: a test that needs a present field needs its key in the
    // line, and the last segment of the path ends a key whether the event is flat or nested.
    let Some(field) = p.field.as_deref() else {
        return Vec::new();
    };
    let needs_field = !matches!(p.test, Test::Null | Test::Exists(false));
    let last = field.rsplit('.').next().unwrap_or(field);
    match best_run(last) {
        Some(r) if needs_field && r.len() == last.len() => vec![vec![r]],
        _ => Vec::new(),
    }
}

/// Largest finite language tracked by [`pieces`].
const MAX_LANGUAGE: usize = 32;

/// What a regex needs of the text it matches.
enum Piece {
    /// Exactly one of these strings (lower-cased ASCII), as a contiguous part of the match:
    /// the regex's finite language. `""` stands for zero-width items.
    Lang(Vec<String>),
    /// Literals the match contains (see [`Cnf`]).
    Cnf(Cnf),
}

fn as_cnf(p: Piece) -> Cnf {
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
            let mut cnf: Cnf = Vec::new();
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

/// The normalized text of a JSON line (see the module documentation): `line` itself when
/// nothing needs decoding, else `buf` filled with it.
pub fn normalize<'a>(line: &'a [u8], buf: &'a mut Vec<u8>) -> &'a [u8] {
    let Some(first) = memchr::memchr3(b'\\', 0xC5, 0xE2, line) else {
        return line;
    };
    buf.clear();
    buf.extend_from_slice(&line[..first]);
    let mut i = first;
    while i < line.len() {
        let b = line[i];
        match b {
            b'\\' if i + 1 < line.len() => {
                let e = line[i + 1];
                let simple = match e {
                    b'"' => Some(b'"'),
                    b'\\' => Some(b'\\'),
                    b'/' => Some(b'/'),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    _ => None,
                };
                if let Some(c) = simple {
                    buf.push(c);
                    i += 2;
                } else if e == b'u' {
                    match unicode_escape(&line[i..]) {
                        Some((c, len)) => {
                            push_char(buf, c);
                            i += len;
                        }
                        None => {
                            buf.push(b);
                            i += 1;
                        }
                    }
                } else {
                    buf.push(b);
                    i += 1;
                }
            }
            0xC5 if line.get(i + 1) == Some(&0xBF) => {
                buf.push(b's');
                i += 2;
            }
            0xE2 if line.get(i + 1..i + 3) == Some(&[0x84, 0xAA][..]) => {
                buf.push(b'k');
                i += 3;
            }
            _ => {
                // Copy up to the next byte of interest at once.
                let next = memchr::memchr3(b'\\', 0xC5, 0xE2, &line[i + 1..])
                    .map_or(line.len(), |n| i + 1 + n);
                buf.extend_from_slice(&line[i..next]);
                i = next;
            }
        }
    }
    buf
}

fn push_char(buf: &mut Vec<u8>, c: char) {
    match c {
        '\u{17F}' => buf.push(b's'),
        '\u{212A}' => buf.push(b'k'),
        c => buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, at the start of `s`: the character and the
/// number of bytes it takes.
fn unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    let hi = hex4(s.get(2..)?)?;
    if (0xD800..0xDC00).contains(&hi) {
        if s.get(6..8) == Some(&b"\\u"[..]) {
            let lo = hex4(&s[8..])?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Some((char::from_u32(c)?, 12));
            }
        }
        return None;
    }
    Some((char::from_u32(hi)?, 6))
}

/// The compiled prefilter over a list of rules.
#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// For each literal, the clauses that list it.
    clauses_of: Vec<Vec<u32>>,
    /// For each clause, its rule.
    rule_of: Vec<u32>,
    /// For each rule, its number of clauses.
    needs: Vec<u32>,
    /// Rules without clauses: always candidates.
    always: Vec<usize>,
}

/// Literal tables up to this many bytes get a DFA (fastest, but its memory grows with the
/// patterns); larger ones let the crate choose.
const DFA_LIMIT: usize = 64 * 1024;

impl Prefilter {
    /// `cnfs[i]`: rule `i`'s requirements, from [`necessary`].
    pub fn new(cnfs: &[Cnf]) -> Prefilter {
        let mut literals: Vec<String> = Vec::new();
        let mut clauses_of: Vec<Vec<u32>> = Vec::new();
        let mut rule_of = Vec::new();
        let mut needs = Vec::new();
        let mut always = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, cnf) in cnfs.iter().enumerate() {
            needs.push(cnf.len() as u32);
            if cnf.is_empty() {
                always.push(rule);
            }
            for clause in cnf {
                let id = rule_of.len() as u32;
                rule_of.push(rule as u32);
                for l in clause {
                    let lit = *index.entry(l.clone()).or_insert_with(|| {
                        literals.push(l.clone());
                        clauses_of.push(Vec::new());
                        literals.len() - 1
                    });
                    clauses_of[lit].push(id);
                }
            }
        }
        let bytes: usize = literals.iter().map(String::len).sum();
        let automaton = (!literals.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind((bytes <= DFA_LIMIT).then_some(AhoCorasickKind::DFA))
                .build(&literals)
                .expect("literals of bounded size build")
        });
        Prefilter {
            automaton,
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

    /// Put in `scratch.rules` the rules that may match `line`, ascending.
    pub fn candidates(&self, line: &[u8], scratch: &mut Scratch) {
        scratch.rules.clear();
        scratch.rules.extend_from_slice(&self.always);
        let Some(ac) = &self.automaton else { return };
        if scratch.clause_hit.len() != self.rule_of.len() {
            scratch.clause_hit = vec![false; self.rule_of.len()];
            scratch.satisfied = vec![0; self.needs.len()];
        }
        let text = normalize(line, &mut scratch.norm);
        for m in ac.find_overlapping_iter(text) {
            for &c in &self.clauses_of[m.pattern().as_usize()] {
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
        }
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
    /// The candidate rules of the last line, ascending.
    pub rules: Vec<usize>,
    norm: Vec<u8>,
    clause_hit: Vec<bool>,
    satisfied: Vec<u32>,
    hit: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::check::check_str;
    use crate::semantics::schema::Schema;

    fn set(detection: &str) -> Cnf {
        let text = format!(
            "title: t\nid: 7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {{product: x}}\ndetection:\n{}",
            detection
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let r = check_str("r.yml", &text, &Schema::builtin());
        necessary(r.docs[0].expr.as_ref().unwrap(), &Noise::default())
    }

    fn cnf(clauses: &[&[&str]]) -> Cnf {
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
        // Numbers: the field's key.
        assert_eq!(
            set("sel:\n  tokens.count|gt: 5\ncondition: sel"),
            cnf(&[&["count"]])
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

    fn regex(source: &str) -> Cnf {
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

    #[test]
    fn normalization_decodes_escapes_and_folds_to_ascii() {
        let mut buf = Vec::new();
        assert_eq!(
            normalize(br#"{"a":"plain"}"#, &mut buf),
            br#"{"a":"plain"}"#
        );
        let n = normalize(
            br#"{"a":"\u0069gnore \"x\" a\/b \\ \ud83d\ude00 \u017f\u212a"}"#,
            &mut buf,
        );
        assert_eq!(
            std::str::from_utf8(n).unwrap(),
            "{\"a\":\"ignore \"x\" a/b \\ \u{1F600} sk\"}"
        );
        let n = normalize("{\"a\":\"ſhutdown \u{212A}ill é\"}".as_bytes(), &mut buf);
        assert_eq!(
            std::str::from_utf8(n).unwrap(),
            "{\"a\":\"shutdown kill é\"}"
        );
        // Broken escapes are copied as they are.
        let n = normalize(br#"{"a":"\ud83d \uZZ \"#, &mut buf);
        assert_eq!(n, br#"{"a":"\ud83d \uZZ \"#);
    }

    #[test]
    fn candidates_are_found_case_insensitively() {
        let p = Prefilter::new(&[
            cnf(&[&["alpha"]]),
            cnf(&[]),
            cnf(&[&["beta"]]),
            cnf(&[&["gamma", "delta"], &["epsilon"]]),
        ]);
        let mut scratch = Scratch::default();
        p.candidates(br#"{"f":"xALPHAx"}"#, &mut scratch);
        assert_eq!(scratch.rules, vec![0, 1]);
        p.candidates(br#"{"f":"x\u0042ETA"}"#, &mut scratch);
        assert_eq!(scratch.rules, vec![1, 2]);
        // Every clause must be satisfied, and the counts start afresh on each line.
        p.candidates(br#"{"f":"delta gamma"}"#, &mut scratch);
        assert_eq!(scratch.rules, vec![1]);
        p.candidates(br#"{"f":"epsilon, gamma"}"#, &mut scratch);
        assert_eq!(scratch.rules, vec![1, 3]);
        p.candidates(br#"{"f":"epsilon"}"#, &mut scratch);
        assert_eq!(scratch.rules, vec![1]);
    }
}
