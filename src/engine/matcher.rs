//! The reference evaluator: does one JSON event match a rule's detection?
//!
//! Its semantics are the contract every backend must reproduce; `docs/semantics.md` states
//! them. Regexes are compiled once per rule; field paths are resolved against both flat
//! dotted keys and nested objects.

use crate::regex::casefold::{self, CaseMode};
use crate::regex::pcre::pcre_only_constructs;
use crate::semantics::ir::{CmpOp, Expr, Position, Pred, Test, TimePart};
use crate::semantics::ir::{regex_source, regex_source_ascii};
use crate::syntax::sigma_string::Part;
use crate::syntax::sigma_string::SigmaString;
use crate::syntax::span::Span;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("placeholder `%{name}%` has no value, so the rule cannot be evaluated")]
    Placeholder { name: String, span: Span },
    #[error("regex `{pattern}` uses {construct}, which the engine cannot evaluate")]
    UnsupportedRegex {
        pattern: String,
        construct: String,
        span: Span,
    },
    #[error("the value is too complex to evaluate: {message}")]
    TooComplex { message: String, span: Span },
    #[error("regex `{pattern}` does not compile: {message}")]
    BadRegex {
        pattern: String,
        message: String,
        span: Span,
    },
}

impl EngineError {
    pub fn span(&self) -> Span {
        match self {
            EngineError::Placeholder { span, .. }
            | EngineError::UnsupportedRegex { span, .. }
            | EngineError::BadRegex { span, .. }
            | EngineError::TooComplex { span, .. } => *span,
        }
    }
}

/// A field path. Segments `i..=j` joined by dots are the slice
/// `name[starts[i]..ends[j]]`, so every split into object keys is available without
/// allocating (memory stays linear in the name's length).
#[derive(Debug)]
struct FieldPath {
    name: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// The field's other names ([`super::aliases`]), read where this one finds nothing.
    alts: Vec<FieldPath>,
}

impl FieldPath {
    fn new(name: &str) -> FieldPath {
        let mut p = FieldPath::plain(name);
        p.alts = super::aliases::alternates(name)
            .iter()
            .map(|a| FieldPath::plain(a))
            .collect();
        p
    }

    fn plain(name: &str) -> FieldPath {
        let mut starts = vec![0];
        let mut ends = Vec::new();
        for (i, b) in name.bytes().enumerate() {
            if b == b'.' {
                ends.push(i);
                starts.push(i + 1);
            }
        }
        ends.push(name.len());
        FieldPath {
            name: name.to_string(),
            starts,
            ends,
            alts: Vec::new(),
        }
    }

    /// Every value the path reaches (flat dotted keys, nested objects, or a mix); where it
    /// reaches none, the values of the first other name that reaches some.
    fn lookup<'a>(&self, event: &'a Value, out: &mut Vec<&'a Value>) {
        self.lookup_with(event, KeyLengths::ALL, out);
    }

    /// [`FieldPath::lookup`], skipping the top-level keys whose length `top` rules out.
    fn lookup_with<'a>(&self, event: &'a Value, top: KeyLengths, out: &mut Vec<&'a Value>) {
        let before = out.len();
        self.walk(event, 0, top, out);
        for alt in &self.alts {
            if out.len() > before {
                break;
            }
            alt.walk(event, 0, top, out);
        }
    }

    fn walk<'a>(&self, v: &'a Value, i: usize, top: KeyLengths, out: &mut Vec<&'a Value>) {
        if i == self.starts.len() {
            out.push(v);
            return;
        }
        match v {
            Value::Object(m) => {
                for j in i..self.ends.len() {
                    let key = &self.name[self.starts[i]..self.ends[j]];
                    if i == 0 && !top.may_hold(key.len()) {
                        continue;
                    }
                    if let Some(child) = m.get(key) {
                        self.walk(child, j + 1, KeyLengths::ALL, out);
                    }
                }
            }
            Value::Array(items) if i > 0 => items
                .iter()
                .for_each(|it| self.walk(it, i, KeyLengths::ALL, out)),
            _ => {}
        }
    }
}

/// The lengths of an object's keys, as a bit set (lengths of 63 bytes and more share the last
/// bit): a key of another length is not looked up, which saves hashing it.
#[derive(Clone, Copy, Debug)]
struct KeyLengths(u64);

impl KeyLengths {
    const ALL: KeyLengths = KeyLengths(u64::MAX);

    fn of(v: &Value) -> KeyLengths {
        match v {
            Value::Object(m) => KeyLengths(m.keys().fold(0, |acc, k| acc | bit(k.len()))),
            _ => KeyLengths::ALL,
        }
    }

    fn may_hold(self, len: usize) -> bool {
        self.0 & bit(len) != 0
    }
}

