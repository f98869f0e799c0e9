//! `aisigma test`: run every rule's in-rule tests through the engine; JUnit XML for CI.

use crate::engine::matcher::Matcher;
use crate::regex::casefold::CaseMode;
use crate::report::diagnostic::{Code, Diagnostic, Severity};
use crate::semantics::checked::FileResult;
use crate::syntax::ast::Body;
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

impl RuleOutcome {
    /// A document of `file` with `cases` test cases, passed until a case fails.
    fn passed(file: &str, doc: &crate::syntax::ast::Doc, cases: usize) -> RuleOutcome {
        RuleOutcome {
            file: file.to_string(),
            title: doc.label(),
            id: doc.meta.id.as_ref().map(|i| i.value.clone()),
            outcome: Outcome::Passed,
            cases,
            failed_cases: 0,
            diags: Vec::new(),
        }
    }
}

/// Run the tests of every checked document. With `require_tests`, a rule without tests
/// carries an `AIS703` error.
pub fn run(results: &[FileResult], require_tests: bool) -> Vec<RuleOutcome> {
    run_with(results, require_tests, CaseMode::default())
}

/// [`run`], with case-insensitive tests compared by `mode` (`--unicode-exact`).
pub fn run_with(results: &[FileResult], require_tests: bool, mode: CaseMode) -> Vec<RuleOutcome> {
    let mut out = Vec::new();
    for (fi, r) in results.iter().enumerate() {
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
        for (di, cd) in r.docs.iter().enumerate() {
            let doc = &cd.doc;
            if let (Some(Body::Correlation(_)), true) = (&doc.body, errors.is_empty()) {
                out.push(correlation_tests(results, (fi, di), require_tests, mode));
                continue;
            }
            let tests = doc.tests.as_deref().unwrap_or_default();
            let mut ro = RuleOutcome::passed(&r.path, doc, tests.len());
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
            if let Some(Body::Filter(_)) = &doc.body {
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
            let matcher = match Matcher::with_mode(expr, mode) {
                Ok(m) => m,
                Err(e) => {
                    ro.outcome = Outcome::Error;
                    use crate::engine::matcher::EngineError;
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
                let got = match raw_record(&case.event) {
                    None => matcher.matches(&case.event),
                    Some(Ok(events)) => events.iter().any(|e| matcher.matches(e)),
                    Some(Err(why)) => {
                        ro.failed_cases += 1;
                        ro.diags.push(
                            Diagnostic::new(
                                Code::InvalidTests,
                                case.span,
                                format!("test {}: {why}", i + 1),
                            )
                            .with_help(
                                "`aisigma sources` lists the packs; `aisigma sources normalize \
                                 NAME` prints the events a record gives",
                            ),
                        );
                        continue;
                    }
                };
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

/// Whether a test event is a raw record of a source (`{source, record}`), not a schema event.
pub fn is_raw_record(event: &serde_json::Value) -> bool {
    event.as_object().is_some_and(|o| {
        o.len() == 2 && o.get("source").is_some_and(|s| s.is_string()) && o.contains_key("record")
    })
}

/// A test event written in a source's raw shape, `{source: NAME, record: {...}}`: the schema
/// events `scan --source NAME` makes of the record (the rule matches the record if it matches
/// one of them, as `scan` reports a match); `None` for an ordinary event.
fn raw_record(event: &serde_json::Value) -> Option<Result<Vec<serde_json::Value>, String>> {
    if !is_raw_record(event) {
        return None;
    }
    let obj = event.as_object()?;
    let (name, record) = (obj.get("source")?.as_str()?, obj.get("record")?);
    Some((|| {
        let pack = crate::source::builtin(name)
            .ok_or_else(|| format!("unknown source `{name}`: {}", crate::source::help_for(name)))?;
        let n = crate::source::normalize::Normalizer::new(
            pack,
            &crate::semantics::schema::Schema::builtin(),
        );
        let line = serde_json::to_vec(record).map_err(|e| e.to_string())?;
        let events = n
            .events(&line)
            .map_err(|e| format!("the record is not a `{name}` record: {e}"))?;
        if events.is_empty() {
            return Err(format!("the `{name}` record holds no event"));
        }
        Ok(events.into_iter().map(serde_json::Value::Object).collect())
    })())
}

/// Run the tests of the correlation document `at`: each case's events through the
/// correlation and the rules it reads, and its alerts against the expected ones.
fn correlation_tests(
    results: &[FileResult],
    at: (usize, usize),
    require_tests: bool,
    mode: CaseMode,
) -> RuleOutcome {
    use crate::syntax::ast::ExpectAlerts;
    let r = &results[at.0];
    let doc = &r.docs[at.1].doc;
    let tests = doc.corr_tests.as_deref().unwrap_or_default();
    let mut ro = RuleOutcome::passed(&r.path, doc, tests.len());
    let title_span = doc.meta.title.as_ref().map(|t| t.span).unwrap_or(doc.span);
    if tests.is_empty() {
        ro.outcome = Outcome::NoTests;
        if require_tests {
            ro.diags.push(
                Diagnostic::new(Code::NoTests, title_span, "the correlation has no tests")
                    .with_severity(Severity::Error)
                    .with_help("add `tests:` with cases of timestamped `events` and the `alerts` they must raise"),
            );
        }
        return ro;
    }
    let (net, node) = match crate::engine::correlate::build_with(results, at, mode) {
        Ok(n) => n,
        Err(why) => {
            ro.outcome = Outcome::Error;
            ro.diags.push(
                Diagnostic::new(
                    Code::NotYetSupported,
                    title_span,
                    format!("the correlation cannot be evaluated: {why}"),
                )
                .with_severity(Severity::Error),
            );
            return ro;
        }
    };
    for (i, case) in tests.iter().enumerate() {
        let name = case
            .name
            .as_ref()
            .map_or_else(|| format!("{}", i + 1), |n| format!("{} (`{n}`)", i + 1));
        let events: Vec<serde_json::Value> = case.events.iter().map(|(e, _)| e.clone()).collect();
        let (alerts, untimed) = net.run(&events);
        if let Some(&bad) = untimed.first() {
            ro.failed_cases += 1;
            ro.diags.push(
                Diagnostic::new(Code::InvalidTests, case.events[bad].1, format!("test {name}: this event has no readable `@timestamp`, so no correlation can use it"))
                    .with_help("give every event of a correlation test an RFC 3339 `@timestamp`"),
            );
            continue;
        }
        let got = crate::engine::correlate::rows(&alerts, node);
        let shown = || {
            if got.is_empty() {
                "none".to_string()
            } else {
                got.iter()
                    .map(|(t, g)| {
                        let group: Vec<String> =
                            g.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        format!(
                            "{} {{{}}}",
                            crate::syntax::time::format_ms(*t),
                            group.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        let failure = match &case.expect {
            ExpectAlerts::Count(n) if got.len() != *n => {
                Some(format!("expected {n} alert(s), got {}", got.len()))
            }
            ExpectAlerts::Count(_) => None,
            ExpectAlerts::List(want) if want.len() != got.len() => Some(format!(
                "expected {} alert(s), got {}",
                want.len(),
                got.len()
            )),
            ExpectAlerts::List(want) => {
                want.iter()
                    .zip(&got)
                    .enumerate()
                    .find_map(|(k, (w, (t, g)))| {
                        let time_ok = w
                            .timestamp
                            .as_deref()
                            .and_then(crate::syntax::time::parse_timestamp_ms)
                            .is_none_or(|wt| wt == *t);
                        let group_ok = w.group.as_ref().is_none_or(|wg| {
                            wg.iter().all(|(key, val)| {
                                let text = match val {
                                    serde_json::Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                };
                                g.get(key) == Some(&text)
                            })
                        });
                        (!(time_ok && group_ok))
                            .then(|| format!("alert {} differs from the expected one", k + 1))
                    })
            }
        };
        if let Some(why) = failure {
            ro.failed_cases += 1;
            ro.diags.push(
                Diagnostic::new(
                    Code::TestFailed,
                    case.span,
                    format!("test {name} failed: {why}"),
                )
                .with_help(format!("the correlation raised: {}", shown())),
            );
        }
    }
    if ro.failed_cases > 0 {
        ro.outcome = Outcome::Failed;
    }
    ro
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
