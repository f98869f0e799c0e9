//! Case-insensitive matching on targets, compared with aisigma's definition.
//!
//! aisigma compares case-insensitively by Unicode simple case folding (see
//! `docs/semantics.md`): `k`, `K` and the Kelvin sign `K` are one letter, so are `s`, `S` and
//! `ſ`. A target's own case-insensitive operator may use another definition. A backend uses
//! the target's operator only for values where both definitions agree on every character;
//! otherwise it writes the folding out (a regex with explicit classes).

use crate::regex::translate::fold_closure;

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
/// if that set is exactly `c`'s folding set for every character of `s`.
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
}