fn bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// Every field path a set of matchers reads, numbered, so that an event resolves each one at
/// most once however many rules read it ([`EventView`]).
#[derive(Debug, Default)]
pub struct FieldTable {
    paths: Vec<FieldPath>,
    index: FxHashMap<String, u32>,
    /// For each top-level key that can lead to a field (a field's name, or one of its other
    /// names, up to any dot), the fields it leads to.
    under: FxHashMap<Box<str>, Vec<u32>>,
}

impl FieldTable {
    pub fn new() -> FieldTable {
        FieldTable::default()
    }

    /// The number of field `name`, added if new.
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.paths.len() as u32;
        let path = FieldPath::new(name);
        for p in std::iter::once(&path).chain(&path.alts) {
            for &end in &p.ends {
                let ids = self.under.entry(p.name[..end].into()).or_default();
                if ids.last() != Some(&i) {
                    ids.push(i);
                }
            }
        }
        self.paths.push(path);
        self.index.insert(name.to_string(), i);
        i
    }

    /// Put in `out` (ascending, without repeats) the fields whose values `event` may hold:
    /// those its top-level keys lead to. A field not listed reaches no value in `event`.
    pub fn fields_in(&self, event: &Value, out: &mut Vec<u32>) {
        out.clear();
        if let Value::Object(m) = event {
            for k in m.keys() {
                if let Some(ids) = self.under.get(k.as_str()) {
                    out.extend_from_slice(ids);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Reusable buffers of [`EventView`] (one per thread): which fields the current event has
/// resolved, stamped so that a new event needs no clearing.
#[derive(Debug, Default)]
pub struct Slots {
    stamp: u32,
    seen: Vec<u32>,
    at: Vec<u32>,
    /// The last view's buffers, emptied, for the next one to fill without allocating.
    resolved: Vec<Resolved>,
    vals: Vec<&'static Value>,
    elems: Vec<Elem<'static>>,
}

/// An emptied vector's allocation, for elements of another lifetime (`Vec`'s collect
/// reuses the allocation of an iterator over a vector of the same element layout).
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().map(|_| unreachable!("emptied")).collect()
}

/// One scalar a field reaches (an array's elements one by one), with its text and, computed
/// on first use, its text with ASCII letters lowered.
#[derive(Debug)]
struct Elem<'a> {
    value: &'a Value,
    text: Option<Cow<'a, str>>,
    lower: Option<Cow<'a, str>>,
}

impl<'a> Elem<'a> {
    fn new(value: &'a Value) -> Elem<'a> {
        Elem {
            value,
            text: text_of(value),
            lower: None,
        }
    }

    fn lower(&mut self) -> Option<&str> {
        if self.lower.is_none() {
            let text = self.text.as_ref()?;
            self.lower = Some(if text.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(text.to_ascii_lowercase())
            } else {
                text.clone()
            });
        }
        self.lower.as_deref()
    }
}

/// The ranges of one resolved field: its values (for `null` and `exists`) and their scalars.
#[derive(Clone, Copy, Debug)]
struct Resolved {
    vals: (u32, u32),
    elems: (u32, u32),
}

/// One event as the matchers of a [`FieldTable`] read it: each field is looked up once, on
/// first use, and each scalar is lowered once, on first use by a case-insensitive test.
pub struct EventView<'a, 's> {
    event: &'a Value,
    table: &'a FieldTable,
    slots: &'s mut Slots,
    resolved: Vec<Resolved>,
    vals: Vec<&'a Value>,
    elems: Vec<Elem<'a>>,
    /// Every scalar of the event (for keywords), once asked for.
    keywords: Option<(u32, u32)>,
    /// The lengths of the event's keys.
    top: KeyLengths,
}

impl<'a, 's> EventView<'a, 's> {
    pub fn new(event: &'a Value, table: &'a FieldTable, slots: &'s mut Slots) -> Self {
        slots.stamp = slots.stamp.wrapping_add(1);
        if slots.stamp == 0 {
            slots.seen.iter_mut().for_each(|s| *s = 0);
            slots.stamp = 1;
        }
        if slots.seen.len() < table.len() {
            slots.seen.resize(table.len(), 0);
            slots.at.resize(table.len(), 0);
        }
        let resolved = std::mem::take(&mut slots.resolved);
        let vals = std::mem::take(&mut slots.vals);
        let elems = std::mem::take(&mut slots.elems);
        EventView {
            event,
            table,
            slots,
            resolved,
            vals,
            elems,
            keywords: None,
            top: KeyLengths::of(event),
        }
    }

    /// The text of the first scalar value `field` reaches, as [`text_at`] finds it.
    pub fn text_at(&mut self, field: u32) -> Option<String> {
        let r = self.resolve(field);
        self.vals[r.vals.0 as usize..r.vals.1 as usize]
            .iter()
            .find_map(|v| text_of(v).map(Cow::into_owned))
    }

    /// The first number `field` reaches, as [`number_at`] finds it.
    pub fn number_at(&mut self, field: u32) -> Option<f64> {
        let r = self.resolve(field);
        let mut found = None;
        for v in &self.vals[r.vals.0 as usize..r.vals.1 as usize] {
            each_scalar(v, &mut |s| {
                if found.is_none() {
                    found = number_of(s);
                }
            });
        }
        found
    }

    /// The fields whose values the event may hold ([`FieldTable::fields_in`]).
    pub fn fields_in(&self, out: &mut Vec<u32>) {
        self.table.fields_in(self.event, out);
    }

    /// The scalars of every value of the event (keyword searches read them all).
    fn keywords(&mut self) -> (u32, u32) {
        if let Some(r) = self.keywords {
            return r;
        }
        let e0 = self.elems.len() as u32;
        let elems = &mut self.elems;
        each_scalar(self.event, &mut |x| elems.push(Elem::new(x)));
        let r = (e0, self.elems.len() as u32);
        self.keywords = Some(r);
        r
    }

    /// Call `f` with the text of each scalar `field` reaches (every scalar of the event for
    /// `None`), folded for literal search: ASCII letters lowered, and `ſ` (U+017F) and `K`
    /// (U+212A), whose simple case folding is an ASCII letter, written as `s` and `k`.
    pub fn each_folded(&mut self, field: Option<u32>, f: &mut impl FnMut(&[u8])) {
        let (a, b) = match field {
            Some(field) => self.resolve(field).elems,
            None => self.keywords(),
        };
        for i in a..b {
            let Some(lower) = self.elems[i as usize].lower() else {
                continue;
            };
            if memchr::memchr2(0xC5, 0xE2, lower.as_bytes()).is_some() {
                f(lower
                    .replace('\u{17F}', "s")
                    .replace('\u{212A}', "k")
                    .as_bytes());
            } else {
                f(lower.as_bytes());
            }
        }
    }

    /// Call `f` with each scalar `field` reaches: its text with ASCII letters lowered, and its
    /// number, as the tests read them.
    pub fn each_key(&mut self, field: u32, f: &mut impl FnMut(Option<&str>, Option<f64>)) {
        let r = self.resolve(field);
        for i in r.elems.0..r.elems.1 {
            let e = &mut self.elems[i as usize];
            let n = number_of(e.value);
            f(e.lower(), n);
        }
    }

    fn resolve(&mut self, field: u32) -> Resolved {
        let f = field as usize;
        if self.slots.seen[f] == self.slots.stamp {
            return self.resolved[self.slots.at[f] as usize];
        }
        let v0 = self.vals.len();
        self.table.paths[f].lookup_with(self.event, self.top, &mut self.vals);
        let e0 = self.elems.len();
        let elems = &mut self.elems;
        for &v in &self.vals[v0..] {
            each_element(v, &mut |x| elems.push(Elem::new(x)));
        }
        let r = Resolved {
            vals: (v0 as u32, self.vals.len() as u32),
            elems: (e0 as u32, self.elems.len() as u32),
        };
        self.slots.seen[f] = self.slots.stamp;
        self.slots.at[f] = self.resolved.len() as u32;
        self.resolved.push(r);
        r
    }
}

/// Buffers that grew past this many elements (an event with a huge array, every scalar of a
/// large event for a keyword search) are freed rather than kept for the next event.
const KEEP_BUFFER: usize = 4096;

impl Drop for EventView<'_, '_> {
    fn drop(&mut self) {
        if self.resolved.capacity() <= KEEP_BUFFER {
            self.resolved.clear();
            self.slots.resolved = std::mem::take(&mut self.resolved);
        }
        if self.vals.capacity() <= KEEP_BUFFER {
            self.slots.vals = recycle(std::mem::take(&mut self.vals));
        }
        if self.elems.capacity() <= KEEP_BUFFER {
            self.slots.elems = recycle(std::mem::take(&mut self.elems));
        }
    }
}

/// A wildcard pattern made of literals and `*` only, matched without a regex: an anchored
/// head, an anchored tail, and the middle literals found left to right (leftmost is enough
/// when every gap is `*`).
#[derive(Debug)]
struct Glob {
    /// No `*` at all: the text equals `head`.
    exact: bool,
    head: Option<Box<[u8]>>,
    tail: Option<Box<[u8]>>,
    mids: Vec<memmem::Finder<'static>>,
}

impl Glob {
    /// The glob of `pattern`, with literals lowered when `fold`; `None` when it holds `?` or
    /// a placeholder.
    fn new(pattern: &SigmaString, fold: bool) -> Option<Glob> {
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut stars = Vec::new();
        for (i, p) in pattern.parts.iter().enumerate() {
            match p {
                Part::Lit(l) => {
                    let l = if fold {
                        l.to_ascii_lowercase()
                    } else {
                        l.clone()
                    };
                    lits.push(l.into_bytes());
                }
                Part::AnyRun => stars.push(i),
                Part::AnyOne | Part::Placeholder(_) => return None,
            }
        }
        let n = pattern.parts.len();
        if stars.is_empty() {
            return Some(Glob {
                exact: true,
                head: Some(lits.concat().into()),
                tail: None,
                mids: Vec::new(),
            });
        }
        let mut lits = lits.into_iter();
        let head = (stars[0] != 0).then(|| lits.next().unwrap_or_default().into());
        let tail_anchored = stars.last() != Some(&(n - 1));
        let mut rest: Vec<Vec<u8>> = lits.collect();
        let tail = if tail_anchored {
            rest.pop().map(Into::into)
        } else {
            None
        };
        Some(Glob {
            exact: false,
            head,
            tail,
            mids: rest
                .into_iter()
                .filter(|m| !m.is_empty())
                .map(|m| memmem::Finder::new(&m).into_owned())
                .collect(),
        })
    }

    /// A pattern `*x*` with a non-empty `x`: its `x`.
    fn contains_only(&self) -> Option<&[u8]> {
        match (&self.head, &self.tail, self.mids.as_slice(), self.exact) {
            (None, None, [m], false) => Some(m.needle()),
            _ => None,
        }
    }

    fn is_match(&self, s: &str) -> bool {
        let s = s.as_bytes();
        if self.exact {
            return self.head.as_deref() == Some(s);
        }
        let (mut lo, mut hi) = (0, s.len());
        if let Some(h) = &self.head {
            if !s.starts_with(h) {
                return false;
            }
            lo = h.len();
        }
        if let Some(t) = &self.tail {
            if hi - lo < t.len() || !s.ends_with(t) {
                return false;
            }
            hi -= t.len();
        }
        for f in &self.mids {
            match f.find(&s[lo..hi]) {
                Some(p) => lo += p + f.needle().len(),
                None => return false,
            }
        }
        true
    }
}

#[derive(Debug)]
enum StrMatch {
    /// Case-sensitive (`cased`): compared byte for byte.
    Cased(Glob),
    /// ASCII case-insensitive: the glob's literals are lowered and compared with the lowered
    /// text.
    Folded(Glob),
    /// Patterns with `?`, and case-insensitive patterns under Unicode folding.
    Pattern(Regex),
}

/// Value lists with fewer `contains` values than this test them one by one.
const MIN_AUTOMATON: usize = 8;

/// Value lists up to this many bytes of `contains` values get a DFA; longer ones a contiguous
/// NFA, whose memory and build time stay proportional to the values.
const DFA_LIMIT: usize = 2 * 1024;

/// The string tests of a value list on one field, any of which may hold: exact values in a
/// hash set, `contains` values in one automaton, the other patterns one by one.
#[derive(Debug)]
struct StrSet {
    /// Compared with the lowered text (ASCII case-insensitive), else byte for byte.
    folded: bool,
    exact: FxHashSet<Box<[u8]>>,
    contains: Option<AhoCorasick>,
    globs: Vec<Glob>,
}

impl StrSet {
    fn new(globs: Vec<Glob>, folded: bool) -> StrSet {
        let mut exact = FxHashSet::default();
        let mut contains: Vec<Glob> = Vec::new();
        let mut rest = Vec::new();
        for g in globs {
            if g.exact {
                exact.insert(g.head.unwrap_or_default());
            } else if g.contains_only().is_some() {
                contains.push(g);
            } else {
                rest.push(g);
            }
        }
        // A few values are searched one by one (building an automaton costs more).
        if contains.len() < MIN_AUTOMATON {
            rest.append(&mut contains);
        }
        let needles: Vec<&[u8]> = contains.iter().filter_map(Glob::contains_only).collect();
        let bytes: usize = needles.iter().map(|n| n.len()).sum();
        let contains = (!needles.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(if bytes <= DFA_LIMIT {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                }))
                .build(&needles)
                .expect("literal patterns build")
        });
        StrSet {
            folded,
            exact,
            contains,
            globs: rest,
        }
    }

    fn is_match(&self, s: &str) -> bool {
        self.exact.contains(s.as_bytes())
            || self.contains.as_ref().is_some_and(|ac| ac.is_match(s))
            || self.globs.iter().any(|g| g.is_match(s))
    }
}

