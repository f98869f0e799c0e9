//! `aisigma check`: check rules and report diagnostics.

use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, plural, prepare, print, usage_error};
use aisigma::report::render::{self as report, Format};
use aisigma::semantics::check;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories (directories are searched for *.yml and *.yaml) [default: `rules` of aisigma.toml, else .]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit with 1 on warnings too
    #[arg(long)]
    deny_warnings: bool,
    /// Also report (AIS804) every rule that cannot run on this source pack: neither compiles
    /// to any target with its landing, nor finds its fields in `scan --source`
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> ExitCode {
    let (results, io_failed) = match prepare(&a.paths, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let mut results = results;
    let mut runnable = None;
    let source = a.source.clone().or_else(|| {
        super::settings::get()
            .source
            .as_ref()
            .map(|s| s.value.clone())
    });
    if let Some(name) = &source {
        match source_findings(&mut results, name, &a.common) {
            Ok(r) => runnable = Some((name.clone(), r)),
            Err(e) => return usage_error(&e),
        }
    }
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
        if let Some((name, (ok, total))) = &runnable {
            eprintln!("{ok} of {} run on source `{name}`", plural(*total, "rule"));
        }
    }
    if io_failed || printed != ExitCode::from(EXIT_OK) {
        ExitCode::from(EXIT_USAGE)
    } else if errors > 0 || (a.deny_warnings && warnings > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// AIS804 for each rule (without check errors) that runs nowhere on the source: the reason
/// of each target, and the fields `scan --source` lacks. Returns (runnable, rules checked).
fn source_findings(
    results: &mut [aisigma::semantics::checked::FileResult],
    name: &str,
    common: &Common,
) -> Result<(usize, usize), String> {
    use aisigma::report::diagnostic::{Code, Diagnostic, Severity};
    let pack = super::sources::load_pack(name)?;
    let schema = super::load_schema(&common.schemas)?;
    let runs = aisigma::source::runs::runs_on(results, &pack, &schema);
    let (mut ok, mut total) = (0, 0);
    for (r, file_runs) in results.iter_mut().zip(runs) {
        if r.diags.iter().any(|d| d.severity == Severity::Error) {
            continue;
        }
        let mut extra = Vec::new();
        for (cd, run) in r.docs.iter().zip(file_runs) {
            total += 1;
            if !run.targets.is_empty() || run.scan {
                ok += 1;
                continue;
            }
            let why = run
                .refused
                .first()
                .map(|(t, d)| {
                    format!(
                        "on {}: {}",
                        t.name(),
                        d.help.as_deref().unwrap_or(&d.message)
                    )
                })
                .or_else(|| {
                    (!run.missing.is_empty())
                        .then(|| format!("its records lack {}", run.missing.join(", ")))
                })
                .unwrap_or_else(|| {
                    format!(
                        "source `{}` carries: {}",
                        pack.name,
                        pack.categories.join(", ")
                    )
                });
            extra.push(
                Diagnostic::new(
                    Code::NotInSource,
                    cd.doc.span,
                    format!(
                        "rule `{}` cannot run on source `{}`: it compiles to no target with the \
                         source's landing, and `scan --source` lacks its fields",
                        cd.doc.label(),
                        pack.name
                    ),
                )
                .with_help(why),
            );
        }
        r.diags.extend(extra);
        r.diags
            .sort_by_key(|d| (d.span.start.line, d.span.start.col));
    }
    Ok((ok, total))
}
