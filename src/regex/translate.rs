//! aisigma's regex dialect, and its translation into each target's regex flavor.
//!
//! A rule's `re` value is Rust `regex` syntax with one change: the Perl classes `\d`, `\w`,
//! `\s` and the word boundaries `\b`, `\B` are ASCII, as in PCRE, RE2 and Java, so that a rule
//! means the same thing on every target ([`engine_source`]). Everything else (classes, `.`,
//! case folding under `i`) is Unicode.
//!
//! Targets get a pattern rendered from the parsed HIR, not the rule's text: every class is
//! written out as explicit ranges, case-insensitive letters as their full simple-case-folding
//! set, `.` as the class it stands for. So a target's own notion of `\w`, `(?i)` or `.` never
//! enters, and the compiled regex matches exactly the strings the engine's does.
//!
//! Three flavors:
//! - [`Flavor::Pcre`] (Splunk), [`Flavor::Rust`] (Sentinel KQL) and [`Flavor::Re2`]
//!   (Chronicle YARA-L): an unanchored search, like the engine's.
//! - [`Flavor::Lucene`] (Elasticsearch `regexp`, EQL `regex`, ES|QL `RLIKE`): Lucene's
//!   `RegExp` always matches the whole value and has no assertions, so the search is rewritten
//!   as a whole-value match: `.*` is added on the open sides, `^`/`$` are absorbed where they
//!   sit at an edge, and `\b` next to an edge becomes an explicit class. An assertion that
//!   cannot be rewritten exactly is refused.

use regex_syntax::ast::{
    self, Ast, ClassAscii, ClassAsciiKind, ClassPerl, ClassPerlKind, ClassSet, ClassSetItem,
};
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};
use std::fmt::Write;

/// Largest compiled program for one pattern or regex (the regex crate's default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 64 << 20;

/// A regex flavor a target uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// PCRE as Splunk uses it (UTF-8 subject).
    Pcre,
    /// Google RE2 (YARA-L).
    Re2,
    /// Kusto's `matches regex`: the syntax both RE2 (which Microsoft's KQL reference named)
    /// and the Rust `regex` crate (which its current reference names) read the same way. The
    /// ASCII word boundary has no common spelling (Rust's `\b` is Unicode-aware, and RE2
    /// rejects `(?-u:\b)`), so a `\b` at the edge of the pattern is written as the character
    /// class (or anchor) it requires, one between two known characters is decided, and any
    /// other is refused. Only meta characters are escaped (older Rust versions reject `\/`).
    Rust,
    /// Lucene `RegExp`: whole-value match, no assertions, no inline flags.
    Lucene,
}

/// Largest repetition count RE2 accepts.
const RE2_MAX_REPEAT: u32 = 1000;

/// The pattern the engine compiles for a rule's `re` value and flags: the Perl classes and
/// word boundaries are made ASCII. Returns the input unchanged if it does not parse (the
/// caller reports the regex error).
pub fn engine_source(pattern: &str, flags: &str) -> String {
    let prefixed = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    let Ok(mut parsed) = ast::parse::Parser::new().parse(&prefixed) else {
        return prefixed;
    };
    asciify(&mut parsed);
    let mut out = String::new();
    match ast::print::Printer::new().print(&parsed, &mut out) {
        Ok(()) => out,
        Err(_) => prefixed,
    }
}

/// [`engine_source`] under the default case contract: wherever the pattern is
/// case-insensitive (the `i` flag, from the rule's modifier or inline), ASCII letters match
/// their other case and every other character only itself (`docs/semantics.md`, "Case").
/// The result has no `i` flag left: each such letter is a class (`[Kk]`), each such class
/// carries the other case of its ASCII letters.
pub fn engine_source_ascii(pattern: &str, flags: &str) -> String {
    let prefixed = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    let Ok(mut parsed) = ast::parse::Parser::new().parse(&prefixed) else {
        return prefixed;
    };
    asciify(&mut parsed);
    let mut ci = false;
    fold_ascii(&mut parsed, &mut ci);
    let mut out = String::new();
    match ast::print::Printer::new().print(&parsed, &mut out) {
        Ok(()) => out,
        Err(_) => prefixed,
    }
}

/// The flags without `i` (and without a trailing `-`); `ci` is set to the `i` they ask for.
fn strip_case_flag(flags: &mut ast::Flags, ci: &mut bool) {
    if let Some(state) = flags.flag_state(ast::Flag::CaseInsensitive) {
        *ci = state;
    }
    flags
        .items
        .retain(|x| x.kind != ast::FlagsItemKind::Flag(ast::Flag::CaseInsensitive));
    if flags.items.last().is_some_and(|x| x.kind.is_negation()) {
        flags.items.pop();
    }
}

/// The class `node` (bracketed or `\p{..}`) stands for, with the other case of its ASCII
/// letters added, as a bracketed class of ranges; negation applies after the folding.
fn folded_class(node: &Ast, negated: bool, span: ast::Span) -> Option<Ast> {
    let text = node.to_string();
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&text)
        .ok()?;
    let mut cl = match hir.kind() {
        HirKind::Class(Class::Unicode(cl)) => cl.clone(),
        HirKind::Literal(l) => {
            let cs = literal_chars(&l.0).ok()?;
            ClassUnicode::new(cs.into_iter().map(|c| ClassUnicodeRange::new(c, c)))
        }
        _ => return None,
    };
    let swapped: Vec<ClassUnicodeRange> = cl
        .iter()
        .flat_map(|r| r.start()..=r.end())
        .filter(char::is_ascii_alphabetic)
        .map(|c| {
            let o = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            ClassUnicodeRange::new(o, o)
        })
        .collect();
    cl.union(&ClassUnicode::new(swapped));
    if negated {
        cl.negate();
    }
    let lit = |c: char| ast::Literal {
        span,
        kind: ast::LiteralKind::HexBrace(ast::HexLiteralKind::X),
        c,
    };
    let items = cl
        .iter()
        .map(|r| {
            if r.start() == r.end() {
                ClassSetItem::Literal(lit(r.start()))
            } else {
                ClassSetItem::Range(ast::ClassSetRange {
                    span,
                    start: lit(r.start()),
                    end: lit(r.end()),
                })
            }
        })
        .collect();
    Some(Ast::class_bracketed(ast::ClassBracketed {
        span,
        negated: false,
        kind: ClassSet::Item(ClassSetItem::Union(ast::ClassSetUnion { span, items })),
    }))
}

/// Rewrite case-insensitive parts for ASCII folding (see [`engine_source_ascii`]); `ci` is the
/// `i` flag in force, which inline flags change for the rest of their group.
fn fold_ascii(a: &mut Ast, ci: &mut bool) {
    match a {
        Ast::Flags(f) => {
            strip_case_flag(&mut f.flags, ci);
            if f.flags.items.is_empty() {
                *a = Ast::empty(f.span);
            }
        }
        Ast::Group(g) => {
            let mut inner = *ci;
            if let ast::GroupKind::NonCapturing(flags) = &mut g.kind {
                strip_case_flag(flags, &mut inner);
            }
            fold_ascii(&mut g.ast, &mut inner);
        }
        Ast::Concat(c) => c.asts.iter_mut().for_each(|x| fold_ascii(x, ci)),
        // Flags set in one branch stay set in the next ones, up to the end of the group.
        Ast::Alternation(x) => x.asts.iter_mut().for_each(|b| fold_ascii(b, ci)),
        Ast::Repetition(r) => {
            let mut inner = *ci;
            fold_ascii(&mut r.ast, &mut inner);
        }
        Ast::Literal(l) if *ci && l.c.is_ascii_alphabetic() => {
            let span = l.span;
            let c = l.c;
            if let Some(class) = folded_class(
                &Ast::literal(ast::Literal {
                    span,
                    kind: ast::LiteralKind::Verbatim,
                    c,
                }),
                false,
                span,
            ) {
                *a = class;
            }
        }
        Ast::ClassBracketed(b) if *ci => {
            let span = b.span;
            let negated = b.negated;
            let mut positive = (**b).clone();
            positive.negated = false;
            if let Some(class) = folded_class(&Ast::class_bracketed(positive), negated, span) {
                *a = class;
            }
        }
        Ast::ClassUnicode(u) if *ci => {
            let span = u.span;
            let negated = u.negated;
            let mut positive = (**u).clone();
            positive.negated = false;
            if let Some(class) = folded_class(&Ast::class_unicode(positive), negated, span) {
                *a = class;
            }
        }
        _ => {}
    }
}

fn ascii_class(p: &ClassPerl) -> ClassAscii {
    ClassAscii {
        span: p.span,
        kind: match p.kind {
            ClassPerlKind::Digit => ClassAsciiKind::Digit,
            ClassPerlKind::Space => ClassAsciiKind::Space,
            ClassPerlKind::Word => ClassAsciiKind::Word,
        },
        negated: p.negated,
    }
}

/// The engine's `\\s`: tab, line feed, carriage return and space, the white space every
/// target's regex names alike (Lucene's `\\s`; PCRE, RE2 and Java add vertical tab or form
/// feed, which no target can write without a raw control character).
fn space_class(p: &ClassPerl) -> ClassSetItem {
    let lit = |c: char| {
        ClassSetItem::Literal(ast::Literal {
            span: p.span,
            kind: ast::LiteralKind::HexBrace(ast::HexLiteralKind::X),
            c,
        })
    };
    ClassSetItem::Bracketed(Box::new(ast::ClassBracketed {
        span: p.span,
        negated: p.negated,
        kind: ClassSet::Item(ClassSetItem::Union(ast::ClassSetUnion {
            span: p.span,
            items: vec![lit('\t'), lit('\n'), lit('\r'), lit(' ')],
        })),
    }))
}