#[derive(Debug)]
enum CTest {
    Str(StrMatch),
    Regex(Regex),
    Num(CmpOp, f64),
    Bool(bool),
    Null,
    Exists(bool),
    Cidr(ipnet::IpNet),
    FieldRef {
        other: u32,
        position: Position,
        /// `None`: case-sensitive.
        case: Option<CaseMode>,
    },
    TimePart(TimePart, i64),
}

#[derive(Debug)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    AtLeast(usize, Vec<Node>),
    /// A test of one field, or of every value of the event (keywords) without a field.
    Pred {
        field: Option<u32>,
        test: CTest,
    },
    /// Several string tests of one field, one of which must hold (a value list).
    /// A keyword list without a field.
    AnyStr {
        field: Option<u32>,
        set: StrSet,
    },
}

/// A rule detection compiled for evaluation.
#[derive(Debug)]
pub struct Matcher {
    root: Node,
    /// The fields of a matcher compiled on its own ([`Matcher::with_mode`]); `None` when they
    /// are in a table shared with other matchers ([`Matcher::in_table`]).
    table: Option<FieldTable>,
}

fn compile_str(
    pattern: &SigmaString,
    case: Option<CaseMode>,
    span: Span,
) -> Result<StrMatch, EngineError> {
    match case {
        None => {
            if let Some(g) = Glob::new(pattern, false) {
                return Ok(StrMatch::Cased(g));
            }
        }
        Some(CaseMode::Ascii) => {
            if let Some(g) = Glob::new(pattern, true) {
                return Ok(StrMatch::Folded(g));
            }
        }
        Some(CaseMode::Unicode) => {}
    }
    crate::regex::compiled::regex(&pattern.to_regex(case))
        .map(StrMatch::Pattern)
        .map_err(|e| EngineError::TooComplex {
            message: e.to_string(),
            span,
        })
}

