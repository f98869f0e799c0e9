//! `aisigma test`: run every rule's in-rule tests through the engine; JUnit XML for CI.

use crate::ast::Body;
use crate::check::FileResult;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::engine::Matcher;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// The rule could not be evaluated (check errors, unsupported construct).
    Error,
    NoTests,
}

#[derive(Debug)]
pub struct RuleOutcome {
    pub file: String,
    pub title: String,
    pub id: Option<String>,
    pub outcome: Outcome,
    pub cases: usize,
    pub failed_cases: usize,
    /// Failures and errors, positioned in the rule file.
    pub diags: Vec<Diagnostic>,
}

/// Run the tests of every checked document. With `require_tests`, a rule without tests
/// carries an `AIS703` error.
pub fn run(results: &[FileResult], require_tests: bool) -> Vec<RuleOutcome> {
    let mut out = Vec::new();
    for r in results {
        let errors: Vec<Diagnostic> = r
            .diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        if r.docs.is_empty() {
            // Nothing to run; a file that is not a rule at all (AIS011) is not an error.
            if !errors.is_empty() {
                out.push(RuleOutcome {
                    file: r.path.clone(),
                    title: r.path.clone(),
                    id: None,
                    outcome: Outcome::Error,
                    cases: 0,
                    failed_cases: 0,
                    diags: errors,
                });
            }
            continue;
        }
        for cd in &r.docs {
            let doc = &cd.doc;
            let tests = doc.tests.as_deref().unwrap_or_default();
            let mut ro = RuleOutcome {
                file: r.path.clone(),
                title: doc.label(),
                id: doc.meta.id.as_ref().map(|i| i.value.clone()),
                outcome: Outcome::Passed,
                cases: tests.len(),
                failed_cases: 0,
                diags: Vec::new(),
            };
            if !errors.is_empty() {
                // A rule with check errors is never evaluated, with or without tests.
                ro.outcome = Outcome::Error;
                ro.diags = errors.clone();
                out.push(ro);
                continue;
            }
            if tests.is_empty() {
                ro.outcome = Outcome::NoTests;
                // A misspelled `tests` key (`test:`) is the usual reason: show it.
                ro.diags.extend(
                    r.diags
                        .iter()
                        .filter(|d| d.code == Code::UnknownKey && d.message.contains("`test"))
                        .cloned(),
                );
                if require_tests {
                    let at = doc.meta.title.as_ref().map(|t| t.span).unwrap_or(doc.span);
                    ro.diags.push(
                        Diagnostic::new(Code::NoTests, at, "the rule has no tests")
                            .with_severity(Severity::Error)
                            .with_help("add `tests: {match: [...], no_match: [...]}` with events the rule must and must not match"),
                    );
                }
                out.push(ro);
                continue;
            }
            let at = doc
                .tests
                .as_ref()
                .and_then(|t| t.first())
                .map(|t| t.span)
                .unwrap_or(doc.span);
            if let Some(Body::Correlation(_) | Body::Filter(_)) = &doc.body {
                ro.outcome = Outcome::Error;
                ro.diags.push(
                    Diagnostic::new(
                        Code::NotYetSupported,
                        at,
                        format!(
                            "tests of {} documents are not supported yet",
                            doc.kind_name()
                        ),
                    )
                    .with_severity(Severity::Error),
                );
                out.push(ro);
                continue;
            }
            // Files with errors were handled above, so a missing detection has no other report.
            let Some(expr) = &cd.expr else {
                ro.outcome = Outcome::Error;
                ro.diags.push(Diagnostic::new(
                    Code::InvalidTests,
                    at,
                    "the rule has no evaluable detection",
                ));
                out.push(ro);
                continue;
            };
            let matcher = match Matcher::new(expr) {
                Ok(m) => m,
                Err(e) => {
                    ro.outcome = Outcome::Error;
                    use crate::engine::EngineError;
                    let code = match e {
                        EngineError::Placeholder { .. } => Code::UnresolvedPlaceholder,
                        EngineError::UnsupportedRegex { .. } => Code::RegexPortability,
                        EngineError::BadRegex { .. } => Code::InvalidRegex,
                        EngineError::TooComplex { .. } => Code::InvalidModifierValue,
                    };
                    ro.diags.push(
                        Diagnostic::new(code, e.span(), e.to_string())
                            .with_severity(Severity::Error),
                    );
                    out.push(ro);
                    continue;
                }
            };
            for (i, case) in tests.iter().enumerate() {
                let got = matcher.matches(&case.event);
                if got != case.expect_match {
                    ro.failed_cases += 1;
                    let (list, msg) = if case.expect_match {
                        (
                            "match",
                            "the rule does not match this event, but it is listed under `tests.match`",
                        )
                    } else {
                        (
                            "no_match",
                            "the rule matches this event, but it is listed under `tests.no_match`",
                        )
                    };
                    ro.diags.push(
                        Diagnostic::new(
                            Code::TestFailed,
                            case.span,
                            format!("test {} ({list}) failed: {msg}", i + 1),
                        )
                        .with_help(format!("the rule's detection, as evaluated: {expr}")),
                    );
                }
            }
            if ro.failed_cases > 0 {
                ro.outcome = Outcome::Failed;
            }
            out.push(ro);
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{FFFE}' | '\u{FFFF}') =>
            {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one test case per rule (skipped when it has no tests, failed when tests
/// are required).
pub fn junit(outcomes: &[RuleOutcome]) -> String {
    // Untested rules are failures when tests are required (they carry an AIS703 error).
    let required = |o: &RuleOutcome| {
        o.outcome == Outcome::NoTests && o.diags.iter().any(|d| d.code == Code::NoTests)
    };
    let failures = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Failed || required(o))
        .count();
    let errors = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Error)
        .count();
    let skipped = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::NoTests && !required(o))
        .count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"aisigma\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        outcomes.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"aisigma rule tests\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        outcomes.len()
    );
    for o in outcomes {
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
            xml_escape(&o.file),
            xml_escape(&o.title),
            xml_escape(&o.file)
        );
        let detail = || {
            o.diags
                .iter()
                .map(|d| {
                    format!(
                        "{}:{}:{}: {} [{}]",
                        o.file, d.span.start.line, d.span.start.col, d.message, d.code
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        match o.outcome {
            Outcome::Passed => x.push_str("/>\n"),
            Outcome::NoTests if required(o) => {
                let _ = write!(
                    x,
                    ">\n      <failure message=\"the rule has no tests\">{}</failure>\n    </testcase>\n",
                    xml_escape(&detail())
                );
            }
            Outcome::NoTests => x.push_str(
                ">\n      <skipped message=\"the rule has no tests\"/>\n    </testcase>\n",
            ),
            Outcome::Failed => {
                let _ = write!(
                    x,
                    ">\n      <failure message=\"{} of {} cases failed\">{}</failure>\n    </testcase>\n",
                    o.failed_cases,
                    o.cases,
                    xml_escape(&detail())
                );
            }
            Outcome::Error => {
                let _ = write!(
                    x,
                    ">\n      <error message=\"the rule could not be evaluated\">{}</error>\n    </testcase>\n",
                    xml_escape(&detail())
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
