//! `aisigma test`: run the `tests:` of every rule through the engine.

use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, plural, prepare, print, usage_error};
use aisigma::engine::ruletest::{self, Outcome, RuleOutcome};
use aisigma::regex::casefold::CaseMode;
use aisigma::report::render as report;
use aisigma::semantics::checked::FileResult;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories [default: `rules` of aisigma.toml, else .]
    paths: Vec<PathBuf>,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Fail rules that have no tests
    #[arg(long)]
    require_tests: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Compare case-insensitive strings by Unicode simple case folding (`k` also matches the
    /// Kelvin sign), written out exactly, instead of the default ASCII contract
    #[arg(long)]
    unicode_exact: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> ExitCode {
    let (results, io_failed) = match prepare(&a.paths, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let mode = if a.unicode_exact {
        CaseMode::Unicode
    } else {
        CaseMode::Ascii
    };
    let outcomes = ruletest::run_with(&results, a.require_tests, mode);
    let count = |o: Outcome| outcomes.iter().filter(|r| r.outcome == o).count();
    let (failed, errored, untested) = (
        count(Outcome::Failed),
        count(Outcome::Error),
        count(Outcome::NoTests),
    );
    let out = match a.format {
        TestFormat::Human => human(&outcomes, &results, a.require_tests),
        TestFormat::Json => json(&outcomes),
    };
    if let Some(path) = a.junit
        && let Err(e) =
            aisigma::report::output::write_atomic(&path, ruletest::junit(&outcomes).as_bytes())
    {
        return usage_error(&format!("cannot write {}: {e}", path.display()));
    }
    if print(&out) != ExitCode::from(EXIT_OK) || io_failed {
        return ExitCode::from(EXIT_USAGE);
    }
    if failed + errored > 0 || (a.require_tests && untested > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// One line per rule, its diagnostics indented below it, and the totals.
fn human(outcomes: &[RuleOutcome], results: &[FileResult], require_tests: bool) -> String {
    let count = |o: Outcome| outcomes.iter().filter(|r| r.outcome == o).count();
    let mut out = String::new();
    for o in outcomes {
        let label = match o.outcome {
            Outcome::Passed => "PASS",
            Outcome::Failed => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::NoTests if require_tests => "FAIL",
            Outcome::NoTests => "SKIP",
        };
        let detail = match o.outcome {
            Outcome::Passed => plural(o.cases, "case"),
            Outcome::Failed => format!("{} of {} failed", o.failed_cases, plural(o.cases, "case")),
            Outcome::Error => "cannot be evaluated".into(),
            Outcome::NoTests => "no tests".into(),
        };
        out.push_str(&format!(
            "{label:5} {}  {} ({detail})\n",
            report::terminal_safe(&o.file),
            report::terminal_safe(&o.title)
        ));
        let src = results
            .iter()
            .find(|r| r.path == o.file)
            .and_then(|r| r.source.as_deref());
        for d in &o.diags {
            let mut s = String::new();
            report::human_one(&mut s, &o.file, src, d);
            for l in s.lines() {
                if !l.is_empty() {
                    out.push_str("      ");
                    out.push_str(l);
                }
                out.push('\n');
            }
        }
    }
    out.push_str(&format!(
        "\n{}: {} passed, {} failed, {}, {} without tests\n",
        plural(outcomes.len(), "rule"),
        count(Outcome::Passed),
        count(Outcome::Failed),
        plural(count(Outcome::Error), "error"),
        count(Outcome::NoTests)
    ));
    out
}

/// One JSON object per rule and line.
fn json(outcomes: &[RuleOutcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let v = serde_json::json!({
            "file": o.file, "title": o.title, "id": o.id,
            "outcome": match o.outcome { Outcome::Passed => "passed", Outcome::Failed => "failed", Outcome::Error => "error", Outcome::NoTests => "no_tests" },
            "cases": o.cases, "failed_cases": o.failed_cases,
            "diagnostics": o.diags.iter().map(|d| serde_json::json!({
                "line": d.span.start.line, "column": d.span.start.col, "code": d.code.as_str(), "severity": d.severity.as_str(), "message": d.message,
            })).collect::<Vec<_>>(),
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}