fn compile_pred(p: &Pred, mode: CaseMode, table: &mut dyn Ids) -> Result<Node, EngineError> {
    let case = |cased: bool| (!cased).then_some(mode);
    let test = match &p.test {
        Test::Str { pattern, cased } => CTest::Str(compile_str(pattern, case(*cased), p.span)?),
        Test::Regex { pattern, flags } => {
            if let Some(c) = pcre_only_constructs(pattern).first() {
                return Err(EngineError::UnsupportedRegex {
                    pattern: pattern.clone(),
                    construct: c.to_string(),
                    span: p.span,
                });
            }
            let source = match mode {
                CaseMode::Ascii => regex_source_ascii(pattern, *flags),
                CaseMode::Unicode => regex_source(pattern, *flags),
            };
            let re = crate::regex::compiled::regex(&source).map_err(|e| EngineError::BadRegex {
                pattern: pattern.clone(),
                message: e.to_string(),
                span: p.span,
            })?;
            CTest::Regex(re)
        }
        Test::Num { op, value, .. } => CTest::Num(*op, *value),
        Test::Bool(b) => CTest::Bool(*b),
        Test::Null => CTest::Null,
        Test::Exists(b) => CTest::Exists(*b),
        Test::Cidr(n) => CTest::Cidr(*n),
        Test::FieldRef {
            other,
            position,
            cased,
        } => CTest::FieldRef {
            other: table.id(other),
            position: *position,
            case: case(*cased),
        },
        Test::TimePart { part, value } => CTest::TimePart(*part, *value),
        Test::Placeholder { name } => {
            return Err(EngineError::Placeholder {
                name: name.clone(),
                span: p.span,
            });
        }
    };
    Ok(Node::Pred {
        field: p.field.as_deref().map(|f| table.id(f)),
        test,
    })
}

