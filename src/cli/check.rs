//! `aisigma check`: check rules and report diagnostics.

use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, plural, prepare, print, usage_error};
use aisigma::report::render::{self as report, Format};
use aisigma::semantics::check;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories (directories are searched for *.yml and *.yaml)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit with 1 on warnings too
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> ExitCode {
    let (results, io_failed) = match prepare(&a.paths, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let rendered = report::render(a.format, &results);
    let printed = print(&rendered);
    let (errors, warnings, _) = check::totals(&results);
    let rules: usize = results.iter().map(|r| r.docs.len()).sum();
    if a.format == Format::Human {
        eprintln!(
            "checked {} ({}): {}, {}",
            plural(results.len(), "file"),
            plural(rules, "document"),
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    if io_failed || printed != ExitCode::from(EXIT_OK) {
        ExitCode::from(EXIT_USAGE)
    } else if errors > 0 || (a.deny_warnings && warnings > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}
