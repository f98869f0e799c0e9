//! A YAML loader that keeps the source position of every node.
//!
//! Built on `saphyr-parser`'s event stream. It enforces the limits that keep hostile input
//! harmless: a maximum nesting depth, a budget on alias expansion (anchor bombs), and a
//! refusal of duplicate mapping keys. Scalars are resolved with the YAML 1.2 core schema.

use crate::report::diagnostic::{Code, Diagnostic};
use crate::syntax::span::{Pos, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes one document may hold after alias expansion.
pub const MAX_NODES: usize = 200_000;
/// Most scalar bytes one document may hold after alias expansion.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
    /// Source text of a scalar (after YAML unescaping); empty for collections.
    pub raw: String,
    /// The scalar was quoted or a block scalar (never resolved to null/bool/number).
    pub quoted: bool,
    /// Number of nodes in this subtree (for the alias-expansion budget).
    pub(crate) size: usize,
    /// Scalar bytes in this subtree (for the alias-expansion budget).
    pub(crate) bytes: usize,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar as text, whatever its resolved type (numbers keep their source text).
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Seq(_) | Kind::Map(_) => None,
            _ => Some(&self.raw),
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Value of a string key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "boolean",
            Kind::Int(_) => "integer",
            Kind::Float(_) => "number",
            Kind::Str(_) => "string",
            Kind::Seq(_) => "list",
            Kind::Map(_) => "mapping",
        }
    }

    /// Convert to JSON (used for rule test events). Map keys become strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    m.insert(k.raw.clone(), v.to_json());
                }
                Value::Object(m)
            }
        }
    }
}

/// One YAML document of a stream.
#[derive(Debug)]
pub struct Document {
    pub root: Node,
}

fn pos(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: m.line().max(1) as u32,
        col: m.col() as u32 + 1,
    }
}

fn span_of(s: &saphyr_parser::Span) -> Span {
    Span::new(pos(&s.start), pos(&s.end))
}

/// Resolve a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(s: &str) -> Kind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Kind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Kind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Kind::Float(f64::NAN),
        _ => {}
    }
    let b = s.as_bytes();
    let digits = |t: &[u8]| !t.is_empty() && t.iter().all(u8::is_ascii_digit);
    let unsigned = b
        .strip_prefix(b"-")
        .or_else(|| b.strip_prefix(b"+"))
        .unwrap_or(b);
    if digits(unsigned) {
        return match s.parse::<i64>() {
            Ok(i) => Kind::Int(i),
            Err(_) => Kind::Float(s.parse::<f64>().unwrap_or(f64::NAN)),
        };
    }
    if let Some(h) = s.strip_prefix("0x")
        && !h.is_empty()
        && h.bytes().all(|c| c.is_ascii_hexdigit())
        && let Ok(i) = i64::from_str_radix(h, 16)
    {
        return Kind::Int(i);
    }
    if let Some(o) = s.strip_prefix("0o")
        && !o.is_empty()
        && o.bytes().all(|c| (b'0'..=b'7').contains(&c))
        && let Ok(i) = i64::from_str_radix(o, 8)
    {
        return Kind::Int(i);
    }
    if is_core_float(unsigned)
        && let Ok(f) = s.parse::<f64>()
    {
        return Kind::Float(f);
    }
    Kind::Str(s.to_string())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, sign already stripped.
fn is_core_float(b: &[u8]) -> bool {
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if e == 0 {
            return false;
        }
        i += e;
    }
    i == b.len()
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        /// Keys seen so far, with their line (duplicate detection in O(1)).
        seen: HashMap<String, u32>,
        start: Span,
        anchor: usize,
    },
}

