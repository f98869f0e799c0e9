//! The Sigma condition grammar, parsed with `nom`.
//!
//! ```text
//! expr    := and_expr ("or" and_expr)*
//! and     := not_expr ("and" not_expr)*
//! not     := "not" not | primary
//! primary := "(" expr ")" | quant "of" target | identifier
//! quant   := "1" | "any" | "all" | N          (N > 0)
//! target  := "them" | pattern                 (pattern: identifier with `*` wildcards)
//! ```
//! Keywords are case-insensitive. Precedence: `not` > `and` > `or`.
//! Offsets in the result are character offsets into the condition text.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, tag_no_case, take_while1},
    character::complete::{digit1, multispace0, multispace1},
    combinator::{all_consuming, map, not, peek, recognize},
    sequence::{delimited, preceded, terminated},
};

/// Longest condition accepted, in characters.
pub const MAX_LEN: usize = 8192;
/// Deepest nesting of parentheses or `not`s accepted.
pub const MAX_NESTING: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quant {
    Any,
    All,
    Count(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfTarget {
    Them,
    Pattern(String),
}

/// Condition AST. `off`/`len` locate a node in the condition text (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Ident {
        name: String,
        off: usize,
        len: usize,
    },
    Of {
        quant: Quant,
        target: OfTarget,
        off: usize,
        len: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    pub message: String,
    pub off: usize,
    pub help: Option<String>,
}

type In<'a> = &'a str;

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

fn is_pattern_char(c: char) -> bool {
    is_ident_char(c) || c == '*'
}

/// A keyword that is not the prefix of a longer identifier.
fn kw<'a>(
    k: &'static str,
) -> impl Parser<In<'a>, Output = In<'a>, Error = nom::error::Error<In<'a>>> {
    terminated(tag_no_case(k), not(peek(take_while1(is_pattern_char))))
}

struct Ctx<'s> {
    full: &'s str,
}

impl<'s> Ctx<'s> {
    fn off(&self, rest: &str) -> usize {
        let byte = self.full.len() - rest.len();
        self.full[..byte].chars().count()
    }
}

fn ws<'a, O, P>(p: P) -> impl Parser<In<'a>, Output = O, Error = nom::error::Error<In<'a>>>
where
    P: Parser<In<'a>, Output = O, Error = nom::error::Error<In<'a>>>,
{
    delimited(multispace0, p, multispace0)
}

fn expr<'a>(cx: &Ctx<'_>, i: In<'a>) -> IResult<In<'a>, Cond> {
    let (mut i, first) = and_expr(cx, i)?;
    let mut items = vec![first];
    while let Ok((rest, _)) = ws(kw("or")).parse(i) {
        let (rest, next) = and_expr(cx, rest)?;
        items.push(next);
        i = rest;
    }
    Ok((
        i,
        if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Cond::Or(items)
        },
    ))
}

fn and_expr<'a>(cx: &Ctx<'_>, i: In<'a>) -> IResult<In<'a>, Cond> {
    let (mut i, first) = not_expr(cx, i)?;
    let mut items = vec![first];
    while let Ok((rest, _)) = ws(kw("and")).parse(i) {
        let (rest, next) = not_expr(cx, rest)?;
        items.push(next);
        i = rest;
    }
    Ok((
        i,
        if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Cond::And(items)
        },
    ))
}

fn not_expr<'a>(cx: &Ctx<'_>, i: In<'a>) -> IResult<In<'a>, Cond> {
    if let Ok((rest, _)) = ws(kw("not")).parse(i) {
        let (rest, inner) = not_expr(cx, rest)?;
        return Ok((rest, Cond::Not(Box::new(inner))));
    }
    primary(cx, i)
}

fn primary<'a>(cx: &Ctx<'_>, i: In<'a>) -> IResult<In<'a>, Cond> {
    let (i, _) = multispace0(i)?;
    if let Ok((rest, _)) = tag::<_, _, nom::error::Error<In<'a>>>("(").parse(i) {
        let (rest, e) = expr(cx, rest)?;
        let (rest, _) = ws(tag(")")).parse(rest)?;
        return Ok((rest, e));
    }
    let start = i;
    let quant = alt((
        map(kw("any"), |_| Quant::Any),
        map(kw("all"), |_| Quant::All),
        map(terminated(digit1, peek(multispace1)), |d: &str| {
            match d.parse::<u32>() {
                Ok(1) => Quant::Any,
                Ok(n) => Quant::Count(n),
                Err(_) => Quant::Count(u32::MAX),
            }
        }),
    ));
    if let Ok((rest, (q, target))) = (
        quant,
        preceded(
            ws(kw("of")),
            alt((
                map(kw("them"), |_| None),
                map(take_while1(is_pattern_char), Some),
            )),
        ),
    )
        .parse(i)
    {
        let target = match target {
            None => OfTarget::Them,
            Some(p) => OfTarget::Pattern(p.to_string()),
        };
        let off = cx.off(start);
        let len = cx.off(rest) - off;
        return Ok((
            rest,
            Cond::Of {
                quant: q,
                target,
                off,
                len,
            },
        ));
    }
    let (rest, name) = recognize(take_while1(is_pattern_char)).parse(i)?;
    for k in ["and", "or", "not", "of", "them"] {
        if name.eq_ignore_ascii_case(k) {
            return Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Tag,
            )));
        }
    }
    let off = cx.off(i);
    Ok((
        rest,
        Cond::Ident {
            name: name.to_string(),
            off,
            len: name.chars().count(),
        },
    ))
}

