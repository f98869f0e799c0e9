//! String tests as the targets write them natively: a field's string predicates that an `or`
//! joins (a Sigma value list) become one [`StrTest`], and each pattern is classified by shape
//! (whole value, contains, starts with, ends with, or a general wildcard pattern), so that a
//! dialect can use its own equality, substring and list operators.

use crate::syntax::sigma_string::{Part, SigmaString};
use crate::syntax::span::Span;

/// Any of `patterns` matches the field's value (any value of a multi-valued field); by the
/// default case contract (ASCII letters fold) unless `cased`.
#[derive(Clone, Debug, PartialEq)]
pub struct StrTest {
    pub patterns: Vec<SigmaString>,
    pub cased: bool,
    /// The first pattern's position, for refusals.
    pub span: Span,
}

/// What a pattern asks of the whole value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Equal to the text.
    Exact(String),
    /// Contains the text (`*text*`).
    Contains(String),
    /// Starts with the text (`text*`).
    Prefix(String),
    /// Ends with the text (`*text`).
    Suffix(String),
    /// Any other wildcard pattern (`?`, `*` inside, `*` alone).
    Glob(SigmaString),
}

impl Shape {
    pub fn of(p: &SigmaString) -> Shape {
        use Part::{AnyRun, Lit};
        match &p.parts[..] {
            [] => Shape::Exact(String::new()),
            [Lit(l)] => Shape::Exact(l.clone()),
            [AnyRun, Lit(l), AnyRun] => Shape::Contains(l.clone()),
            [Lit(l), AnyRun] => Shape::Prefix(l.clone()),
            [AnyRun, Lit(l)] => Shape::Suffix(l.clone()),
            _ => Shape::Glob(p.clone()),
        }
    }

    /// The literal text of a non-glob shape.
    pub fn text(&self) -> Option<&str> {
        match self {
            Shape::Exact(t) | Shape::Contains(t) | Shape::Prefix(t) | Shape::Suffix(t) => Some(t),
            Shape::Glob(_) => None,
        }
    }
}

impl StrTest {
    pub fn shapes(&self) -> Vec<Shape> {
        self.patterns.iter().map(Shape::of).collect()
    }

    /// The whole-value texts, if every pattern is one.
    pub fn exact_values(&self) -> Option<Vec<&str>> {
        self.patterns
            .iter()
            .map(|p| match &p.parts[..] {
                [] => Some(""),
                [Part::Lit(l)] => Some(l.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every literal character of the patterns.
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        self.patterns.iter().flat_map(|p| {
            p.parts.iter().flat_map(|part| match part {
                Part::Lit(l) => l.chars().collect::<Vec<_>>(),
                _ => Vec::new(),
            })
        })
    }
}

/// A literal as ASCII-lower-cased text, the form targets that lower-case both sides compare
/// against (every other character is kept: the engine compares it exactly).
pub fn ascii_lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The engine regex of "any of the patterns" (`(?s)^(?:a)$|^(?:b)$`), for targets that fall
/// back to one regex.
pub fn any_regex(
    t: &StrTest,
    case: Option<crate::regex::casefold::CaseMode>,
    search: bool,
) -> String {
    let mut bodies: Vec<String> = Vec::new();
    for p in &t.patterns {
        let b = if search {
            p.search_body(case)
        } else {
            p.regex_body(case)
        };
        if !bodies.contains(&b) {
            bodies.push(b);
        }
    }
    let flags = SigmaString::regex_flags(case);
    match (bodies.len(), search) {
        (1, true) => format!("{flags}{}", bodies[0]),
        (1, false) => format!("{flags}^{}$", bodies[0]),
        (_, true) => format!("{flags}(?:{})", bodies.join("|")),
        (_, false) => format!("{flags}^(?:{})$", bodies.join("|")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let s = |v: &str| Shape::of(&SigmaString::parse(v, false));
        assert_eq!(s("abc"), Shape::Exact("abc".into()));
        assert_eq!(s("*abc*"), Shape::Contains("abc".into()));
        assert_eq!(s("abc*"), Shape::Prefix("abc".into()));
        assert_eq!(s("*abc"), Shape::Suffix("abc".into()));
        assert_eq!(s(""), Shape::Exact(String::new()));
        assert!(matches!(s("a*c"), Shape::Glob(_)));
        assert!(matches!(s("a?"), Shape::Glob(_)));
        assert!(matches!(s("*"), Shape::Glob(_)));
        assert_eq!(s(r"a\*b"), Shape::Exact("a*b".into()));
    }
}
