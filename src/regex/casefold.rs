//! The case contract: how a case-insensitive string test compares letters, in the engine and
//! on the targets (`docs/semantics.md`, "Case").
//!
//! By default ([`CaseMode::Ascii`]) the ASCII letters `A`–`Z` and `a`–`z` match each other and
//! every other character matches only itself. Every target's own case-insensitive operator
//! (Splunk's search terms, KQL's `=~`/`contains`, EQL's `:`, ES|QL's `TO_LOWER`, YARA-L's
//! `nocase`) folds at least these letters, so the compiled queries use those operators. Where
//! the targets fold more, and differ among themselves, they may match more than the engine:
//! on letters outside ASCII, and on the [`LISTED`] code points that some of them equate with
//! an ASCII letter. `--unicode-exact` ([`CaseMode::Unicode`]) is the former contract: Unicode
//! simple case folding, written out on every target as regexes.

use crate::regex::translate::fold_closure;

/// How case-insensitive string tests compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CaseMode {
    /// ASCII letters match their other case; every other character only itself.
    #[default]
    Ascii,
    /// Unicode simple case folding (`k`, `K` and the Kelvin sign `K` are one letter).
    Unicode,
}

/// The code points outside ASCII that a target's case-insensitive operator may equate with
/// an ASCII letter (Unicode simple case folding, Java's `toLowerCase`, .NET's invariant upper
/// case, Lucene's case folding): there a compiled query may match more than the engine.
pub const LISTED: [(char, char); 4] = [
    ('\u{130}', 'i'), // İ LATIN CAPITAL LETTER I WITH DOT ABOVE: Java/.NET lower case is `i`
    ('\u{131}', 'i'), // ı LATIN SMALL LETTER DOTLESS I: .NET invariant upper case is `I`
    ('\u{17F}', 's'), // ſ LATIN SMALL LETTER LONG S: folds to `s`
    ('\u{212A}', 'k'), // K KELVIN SIGN: folds to `k`
];

/// True if `a` and `b` are equal under `mode`.
pub fn eq(a: &str, b: &str, mode: CaseMode) -> bool {
    match mode {
        CaseMode::Ascii => a.eq_ignore_ascii_case(b),
        CaseMode::Unicode => {
            a.chars().count() == b.chars().count()
                && a.chars().zip(b.chars()).all(|(x, y)| same_letter(x, y))
        }
    }
}

/// Unicode simple case folding: `x` and `y` are in one folding orbit.
fn same_letter(x: char, y: char) -> bool {
    x == y
        || fold_closure(x)
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&y))
}

/// `s` lower-cased under `mode` (ASCII letters only, or every character's lower case), for
/// comparisons that lower-case both sides.
pub fn lower(s: &str, mode: CaseMode) -> String {
    match mode {
        CaseMode::Ascii => s.to_ascii_lowercase(),
        CaseMode::Unicode => s.to_lowercase(),
    }
}

/// The characters equal to `c` under Unicode simple case folding, sorted.
fn fold_set(c: char) -> Vec<char> {
    fold_closure(c)
        .iter()
        .flat_map(|r| r.start()..=r.end())
        .collect()
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

/// Elasticsearch's case-insensitive term, wildcard and `in~` matching accepts, for each
/// character `c` of the query, `c` itself and its (simple, Java) lower and upper case. True
/// if that set is exactly `c`'s folding set for every character of `s` (used by the
/// `--unicode-exact` rendering).
pub fn lower_upper_is_fold(s: &str) -> bool {
    s.chars().all(|c| {
        if c.is_ascii() {
            // ASCII: only `k` (Kelvin sign) and `s` (long s) have a third folding member.
            return !matches!(c, 'k' | 'K' | 's' | 'S');
        }
        let (Some(lo), Some(up)) = (single(c.to_lowercase()), single(c.to_uppercase())) else {
            return false;
        };
        let mut set = vec![c, lo, up];
        set.sort_unstable();
        set.dedup();
        set == fold_set(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_sets() {
        assert_eq!(fold_set('k'), vec!['K', 'k', '\u{212A}']);
        assert_eq!(fold_set('1'), vec!['1']);
        assert!(lower_upper_is_fold("GPT-4o mini / Ä"));
        assert!(!lower_upper_is_fold("key"));
        assert!(!lower_upper_is_fold("system"));
        assert!(!lower_upper_is_fold("\u{130}"));
    }

    #[test]
    fn ascii_mode_folds_ascii_letters_only() {
        assert!(eq("Ignore", "iGNORE", CaseMode::Ascii));
        assert!(!eq("ÄBÇ", "äbç", CaseMode::Ascii));
        assert!(!eq("k", "\u{212A}", CaseMode::Ascii));
        assert!(eq("ÄBÇ", "äbç", CaseMode::Unicode));
        assert!(eq("k", "\u{212A}", CaseMode::Unicode));
        assert!(!eq("ß", "SS", CaseMode::Unicode));
    }

    /// The list is complete: no other code point outside ASCII has a simple lower case, upper
    /// case or case folding that is an ASCII letter.
    #[test]
    fn listed_code_points_are_all_that_reach_ascii_letters() {
        let mut found = Vec::new();
        for c in (0x80u32..=0x10FFFF).filter_map(char::from_u32) {
            let reaches = single(c.to_lowercase()).is_some_and(|l| l.is_ascii_alphabetic())
                || single(c.to_uppercase()).is_some_and(|u| u.is_ascii_alphabetic())
                || c.to_lowercase()
                    .next()
                    .is_some_and(|l| l.is_ascii_alphabetic())
                || fold_set(c).iter().any(|f| f.is_ascii_alphabetic());
            if reaches {
                found.push(c);
            }
        }
        let listed: Vec<char> = LISTED.iter().map(|(c, _)| *c).collect();
        assert_eq!(found, listed);
    }
}