/// A Perl class as the engine reads it: ASCII `\\d` and `\\w`, and [`space_class`].
fn perl_item(p: &ClassPerl) -> ClassSetItem {
    match p.kind {
        ClassPerlKind::Space => space_class(p),
        _ => ClassSetItem::Ascii(ascii_class(p)),
    }
}

fn asciify(a: &mut Ast) {
    match a {
        Ast::ClassPerl(p) => {
            let span = p.span;
            *a = Ast::class_bracketed(ast::ClassBracketed {
                span,
                negated: false,
                kind: ClassSet::Item(perl_item(p)),
            });
        }
        Ast::ClassBracketed(b) => asciify_set(&mut b.kind),
        Ast::Assertion(x) => {
            use ast::AssertionKind as K;
            if matches!(
                x.kind,
                K::WordBoundary
                    | K::NotWordBoundary
                    | K::WordBoundaryStart
                    | K::WordBoundaryEnd
                    | K::WordBoundaryStartAngle
                    | K::WordBoundaryEndAngle
                    | K::WordBoundaryStartHalf
                    | K::WordBoundaryEndHalf
            ) {
                let span = x.span;
                let inner = std::mem::replace(a, Ast::empty(span));
                *a = Ast::group(ast::Group {
                    span,
                    kind: ast::GroupKind::NonCapturing(ast::Flags {
                        span,
                        items: vec![
                            ast::FlagsItem {
                                span,
                                kind: ast::FlagsItemKind::Negation,
                            },
                            ast::FlagsItem {
                                span,
                                kind: ast::FlagsItemKind::Flag(ast::Flag::Unicode),
                            },
                        ],
                    }),
                    ast: Box::new(inner),
                });
            }
        }
        Ast::Repetition(r) => asciify(&mut r.ast),
        Ast::Group(g) => asciify(&mut g.ast),
        Ast::Alternation(x) => x.asts.iter_mut().for_each(asciify),
        Ast::Concat(x) => x.asts.iter_mut().for_each(asciify),
        Ast::Empty(_) | Ast::Flags(_) | Ast::Literal(_) | Ast::Dot(_) | Ast::ClassUnicode(_) => {}
    }
}

fn asciify_set(s: &mut ClassSet) {
    match s {
        ClassSet::Item(item) => asciify_item(item),
        ClassSet::BinaryOp(op) => {
            asciify_set(&mut op.lhs);
            asciify_set(&mut op.rhs);
        }
    }
}

fn asciify_item(item: &mut ClassSetItem) {
    match item {
        ClassSetItem::Perl(p) => *item = perl_item(p),
        ClassSetItem::Bracketed(b) => asciify_set(&mut b.kind),
        ClassSetItem::Union(u) => u.items.iter_mut().for_each(asciify_item),
        _ => {}
    }
}

/// Parse an engine pattern (as returned by [`engine_source`], or built by the lowering)
/// into its HIR.
///
/// A backend asks for the same pattern several times while it renders one predicate (to
/// translate it, count its branches, measure it), and parsing with Unicode case folding is
/// the most expensive step of compilation; the last few parses of each thread are kept.
pub fn parse(source: &str) -> Result<std::rc::Rc<Hir>, String> {
    use std::cell::RefCell;
    use std::rc::Rc;
    const KEEP: usize = 4;
    type Recent = Vec<(String, Result<Rc<Hir>, String>)>;
    thread_local! {
        static RECENT: RefCell<Recent> = const { RefCell::new(Vec::new()) };
    }
    if let Some(hit) = RECENT.with(|r| {
        r.borrow()
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, h)| h.clone())
    }) {
        return hit;
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .build()
        .parse(source)
        .map(Rc::new)
        .map_err(|e| e.to_string());
    RECENT.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() == KEEP {
            drop(r.remove(0));
        }
        r.push((source.to_string(), parsed.clone()));
    });
    parsed
}

/// Deepest nesting of groups and repetitions written.
const MAX_NESTING: usize = 64;

fn nesting(h: &Hir) -> usize {
    match h.kind() {
        HirKind::Repetition(r) => 1 + nesting(&r.sub),
        HirKind::Capture(c) => 1 + nesting(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            1 + v.iter().map(nesting).max().unwrap_or(0)
        }
        _ => 0,
    }
}

/// Nested repetitions that mean one repetition written as one (`(?:(?:i+)+)+` is `i+`,
/// `(?:x*)?` is `x*`), so that a pattern like `i+++...` does not nest deeper than the
/// targets' engines allow.
fn simplify_repetitions(h: &Hir) -> Hir {
    use regex_syntax::hir::Repetition;
    match h.kind() {
        HirKind::Repetition(r) => {
            let sub = simplify_repetitions(&r.sub);
            let inner = match sub.kind() {
                HirKind::Capture(c) => (*c.sub).clone(),
                _ => sub.clone(),
            };
            // A repeated assertion (`^?`, `\b+`) is the assertion once, or nothing when it
            // may be absent: PCRE rejects a quantifier after an assertion.
            if matches!(inner.kind(), HirKind::Look(_) | HirKind::Empty) {
                return if r.min == 0 { Hir::empty() } else { inner };
            }
            if let HirKind::Repetition(i) = inner.kind() {
                let merged = match ((r.min, r.max), (i.min, i.max)) {
                    // (x{b,})^{a,} with a >= 1: at least a*b x's, any count above.
                    ((a, None), (b, None)) if a >= 1 => a.checked_mul(b).map(|m| (m, None)),
                    // (x*)* (x+)* (x?)* (x*)? (x*)+: x*.
                    ((0, None), (b, _)) if b <= 1 => Some((0, None)),
                    ((a, Some(1)), (0, None)) if a <= 1 => Some((0, None)),
                    ((1, None), (0, Some(1))) => Some((0, None)),
                    // (x?)?: x?.
                    ((0, Some(1)), (0, Some(1))) => Some((0, Some(1))),
                    _ => None,
                };
                if let Some((min, max)) = merged {
                    return Hir::repetition(Repetition {
                        min,
                        max,
                        greedy: true,
                        sub: i.sub.clone(),
                    });
                }
            }
            Hir::repetition(Repetition {
                min: r.min,
                max: r.max,
                greedy: r.greedy,
                sub: Box::new(sub),
            })
        }
        HirKind::Capture(c) => Hir::capture(regex_syntax::hir::Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(simplify_repetitions(&c.sub)),
        }),
        HirKind::Concat(v) => Hir::concat(v.iter().map(simplify_repetitions).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(simplify_repetitions).collect()),
        _ => h.clone(),
    }
}

/// What an ASCII word boundary (or its negation, `negate`) next to characters that are all
/// word characters (`near_word`) requires of the character on the other side: the class, and
/// whether the edge of the text also does.
fn boundary_neighbour(near_word: bool, negate: bool) -> (ClassUnicode, bool) {
    let word = word_class();
    let mut not_word = word.clone();
    not_word.negate();
    // \b next to a word character: the other side is a non-word character or the edge.
    match (near_word, negate) {
        (true, false) | (false, true) => (not_word, true),
        (false, false) | (true, true) => (word, false),
    }
}

