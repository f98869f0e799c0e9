//! A loaded source file and access to its lines for snippets.

use std::sync::Arc;

#[derive(Debug)]
pub struct SourceFile {
    /// Path as given by the user (displayed in diagnostics).
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: String) -> Arc<SourceFile> {
        // YAML line breaks: LF, CRLF and a lone CR (the YAML parser counts lines the same way).
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        Arc::new(SourceFile {
            path: path.into(),
            text,
            line_starts,
        })
    }

    /// Clamp a span into the file (parsers may report errors one past the end).
    pub fn clamp(&self, mut span: crate::syntax::span::Span) -> crate::syntax::span::Span {
        for p in [&mut span.start, &mut span.end] {
            let last = self.line_count() as u32;
            if p.line > last {
                p.line = last;
                p.col = self
                    .line(last)
                    .map(|l| l.chars().count() as u32 + 1)
                    .unwrap_or(1);
            }
            p.line = p.line.max(1);
            p.col = p.col.max(1);
        }
        span
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line(&self, line: u32) -> Option<&str> {
        let idx = (line as usize).checked_sub(1)?;
        let start = *self.line_starts.get(idx)?;
        let end = self
            .line_starts
            .get(idx + 1)
            .copied()
            .unwrap_or(self.text.len());
        let s = &self.text[start..end];
        Some(s.trim_end_matches(['\n', '\r']))
    }
}