/// The items of an `or` as nodes, with the string tests of one field and case-sensitivity
/// that need no regex gathered into one [`Node::AnyStr`] (a value list).
fn compile_or(items: &[Expr], mode: CaseMode, table: &mut dyn Ids) -> Result<Node, EngineError> {
    let mut nodes = Vec::new();
    // (field, cased) and the globs of that field.
    type Group<'e> = ((Option<&'e str>, bool), Vec<Glob>);
    let mut groups: Vec<Group> = Vec::new();
    for item in items {
        if let Expr::Pred(Pred {
            field,
            test: Test::Str { pattern, cased },
            ..
        }) = item
        {
            let fold = !*cased;
            if !(fold && mode == CaseMode::Unicode)
                && let Some(g) = Glob::new(pattern, fold)
            {
                let key = (field.as_deref(), *cased);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.push(g),
                    None => groups.push((key, vec![g])),
                }
                continue;
            }
        }
        nodes.push(compile_expr(item, mode, table)?);
    }
    for ((field, cased), mut globs) in groups {
        let field = field.map(|f| table.id(f));
        nodes.push(if globs.len() == 1 {
            let g = globs.pop().expect("one");
            Node::Pred {
                field,
                test: CTest::Str(if cased {
                    StrMatch::Cased(g)
                } else {
                    StrMatch::Folded(g)
                }),
            }
        } else {
            Node::AnyStr {
                field,
                set: StrSet::new(globs, !cased),
            }
        });
    }
    Ok(if nodes.len() == 1 {
        nodes.pop().expect("one")
    } else {
        Node::Or(nodes)
    })
}

