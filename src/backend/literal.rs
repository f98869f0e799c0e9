//! Literals as targets write them: numbers, double-quoted strings with a per-target escape
//! table, and the rule's regexes in a target's search flavour.

use super::refusal::Unsupported;
use crate::syntax::span::Span;

/// A number as every target writes it: an integer without a fraction, else Rust's shortest
/// round-trip form.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A double-quoted string literal: `escape` writes the escape of a character that needs one
/// (and returns true), per the target's table; every other character is copied.
pub fn quote(s: &str, escape: impl Fn(char, &mut String) -> bool) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if !escape(c, &mut o) {
            o.push(c);
        }
    }
    o.push('"');
    o
}

/// The escapes most targets share: `"` and `\` with a backslash, line feed, carriage return
/// and tab as `\n`, `\r`, `\t`.
pub fn common_escape(c: char, o: &mut String) -> bool {
    let e = match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => return false,
    };
    o.push_str(e);
    true
}

/// An engine regex in a target's search flavor (PCRE, Rust, RE2); refused, naming the
/// target's engine, when the flavor cannot express it exactly.
pub fn search_regex(
    source: &str,
    flavor: crate::regex::translate::Flavor,
    engine: &str,
    span: Span,
    loose: bool,
) -> Result<String, Unsupported> {
    search_regex_unicode(source, flavor, engine, span, loose).map(|(re, _)| re)
}

/// [`search_regex`], and whether the pattern can match non-ASCII text
/// ([`crate::regex::translate::needs_unicode`]), from one parse.
pub fn search_regex_unicode(
    source: &str,
    flavor: crate::regex::translate::Flavor,
    engine: &str,
    span: Span,
    loose: bool,
) -> Result<(String, bool), Unsupported> {
    let unsupported = |why: String| {
        Unsupported::new(
            format!("a regular expression with {why}"),
            format!("{engine} cannot express it"),
            span,
        )
    };
    let hir = crate::regex::translate::parse(source).map_err(unsupported)?;
    let re =
        crate::regex::translate::translate_hir_loose(&hir, flavor, loose).map_err(unsupported)?;
    Ok((re, crate::regex::translate::hir_needs_unicode(&hir)))
}

/// The case of a string test in the `--unicode-exact` rendering: `None` (exact) for a
/// `cased` test, else Unicode simple case folding.
pub fn unicode_case(cased: bool) -> Option<crate::regex::casefold::CaseMode> {
    (!cased).then_some(crate::regex::casefold::CaseMode::Unicode)
}