/// For the Kusto flavor: every ASCII word boundary rewritten without an assertion (see
/// [`Flavor::Rust`]). At an edge of the pattern (an unanchored search), the boundary becomes
/// the class its far side needs, or the text's edge; between two items whose characters are
/// known, it is decided.
fn word_bounds_as_classes(h: &Hir) -> Result<Hir, String> {
    fn is_word_look(h: &Hir) -> Option<bool> {
        match h.kind() {
            HirKind::Look(Look::WordAscii) => Some(false),
            HirKind::Look(Look::WordAsciiNegate) => Some(true),
            _ => None,
        }
    }
    fn has_word_look(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Look(l) => matches!(l, Look::WordAscii | Look::WordAsciiNegate),
            HirKind::Repetition(r) => has_word_look(&r.sub),
            HirKind::Capture(c) => has_word_look(&c.sub),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(has_word_look),
            _ => false,
        }
    }
    fn side(near: Option<ClassUnicode>, look: Look) -> Result<bool, String> {
        let word = word_class();
        match near {
            Some(n) if is_subset(&n, &word) => Ok(true),
            Some(n) if is_disjoint(&n, &word) => Ok(false),
            _ => Err(format!(
                "{} next to characters that may or may not be word characters (Kusto's \\b \
                 is Unicode-aware and RE2 has no other spelling)",
                describe_look(look)
            )),
        }
    }
    // One level: a concatenation at the edges of the search (or an alternation of them).
    fn rewrite(h: &Hir, left_edge: bool, right_edge: bool) -> Result<Hir, String> {
        if !has_word_look(h) {
            return Ok(h.clone());
        }
        let items: Vec<Hir> = match h.kind() {
            HirKind::Concat(v) => v.clone(),
            HirKind::Alternation(v) => {
                return Ok(Hir::alternation(
                    v.iter()
                        .map(|b| rewrite(b, left_edge, right_edge))
                        .collect::<Result<_, _>>()?,
                ));
            }
            HirKind::Capture(c) => return rewrite(&c.sub, left_edge, right_edge),
            HirKind::Look(_) => vec![h.clone()],
            _ => {
                return Err(
                    "a word boundary (`\\b`, `\\B`) inside a group or repetition".to_string(),
                );
            }
        };
        let refs: Vec<&Hir> = items.iter().collect();
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let Some(negate) = is_word_look(it) else {
                let at_left = left_edge && i == 0;
                let at_right = right_edge && i + 1 == items.len();
                out.push(rewrite(it, at_left, at_right).and_then(|x| {
                    if has_word_look(&x) {
                        Err(
                            "a word boundary (`\\b`, `\\B`) inside a group or repetition"
                                .to_string(),
                        )
                    } else {
                        Ok(x)
                    }
                })?);
                continue;
            };
            let look = if negate {
                Look::WordAsciiNegate
            } else {
                Look::WordAscii
            };
            let before = edge_set(&refs[..i], false);
            let after = edge_set(&refs[i + 1..], true);
            match (i == 0 && left_edge, i + 1 == items.len() && right_edge) {
                (true, false) => {
                    let (class, edge) = boundary_neighbour(side(after, look)?, negate);
                    let c = Hir::class(Class::Unicode(class));
                    out.push(if edge {
                        Hir::alternation(vec![Hir::look(Look::Start), c])
                    } else {
                        c
                    });
                }
                (false, true) => {
                    let (class, edge) = boundary_neighbour(side(before, look)?, negate);
                    let c = Hir::class(Class::Unicode(class));
                    out.push(if edge {
                        Hir::alternation(vec![c, Hir::look(Look::End)])
                    } else {
                        c
                    });
                }
                _ => {
                    let l = side(before, look)?;
                    let r = side(after, look)?;
                    if (l != r) == negate {
                        // The boundary can never hold: nothing matches.
                        return Ok(Hir::class(Class::Unicode(ClassUnicode::empty())));
                    }
                }
            }
        }
        Ok(Hir::concat(out))
    }
    let r = rewrite(h, true, true)?;
    if has_word_look(&r) {
        return Err("a word boundary (`\\b`, `\\B`) inside a group or repetition".to_string());
    }
    Ok(r)
}

/// Translate an engine pattern into `flavor`. For [`Flavor::Lucene`] the result matches the
/// whole value exactly when the engine's pattern matches somewhere in it. `Err` says which
/// construct the flavor cannot express.
pub fn translate(source: &str, flavor: Flavor) -> Result<String, String> {
    translate_hir(&*parse(source)?, flavor)
}

/// [`translate`] of a parsed pattern.
pub fn translate_hir(hir: &Hir, flavor: Flavor) -> Result<String, String> {
    translate_hir_loose(hir, flavor, false)
}

/// [`translate_hir`]; with `loose`, a class of exactly an ASCII letter and its other case
/// (`[Kk]`) is written with the flavor's own `(?i)` where it has one (PCRE, RE2, Rust), which
/// may also match the listed code points (`docs/semantics.md`, "Case").
pub fn translate_hir_loose(hir: &Hir, flavor: Flavor, loose: bool) -> Result<String, String> {
    let simplified = simplify_repetitions(hir);
    let depth = nesting(&simplified);
    if depth > MAX_NESTING {
        return Err(format!(
            "groups and repetitions nested {depth} deep (at most {MAX_NESTING} are written, \
             within the targets' regex engines' nesting limits)"
        ));
    }
    let rewritten;
    let hir = if flavor == Flavor::Rust {
        rewritten = word_bounds_as_classes(&simplified)?;
        &rewritten
    } else {
        &simplified
    };
    match flavor {
        Flavor::Pcre | Flavor::Re2 | Flavor::Rust => {
            let hoisted = loose && ascii_folded_only(hir, true);
            let s = Search {
                flavor,
                loose,
                hoisted,
            };
            let body = s.node(hir, false)?;
            Ok(if hoisted && has_letter(hir) {
                format!("(?i){body}")
            } else {
                body
            })
        }
        Flavor::Lucene => lucene(hir, Side::Open, Side::Open),
    }
}

/// The engine pattern with the character `c` removed from every class (so that no match can
/// contain it), printed back as a Rust regex; `Err` if a literal of the pattern holds `c`.
/// Used to search one element of a list joined with `c` as separator.
pub fn exclude_char(source: &str, c: char) -> Result<String, String> {
    fn walk(h: &Hir, c: char) -> Result<Hir, String> {
        Ok(match h.kind() {
            HirKind::Literal(l) => {
                if std::str::from_utf8(&l.0).is_ok_and(|t| t.contains(c)) {
                    return Err(format!(
                        "the character U+{:04X} (the list separator)",
                        c as u32
                    ));
                }
                h.clone()
            }
            HirKind::Class(Class::Unicode(cl)) => {
                let mut cl = cl.clone();
                cl.difference(&single(c));
                Hir::class(Class::Unicode(cl))
            }
            HirKind::Class(Class::Bytes(_)) => {
                return Err("a byte class".to_string());
            }
            HirKind::Repetition(r) => Hir::repetition(regex_syntax::hir::Repetition {
                sub: Box::new(walk(&r.sub, c)?),
                ..r.clone()
            }),
            HirKind::Capture(cap) => Hir::capture(regex_syntax::hir::Capture {
                sub: Box::new(walk(&cap.sub, c)?),
                ..cap.clone()
            }),
            HirKind::Concat(items) => {
                Hir::concat(items.iter().map(|x| walk(x, c)).collect::<Result<_, _>>()?)
            }
            HirKind::Alternation(items) => {
                Hir::alternation(items.iter().map(|x| walk(x, c)).collect::<Result<_, _>>()?)
            }
            HirKind::Empty | HirKind::Look(_) => h.clone(),
        })
    }
    Ok(walk(&*parse(source)?, c)?.to_string())
}

