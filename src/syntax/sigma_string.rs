//! Sigma string values: wildcards `*` and `?`, and backslash escapes exactly as the spec says.
//!
//! `\*`, `\?` and `\\` are escapes; a backslash before any other character (or at the end) is
//! literal, so Windows paths need no doubling. Placeholders `%name%` are recognised only
//! when the `expand` modifier asks for them (`\%` escapes a percent sign there).

use crate::regex::casefold::CaseMode;
use std::fmt::Write;

/// The flags a value's regex starts with: `.` matches line breaks; Unicode case folding for
/// [`CaseMode::Unicode`] (ASCII folding is written out as classes).
fn flags(case: Option<CaseMode>) -> &'static str {
    match case {
        Some(CaseMode::Unicode) => "(?is)",
        _ => "(?s)",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
    /// `%name%` (only with `expand`).
    Placeholder(String),
}

/// A parsed Sigma string: literal text and wildcards.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SigmaString {
    pub parts: Vec<Part>,
}

impl SigmaString {
    pub fn literal(s: &str) -> Self {
        let mut out = SigmaString::default();
        out.push_lit(s);
        out
    }

    /// Parse a rule value. With `placeholders`, `%name%` becomes a placeholder.
    /// Linear in the length of the value.
    pub fn parse(s: &str, placeholders: bool) -> Self {
        let mut out = SigmaString::default();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let after = &rest[c.len_utf8()..];
            match c {
                '\\' => match after.chars().next() {
                    Some(n @ ('*' | '?' | '\\')) => {
                        lit.push(n);
                        rest = &after[1..];
                        continue;
                    }
                    Some('%') if placeholders => {
                        lit.push('%');
                        rest = &after[1..];
                        continue;
                    }
                    _ => lit.push('\\'),
                },
                '*' | '?' => {
                    if !lit.is_empty() {
                        out.parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    out.parts
                        .push(if c == '*' { Part::AnyRun } else { Part::AnyOne });
                }
                '%' if placeholders => match after.find('%') {
                    Some(end) if end > 0 => {
                        if !lit.is_empty() {
                            out.parts.push(Part::Lit(std::mem::take(&mut lit)));
                        }
                        out.parts.push(Part::Placeholder(after[..end].to_string()));
                        rest = &after[end + 1..];
                        continue;
                    }
                    _ => lit.push('%'),
                },
                _ => lit.push(c),
            }
            rest = after;
        }
        if !lit.is_empty() {
            out.parts.push(Part::Lit(lit));
        }
        out
    }

    fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Part::Lit(l)) = self.parts.last_mut() {
            l.push_str(s);
        } else {
            self.parts.push(Part::Lit(s.to_string()));
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::AnyRun | Part::AnyOne))
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// The value as plain text if it holds no wildcard or placeholder.
    pub fn as_plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }

    pub fn prepend_any(&mut self) {
        if self.parts.first() != Some(&Part::AnyRun) {
            self.parts.insert(0, Part::AnyRun);
        }
    }

    pub fn append_any(&mut self) {
        if self.parts.last() != Some(&Part::AnyRun) {
            self.parts.push(Part::AnyRun);
        }
    }

    /// Apply a function to every literal part (used by encodings and windash).
    pub fn map_literals(&self, f: impl Fn(&str) -> String) -> SigmaString {
        let mut out = SigmaString::default();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_lit(&f(l)),
                other => out.parts.push(other.clone()),
            }
        }
        out
    }

    /// An anchored regex (`^...$`) equivalent to this pattern; `?` is one Unicode scalar.
    /// `case`: `None` compares exactly; `Some(mode)` case-insensitively by `mode`.
    pub fn to_regex(&self, case: Option<CaseMode>) -> String {
        let mut r = String::from(flags(case));
        r.push('^');
        r.push_str(&self.regex_body(case));
        r.push('$');
        r
    }

    /// The pattern as regex syntax without flags or anchors (`.` must match line breaks).
    pub fn regex_body(&self, case: Option<CaseMode>) -> String {
        let mut r = String::new();
        self.push_parts(&self.parts, case, &mut r);
        r
    }

    /// [`SigmaString::to_search_regex`] without the flags.
    pub fn search_body(&self, case: Option<CaseMode>) -> String {
        let full = self.to_search_regex(case);
        full[flags(case).len()..].to_string()
    }

    /// The flags every value regex starts with.
    pub fn regex_flags(case: Option<CaseMode>) -> &'static str {
        flags(case)
    }

    /// An unanchored-search regex equivalent to this pattern (as a Rust regex, for the
    /// targets whose regex operators search): like [`SigmaString::to_regex`], but a leading
    /// or trailing `*` drops its `.*` and the anchor on that side.
    pub fn to_search_regex(&self, case: Option<CaseMode>) -> String {
        let parts = &self.parts[..];
        let open_start = parts.first() == Some(&Part::AnyRun);
        let open_end = parts.len() > usize::from(open_start) && parts.last() == Some(&Part::AnyRun);
        let inner = &parts[usize::from(open_start)..parts.len() - usize::from(open_end)];
        let mut r = String::from(flags(case));
        if !open_start {
            r.push('^');
        }
        self.push_parts(inner, case, &mut r);
        if !open_end {
            r.push('$');
        }
        r
    }

    fn push_parts(&self, parts: &[Part], case: Option<CaseMode>, r: &mut String) {
        for p in parts {
            match p {
                Part::Lit(l) if case == Some(CaseMode::Ascii) => {
                    for c in l.chars() {
                        if c.is_ascii_alphabetic() {
                            let _ =
                                write!(r, "[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase());
                        } else {
                            r.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
                        }
                    }
                }
                Part::Lit(l) => r.push_str(&regex::escape(l)),
                Part::AnyRun => r.push_str(".*"),
                Part::AnyOne => r.push('.'),
                Part::Placeholder(n) => {
                    let _ = write!(r, "%{n}%");
                }
            }
        }
    }

    /// Sigma source form, re-escaped (for messages and round trips).
    pub fn to_sigma(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => {
                    for c in l.chars() {
                        // Every literal `*`, `?` and `\` is escaped, so the text is unambiguous
                        // and parses back to the same value.
                        if matches!(c, '*' | '?' | '\\') {
                            s.push('\\');
                        }
                        s.push(c);
                    }
                }
                Part::AnyRun => s.push('*'),
                Part::AnyOne => s.push('?'),
                Part::Placeholder(n) => {
                    let _ = write!(s, "%{n}%");
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Part::*;

    fn lit(s: &str) -> Part {
        Lit(s.to_string())
    }

    #[test]
    fn search_regex_equals_the_anchored_one() {
        let values = [
            "*abc*", "abc*", "*abc", "abc", "*", "**", "", "a*b?c", "*a\\*", "?",
        ];
        let texts = [
            "", "abc", "xabcx", "abcx", "xabc", "aXbYc", "a\\", "a\nb", "Ab",
        ];
        for v in values {
            for ci in [None, Some(CaseMode::Ascii), Some(CaseMode::Unicode)] {
                let s = SigmaString::parse(v, false);
                let anchored = regex::Regex::new(&s.to_regex(ci)).unwrap();
                let search = regex::Regex::new(&s.to_search_regex(ci)).unwrap();
                for t in texts {
                    assert_eq!(anchored.is_match(t), search.is_match(t), "{v} {ci:?} {t:?}");
                }
            }
        }
        assert_eq!(
            SigmaString::parse("*a.b*", false).to_search_regex(None),
            r"(?s)a\.b"
        );
        assert_eq!(
            SigmaString::parse("a*", false).to_search_regex(Some(CaseMode::Unicode)),
            "(?is)^a"
        );
        assert_eq!(
            SigmaString::parse("a1*", false).to_search_regex(Some(CaseMode::Ascii)),
            "(?s)^[Aa]1"
        );
    }

    #[test]
    fn escapes_follow_the_spec() {
        assert_eq!(SigmaString::parse(r"a\*b", false).parts, vec![lit("a*b")]);
        assert_eq!(SigmaString::parse(r"a\?b", false).parts, vec![lit("a?b")]);
        assert_eq!(
            SigmaString::parse(r"a\\*", false).parts,
            vec![lit("a\\"), AnyRun]
        );
        assert_eq!(SigmaString::parse(r"a\\\*", false).parts, vec![lit("a\\*")]);
        // A lone backslash is literal: Windows paths stay as written.
        assert_eq!(
            SigmaString::parse(r"C:\Windows\System32", false).parts,
            vec![lit(r"C:\Windows\System32")]
        );
        assert_eq!(
            SigmaString::parse(r"trailing\", false).parts,
            vec![lit("trailing\\")]
        );
        assert_eq!(
            SigmaString::parse("a*b?c", false).parts,
            vec![lit("a"), AnyRun, lit("b"), AnyOne, lit("c")]
        );
    }

    #[test]
    fn placeholders_only_with_expand() {
        assert_eq!(
            SigmaString::parse("%Admins%", false).parts,
            vec![lit("%Admins%")]
        );
        assert_eq!(
            SigmaString::parse("x%Admins%y", true).parts,
            vec![lit("x"), Placeholder("Admins".into()), lit("y")]
        );
        assert_eq!(SigmaString::parse(r"100\%", true).parts, vec![lit("100%")]);
    }

    #[test]
    fn sigma_form_round_trips() {
        for v in [r"dir\\*", r"dir\*", r"C:\Windows\x", r"a?b\?c*", "%x%"] {
            let parsed = SigmaString::parse(v, false);
            assert_eq!(SigmaString::parse(&parsed.to_sigma(), false), parsed, "{v}");
        }
        assert_ne!(
            SigmaString::parse(r"dir\\*", false).to_sigma(),
            SigmaString::parse(r"dir\*", false).to_sigma()
        );
    }

    #[test]
    fn regex_translation_escapes_metacharacters() {
        let s = SigmaString::parse("a.b*c?(d)", false);
        assert_eq!(s.to_regex(Some(CaseMode::Unicode)), r"(?is)^a\.b.*c.\(d\)$");
        assert_eq!(
            s.to_regex(Some(CaseMode::Ascii)),
            r"(?s)^[Aa]\.[Bb].*[Cc].\([Dd]\)$"
        );
    }
}
