//! Quick fixes: each name a "did you mean" help proposes, as an edit that replaces the
//! misspelt name in the diagnostic's range.

use crate::report::diagnostic::Diagnostic;

/// One fix: replace the characters `start..end` (0-based columns) of a 0-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub title: String,
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub new_text: String,
    /// The fix of the only (or first) suggestion is the preferred one.
    pub preferred: bool,
}

/// The names a help proposes: the backquoted names of its "did you mean ...?".
pub fn suggestions(help: &str) -> Vec<String> {
    let Some(at) = help.find("did you mean") else {
        return Vec::new();
    };
    let rest = &help[at..];
    // The question ends at a `?` right after a name or a parenthesised name.
    let end = rest
        .char_indices()
        .find(|&(i, c)| c == '?' && i > 0 && matches!(rest.as_bytes()[i - 1], b'`' | b')'))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The fixes of a diagnostic, given the lines of its file.
pub fn fixes(lines: &[&str], d: &Diagnostic) -> Vec<Fix> {
    let Some(help) = &d.help else {
        return Vec::new();
    };
    let names = suggestions(help);
    if names.is_empty() || d.span.start.line != d.span.end.line || d.span.start.line == 0 {
        return Vec::new();
    }
    let line = d.span.start.line as usize - 1;
    let Some(text) = lines.get(line) else {
        return Vec::new();
    };
    let chars: Vec<char> = text.chars().collect();
    let (s, e) = (
        (d.span.start.col as usize)
            .saturating_sub(1)
            .min(chars.len()),
        (d.span.end.col as usize).saturating_sub(1).min(chars.len()),
    );
    if s >= e {
        return Vec::new();
    }
    let covered: String = chars[s..e].iter().collect();
    // The misspelt name: the first backquoted name of the message found in the range, or the
    // whole range.
    let (start, end) = d
        .message
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty())
        .find_map(|w| {
            let at = covered.find(w)?;
            let from = s + covered[..at].chars().count();
            Some((from, from + w.chars().count()))
        })
        .unwrap_or((s, e));
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Fix {
            title: format!("{}: replace with `{name}`", d.code),
            line,
            start,
            end,
            new_text: name.clone(),
            preferred: i == 0 && names.len() == 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostic::Code;
    use crate::syntax::span::{Pos, Span};

    #[test]
    fn suggestions_are_read_from_the_help() {
        assert_eq!(
            suggestions("did you mean `success`? (allowed values: success, failure)"),
            ["success"]
        );
        assert_eq!(
            suggestions(
                "did you mean one of `atlas.aml.t0099` (AI Agent Tool Data Poisoning), `atlas.aml.t0019` (Publish Poisoned Datasets)?"
            ),
            ["atlas.aml.t0099", "atlas.aml.t0019"]
        );
        assert!(suggestions("run `aisigma schema` to list the fields").is_empty());
    }

    #[test]
    fn the_misspelt_name_is_replaced_not_its_modifiers() {
        let lines = ["        ai.promt.text|contains: x"];
        let d = Diagnostic::new(
            Code::UnknownField,
            Span::new(Pos { line: 1, col: 9 }, Pos { line: 1, col: 31 }),
            "field `ai.promt.text` does not exist in category `llm_inference`",
        )
        .with_help("did you mean `ai.prompt.text`?");
        let f = fixes(&lines, &d);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].start, f[0].end), (0, 8, 21));
        assert_eq!(f[0].new_text, "ai.prompt.text");
        assert!(f[0].preferred);
    }
}