/// The engine pattern rewritten to search a list of values joined with `sep`: it matches the
/// joined text exactly when it matches one of the values (which must not contain `sep`).
/// Classes lose `sep`, so a match stays inside one value, and the text anchors at the edges
/// of the pattern also accept a separator (`^` becomes `(?:^|sep)`, `$` becomes `(?:$|sep)`,
/// likewise the multi-line ones). Printed back as a Rust regex. `Err` for an anchor inside
/// the pattern (it would need a look-around to stay exact) or a literal holding `sep`.
pub fn list_search(source: &str, sep: char) -> Result<String, String> {
    fn walk(h: &Hir, sep: char, at_start: bool, at_end: bool) -> Result<Hir, String> {
        let or_sep =
            |h: &Hir| Hir::alternation(vec![h.clone(), Hir::literal(sep.to_string().into_bytes())]);
        Ok(match h.kind() {
            HirKind::Look(Look::Start | Look::StartLF) if at_start => or_sep(h),
            HirKind::Look(Look::End | Look::EndLF) if at_end => or_sep(h),
            HirKind::Look(Look::Start | Look::StartLF | Look::End | Look::EndLF) => {
                return Err("a `^` or `$` inside the pattern".to_string());
            }
            HirKind::Look(_) | HirKind::Empty => h.clone(),
            HirKind::Literal(_) | HirKind::Class(_) => {
                let source = h.to_string();
                (*parse(&exclude_char(&source, sep)?)?).clone()
            }
            HirKind::Repetition(r) => Hir::repetition(regex_syntax::hir::Repetition {
                sub: Box::new(walk(&r.sub, sep, false, false)?),
                ..r.clone()
            }),
            HirKind::Capture(cap) => Hir::capture(regex_syntax::hir::Capture {
                sub: Box::new(walk(&cap.sub, sep, at_start, at_end)?),
                ..cap.clone()
            }),
            HirKind::Concat(items) => {
                let last = items.len().saturating_sub(1);
                Hir::concat(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| walk(x, sep, at_start && i == 0, at_end && i == last))
                        .collect::<Result<_, _>>()?,
                )
            }
            HirKind::Alternation(items) => Hir::alternation(
                items
                    .iter()
                    .map(|x| walk(x, sep, at_start, at_end))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
    Ok(walk(&*parse(source)?, sep, true, true)?.to_string())
}

/// The top-level alternatives of the engine pattern (printed back as Rust regexes) when it is
/// an alternation and some repetition in it counts to `count` or more (`x{16}`, `x{20,}`);
/// `None` otherwise. Lucene determinizes such a union with far more effort than its branches
/// one by one, so the Elastic targets search each branch with its own regex.
pub fn counted_branches(source: &str, count: u32) -> Option<Vec<String>> {
    fn counted(h: &Hir, count: u32) -> bool {
        match h.kind() {
            HirKind::Repetition(r) => {
                r.min >= count || r.max.is_some_and(|m| m >= count) || counted(&r.sub, count)
            }
            HirKind::Capture(c) => counted(&c.sub, count),
            HirKind::Concat(items) | HirKind::Alternation(items) => {
                items.iter().any(|x| counted(x, count))
            }
            _ => false,
        }
    }
    let h = parse(source).ok()?;
    match unwrap_captures(&h).kind() {
        HirKind::Alternation(branches) if counted(&h, count) => {
            Some(branches.iter().map(|b| b.to_string()).collect())
        }
        _ => None,
    }
}

/// True if the engine pattern can match or name a character outside ASCII (a non-ASCII
/// literal, or a class or `.` that includes one): PCRE must then run in UTF mode.
pub fn needs_unicode(source: &str) -> bool {
    parse(source).map(|h| hir_needs_unicode(&h)).unwrap_or(true)
}

/// [`needs_unicode`] of a parsed pattern.
pub fn hir_needs_unicode(hir: &Hir) -> bool {
    fn walk(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Literal(l) => !l.0.is_ascii(),
            HirKind::Class(Class::Unicode(c)) => c.ranges().iter().any(|r| r.end() > '\x7f'),
            HirKind::Class(Class::Bytes(c)) => c.ranges().iter().any(|r| r.end() > 0x7f),
            HirKind::Repetition(r) => walk(&r.sub),
            HirKind::Capture(c) => walk(&c.sub),
            HirKind::Concat(items) | HirKind::Alternation(items) => items.iter().any(walk),
            HirKind::Empty | HirKind::Look(_) => false,
        }
    }
    walk(hir)
}

/// The Lucene translation of an engine pattern as several whole-value regexes, each at most
/// `max_len` UTF-16 units where splitting allows: a value matches the pattern exactly when it
/// matches one of them. A piece that is too long is split at an alternation ([`split_once`]);
/// a piece that cannot be split is returned as it is, and the caller refuses it.
pub fn lucene_alternatives(source: &str, max_len: usize) -> Result<Vec<String>, String> {
    fn pieces(h: &Hir, max_len: usize, depth: u32, out: &mut Vec<String>) -> Result<(), String> {
        let whole = lucene(h, Side::Open, Side::Open)?;
        if whole.encode_utf16().count() <= max_len || depth == 0 {
            out.push(whole);
            return Ok(());
        }
        match split_once(h) {
            Some(parts) => parts
                .iter()
                .try_for_each(|p| pieces(p, max_len, depth - 1, out)),
            None => {
                out.push(whole);
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    pieces(&*parse(source)?, max_len, 12, &mut out)?;
    Ok(out)
}

/// `h` as alternatives that together match what it matches: the branches of an alternation,
/// or, for a concatenation, two copies in which its largest alternation keeps one half of its
/// branches each (`x(a|b|c|d)y` is `x(a|b)y|x(c|d)y`), which shortens each copy while
/// duplicating as little of the rest as possible.
fn split_once(h: &Hir) -> Option<Vec<Hir>> {
    let h = unwrap_captures(h);
    match h.kind() {
        HirKind::Alternation(branches) => Some(branches.clone()),
        HirKind::Concat(items) => {
            let size = |x: &Hir| {
                lucene(x, Side::Inner, Side::Inner)
                    .map(|r| r.len())
                    .unwrap_or(0)
            };
            let (k, branches) = items
                .iter()
                .enumerate()
                .filter_map(|(k, x)| match unwrap_captures(x).kind() {
                    HirKind::Alternation(b) => Some((k, b)),
                    _ => None,
                })
                .max_by_key(|(k, _)| (size(&items[*k]), std::cmp::Reverse(*k)))?;
            let half = branches.len() / 2;
            Some(
                [&branches[..half], &branches[half..]]
                    .into_iter()
                    .map(|part| {
                        let mut v = items[..k].to_vec();
                        v.push(Hir::alternation(part.to_vec()));
                        v.extend(items[k + 1..].iter().cloned());
                        Hir::concat(v)
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Shared pieces

fn word_class() -> ClassUnicode {
    ClassUnicode::new([
        ClassUnicodeRange::new('0', '9'),
        ClassUnicodeRange::new('A', 'Z'),
        ClassUnicodeRange::new('_', '_'),
        ClassUnicodeRange::new('a', 'z'),
    ])
}

fn full_class() -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new('\0', char::MAX)])
}

fn single(c: char) -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new(c, c)])
}

/// True if simple case folding leaves the class as it is. Folding a class that spans much of
/// Unicode (`[^a-z]`, `.`) is slow, and the same few classes recur in every rule, so results
/// are remembered per thread.
fn fold_invariant(u: &ClassUnicode) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static SEEN: RefCell<HashMap<Vec<(char, char)>, bool>> = RefCell::new(HashMap::new());
    }
    let key: Vec<(char, char)> = u.iter().map(|r| (r.start(), r.end())).collect();
    if let Some(v) = SEEN.with(|m| m.borrow().get(&key).copied()) {
        return v;
    }
    let mut folded = u.clone();
    folded.case_fold_simple();
    let v = folded == *u;
    SEEN.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 4096 {
            m.clear();
        }
        m.insert(key, v);
    });
    v
}

/// The simple-case-folding closure of `c` (`k` → `{k, K, K}`).
pub fn fold_closure(c: char) -> ClassUnicode {
    let mut cl = single(c);
    cl.case_fold_simple();
    cl
}

/// If the class is one character, or exactly the case-folding set of one character, that
/// character and whether it is a folding set of more than one character.
fn as_char(cl: &ClassUnicode) -> Option<(char, bool)> {
    let r = cl.ranges();
    if r.len() == 1 && r[0].start() == r[0].end() {
        return Some((r[0].start(), false));
    }
    let first = r.first()?.start();
    let closure = fold_closure(first);
    (closure == *cl).then(|| {
        // Prefer the lowercase ASCII letter as the representative, for readable output.
        let rep = cl
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .find(char::is_ascii_lowercase)
            .unwrap_or(first);
        (rep, true)
    })
}

/// [`as_char`]; with `loose`, exactly an ASCII letter and its other case also count as a
/// folding set.
fn as_char_loose(cl: &ClassUnicode, loose: bool) -> Option<(char, bool)> {
    if loose {
        let r = cl.ranges();
        let pair = match r {
            [a, b] if a.start() == a.end() && b.start() == b.end() => Some((a.start(), b.start())),
            _ => None,
        };
        if let Some((x, y)) = pair
            && x.is_ascii_uppercase()
            && y == x.to_ascii_lowercase()
        {
            return Some((y, true));
        }
    }
    as_char(cl)
}

/// True if every letter of the pattern is case-insensitive by ASCII folding: literals hold no
/// ASCII letter, single-letter classes are an ASCII letter and its other case (or a folding
/// set), and every other class holds the other case of each ASCII letter it holds (and, with
/// `fold_invariant_classes`, is closed under Unicode simple case folding). Such a pattern can
/// be written with one `(?i)` (or as a case-insensitive query), matching at least what it
/// matches.
pub fn ascii_folded_only(h: &Hir, fold_invariant_classes: bool) -> bool {
    let walk = |x: &Hir| ascii_folded_only(x, fold_invariant_classes);
    match h.kind() {
        // A letter with a case, matched exactly, would fold under a hoisted `(?i)`.
        HirKind::Literal(l) => literal_chars(&l.0)
            .map(|cs| {
                cs.iter()
                    .all(|c| fold_closure(*c).ranges() == single(*c).ranges())
            })
            .unwrap_or(false),
        HirKind::Class(Class::Unicode(u)) => {
            if matches!(as_char_loose(u, true), Some((_, true))) {
                return true;
            }
            let ascii_closed = u
                .iter()
                .filter(|r| r.start() <= 'z')
                .flat_map(|r| r.start()..=r.end().min('z'))
                .filter(char::is_ascii_alphabetic)
                .all(|c| {
                    let o = if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    };
                    u.ranges()
                        .iter()
                        .any(|r| (r.start()..=r.end()).contains(&o))
                });
            // Under PCRE's, RE2's and Rust's `(?i)` a class also takes in the case-folding
            // set of each member (`[^a-z]` loses `ſ`): only a class that folding leaves as it
            // is keeps its meaning.
            ascii_closed && (!fold_invariant_classes || fold_invariant(u))
        }
        HirKind::Class(_) => false,
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Repetition(r) => walk(&r.sub),
        HirKind::Capture(c) => walk(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().all(walk),
    }
}

/// True if the pattern holds a case-insensitive letter (a case flag changes nothing
/// otherwise).
fn has_letter(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Literal(_) => false,
        HirKind::Class(Class::Unicode(u)) => matches!(as_char_loose(u, true), Some((_, true))),
        HirKind::Class(_) | HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Repetition(r) => has_letter(&r.sub),
        HirKind::Capture(c) => has_letter(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(has_letter),
    }
}

/// A Lucene regex rendered from an [`ascii_folded_only`] pattern with every class of an ASCII
/// letter and its other case (`[Kk]`) written as the lower-case letter, for a
/// case-insensitive regex query (EQL `regex~`).
pub fn lucene_lower_pairs(re: &str) -> String {
    let cs: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len());
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => {
                out.push('\\');
                if let Some(&n) = cs.get(i + 1) {
                    out.push(n);
                }
                i += 2;
            }
            '[' if i + 3 < cs.len()
                && cs[i + 3] == ']'
                && cs[i + 1].is_ascii_uppercase()
                && cs[i + 2] == cs[i + 1].to_ascii_lowercase() =>
            {
                out.push(cs[i + 2]);
                i += 4;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_subset(a: &ClassUnicode, b: &ClassUnicode) -> bool {
    let mut x = a.clone();
    x.difference(b);
    x.ranges().is_empty()
}

fn is_disjoint(a: &ClassUnicode, b: &ClassUnicode) -> bool {
    let mut x = a.clone();
    x.intersect(b);
    x.ranges().is_empty()
}

fn literal_chars(bytes: &[u8]) -> Result<Vec<char>, String> {
    std::str::from_utf8(bytes)
        .map(|s| s.chars().collect())
        .map_err(|_| "a byte-oriented regex".to_string())
}

fn unicode_class(c: &Class) -> Result<std::borrow::Cow<'_, ClassUnicode>, String> {
    match c {
        Class::Unicode(u) => Ok(std::borrow::Cow::Borrowed(u)),
        // HIR built from ASCII literals may hold a byte class; it means the same characters.
        Class::Bytes(b) if b.ranges().iter().all(|r| r.end() < 0x80) => {
            Ok(std::borrow::Cow::Owned(ClassUnicode::new(
                b.ranges()
                    .iter()
                    .map(|r| ClassUnicodeRange::new(char::from(r.start()), char::from(r.end()))),
            )))
        }
        Class::Bytes(_) => Err("a byte-oriented character class".to_string()),
    }
}

/// A bracketed class, written as its ranges or, when that is shorter, as the negation of its
/// complement (`[^\n]`). `ch` writes one character inside the brackets.
/// `[...]` listing the ranges of `cl` (never negated).
fn positive_bracket(cl: &ClassUnicode, ch: impl Fn(char, &mut String)) -> String {
    let mut out = String::from("[");
    for r in cl.ranges() {
        ch(r.start(), &mut out);
        if r.end() != r.start() {
            if r.end() as u32 > r.start() as u32 + 1 {
                out.push('-');
            }
            ch(r.end(), &mut out);
        }
    }
    out.push(']');
    out
}

fn bracket(cl: &ClassUnicode, ch: impl Fn(char, &mut String)) -> String {
    let mut neg = cl.clone();
    neg.negate();
    let (body, negated) = if neg.ranges().len() < cl.ranges().len() {
        (neg, true)
    } else {
        (cl.clone(), false)
    };
    let mut out = String::from(if negated { "[^" } else { "[" });
    for r in body.ranges() {
        ch(r.start(), &mut out);
        if r.end() != r.start() {
            if r.end() as u32 > r.start() as u32 + 1 {
                out.push('-');
            }
            ch(r.end(), &mut out);
        }
    }
    out.push(']');
    out
}

// ---------------------------------------------------------------------------------------
// PCRE and RE2: unanchored search, rendered node by node.

struct Search {
    flavor: Flavor,
    /// A class of exactly an ASCII letter and its other case may be written with the
    /// flavor's `(?i)`, which may fold more (the listed code points `K`, `ſ`).
    loose: bool,
    /// The pattern starts with `(?i)`: case-insensitive letters are written plainly.
    hoisted: bool,
}

impl Search {
    /// A character, outside a class or (`in_class`) inside `[...]`.
    fn ch(&self, c: char, in_class: bool, out: &mut String) {
        let plain = c.is_ascii_alphanumeric() || c == '_' || (c == ' ' && !in_class);
        // Older Rust regex versions reject escapes of non-meta punctuation (`\/`).
        let rust_raw = self.flavor == Flavor::Rust
            && c.is_ascii_punctuation()
            && !regex_syntax::is_meta_character(c);
        if plain || rust_raw {
            out.push(c);
        } else if c == '$' && self.flavor == Flavor::Pcre {
            // Splunk reads `$name$` in a saved search as a token.
            out.push_str("\\x{24}");
        } else if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if !c.is_ascii() && c.is_alphanumeric() {
            out.push(c);
        } else if c == ' ' {
            out.push(' ');
        } else if let Some(e) = match c {
            '\t' => Some("\\t"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            _ => None,
        } {
            out.push_str(e);
        } else {
            let _ = write!(out, "\\x{{{:X}}}", c as u32);
        }
    }

    fn class(&self, cl: &ClassUnicode) -> String {
        if *cl == full_class() {
            return "(?s:.)".to_string();
        }
        bracket(cl, |c, out| self.ch(c, true, out))
    }

    /// Render `h`; `grouped` asks for a single atom (for a quantifier or inside a sequence).
    fn node(&self, h: &Hir, grouped: bool) -> Result<String, String> {
        Ok(match h.kind() {
            HirKind::Empty => "(?:)".to_string(),
            HirKind::Literal(l) => {
                let chars = literal_chars(&l.0)?;
                let mut s = String::new();
                for c in &chars {
                    self.ch(*c, false, &mut s);
                }
                if grouped && chars.len() > 1 {
                    format!("(?:{s})")
                } else {
                    s
                }
            }
            HirKind::Class(c) => {
                let u = unicode_class(c)?;
                match as_char_loose(&u, self.loose) {
                    Some((c, true)) if self.hoisted => {
                        let mut s = String::new();
                        self.ch(c, false, &mut s);
                        s
                    }
                    Some((c, true)) => {
                        let mut s = String::from("(?i:");
                        self.ch(c, false, &mut s);
                        s.push(')');
                        s
                    }
                    Some((c, false)) => {
                        let mut s = String::new();
                        self.ch(c, false, &mut s);
                        s
                    }
                    None if u.ranges().is_empty() => {
                        return Err("a character class that matches nothing".to_string());
                    }
                    None => self.class(&u),
                }
            }
            HirKind::Look(look) => self.look(*look)?.to_string(),
            HirKind::Repetition(r) => {
                if matches!(self.flavor, Flavor::Re2 | Flavor::Rust)
                    && (r.min > RE2_MAX_REPEAT || r.max.is_some_and(|m| m > RE2_MAX_REPEAT))
                {
                    return Err(format!(
                        "a repetition count above {RE2_MAX_REPEAT} (RE2's limit)"
                    ));
                }
                let mut inner = self.node(&r.sub, true)?;
                if matches!(unwrap_captures(&r.sub).kind(), HirKind::Repetition(_)) {
                    // `(a+)+` must not become the possessive `a++`.
                    inner = format!("(?:{inner})");
                }
                // Greedy and lazy quantifiers accept the same strings; only whether a match
                // exists matters here, so every quantifier is written greedy.
                let q = match (r.min, r.max) {
                    (0, None) => "*".to_string(),
                    (1, None) => "+".to_string(),
                    (0, Some(1)) => "?".to_string(),
                    (m, None) => format!("{{{m},}}"),
                    (m, Some(n)) if m == n => format!("{{{m}}}"),
                    (m, Some(n)) => format!("{{{m},{n}}}"),
                };
                format!("{inner}{q}")
            }
            HirKind::Capture(c) => self.node(&c.sub, grouped)?,
            HirKind::Concat(items) => {
                let s = self.sequence(items)?;
                if grouped { format!("(?:{s})") } else { s }
            }
            HirKind::Alternation(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|x| self.node(x, false))
                    .collect::<Result<_, _>>()?;
                if grouped {
                    format!("(?:{})", parts.join("|"))
                } else {
                    parts.join("|")
                }
            }
        })
    }

    /// A concatenation. Runs of characters that are case-insensitive letters or have no case
    /// are written as one `(?i:...)` group, for readability.
    fn sequence(&self, items: &[Hir]) -> Result<String, String> {
        #[derive(PartialEq)]
        enum K {
            Folded,
            Caseless,
            Cased,
        }
        let mut out = String::new();
        let mut run: Vec<(char, K)> = Vec::new();
        let flush = |run: &mut Vec<(char, K)>, out: &mut String| {
            if run.is_empty() {
                return;
            }
            let folded = run.iter().any(|(_, k)| *k == K::Folded) && !self.hoisted;
            if folded {
                out.push_str("(?i:");
            }
            for (c, _) in run.iter() {
                self.ch(*c, false, out);
            }
            if folded {
                out.push(')');
            }
            run.clear();
        };
        for h in items {
            let chars: Option<Vec<(char, K)>> = match h.kind() {
                HirKind::Literal(l) => Some(
                    literal_chars(&l.0)?
                        .into_iter()
                        .map(|c| {
                            let k = if fold_closure(c).ranges() == single(c).ranges() {
                                K::Caseless
                            } else {
                                K::Cased
                            };
                            (c, k)
                        })
                        .collect(),
                ),
                HirKind::Class(c) => match as_char_loose(&*unicode_class(c)?, self.loose) {
                    Some((c, true)) => Some(vec![(c, K::Folded)]),
                    Some((c, false)) if fold_closure(c).ranges() == single(c).ranges() => {
                        Some(vec![(c, K::Caseless)])
                    }
                    Some((c, false)) => Some(vec![(c, K::Cased)]),
                    None => None,
                },
                _ => None,
            };
            match chars {
                Some(cs) => {
                    for (c, k) in cs {
                        // A case-sensitive letter cannot join a `(?i:...)` run.
                        if k == K::Cased && run.iter().any(|(_, k)| *k == K::Folded)
                            || k == K::Folded && run.iter().any(|(_, k)| *k == K::Cased)
                        {
                            flush(&mut run, &mut out);
                        }
                        run.push((c, k));
                    }
                }
                None => {
                    flush(&mut run, &mut out);
                    out.push_str(&self.node(h, true)?);
                }
            }
        }
        flush(&mut run, &mut out);
        Ok(out)
    }

    fn look(&self, look: Look) -> Result<&'static str, String> {
        Ok(match (look, self.flavor) {
            (Look::Start, Flavor::Re2 | Flavor::Rust) => "^",
            (Look::Start, _) => "\\A",
            // PCRE's `$` also matches before a final newline; `\z` is the true end.
            (Look::End, Flavor::Re2 | Flavor::Rust) => "$",
            (Look::End, _) => "\\z",
            // PCRE's multi-line anchors depend on the library's newline convention (LF, CRLF,
            // ANY...); the engine's are LF only. Written out, they also keep `$` (Splunk's token
            // delimiter) out of the query.
            (Look::StartLF, Flavor::Pcre) => "(?:\\A|(?<=\\n))",
            (Look::EndLF, Flavor::Pcre) => "(?=\\n|\\z)",
            (Look::StartLF, _) => "(?m:^)",
            (Look::EndLF, _) => "(?m:$)",
            (Look::WordAscii, _) => "\\b",
            (Look::WordAsciiNegate, _) => "\\B",
            (other, _) => return Err(look_name(other)),
        })
    }
}

