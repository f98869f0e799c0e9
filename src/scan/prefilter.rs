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

pub use crate::semantics::literals::{Cnf, MAX_CLAUSES, MIN_LITERAL, Noise, necessary};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

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

    fn cnf(clauses: &[&[&str]]) -> Cnf {
        clauses
            .iter()
            .map(|c| c.iter().map(|l| l.to_string()).collect())
            .collect()
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
