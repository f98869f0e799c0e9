//! `aisigma coverage`: what the rules cover in MITRE ATLAS and the OWASP LLM and Agentic Top
//! 10, with the targets and sources each covered entry runs on; an ATLAS Navigator layer; and
//! the gaps against a list of required techniques.

use super::{Common, EXIT_FINDINGS, EXIT_OK, load_schema, prepare, print, usage_error};
use aisigma::report::coverage::{Coverage, parse_required};
use aisigma::report::diagnostic::Severity;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories [default: `rules` of aisigma.toml, else .]
    paths: Vec<PathBuf>,
    /// Output format on standard output
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write an ATLAS Navigator layer (JSON, layer format 4.3, domain atlas-atlas) to FILE
    #[arg(long, value_name = "FILE")]
    navigator: Option<PathBuf>,
    /// The layer's name, as the Navigator shows it
    #[arg(long, value_name = "NAME", default_value = "aisigma coverage")]
    layer_name: String,
    /// Exit 1 when a technique or risk listed in FILE is not covered (one id per line, such
    /// as AML.T0051 or LLM01, `#` comments; or a Navigator layer whose techniques are the list)
    #[arg(long, value_name = "FILE")]
    fail_on_gaps: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Markdown,
}

pub fn run(a: Args) -> ExitCode {
    let required = match &a.fail_on_gaps {
        None => None,
        Some(path) => {
            let parsed = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|text| {
                    parse_required(&text).map_err(|e| format!("{}: {e}", path.display()))
                });
            match parsed {
                Ok(ids) => Some(ids),
                Err(e) => return usage_error(&e),
            }
        }
    };
    let schema = match load_schema(&a.common.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let (results, io_failed) = match prepare(&a.paths, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if io_failed {
        return usage_error("cannot read the rules (run `aisigma check` on them)");
    }
    let packs = aisigma::source::all();
    let names: Vec<String> = packs.iter().map(|p| p.name.clone()).collect();
    let runs: Vec<_> = packs
        .iter()
        .map(|p| aisigma::source::runs::runs_on(&results, p, &schema))
        .collect();
    let coverage = Coverage::build(&results, &names, &runs);
    let gaps = required.as_deref().map(|r| coverage.gaps(r));
    if let Some(path) = &a.navigator {
        let layer = aisigma::report::navigator::layer(&coverage, &a.layer_name);
        let mut text = serde_json::to_string_pretty(&layer).unwrap_or_default();
        text.push('\n');
        if let Err(e) = aisigma::report::output::write_atomic(path, text.as_bytes()) {
            return usage_error(&format!("cannot write {}: {e}", path.display()));
        }
    }
    let text = match a.format {
        Format::Table => coverage.table(gaps.as_deref()),
        Format::Markdown => coverage.markdown(gaps.as_deref()),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&coverage.json(gaps.as_deref())).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    let code = print(&text);
    if code != ExitCode::from(EXIT_OK) {
        return code;
    }
    let errors: usize = results
        .iter()
        .map(|r| {
            r.diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count()
        })
        .sum();
    if errors > 0 {
        eprintln!(
            "aisigma: the rules have {} (run `aisigma check`); rules with errors compile to nothing",
            super::plural(errors, "error")
        );
        return ExitCode::from(EXIT_FINDINGS);
    }
    if gaps.is_some_and(|g| !g.is_empty()) {
        return ExitCode::from(EXIT_FINDINGS);
    }
    ExitCode::from(EXIT_OK)
}