/// Parse a YAML stream into documents. The first problem found ends the parse.
pub fn parse(text: &str) -> Result<Vec<Document>, Diagnostic> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut doc_nodes = 0usize;
    let mut doc_bytes = 0usize;
    let mut root: Option<Node> = None;

    for ev in Parser::new_from_str(text) {
        let (event, espan) = ev.map_err(|e| {
            let m = e.marker();
            let at = Span::point(m.line().max(1) as u32, m.col() as u32 + 1);
            if e.info().contains("recursion limit") {
                return too_deep(at);
            }
            Diagnostic::new(
                Code::YamlSyntax,
                at,
                format!("YAML syntax error: {}", e.info()),
            )
        })?;
        let sp = span_of(&espan);
        let finished: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                anchors.clear();
                doc_nodes = 0;
                doc_bytes = 0;
                root = None;
                None
            }
            Event::DocumentEnd => {
                let node = root.take().unwrap_or(Node {
                    kind: Kind::Null,
                    span: sp,
                    raw: String::new(),
                    quoted: false,
                    size: 1,
                    bytes: 0,
                });
                docs.push(Document { root: node });
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                let force_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let kind = if quoted || force_str {
                    Kind::Str(value.to_string())
                } else {
                    resolve_plain(&value)
                };
                let bytes = value.len();
                doc_bytes += bytes;
                Some((
                    Node {
                        kind,
                        span: sp,
                        raw: value.into_owned(),
                        quoted,
                        size: 1,
                        bytes,
                    },
                    anchor,
                ))
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    return Err(Diagnostic::new(
                        Code::YamlSyntax,
                        sp,
                        "YAML alias refers to an unknown anchor",
                    ));
                };
                doc_nodes += target.size;
                doc_bytes += target.bytes;
                if doc_nodes > MAX_NODES || doc_bytes > MAX_BYTES {
                    return Err(Diagnostic::new(
                        Code::AliasExpansion,
                        sp,
                        format!(
                            "YAML aliases expand this document to more than {MAX_NODES} nodes or {} MiB",
                            MAX_BYTES >> 20
                        ),
                    )
                    .with_help("a rule never needs this many nodes; this looks like an anchor bomb (\"billion laughs\")"));
                }
                let mut n = target.clone();
                n.span = sp;
                Some((n, 0))
            }
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(sp));
                }
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    start: sp,
                    anchor,
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(sp));
                }
                stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    seen: HashMap::new(),
                    start: sp,
                    anchor,
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                }) => {
                    let end = items.last().map(|n| n.span.end);
                    Some((collection(Kind::Seq(items), start, end, sp), anchor))
                }
                _ => {
                    return Err(Diagnostic::new(
                        Code::YamlSyntax,
                        sp,
                        "unbalanced YAML sequence",
                    ));
                }
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    entries,
                    start,
                    anchor,
                    ..
                }) => {
                    let end = entries.last().map(|(_, v)| v.span.end);
                    Some((collection(Kind::Map(entries), start, end, sp), anchor))
                }
                _ => {
                    return Err(Diagnostic::new(
                        Code::YamlSyntax,
                        sp,
                        "unbalanced YAML mapping",
                    ));
                }
            },
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        doc_nodes += 1;
        if doc_nodes > MAX_NODES {
            return Err(Diagnostic::new(
                Code::AliasExpansion,
                node.span,
                format!("the document has more than {MAX_NODES} nodes"),
            ));
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                seen,
                ..
            }) => match pending_key.take() {
                None => {
                    if matches!(node.kind, Kind::Seq(_) | Kind::Map(_)) {
                        return Err(Diagnostic::new(
                            Code::YamlSyntax,
                            node.span,
                            "complex (non-scalar) mapping keys are not supported",
                        ));
                    }
                    if let Some(first_line) = seen.get(&node.raw) {
                        return Err(Diagnostic::new(
                            Code::DuplicateKey,
                            node.span,
                            format!("duplicate key `{}` (first defined at line {first_line})", node.raw),
                        )
                        .with_help("merge the two entries or rename one; YAML would silently keep only the last"));
                    }
                    seen.insert(node.raw.clone(), node.span.start.line);
                    *pending_key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
    Ok(docs)
}

/// A finished sequence or mapping: its span runs from its start to its last child.
fn collection(kind: Kind, start: Span, last_child_end: Option<Pos>, end_event: Span) -> Node {
    let size = 1 + match &kind {
        Kind::Seq(items) => items.iter().map(|n| n.size).sum::<usize>(),
        Kind::Map(entries) => entries.iter().map(|(k, v)| k.size + v.size).sum(),
        _ => 0,
    };
    let bytes = match &kind {
        Kind::Seq(items) => items.iter().map(|n| n.bytes).sum::<usize>(),
        Kind::Map(entries) => entries.iter().map(|(k, v)| k.bytes + v.bytes).sum(),
        _ => 0,
    };
    let end = last_child_end.unwrap_or(end_event.end).max(start.end);
    Node {
        kind,
        span: Span::new(start.start, end),
        raw: String::new(),
        quoted: false,
        size,
        bytes,
    }
}

fn too_deep(sp: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        sp,
        format!("YAML nesting exceeds {MAX_DEPTH} levels"),
    )
    .with_help("rules never need deep nesting; flatten the structure")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Node {
        parse(s).unwrap().remove(0).root
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let n = one(
            "a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: 2019-10-23\ng: 0x1F\nh: 1e3\ni: .5\nj: 12abc\n",
        );
        let kinds: Vec<_> = n
            .as_map()
            .unwrap()
            .iter()
            .map(|(_, v)| v.kind.clone())
            .collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Int(1),
                Kind::Str("1".into()),
                Kind::Bool(true),
                Kind::Null,
                Kind::Float(1.5),
                Kind::Str("2019-10-23".into()),
                Kind::Int(31),
                Kind::Float(1000.0),
                Kind::Float(0.5),
                Kind::Str("12abc".into())
            ]
        );
    }

    #[test]
    fn positions_are_one_based() {
        let n = one("title: x\ndetection:\n  sel:\n    a: b\n");
        let det = n.get("detection").unwrap();
        let sel = det.get("sel").unwrap();
        let (k, v) = &sel.as_map().unwrap()[0];
        assert_eq!((k.span.start.line, k.span.start.col), (4, 5));
        assert_eq!((v.span.start.line, v.span.start.col), (4, 8));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.code, Code::DuplicateKey);
        assert_eq!(e.span.start.line, 3);
    }

    #[test]
    fn anchor_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse(&s).unwrap_err();
        assert_eq!(e.code, Code::AliasExpansion);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let e = parse(&s).unwrap_err();
        assert_eq!(e.code, Code::NestingTooDeep);
        // Unbalanced and very deep input is refused without exhausting the stack.
        let e = parse(&"[".repeat(1_000_000)).unwrap_err();
        assert!(
            matches!(e.code, Code::NestingTooDeep | Code::YamlSyntax),
            "{e:?}"
        );
        let e = parse(&"- ".repeat(100_000)).unwrap_err();
        assert!(
            matches!(e.code, Code::NestingTooDeep | Code::YamlSyntax),
            "{e:?}"
        );
    }

    #[test]
    fn multi_document() {
        let docs = parse("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].root.span.start.line, 3);
    }
}