fn compile_expr(e: &Expr, mode: CaseMode, table: &mut dyn Ids) -> Result<Node, EngineError> {
    let mut all = |v: &[Expr]| {
        v.iter()
            .map(|x| compile_expr(x, mode, table))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match e {
        Expr::And(v) => Node::And(all(v)?),
        Expr::Or(v) => compile_or(v, mode, table)?,
        Expr::AtLeast(n, v) => Node::AtLeast(*n, all(v)?),
        Expr::Not(inner) => Node::Not(Box::new(compile_expr(inner, mode, table)?)),
        Expr::Pred(p) => compile_pred(p, mode, table)?,
    })
}

/// Field numbers as the compiler asks for them.
trait Ids {
    fn id(&mut self, name: &str) -> u32;
}

impl Ids for FieldTable {
    fn id(&mut self, name: &str) -> u32 {
        FieldTable::id(self, name)
    }
}

/// The numbers of a complete table: every field of the expression was numbered when it was
/// loaded ([`ScanMatcher::load`]).
struct Numbered<'t>(&'t FieldTable);

impl Ids for Numbered<'_> {
    fn id(&mut self, name: &str) -> u32 {
        *self
            .0
            .index
            .get(name)
            .expect("every field of a deferred matcher is numbered when it is loaded")
    }
}

/// A rule's matcher for `scan`, over a table shared with the other rules. A detection whose
/// compilation cannot fail (no regex, no `?` wildcard, no placeholder, no Unicode case
/// folding: globs, value sets, numbers, networks, field references) is compiled when an
/// event first makes it a candidate: of a large rule set, most rules are never candidates
/// of a given stream, and compiling them all is most of loading. The others are compiled
/// when loaded, so that their errors are reported before the first event.
#[derive(Debug)]
pub struct ScanMatcher {
    expr: Expr,
    mode: CaseMode,
    ready: OnceLock<Matcher>,
}

impl ScanMatcher {
    /// Load `expr`: its fields are numbered in `table`, and it is compiled now if that can
    /// fail.
    pub fn load(
        expr: &Expr,
        mode: CaseMode,
        table: &mut FieldTable,
    ) -> Result<ScanMatcher, EngineError> {
        let ready = OnceLock::new();
        if may_fail(expr, mode) {
            let _ = ready.set(Matcher::in_table(expr, mode, table)?);
        } else {
            let mut fields = Vec::new();
            expr.fields_read(&mut fields);
            for f in &fields {
                table.id(f);
            }
        }
        Ok(ScanMatcher {
            expr: expr.clone(),
            mode,
            ready,
        })
    }

    /// Does the event of `view` match? `view` must be of the table the matcher was loaded
    /// in.
    pub fn matches_view(&self, view: &mut EventView) -> bool {
        self.ready
            .get_or_init(|| Matcher {
                root: compile_expr(&self.expr, self.mode, &mut Numbered(view.table))
                    .expect("a detection without a fallible test compiles"),
                table: None,
            })
            .matches_view(view)
    }

    /// Compiled already (for tests).
    pub fn is_compiled(&self) -> bool {
        self.ready.get().is_some()
    }
}

/// Can compiling `expr` fail? Only regexes (their size), `?` wildcards and Unicode case
/// folding (compiled to regexes), and placeholders without a value can.
fn may_fail(expr: &Expr, mode: CaseMode) -> bool {
    let mut fails = false;
    expr.preds(&mut |p| {
        fails |= match &p.test {
            Test::Regex { .. } | Test::Placeholder { .. } => true,
            Test::Str { pattern, cased } => {
                (!cased && mode == CaseMode::Unicode)
                    || pattern
                        .parts
                        .iter()
                        .any(|part| matches!(part, Part::AnyOne | Part::Placeholder(_)))
            }
            _ => false,
        }
    });
    fails
}

impl Matcher {
    /// The matcher of `expr` under the default case contract ([`CaseMode::Ascii`]).
    pub fn new(expr: &Expr) -> Result<Matcher, EngineError> {
        Matcher::with_mode(expr, CaseMode::default())
    }

    /// The matcher of `expr` with case-insensitive tests compared by `mode`.
    pub fn with_mode(expr: &Expr, mode: CaseMode) -> Result<Matcher, EngineError> {
        let mut table = FieldTable::new();
        let root = compile_expr(expr, mode, &mut table)?;
        Ok(Matcher {
            root,
            table: Some(table),
        })
    }