fn unwrap_captures(h: &Hir) -> &Hir {
    match h.kind() {
        HirKind::Capture(c) => unwrap_captures(&c.sub),
        _ => h,
    }
}

fn look_name(look: Look) -> String {
    match look {
        Look::StartCRLF | Look::EndCRLF => "a CRLF-aware line anchor (the `R` flag)".to_string(),
        Look::WordUnicode | Look::WordUnicodeNegate => "a Unicode word boundary".to_string(),
        _ => "a word-start or word-end assertion (`\\<`, `\\>`, `\\b{start}`, ...)".to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Lucene: whole-value match.

/// What lies beyond one side of the piece being rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// Anything (the search is unanchored here): an implicit `.*`.
    Open,
    /// The edge of the value.
    Edge,
    /// Other parts of the pattern.
    Inner,
}

/// A character of a Lucene regex, outside a class or (`in_class`) inside `[...]`.
fn lucene_ch(c: char, in_class: bool, out: &mut String) {
    if c.is_alphanumeric() || c == '_' {
        out.push(c);
    } else if c == '\\' && !in_class {
        // In a query string, `\\/` reads as an escaped `/`, so a pattern ending in `\\` would
        // swallow the `/` that closes it; a class keeps the backslash away from that `/`.
        out.push_str("[\\\\]");
    } else {
        // A backslash makes any character literal in Lucene's RegExp, including the
        // operators `~ & < > @ # "`, the `/` that ends a query-string regex, and a newline.
        out.push('\\');
        out.push(c);
    }
}

/// Lucene's `\\s`: tab, line feed, carriage return and space (also the engine's `\\s`).
fn lucene_space() -> ClassUnicode {
    ClassUnicode::new(['\t', '\n', '\r', ' '].map(|c| ClassUnicodeRange::new(c, c)))
}

fn lucene_class(cl: &ClassUnicode) -> Result<String, String> {
    if cl.ranges().is_empty() {
        return Err("a character class that matches nothing".to_string());
    }
    if *cl == full_class() {
        return Ok(".".to_string());
    }
    if let Some((c, false)) = as_char(cl) {
        let mut s = String::new();
        lucene_ch(c, false, &mut s);
        return Ok(s);
    }
    // Lucene has no escape for control characters; its `\\s` and `\\S` name the common white
    // space without writing it raw.
    let space = lucene_space();
    let mut not_space = space.clone();
    not_space.negate();
    if *cl == space {
        return Ok("\\s".to_string());
    }
    if *cl == not_space {
        return Ok("\\S".to_string());
    }
    let plain = bracket(cl, |c, out| lucene_ch(c, true, out));
    if !plain.chars().any(char::is_control) {
        return Ok(plain);
    }
    let mut complement = cl.clone();
    complement.negate();
    for (set, open) in [(cl, "[\\s"), (&complement, "[^\\s")] {
        if is_subset(&space, set) {
            let mut rest = set.clone();
            rest.difference(&space);
            let inner = positive_bracket(&rest, |c, out| lucene_ch(c, true, out));
            if !inner.chars().any(char::is_control) {
                return Ok(format!("{open}{}", &inner[1..]));
            }
        }
    }
    Ok(plain)
}

fn flatten(h: &Hir) -> Vec<&Hir> {
    match h.kind() {
        HirKind::Concat(items) => items.iter().flat_map(flatten).collect(),
        HirKind::Capture(c) if matches!(c.sub.kind(), HirKind::Concat(_)) => flatten(&c.sub),
        _ => vec![h],
    }
}

/// Render `h` so that, with what lies on each side, it matches as the engine does.
fn lucene(h: &Hir, left: Side, right: Side) -> Result<String, String> {
    lucene_budget(h, left, right, 16)
}

/// How many times an assertion may be pushed down before the pattern is refused.
fn lucene_budget(h: &Hir, left: Side, right: Side, budget: u32) -> Result<String, String> {
    if budget == 0 {
        return Err("a word boundary that is too deeply nested to rewrite".to_string());
    }
    let items = flatten(h);
    if items.len() == 1 {
        let h = items[0];
        match h.kind() {
            HirKind::Capture(c) => return lucene_budget(&c.sub, left, right, budget),
            HirKind::Alternation(branches) => {
                let parts: Vec<String> = branches
                    .iter()
                    .map(|b| lucene_budget(b, left, right, budget))
                    .collect::<Result<_, _>>()?;
                return Ok(format!("({})", parts.join("|")));
            }
            HirKind::Look(_) => {}
            _ => {
                let atom = lucene_atom(h)?;
                return Ok(format!(
                    "{}{atom}{}",
                    if left == Side::Open { ".*" } else { "" },
                    if right == Side::Open { ".*" } else { "" }
                ));
            }
        }
    }
    let (mut l, mut r) = (left, right);
    let (mut i, mut j) = (0, items.len());
    let mut head = String::new();
    let mut tail = Vec::new();
    while i < j {
        let HirKind::Look(look) = items[i].kind() else {
            break;
        };
        if matches!(look, Look::End | Look::EndLF) {
            break;
        }
        match edge_look(*look, &mut l, &items[i + 1..j], true) {
            Ok(s) => head.push_str(&s),
            Err(e) => {
                // A word boundary before a group, a mixed class or a repetition: check it
                // against each alternative of that piece (`\b(a|-)x` is `(\ba|\b-)x`).
                let Some(alts) = items.get(i + 1).and_then(|h| expand(*look, h, true)) else {
                    return Err(e);
                };
                let after = &items[i + 2..];
                if self_contained(&alts) {
                    let group_right = if after.is_empty() { right } else { Side::Inner };
                    let parts = alts
                        .into_iter()
                        .map(|m| {
                            lucene_budget(&with_look(*look, m, true), l, group_right, budget - 1)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let mut out = head + &join_alternatives(parts);
                    if !after.is_empty() {
                        let rest = Hir::concat(after.iter().map(|h| (*h).clone()).collect());
                        out.push_str(&lucene_budget(&rest, Side::Inner, right, budget)?);
                    }
                    return Ok(out);
                }
                // An alternative may be empty: the assertion must see what follows, so each
                // alternative carries the whole rest of the pattern.
                let parts = alts
                    .into_iter()
                    .map(|m| {
                        let mut v: Vec<Hir> = items[..i].iter().map(|h| (*h).clone()).collect();
                        v.push(with_look(*look, m, true));
                        v.extend(after.iter().map(|h| (*h).clone()));
                        lucene_budget(&Hir::concat(v), left, right, budget - 1)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(join_alternatives(parts));
            }
        }
        i += 1;
    }
    while j > i {
        let HirKind::Look(look) = items[j - 1].kind() else {
            break;
        };
        if matches!(look, Look::Start | Look::StartLF) {
            break;
        }
        match edge_look(*look, &mut r, &items[i..j - 1], false) {
            Ok(s) => tail.push(s),
            Err(e) => {
                let Some(alts) = (j >= i + 2)
                    .then(|| expand(*look, items[j - 2], false))
                    .flatten()
                else {
                    return Err(e);
                };
                let before = &items[i..j - 2];
                let closing: String = tail.iter().rev().map(String::as_str).collect();
                if self_contained(&alts) {
                    let group_left = if before.is_empty() { l } else { Side::Inner };
                    let mut out = head;
                    if !before.is_empty() {
                        let prefix = Hir::concat(before.iter().map(|h| (*h).clone()).collect());
                        out.push_str(&lucene_budget(&prefix, l, Side::Inner, budget)?);
                    }
                    let parts = alts
                        .into_iter()
                        .map(|m| {
                            lucene_budget(&with_look(*look, m, false), group_left, r, budget - 1)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push_str(&join_alternatives(parts));
                    out.push_str(&closing);
                    return Ok(out);
                }
                let parts = alts
                    .into_iter()
                    .map(|m| {
                        let mut v: Vec<Hir> = items[..j - 2].iter().map(|h| (*h).clone()).collect();
                        v.push(with_look(*look, m, false));
                        v.extend(items[j..].iter().map(|h| (*h).clone()));
                        lucene_budget(&Hir::concat(v), left, right, budget - 1)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(join_alternatives(parts));
            }
        }
        j -= 1;
    }
    let mut out = head;
    let middle = &items[i..j];
    match middle.len() {
        0 => {
            if l == Side::Open || r == Side::Open {
                out.push_str(".*");
            }
        }
        1 => out.push_str(&lucene_budget(middle[0], l, r, budget)?),
        n => {
            out.push_str(&lucene_budget(middle[0], l, Side::Inner, budget)?);
            for m in &middle[1..n - 1] {
                out.push_str(&lucene_budget(m, Side::Inner, Side::Inner, budget)?);
            }
            out.push_str(&lucene_budget(middle[n - 1], Side::Inner, r, budget)?);
        }
    }
    for t in tail.into_iter().rev() {
        out.push_str(&t);
    }
    // Lucene has no empty alternative (`(a|)` is an error); `()` is the empty string.
    if out.is_empty() {
        out.push_str("()");
    }
    Ok(out)
}

fn lucene_atom(h: &Hir) -> Result<String, String> {
    Ok(match h.kind() {
        HirKind::Empty => "()".to_string(),
        HirKind::Literal(l) => {
            let mut s = String::new();
            for c in literal_chars(&l.0)? {
                lucene_ch(c, false, &mut s);
            }
            s
        }
        HirKind::Class(c) => lucene_class(&*unicode_class(c)?)?,
        HirKind::Repetition(r) => {
            let inner = lucene(&r.sub, Side::Inner, Side::Inner)?;
            let single = match r.sub.kind() {
                HirKind::Class(_) => true,
                HirKind::Literal(l) => literal_chars(&l.0)?.len() == 1,
                _ => false,
            };
            let inner = if single || inner.starts_with('(') && balanced_group(&inner) {
                inner
            } else {
                format!("({inner})")
            };
            let q = match (r.min, r.max) {
                (0, None) => "*".to_string(),
                (1, None) => "+".to_string(),
                (0, Some(1)) => "?".to_string(),
                (m, None) => format!("{{{m},}}"),
                (m, Some(n)) if m == n => format!("{{{m}}}"),
                (m, Some(n)) => format!("{{{m},{n}}}"),
            };
            format!("{inner}{q}")
        }
        HirKind::Capture(c) => format!("({})", lucene(&c.sub, Side::Inner, Side::Inner)?),
        HirKind::Concat(_) | HirKind::Alternation(_) => {
            format!("({})", lucene(h, Side::Inner, Side::Inner)?)
        }
        HirKind::Look(look) => {
            return Err(format!(
                "{} that is not at the start or end of the pattern",
                describe_look(*look)
            ));
        }
    })
}

fn join_alternatives(parts: Vec<String>) -> String {
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join("|"))
    }
}

/// The piece next to a word-boundary assertion (`edge`, after it when `left`), rewritten as
/// alternatives that the assertion can be checked against one by one: the branches of an
/// alternation, a class split into its word and non-word characters, or a repetition with its
/// first (or last) copy unrolled. `None` if none of these applies.
fn expand(look: Look, edge: &Hir, left: bool) -> Option<Vec<Vec<Hir>>> {
    if !matches!(look, Look::WordAscii | Look::WordAsciiNegate) {
        return None;
    }
    let edge = unwrap_captures(edge);
    match edge.kind() {
        HirKind::Alternation(branches) => Some(branches.iter().map(|b| vec![b.clone()]).collect()),
        HirKind::Class(Class::Unicode(c)) => {
            let mut w = c.clone();
            w.intersect(&word_class());
            let mut n = c.clone();
            n.difference(&word_class());
            if w.ranges().is_empty() || n.ranges().is_empty() {
                return None;
            }
            Some(vec![
                vec![Hir::class(Class::Unicode(w))],
                vec![Hir::class(Class::Unicode(n))],
            ])
        }
        HirKind::Repetition(r) if r.max != Some(0) => {
            let rest_rep = Hir::repetition(regex_syntax::hir::Repetition {
                min: r.min.saturating_sub(1),
                max: r.max.map(|m| m - 1),
                greedy: true,
                sub: r.sub.clone(),
            });
            let once = if left {
                vec![(*r.sub).clone(), rest_rep]
            } else {
                vec![rest_rep, (*r.sub).clone()]
            };
            if r.min >= 1 {
                Some(vec![once])
            } else {
                Some(vec![once, vec![]])
            }
        }
        HirKind::Empty => Some(vec![vec![]]),
        _ => None,
    }
}

/// Whether every alternative surely consumes a character, so that the assertion can be checked
/// against it alone, without the pieces after (or before) it.
fn self_contained(alternatives: &[Vec<Hir>]) -> bool {
    alternatives.iter().all(|a| {
        let refs: Vec<&Hir> = a.iter().collect();
        edge_set(&refs, true).is_some()
    })
}

fn with_look(look: Look, mid: Vec<Hir>, left: bool) -> Hir {
    let mut v = Vec::with_capacity(mid.len() + 1);
    if left {
        v.push(Hir::look(look));
        v.extend(mid);
    } else {
        v.extend(mid);
        v.push(Hir::look(look));
    }
    Hir::concat(v)
}

/// Whether `s` is one parenthesised group `( ... )` (its first `(` closes at the end).
fn balanced_group(s: &str) -> bool {
    let mut depth = 0usize;
    let mut escaped = false;
    let mut in_class = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

fn describe_look(look: Look) -> String {
    match look {
        Look::Start | Look::StartLF => "a start anchor (`^`)".to_string(),
        Look::End | Look::EndLF => "an end anchor (`$`)".to_string(),
        Look::WordAscii | Look::WordAsciiNegate => "a word boundary (`\\b`, `\\B`)".to_string(),
        other => look_name(other),
    }
}

/// The characters a sequence can start (`first`) or end with, or `None` if it can match the
/// empty string (or begins there with an assertion).
fn edge_set(items: &[&Hir], first: bool) -> Option<ClassUnicode> {
    let mut acc = ClassUnicode::empty();
    let mut step = |h: &&Hir| -> Option<bool> {
        let (set, nullable) = edge_chars(h, first)?;
        acc.union(&set);
        Some(nullable)
    };
    let done = if first {
        items.iter().map(&mut step).find(|n| *n != Some(true))
    } else {
        items.iter().rev().map(&mut step).find(|n| *n != Some(true))
    };
    match done {
        Some(Some(false)) => Some(acc),
        _ => None,
    }
}

/// The characters `h` can start (or end) with, and whether it can match the empty string.
fn edge_chars(h: &Hir, first: bool) -> Option<(ClassUnicode, bool)> {
    match h.kind() {
        HirKind::Empty => Some((ClassUnicode::empty(), true)),
        HirKind::Literal(l) => {
            let s = std::str::from_utf8(&l.0).ok()?;
            let c = if first {
                s.chars().next()?
            } else {
                s.chars().next_back()?
            };
            Some((single(c), false))
        }
        HirKind::Class(Class::Unicode(u)) => Some((u.clone(), false)),
        HirKind::Class(Class::Bytes(_)) | HirKind::Look(_) => None,
        HirKind::Repetition(r) => {
            let (s, n) = edge_chars(&r.sub, first)?;
            Some((s, n || r.min == 0))
        }
        HirKind::Capture(c) => edge_chars(&c.sub, first),
        HirKind::Concat(items) => {
            let refs: Vec<&Hir> = items.iter().collect();
            match edge_set(&refs, first) {
                Some(s) => Some((s, false)),
                None => {
                    // Nullable (or starts with an assertion): collect the union, nullable.
                    let mut acc = ClassUnicode::empty();
                    for x in items {
                        let (s, _) = edge_chars(x, first)?;
                        acc.union(&s);
                    }
                    Some((acc, true))
                }
            }
        }
        HirKind::Alternation(items) => {
            let mut acc = ClassUnicode::empty();
            let mut nullable = false;
            for x in items {
                let (s, n) = edge_chars(x, first)?;
                acc.union(&s);
                nullable |= n;
            }
            Some((acc, nullable))
        }
    }
}

const NOT_WORD: &str = "[^0-9A-Z_a-z]";
const WORD: &str = "[0-9A-Z_a-z]";

/// An assertion at one end of a sequence (`at_start`: the left end) whose other items are
/// `rest`, with `side` saying what lies beyond that end. Returns the Lucene text that stands
/// for it there and updates `side`.
fn edge_look(look: Look, side: &mut Side, rest: &[&Hir], at_start: bool) -> Result<String, String> {
    let (anchor, line_anchor) = if at_start {
        (Look::Start, Look::StartLF)
    } else {
        (Look::End, Look::EndLF)
    };
    let (end_name, toward) = if at_start {
        ("start", "before")
    } else {
        ("end", "after")
    };
    // `x` on the far side of this end, followed (or preceded) by anything.
    let beyond = |x: &str| {
        if at_start {
            format!(".*{x}")
        } else {
            format!("{x}.*")
        }
    };
    match (look, *side) {
        (l, Side::Open | Side::Edge) if l == anchor => {
            *side = Side::Edge;
            Ok(String::new())
        }
        (l, Side::Edge) if l == line_anchor => Ok(String::new()),
        (l, Side::Open) if l == line_anchor => {
            *side = Side::Inner;
            Ok(format!("({})?", beyond("\\\n")))
        }
        (Look::WordAscii | Look::WordAsciiNegate, Side::Open | Side::Edge) => {
            let word = word_class();
            let Some(near) = edge_set(rest, at_start) else {
                return Err(format!(
                    "{} {toward} something that can be empty",
                    describe_look(look)
                ));
            };
            let near_word = if is_subset(&near, &word) {
                true
            } else if is_disjoint(&near, &word) {
                false
            } else {
                return Err(format!(
                    "{} {toward} characters that are both word and non-word characters",
                    describe_look(look)
                ));
            };
            // `\b` holds when the characters on its two sides differ in wordness, `\B` when
            // they agree. The edge of the value counts as a non-word character.
            let far_word = near_word != (look == Look::WordAscii);
            match (*side, far_word) {
                (Side::Edge, true) => Err(format!(
                    "{} that can never hold at the {end_name} of the value",
                    describe_look(look)
                )),
                (Side::Edge, false) => Ok(String::new()),
                (_, true) => {
                    *side = Side::Inner;
                    Ok(beyond(WORD))
                }
                (_, false) => {
                    *side = Side::Inner;
                    Ok(format!("({})?", beyond(NOT_WORD)))
                }
            }
        }
        _ => Err(format!("{} inside the pattern", describe_look(look))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lucene_of(p: &str) -> String {
        translate(&engine_source(p, ""), Flavor::Lucene).unwrap()
    }

    /// Found by `fuzz/` (target `regex`): PCRE rejects a quantifier after an assertion.
    #[test]
    fn repeated_assertions_are_written_once_or_not_at_all() {
        let pcre = |p: &str| translate(p, Flavor::Pcre).unwrap();
        assert_eq!(pcre("^?a"), "a");
        assert_eq!(pcre("a$+"), "a\\z");
        assert_eq!(pcre("x(?:^)*"), "x");
        for p in ["^?a", "a$+", "(^)*b", "(?-u:\\b){2,3}c"] {
            assert_eq!(
                regex::Regex::new(p).unwrap().is_match("a b c"),
                regex::Regex::new(&translate(p, Flavor::Rust).unwrap())
                    .unwrap()
                    .is_match("a b c"),
                "{p}"
            );
        }
    }

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(
            engine_source(r"\d+\w\s", ""),
            r"[[:digit:]]+[[:word:]][[\x{9}\x{A}\x{D}\x{20}]]"
        );
        // `\s` is tab, line feed, carriage return and space: no vertical tab or form feed.
        let s = regex::Regex::new(&engine_source(r"^\s$", "")).unwrap();
        assert!(
            s.is_match("\t") && s.is_match(" ") && !s.is_match("\u{b}") && !s.is_match("\u{c}")
        );
        assert_eq!(engine_source(r"[\D_]", "i"), r"(?i)[[:^digit:]_]");
        assert_eq!(engine_source(r"\bx\B", ""), r"(?-u:\b)x(?-u:\B)");
        let re = regex::Regex::new(&engine_source(r"^\w+\b", "")).unwrap();
        assert!(!re.is_match("é"));
        assert!(re.is_match("abc def"));
        assert!(
            !regex::Regex::new(&engine_source(r"\d", ""))
                .unwrap()
                .is_match("٣")
        );
    }

    #[test]
    fn ascii_case_folding_of_rule_regexes() {
        let m = |p: &str, flags: &str, s: &str| {
            regex::Regex::new(&engine_source_ascii(p, flags))
                .unwrap()
                .is_match(s)
        };
        assert!(m("ignore", "i", "IGNORE"));
        assert!(!m("ignore", "i", "\u{131}gnore"));
        assert!(!m("k", "i", "\u{212A}"));
        assert!(!m("é", "i", "É"));
        assert!(m("[^a]", "i", "b") && !m("^[^a]$", "i", "A"));
        assert!(m("(?i)x(?-i)y", "", "Xy") && !m("(?i)x(?-i)y", "", "XY"));
        assert!(m("a(?i)b|c", "", "C"));
        assert!(m("[a-c]", "i", "B") && m(r"\pL", "i", "x"));
        assert!(!engine_source_ascii("(?i)abc", "").contains("(?i"));
    }

    #[test]
    fn lucene_writes_white_space_without_control_characters() {
        let l = lucene_of(r"a\s+b\Sc");
        assert!(!l.chars().any(char::is_control), "{l:?}");
        assert!(l.contains(r"\s+") && l.contains(r"\S"), "{l}");
        assert_eq!(
            lucene_lower_pairs("[Aa]b[Cc]\\[Dd]"),
            "ab[Cc]\\[Dd]".replace("[Cc]", "c")
        );
    }

    #[test]
    fn counted_unions_split_into_branches() {
        let b = counted_branches(
            &engine_source(r"\bAKIA[A-Z0-9]{16}\b|glpat-\w{20,}|x", ""),
            8,
        );
        assert_eq!(b.map(|v| v.len()), Some(3));
        assert_eq!(counted_branches(&engine_source("ab|c{3}", ""), 8), None);
        assert_eq!(counted_branches(&engine_source("x{16}", ""), 8), None);
    }

    #[test]
    fn search_flavors() {
        let t = |p: &str, f: &str, fl| translate(&engine_source(p, f), fl).unwrap();
        assert_eq!(
            t(r"ignore\s+previous", "i", Flavor::Re2),
            r"(?i:ignore)[\t\n\r ]+(?i:previous)"
        );
        // The default case contract: ASCII letters fold; `loose` writes them with `(?i)`.
        let ascii = |p: &str, fl| {
            translate_hir_loose(&parse(&engine_source_ascii(p, "i")).unwrap(), fl, true).unwrap()
        };
        assert_eq!(
            ascii(r"ignore\s+prior", Flavor::Re2),
            r"(?i)ignore[\t\n\r ]+prior"
        );
        assert_eq!(ascii("risk", Flavor::Pcre), "(?i)risk");
        assert_eq!(ascii("é", Flavor::Re2), "é");
        let exact = translate(&engine_source_ascii("risk", "i"), Flavor::Re2).unwrap();
        assert_eq!(exact, "(?i:ri)[Ss][Kk]");
        assert_eq!(t(r"a.b", "", Flavor::Re2), r"a[^\n]b");
        assert_eq!(t(r"a.b", "s", Flavor::Re2), r"a(?s:.)b");
        assert_eq!(t(r"^x$", "", Flavor::Re2), r"^x$");
        assert_eq!(t(r"^x$", "", Flavor::Pcre), r"\Ax\z");
        assert_eq!(t(r"^x$", "m", Flavor::Pcre), r"(?:\A|(?<=\n))x(?=\n|\z)");
        assert_eq!(t(r"a\$", "", Flavor::Pcre), r"a\x{24}");
        assert_eq!(t(r"(ab|c)+?d{2,3}", "", Flavor::Re2), r"(?:ab|c)+d{2,3}");
        assert_eq!(t(r"k", "i", Flavor::Re2), r"(?i:k)");
        assert_eq!(t(r"Ab1", "", Flavor::Re2), r"Ab1");
        assert_eq!(t(r"a\.b/c", "", Flavor::Re2), r"a\.b\/c");
        assert!(translate(&engine_source("a{1001}", ""), Flavor::Re2).is_err());
        assert_eq!(t(r"(a+)+", "", Flavor::Pcre), r"a+");
        // Kusto: the ASCII word boundary as the class it requires, at the edges.
        assert_eq!(
            t(r"\bfoo\b", "", Flavor::Rust),
            r"(?:^|[^0-9A-Z_a-z])foo(?:[^0-9A-Z_a-z]|$)"
        );
        assert_eq!(t(r"a\b b", "", Flavor::Rust), "a b");
        assert!(translate(&engine_source(r"(a\b)+", ""), Flavor::Rust).is_err());
    }

    #[test]
    fn lucene_whole_match() {
        assert_eq!(lucene_of("abc"), ".*abc.*");
        assert_eq!(lucene_of("^abc"), "abc.*");
        assert_eq!(lucene_of("abc$"), ".*abc");
        assert_eq!(lucene_of("^a|b$"), "(a.*|.*b)");
        assert_eq!(
            lucene_of(r"\bfoo\b"),
            r"(.*[^0-9A-Z_a-z])?foo([^0-9A-Z_a-z].*)?"
        );
        assert_eq!(lucene_of(r"\b-x"), r".*[0-9A-Z_a-z]\-x.*");
        // An empty alternative is written `()`: Lucene rejects `(a|)`.
        assert_eq!(lucene_of(r"x(/|$)"), r".*x(\/.*|())");
        assert_eq!(lucene_of(r"^$"), "()");
        // A literal backslash never stands right before the `/` that closes a query regex.
        assert_eq!(lucene_of(r"a\\$"), r".*a[\\]");
        assert_eq!(lucene_of(r"[\\/]"), r".*[\/\\].*");
        assert!(translate(&engine_source(r"a\bb", ""), Flavor::Lucene).is_err());
        assert!(translate(&engine_source(r"a^b", ""), Flavor::Lucene).is_err());
        // Nested repetitions that mean one are written as one.
        assert_eq!(lucene_of(r"(a+)+"), ".*a+.*");
        let deep = format!("i{}", "+".repeat(126));
        assert_eq!(
            translate(&engine_source(&deep, ""), Flavor::Re2).unwrap(),
            "i+"
        );
        assert_eq!(lucene_of("(x*)?y"), ".*x*y.*");
        let nested = format!("{}a{}", "(".repeat(80), ")".repeat(80));
        assert!(translate(&engine_source(&nested, ""), Flavor::Re2).is_err());
        // A boundary before a group or a class with word and non-word characters is pushed
        // into it.
        assert_eq!(
            lucene_of(r"\b(a|-)"),
            r"((.*[^0-9A-Z_a-z])?a.*|.*[0-9A-Z_a-z]\-.*)"
        );
        assert!(translate(&engine_source(r"\bskip", "i"), Flavor::Lucene).is_ok());
        assert!(translate(&engine_source(r"\b(ba|z)?sh\b", "i"), Flavor::Lucene).is_ok());
        assert_eq!(
            translate("(?is)^a.*b$", Flavor::Lucene).unwrap(),
            "[Aa].*[Bb]"
        );
    }
}
