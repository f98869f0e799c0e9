//! Positions between aisigma and the protocol: aisigma counts 1-based lines and 1-based
//! columns in Unicode scalar values; LSP counts 0-based lines and columns in UTF-16 code
//! units (the protocol's default encoding, which every client supports). And `file:` URIs to
//! paths and back (RFC 8089, percent-encoding per RFC 3986).

use crate::syntax::span::{Pos, Span};
use lsp_types::{Position, Range};
use std::path::{Path, PathBuf};

/// The lines of a document, for converting positions.
pub struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    /// Lines end at LF, CRLF or a lone CR, as in YAML, `check` and the protocol.
    pub fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let bytes = text.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    lines.push(&text[start..i]);
                    start = i + 1;
                }
                b'\r' => {
                    lines.push(&text[start..i]);
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        lines.push(&text[start..]);
        Lines { lines }
    }

    /// The text of a 0-based line ("" past the end).
    pub fn line(&self, line: usize) -> &'a str {
        self.lines.get(line).copied().unwrap_or("")
    }

    pub fn count(&self) -> usize {
        self.lines.len()
    }

    /// Every line, as the cursor readers ([`super::context`]) take them.
    pub fn all(&self) -> &[&'a str] {
        &self.lines
    }

    /// An aisigma position as an LSP position.
    pub fn to_lsp(&self, p: Pos) -> Position {
        let line = p.line.saturating_sub(1) as usize;
        let text = self.line(line);
        let chars = p.col.saturating_sub(1) as usize;
        let utf16: usize = text.chars().take(chars).map(char::len_utf16).sum();
        // A column past the end (a point after the last character) stays past the end.
        let extra = chars.saturating_sub(text.chars().count());
        Position::new(line as u32, (utf16 + extra) as u32)
    }

    pub fn range(&self, s: Span) -> Range {
        let start = self.to_lsp(s.start);
        let mut end = self.to_lsp(s.end);
        if end < start {
            end = start;
        }
        Range::new(start, end)
    }

    /// The character index (in Unicode scalar values, 0-based) of an LSP position on its
    /// line, clamped to the line.
    pub fn char_index(&self, p: Position) -> usize {
        let text = self.line(p.line as usize);
        let mut units = 0usize;
        for (i, c) in text.chars().enumerate() {
            if units >= p.character as usize {
                return i;
            }
            units += c.len_utf16();
        }
        text.chars().count()
    }

    /// The LSP position of a 0-based character index on a 0-based line.
    pub fn position(&self, line: usize, char_index: usize) -> Position {
        let text = self.line(line);
        let utf16: usize = text.chars().take(char_index).map(char::len_utf16).sum();
        Position::new(line as u32, utf16 as u32)
    }
}

/// The path of a `file:` URI; `None` for other schemes.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///path` (empty authority) or `file://localhost/path`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = rest.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = String::from_utf8(out).ok()?;
    // Windows drive paths arrive as `/C:/...`.
    let path = match path.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() => path[1..].to_string(),
        _ => path,
    };
    Some(PathBuf::from(path))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> String {
    let mut s = String::from("file://");
    let text = path.to_string_lossy().replace('\\', "/");
    if !text.starts_with('/') {
        s.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units_on_the_wire() {
        let text = "title: é𝄞x\nb: 1\n";
        let l = Lines::new(text);
        // `x` is the 10th character (1-based col 10): é is one unit, 𝄞 two.
        assert_eq!(l.to_lsp(Pos { line: 1, col: 10 }), Position::new(0, 10));
        assert_eq!(l.to_lsp(Pos { line: 1, col: 9 }), Position::new(0, 8));
        assert_eq!(l.char_index(Position::new(0, 10)), 9);
        assert_eq!(l.char_index(Position::new(0, 99)), 10);
        assert_eq!(l.position(0, 9), Position::new(0, 10));
        assert_eq!(l.to_lsp(Pos { line: 2, col: 5 }), Position::new(1, 4));
        // CRLF and a lone CR end lines too.
        let l = Lines::new("a\r\nbc\rdé\nx");
        assert_eq!(l.count(), 4);
        assert_eq!((l.line(1), l.line(2), l.line(3)), ("bc", "dé", "x"));
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a rule/é.yml");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/a%20rule/%C3%A9.yml");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
        assert_eq!(uri_to_path("untitled:1"), None);
        assert_eq!(
            uri_to_path("file://localhost/x/y.yml").unwrap(),
            Path::new("/x/y.yml")
        );
    }
}