    /// The matcher of `expr`, its fields numbered in `table`, shared with other matchers;
    /// evaluate it with [`Matcher::matches_view`] on a view of that table.
    pub fn in_table(
        expr: &Expr,
        mode: CaseMode,
        table: &mut FieldTable,
    ) -> Result<Matcher, EngineError> {
        Ok(Matcher {
            root: compile_expr(expr, mode, table)?,
            table: None,
        })
    }

    /// Does `event` match? For a matcher compiled on its own ([`Matcher::with_mode`]); a
    /// matcher of a shared table is evaluated with [`Matcher::matches_view`].
    pub fn matches(&self, event: &Value) -> bool {
        let table = self
            .table
            .as_ref()
            .expect("a matcher of a shared table is evaluated with `matches_view`");
        let mut slots = Slots::default();
        eval(&self.root, &mut EventView::new(event, table, &mut slots))
    }

    /// Does the event of `view` match? `view` must be of this matcher's table.
    pub fn matches_view(&self, view: &mut EventView) -> bool {
        eval(&self.root, view)
    }
}

fn eval(n: &Node, view: &mut EventView) -> bool {
    match n {
        Node::And(v) => v.iter().all(|x| eval(x, view)),
        Node::Or(v) => v.iter().any(|x| eval(x, view)),
        Node::Not(x) => !eval(x, view),
        Node::AtLeast(k, v) => v.iter().filter(|x| eval(x, view)).take(*k).count() >= *k,
        Node::Pred { field: None, test } => {
            let (a, b) = view.keywords();
            (a..b).any(|i| test_elem(test, &mut view.elems[i as usize]))
        }
        Node::Pred {
            field: Some(f),
            test,
        } => {
            let r = view.resolve(*f);
            let vals = &view.vals[r.vals.0 as usize..r.vals.1 as usize];
            match test {
                CTest::Null => !vals.iter().any(|v| present(v)),
                CTest::Exists(want) => vals.iter().any(|v| present(v)) == *want,
                CTest::FieldRef {
                    other,
                    position,
                    case,
                } => {
                    let o = view.resolve(*other);
                    let (a, b) = (&view.elems, r.elems);
                    (b.0..b.1).any(|i| {
                        let Some(x) = a[i as usize].text.as_deref() else {
                            return false;
                        };
                        (o.elems.0..o.elems.1).any(|j| {
                            a[j as usize]
                                .text
                                .as_deref()
                                .is_some_and(|y| compare_text(x, y, *position, *case))
                        })
                    })
                }
                _ => (r.elems.0..r.elems.1).any(|i| test_elem(test, &mut view.elems[i as usize])),
            }
        }
        Node::AnyStr { field, set } => {
            let (a, b) = match field {
                Some(f) => view.resolve(*f).elems,
                None => view.keywords(),
            };
            (a..b).any(|i| {
                let e = &mut view.elems[i as usize];
                let s = if set.folded {
                    e.lower()
                } else {
                    e.text.as_deref()
                };
                s.is_some_and(|s| set.is_match(s))
            })
        }
    }
}

/// Is a value there, as Elasticsearch's `exists` sees it: not null, not an empty array, not an
/// array of nulls, not an empty object.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => items.iter().any(present),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// Apply `f` to a value, or to each element of an array (recursively).
fn each_element<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| each_element(i, f)),
        other => f(other),
    }
}

/// Every scalar in the event, for keyword searches.
/// The text of the first scalar value `path` reaches in the event (flat dotted keys or
/// nested objects, as rules resolve fields), if any.
pub fn text_at(event: &Value, path: &str) -> Option<String> {
    let mut found = Vec::new();
    FieldPath::new(path).lookup(event, &mut found);
    found
        .into_iter()
        .find_map(|v| text_of(v).map(|t| t.into_owned()))
}

