//! Metadata checks: required fields, id, status, level, dates, tags.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::semantics::catalog::Catalog;
use crate::syntax::ast::Doc;
use crate::syntax::span::Spanned;

pub const STATUSES: &[&str] = &[
    "stable",
    "test",
    "experimental",
    "deprecated",
    "unsupported",
];
pub const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];

/// Is `s` a valid `YYYY-MM-DD` date?
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && crate::syntax::time::parse_timestamp(s).is_some()
}

fn one_of(v: &Spanned<String>, allowed: &[&str], code: Code, what: &str, diags: &mut Diagnostics) {
    if !allowed.contains(&v.value.as_str()) {
        let sugg = suggest(&v.value, allowed.iter().copied(), 1);
        let help =
            did_you_mean(&sugg).unwrap_or_else(|| format!("use one of {}", allowed.join(", ")));
        diags.push(
            Diagnostic::new(code, v.span, format!("invalid {what} `{}`", v.value)).with_help(help),
        );
    }
}

/// Check a document's metadata. `standalone` is false for documents that only serve as
/// inputs of a correlation in the same file (they need no id, status, level or date).
pub fn check(doc: &Doc, standalone: bool, diags: &mut Diagnostics) {
    let m = &doc.meta;
    let at = doc.meta.title.as_ref().map(|t| t.span).unwrap_or(doc.span);
    if let Some(t) = &m.title {
        if t.value.trim().is_empty() {
            diags.error(Code::InvalidValue, t.span, "`title` is empty");
        } else if t.value.chars().count() > 256 {
            diags.error(
                Code::InvalidValue,
                t.span,
                "`title` is longer than 256 characters",
            );
        }
    }
    if let Some(d) = &m.description
        && d.value.chars().count() > 65_535
    {
        diags.error(
            Code::InvalidValue,
            d.span,
            "`description` is longer than 65,535 characters",
        );
    }
    match &m.id {
        Some(id) if uuid::Uuid::try_parse(&id.value).is_err() || id.value.len() != 36 => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidId,
                    id.span,
                    format!("rule id `{}` is not a UUID", id.value),
                )
                .with_help("use a random UUID (v4), e.g. from `uuidgen`"),
            );
        }
        Some(_) => {}
        None if standalone => diags.push(
            Diagnostic::new(Code::MissingField, at, "missing required field `id`")
                .with_help("add `id:` with a random UUID (v4), e.g. from `uuidgen`"),
        ),
        None => {}
    }
    for r in &m.related {
        if uuid::Uuid::try_parse(&r.id.value).is_err() {
            diags.error(
                Code::InvalidId,
                r.id.span,
                format!("related id `{}` is not a UUID", r.id.value),
            );
        }
    }
    let is_filter = doc.kind_name() == "filter";
    match &m.status {
        Some(s) => one_of(s, STATUSES, Code::InvalidStatus, "status", diags),
        None if standalone && !is_filter => diags.push(
            Diagnostic::new(Code::MissingField, at, "missing required field `status`").with_help(
                format!("add e.g. `status: experimental` ({})", STATUSES.join(", ")),
            ),
        ),
        None => {}
    }
    match &m.level {
        Some(l) => one_of(l, LEVELS, Code::InvalidLevel, "level", diags),
        None if standalone && !is_filter => diags.push(
            Diagnostic::new(Code::MissingField, at, "missing required field `level`")
                .with_help(format!("add e.g. `level: medium` ({})", LEVELS.join(", "))),
        ),
        None => {}
    }
    match &m.date {
        Some(d) => check_date(d, diags),
        None if standalone => diags.push(
            Diagnostic::new(Code::MissingField, at, "missing required field `date`")
                .with_help("add e.g. `date: 2026-01-31`"),
        ),
        None => {}
    }
    if let Some(d) = &m.modified {
        check_date(d, diags);
        if let Some(created) = &m.date
            && valid_date(&created.value)
            && valid_date(&d.value)
            && d.value < created.value
        {
            diags.error(
                Code::InvalidDate,
                d.span,
                format!(
                    "`modified` ({}) is before `date` ({})",
                    d.value, created.value
                ),
            );
        }
    }
    check_tags(doc, diags);
}