/// Parse a condition string.
pub fn parse(text: &str) -> Result<Cond, CondError> {
    if text.chars().count() > MAX_LEN {
        return Err(CondError {
            message: format!("condition is longer than {MAX_LEN} characters"),
            off: 0,
            help: None,
        });
    }
    if let Some(p) = text.find('|') {
        let off = text[..p].chars().count();
        return Err(CondError {
            message: "pipe aggregations (`| count() ...`) were removed from Sigma".into(),
            off,
            help: Some("express the aggregation as a correlation rule (`correlation: {type: event_count, ...}`)".into()),
        });
    }
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        max_depth = max_depth.max(depth);
    }
    let nots = text
        .split(|c: char| !is_pattern_char(c))
        .filter(|w| w.eq_ignore_ascii_case("not"))
        .count();
    if max_depth > MAX_NESTING || nots > MAX_NESTING {
        return Err(CondError {
            message: format!("condition nests deeper than {MAX_NESTING} levels"),
            off: 0,
            help: None,
        });
    }
    if text.trim().is_empty() {
        return Err(CondError {
            message: "condition is empty".into(),
            off: 0,
            help: None,
        });
    }
    let cx = Ctx { full: text };
    match all_consuming(ws(|i| expr(&cx, i))).parse(text) {
        Ok((_, c)) => Ok(c),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            // Report the furthest point reached, which is where the input stopped making sense.
            let off = cx.off(e.input);
            let found: String = e.input.trim_start().chars().take(20).collect();
            let message = if found.is_empty() {
                "condition ends unexpectedly".to_string()
            } else {
                format!("unexpected `{found}` in condition")
            };
            Err(CondError { message, off, help: Some("conditions use search identifiers, `and`, `or`, `not`, parentheses and `1 of`/`any of`/`all of`/`N of` with a pattern or `them`".into()) })
        }
        Err(nom::Err::Incomplete(_)) => Err(CondError {
            message: "condition ends unexpectedly".into(),
            off: text.chars().count(),
            help: None,
        }),
    }
}

/// Does a `*` pattern match a search identifier? (`them` and `*` skip `_`-prefixed ids.)
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('_') && !pattern.starts_with('_') {
        return false;
    }
    glob(pattern.as_bytes(), name.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with backtracking on the last `*` (linear-ish, no recursion).
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Every identifier and pattern in a condition, in order (for use/definition checks).
pub fn walk<'c>(c: &'c Cond, f: &mut impl FnMut(&'c Cond)) {
    f(c);
    match c {
        Cond::Or(items) | Cond::And(items) => items.iter().for_each(|i| walk(i, f)),
        Cond::Not(inner) => walk(inner, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: &str, off: usize) -> Cond {
        Cond::Ident {
            name: n.into(),
            off,
            len: n.len(),
        }
    }

    #[test]
    fn precedence_not_and_or() {
        let c = parse("a or b and not c").unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                id("a", 0),
                Cond::And(vec![id("b", 5), Cond::Not(Box::new(id("c", 15)))])
            ])
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            parse("a AND NOT b").unwrap(),
            Cond::And(vec![id("a", 0), Cond::Not(Box::new(id("b", 10)))])
        );
        assert!(matches!(
            parse("1 OF sel*").unwrap(),
            Cond::Of {
                quant: Quant::Any,
                ..
            }
        ));
    }

    #[test]
    fn quantifiers() {
        let c = parse("all of selection_* and not 1 of filter_* or 2 of them").unwrap();
        let Cond::Or(items) = c else { panic!() };
        assert!(matches!(
            &items[1],
            Cond::Of {
                quant: Quant::Count(2),
                target: OfTarget::Them,
                ..
            }
        ));
        assert!(matches!(
            parse("any of sel*").unwrap(),
            Cond::Of {
                quant: Quant::Any,
                ..
            }
        ));
    }

    #[test]
    fn identifiers_may_start_with_keywords() {
        assert_eq!(
            parse("notes or android").unwrap(),
            Cond::Or(vec![id("notes", 0), id("android", 9)])
        );
    }

    #[test]
    fn parentheses() {
        let c = parse("(a or b) and c").unwrap();
        assert_eq!(
            c,
            Cond::And(vec![Cond::Or(vec![id("a", 1), id("b", 6)]), id("c", 13)])
        );
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse("a and (b or c").unwrap_err();
        assert!(
            e.message.contains("unexpected") || e.message.contains("ends"),
            "{e:?}"
        );
        let e = parse("selection | count() > 5").unwrap_err();
        assert_eq!(e.off, 10);
        assert!(parse("a and").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("").is_err());
        assert!(parse(&"(".repeat(10_000)).is_err());
        assert!(parse(&"not ".repeat(10_000)).is_err());
    }

    #[test]
    fn pattern_matching() {
        assert!(pattern_matches("sel*", "selection"));
        assert!(pattern_matches("*", "a"));
        assert!(!pattern_matches("*", "_hidden"));
        assert!(pattern_matches("_*", "_hidden"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(!pattern_matches("a*b", "ab_c"));
    }
}