/// The first number `path` reaches in the event: a JSON number, or a string that parses as
/// a finite number.
pub fn number_at(event: &Value, path: &str) -> Option<f64> {
    let mut found = Vec::new();
    FieldPath::new(path).lookup(event, &mut found);
    let mut scalars = Vec::new();
    for v in found {
        each_scalar(v, &mut |s| scalars.push(s));
    }
    scalars.into_iter().find_map(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

fn each_scalar<'a>(v: &'a Value, f: &mut impl FnMut(&'a Value)) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| each_scalar(i, f)),
        Value::Object(m) => m.values().for_each(|i| each_scalar(i, f)),
        Value::Null => {}
        other => f(other),
    }
}

/// The textual form of a scalar for string matching (`None` for null, objects, arrays).
fn text_of(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn test_elem(t: &CTest, e: &mut Elem) -> bool {
    let v = e.value;
    match t {
        CTest::Str(StrMatch::Cased(g)) => e.text.as_deref().is_some_and(|s| g.is_match(s)),
        CTest::Str(StrMatch::Folded(g)) => e.lower().is_some_and(|s| g.is_match(s)),
        CTest::Str(StrMatch::Pattern(re)) | CTest::Regex(re) => {
            e.text.as_deref().is_some_and(|s| re.is_match(s))
        }
        CTest::Num(op, n) => number_of(v).is_some_and(|x| op.apply(x, *n)),
        CTest::Bool(b) => match v {
            Value::Bool(x) => x == b,
            Value::String(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        CTest::Cidr(net) => v
            .as_str()
            .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| crate::semantics::ir::cidr_holds(net, ip)),
        CTest::TimePart(part, want) => {
            let Some(epoch) = e
                .text
                .as_deref()
                .and_then(crate::syntax::time::parse_timestamp)
            else {
                return false;
            };
            let (y, mo, d, h, mi, w) = crate::syntax::time::parts(epoch);
            *want
                == match part {
                    TimePart::Year => y,
                    TimePart::Month => mo,
                    TimePart::Day => d,
                    TimePart::Hour => h,
                    TimePart::Minute => mi,
                    TimePart::Week => w,
                }
        }
        // A keyword has no field to compare with; a field's reference is evaluated per field.
        CTest::FieldRef { .. } => false,
        CTest::Null | CTest::Exists(_) => unreachable!("handled per field"),
    }
}

fn compare_text(a: &str, b: &str, pos: Position, case: Option<CaseMode>) -> bool {
    let (a, b) = match case {
        None => (a.to_string(), b.to_string()),
        Some(mode) => (casefold::lower(a, mode), casefold::lower(b, mode)),
    };
    match pos {
        Position::Exact => a == b,
        Position::Contains => a.contains(&b),
        Position::StartsWith => a.starts_with(&b),
        Position::EndsWith => a.ends_with(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_values(name: &str, ev: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        FieldPath::new(name).lookup(ev, &mut out);
        let mut v: Vec<Value> = out.into_iter().cloned().collect();
        v.sort_by_key(|x| x.to_string());
        v
    }

    fn pred(field: &str, test: Test) -> Expr {
        Expr::Pred(Pred {
            field: Some(field.to_string()),
            test,
            span: Span::default(),
        })
    }

    fn glob(field: &str, s: &str) -> Expr {
        pred(
            field,
            Test::Str {
                pattern: SigmaString::parse(s, false),
                cased: false,
            },
        )
    }

    #[test]
    fn scan_matchers_compile_on_first_use_unless_that_can_fail() {
        let plain = Expr::Or(vec![glob("a", "*x*"), glob("b", "y*")]);
        let regex = pred(
            "c",
            Test::Regex {
                pattern: "z+".to_string(),
                flags: Default::default(),
            },
        );
        let anyone = glob("d", "w?");
        let mut table = FieldTable::new();
        let loaded: Vec<ScanMatcher> = [&plain, &regex, &anyone]
            .iter()
            .map(|e| ScanMatcher::load(e, CaseMode::Ascii, &mut table).unwrap())
            .collect();
        let compiled = |ms: &[ScanMatcher]| ms.iter().map(|m| m.is_compiled()).collect::<Vec<_>>();
        assert_eq!(compiled(&loaded), [false, true, true]);
        // Every field is numbered at load, so the view of an event covers them all.
        assert_eq!(table.len(), 4);
        let event = json!({"a": "..X..", "c": "zz", "d": "wv"});
        let mut slots = Slots::default();
        {
            let mut view = EventView::new(&event, &table, &mut slots);
            assert!(loaded.iter().all(|m| m.matches_view(&mut view)));
        }
        assert_eq!(compiled(&loaded), [true, true, true]);
        // Under Unicode folding a case-insensitive string is a regex: compiled at load.
        let unicode = ScanMatcher::load(&plain, CaseMode::Unicode, &mut table).unwrap();
        assert!(unicode.is_compiled());
        // A regex over the size limit is refused at load, as before.
        let huge = pred(
            "c",
            Test::Regex {
                pattern: r"(?:\p{L}{1000}){100}".to_string(),
                flags: Default::default(),
            },
        );
        assert!(ScanMatcher::load(&huge, CaseMode::Ascii, &mut table).is_err());
    }

    #[test]
    fn flat_nested_and_mixed_lookup() {
        let ev = json!({"gen_ai.request.model": "a", "gen_ai": {"request": {"model": "b"}, "usage.input_tokens": 5}});
        assert_eq!(
            field_values("gen_ai.request.model", &ev),
            vec![json!("a"), json!("b")]
        );
        assert_eq!(
            field_values("gen_ai.usage.input_tokens", &ev),
            vec![json!(5)]
        );
        assert!(field_values("gen_ai.missing", &ev).is_empty());
        let ev = json!({"tools": [{"name": "x"}, {"name": "y"}]});
        assert_eq!(
            field_values("tools.name", &ev),
            vec![json!("x"), json!("y")]
        );
    }
}
