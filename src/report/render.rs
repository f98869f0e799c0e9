//! Rendering diagnostics: human (with source snippets), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations. Every format is deterministic: results arrive sorted by file,
//! diagnostics by position.

use crate::report::diagnostic::{Code, Diagnostic, Severity};
use crate::semantics::checked::FileResult;
use crate::syntax::source::SourceFile;
use serde_json::{Value, json};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// Longest snippet shown; longer lines are cut to a window around the span.
const MAX_SNIPPET: usize = 160;

/// The offending source line and a caret line under the span, or `None` without a source.
pub fn snippet(src: &SourceFile, d: &Diagnostic) -> Option<(String, String)> {
    let full = src.line(d.span.start.line)?;
    let mut start = d.span.start.col.max(1) as usize - 1;
    let full_len = full.chars().count();
    let mut end_col = d.span.end.col as usize;
    let owned;
    let line = if full_len > MAX_SNIPPET {
        let from = start
            .saturating_sub(40)
            .min(full_len.saturating_sub(MAX_SNIPPET));
        owned = full
            .chars()
            .skip(from)
            .take(MAX_SNIPPET)
            .collect::<String>();
        start -= from;
        end_col = end_col.saturating_sub(from);
        owned.as_str()
    } else {
        full
    };
    let line_len = line.chars().count();
    let end = if d.span.end.line == d.span.start.line && end_col > start + 1 {
        (end_col - 1).min(line_len)
    } else {
        line_len
    };
    let width = end.saturating_sub(start).max(1);
    // Tabs keep their width in the caret line so the caret lands under the right character.
    let pad: String = line
        .chars()
        .take(start)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some((line.to_string(), format!("{pad}{}", "^".repeat(width))))
}

pub fn human(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        for d in &r.diags {
            human_one(&mut out, &r.path, r.source.as_deref(), d);
        }
    }
    out
}

/// Make text safe for a terminal: control characters (ESC, BEL, ...) are shown escaped,
/// so a rule cannot move the cursor or recolour the screen of whoever reads the output.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

pub fn human_one(out: &mut String, path: &str, src: Option<&SourceFile>, d: &Diagnostic) {
    let path = terminal_safe(path);
    let num = d.span.start.line.to_string();
    let gutter = " ".repeat(num.len());
    let _ = writeln!(
        out,
        "{}[{}]: {}",
        d.severity.as_str(),
        d.code,
        terminal_safe(&d.message)
    );
    let _ = writeln!(
        out,
        "{gutter}--> {path}:{}:{}",
        d.span.start.line, d.span.start.col
    );
    if let Some((line, caret)) = src.and_then(|s| snippet(s, d)) {
        let _ = writeln!(out, "{gutter} |");
        let _ = writeln!(out, "{num} | {}", terminal_safe(&line));
        let _ = writeln!(out, "{gutter} | {caret}");
    }
    if let Some(h) = &d.help {
        for (i, l) in terminal_safe(h).lines().enumerate() {
            let _ = writeln!(
                out,
                "{gutter} {} {l}",
                if i == 0 { "= help:" } else { "       " }
            );
        }
    }
    out.push('\n');
}

fn json_one(path: &str, src: Option<&SourceFile>, d: &Diagnostic) -> Value {
    let mut o = json!({
        "file": path,
        "line": d.span.start.line,
        "column": d.span.start.col,
        "end_line": d.span.end.line,
        "end_column": d.span.end.col,
        "severity": d.severity.as_str(),
        "code": d.code.as_str(),
        "name": d.code.name(),
        "message": d.message,
    });
    if let Some(h) = &d.help {
        o["help"] = json!(h);
    }
    if let Some((line, _)) = src.and_then(|s| snippet(s, d)) {
        o["snippet"] = json!(line);
    }
    o
}

pub fn json(results: &[FileResult]) -> String {
    let arr: Vec<Value> = results
        .iter()
        .flat_map(|r| {
            r.diags
                .iter()
                .map(|d| json_one(&r.path, r.source.as_deref(), d))
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Value::Array(arr)).expect("JSON serializes");
    s.push('\n');
    s
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `unknown-field` -> `UnknownField` (SARIF rule names are Pascal-case identifiers).
fn pascal_case(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A SARIF artifact location: relative paths are percent-encoded URI references against
/// `%SRCROOT%`; absolute paths become `file://` URIs.
fn artifact_location(path: &str) -> Value {
    let mut enc = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            enc.push(b as char);
        } else {
            let _ = write!(enc, "%{b:02X}");
        }
    }
    if path.starts_with('/') {
        json!({"uri": format!("file://{enc}")})
    } else {
        json!({"uri": enc, "uriBaseId": "%SRCROOT%"})
    }
}

pub const DOCS_URL: &str = "https://github.com/aisigma/aisigma/blob/main/docs/diagnostics.md";

pub fn sarif(results: &[FileResult]) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            let url = format!("{DOCS_URL}#{}", c.as_str().to_lowercase());
            json!({
                "id": c.as_str(),
                "name": pascal_case(c.name()),
                "shortDescription": {"text": c.summary()},
                "fullDescription": {"text": c.summary()},
                "help": {
                    "text": format!("{} See {url}", c.summary()),
                    "markdown": format!("{} See [{}]({url}).", c.summary(), c.as_str()),
                },
                "helpUri": url,
                "defaultConfiguration": {"level": sarif_level(c.default_severity())},
            })
        })
        .collect();
    let mut out_results = Vec::new();
    for r in results {
        for d in &r.diags {
            let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut region = json!({
                "startLine": d.span.start.line.max(1),
                "startColumn": d.span.start.col.max(1),
            });
            if d.span.end.line >= d.span.start.line
                && (d.span.end.line > d.span.start.line || d.span.end.col > d.span.start.col)
            {
                region["endLine"] = json!(d.span.end.line);
                region["endColumn"] = json!(d.span.end.col);
            }
            if let Some((line, _)) = r.source.as_deref().and_then(|s| snippet(s, d)) {
                region["snippet"] = json!({"text": line});
            }
            out_results.push(json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": rule_index,
                "level": sarif_level(d.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&r.path),
                        "region": region,
                    }
                }],
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "aisigma",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/aisigma/aisigma",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": out_results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON serializes");
    s.push('\n');
    s
}

/// Escape workflow-command data (`%`, CR, LF) and, for properties, also `:` and `,`.
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => o.push_str("%25"),
            '\r' => o.push_str("%0D"),
            '\n' => o.push_str("%0A"),
            ':' if property => o.push_str("%3A"),
            ',' if property => o.push_str("%2C"),
            c => o.push(c),
        }
    }
    o
}

pub fn github(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        for d in &r.diags {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut msg = d.message.clone();
            if let Some(h) = &d.help {
                msg.push_str("\nhelp: ");
                msg.push_str(h);
            }
            let _ = write!(
                out,
                "::{kind} file={},line={},col={}",
                gh_escape(&r.path, true),
                d.span.start.line,
                d.span.start.col
            );
            if d.span.end.line == d.span.start.line && d.span.end.col > d.span.start.col {
                let _ = write!(out, ",endColumn={}", d.span.end.col);
            }
            let _ = writeln!(
                out,
                ",title={}::{}",
                gh_escape(&format!("{} {}", d.code, d.code.name()), true),
                gh_escape(&msg, false)
            );
        }
    }
    out
}

pub fn render(format: Format, results: &[FileResult]) -> String {
    match format {
        Format::Human => human(results),
        Format::Json => json(results),
        Format::Sarif => sarif(results),
        Format::Github => github(results),
    }
}
