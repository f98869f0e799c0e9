//! Source positions: every AST node carries a [`Span`] so diagnostics can point at it.

/// A 1-based line and 1-based column (counted in Unicode scalar values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A half-open range of source positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn new(start: Pos, end: Pos) -> Self {
        Span { start, end }
    }

    /// A span covering one position (used when only a point is known).
    pub fn point(line: u32, col: u32) -> Self {
        let p = Pos { line, col };
        Span { start: p, end: p }
    }

    /// The start of a file.
    pub fn file_start() -> Self {
        Span::point(1, 1)
    }

    /// A sub-span of a single-line span, `offset` and `len` in characters.
    pub fn sub(&self, offset: usize, len: usize) -> Span {
        if self.start.line != self.end.line {
            return *self;
        }
        let col = self.start.col + offset as u32;
        Span {
            start: Pos {
                line: self.start.line,
                col,
            },
            end: Pos {
                line: self.start.line,
                col: col + len as u32,
            },
        }
    }
}

/// A value together with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