fn check_date(d: &Spanned<String>, diags: &mut Diagnostics) {
    if !valid_date(&d.value) {
        let help = if let Some(what) = calendar_problem(&d.value) {
            what
        } else if d.value.contains('/') {
            "Sigma 2 dates use dashes: `YYYY-MM-DD`".to_string()
        } else {
            "write the date as `YYYY-MM-DD`".to_string()
        };
        diags.push(
            Diagnostic::new(
                Code::InvalidDate,
                d.span,
                format!("`{}` is not a valid YYYY-MM-DD date", d.value),
            )
            .with_help(help),
        );
    }
}

/// For a date written `YYYY-MM-DD` that is not in the calendar, what is wrong with it.
fn calendar_problem(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    let (year, month, day): (i64, u32, u32) = (
        s[..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..].parse().ok()?,
    );
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    if !(1..=12).contains(&month) {
        return Some(format!(
            "there is no month {month:02}: months are 01 to 12 (`YYYY-MM-DD`)"
        ));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Some(format!(
            "{} {year} has days 01 to {days}, not {day:02}",
            MONTHS[month as usize - 1]
        ));
    }
    None
}

fn check_tags(doc: &Doc, diags: &mut Diagnostics) {
    let catalog = Catalog::get();
    let mut seen = std::collections::HashSet::new();
    for t in &doc.meta.tags {
        let tag = t.value.as_str();
        if !seen.insert(tag) {
            diags.push(Diagnostic::new(
                Code::MalformedTag,
                t.span,
                format!("tag `{tag}` is repeated"),
            ));
        }
        let well_formed = tag.split_once('.').is_some_and(|(ns, v)| {
            !ns.is_empty()
                && !v.is_empty()
                && ns
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
                && v.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'_'
                        || b == b'-'
                        || b == b'.'
                })
        });
        if !well_formed {
            let lower = tag.to_lowercase();
            let mut d = Diagnostic::new(
                Code::MalformedTag,
                t.span,
                format!(
                    "tag `{tag}` does not follow the Sigma format `namespace.value` (lowercase)"
                ),
            );
            if lower != tag {
                d = d.with_help(format!("write `{lower}`"));
            }
            diags.push(d);
        }
        let title = doc.meta.title.as_ref().map_or("", |t| t.value.as_str());
        match catalog.check_tag_for(&tag.to_lowercase(), title) {
            Ok(_) => {}
            Err(e) => {
                let code = if tag.to_lowercase().starts_with("atlas.") {
                    Code::UnknownAtlas
                } else {
                    Code::UnknownOwasp
                };
                let mut d = Diagnostic::new(code, t.span, e.message);
                if let Some(h) = e.help {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
}

/// AI rules (product `ai`) should say which ATLAS technique and OWASP risk they detect.
pub fn check_ai_mapping(doc: &Doc, diags: &mut Diagnostics) {
    let has = |p: &str| doc.meta.tags.iter().any(|t| t.value.starts_with(p));
    let at = doc.meta.title.as_ref().map(|t| t.span).unwrap_or(doc.span);
    let has_technique = doc.meta.tags.iter().any(|t| {
        t.value
            .to_lowercase()
            .strip_prefix("atlas.aml.t")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    });
    if !has_technique {
        diags.push(
            Diagnostic::new(
                Code::MissingAiMapping,
                at,
                "AI rule has no ATLAS technique tag",
            )
            .with_help("add e.g. `atlas.aml.t0051` to `tags`"),
        );
    }
    if !has("owasp.") {
        diags.push(
            Diagnostic::new(Code::MissingAiMapping, at, "AI rule has no OWASP tag").with_help(
                "add e.g. `owasp.llm01` (LLM Top 10) or `owasp.asi02` (Agentic Top 10) to `tags`",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_say_what_is_wrong() {
        assert!(!valid_date("2026-13-01"));
        assert_eq!(
            calendar_problem("2026-13-01").unwrap(),
            "there is no month 13: months are 01 to 12 (`YYYY-MM-DD`)"
        );
        assert_eq!(
            calendar_problem("2026-02-29").unwrap(),
            "February 2026 has days 01 to 28, not 29"
        );
        assert_eq!(calendar_problem("2028-02-29"), None);
        assert!(valid_date("2028-02-29"));
        assert_eq!(
            calendar_problem("2026-04-31").unwrap(),
            "April 2026 has days 01 to 30, not 31"
        );
        assert_eq!(
            calendar_problem("2026-00-10").unwrap(),
            "there is no month 00: months are 01 to 12 (`YYYY-MM-DD`)"
        );
        // Not shaped like a date: the general help.
        assert_eq!(calendar_problem("2026/01/01"), None);
        assert_eq!(calendar_problem("yesterday"), None);
    }
}
