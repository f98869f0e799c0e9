//! `aisigma scan`: run rules over JSON Lines event logs.

use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, load_schema, prepare, usage_error};
use aisigma::regex::casefold::CaseMode;
use aisigma::report::diagnostic::Severity;
use aisigma::scan::event_input::{self, Source};
use aisigma::scan::scanner as scan;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum ScanFormat {
    /// One JSON object per match and line
    Jsonl,
    /// A table row per match
    Human,
}

#[derive(clap::Args)]
pub struct Args {
    /// Event files or directories; `-` reads standard input
    #[arg(default_value = "-")]
    inputs: Vec<PathBuf>,
    /// Rule files or directories (repeatable) [default: `rules` of aisigma.toml; one of the
    /// two is required]
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Output format of the matches
    #[arg(long, value_enum, default_value_t = ScanFormat::Jsonl)]
    format: ScanFormat,
    /// The event field that holds the log-source category
    #[arg(long, value_name = "FIELD", default_value = "ai.category")]
    category_field: String,
    /// Treat every event as this category (overrides --category-field)
    #[arg(long, value_name = "NAME")]
    category: Option<String>,
    /// The source the inputs come from: each raw record becomes schema events by the pack
    /// (`aisigma sources`); the default `aisigma` reads events already in schema names
    /// [default: `source` of aisigma.toml, else aisigma]
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Stop at the first malformed line (exit 2); also parses lines no rule could match
    #[arg(long)]
    strict: bool,
    /// Never show a progress bar
    #[arg(long)]
    no_progress: bool,
    /// Do not print the summary (events, throughput, matches per rule) at the end
    #[arg(long)]
    no_summary: bool,
    /// How far behind the newest timestamp an input of a correlation may arrive and still
    /// be evaluated in time order (e.g. 30s, 5m); later ones are counted and left out
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    lateness: String,
    /// Compare case-insensitive strings by Unicode simple case folding (`k` also matches the
    /// Kelvin sign), written out exactly, instead of the default ASCII contract
    #[arg(long)]
    unicode_exact: bool,
    #[command(flatten)]
    common: Common,
}

/// `--lateness`: a timespan, or zero in any unit.
fn lateness_ms(lateness: &str) -> Option<i64> {
    let zero = lateness.starts_with('0')
        && lateness
            .trim_start_matches('0')
            .chars()
            .all(|c| c.is_ascii_alphabetic());
    if zero {
        Some(0)
    } else {
        aisigma::syntax::correlation::timespan_ms(lateness)
    }
}

/// A progress bar over the inputs' total size, on a terminal.
fn progress_bar(sources: &[Source], no_progress: bool) -> Option<indicatif::ProgressBar> {
    let total: Option<u64> = sources.iter().map(|s| s.size).sum();
    match total {
        Some(t) if !no_progress && std::io::stderr().is_terminal() => {
            let b = indicatif::ProgressBar::new(t);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(b)
        }
        _ => None,
    }
}

pub fn run(a: Args) -> ExitCode {
    let Some(lateness_ms) = lateness_ms(&a.lateness) else {
        return usage_error(&format!(
            "--lateness `{}` is not a duration (a number and ms, s, m, h, d, w, M or y)",
            a.lateness
        ));
    };
    if a.rules.is_empty() && super::settings::get().rules.is_none() {
        return usage_error("scan needs the rules: --rules PATH, or `rules` in aisigma.toml");
    }
    // The matchers reuse the regexes that checking the rules compiles.
    aisigma::regex::compiled::keep();
    let (results, io_failed) = match prepare(&a.rules, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if io_failed {
        return usage_error("cannot read the rules (run `aisigma check` on them)");
    }
    let scan::Loaded {
        rules,
        exprs,
        table,
        index,
        correlations,
        skipped,
    } = scan::load_rules_with(
        &results,
        if a.unicode_exact {
            CaseMode::Unicode
        } else {
            CaseMode::Ascii
        },
    );
    // The loaded matchers hold the regexes they use; the others are not kept.
    aisigma::regex::compiled::forget();
    for s in &skipped {
        eprintln!("aisigma: {s}");
    }
    let rule_errors = results
        .iter()
        .any(|r| r.diags.iter().any(|d| d.severity == Severity::Error));
    if rules.is_empty() {
        return usage_error("no rule to scan with");
    }
    let schema = match load_schema(&a.common.schemas) {
        Ok(schema) => schema,
        Err(e) => return usage_error(&e),
    };
    let category = match a.category.as_deref().map(|c| known_category(c, &schema)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return usage_error(&e),
    };
    let source = super::settings::get().source(a.source.as_deref());
    let normalizer = match normalizer(&source, &schema, &rules) {
        Ok(n) => n,
        Err(e) => return usage_error(&e),
    };
    let scope = scan::Scope {
        category_field: a.category_field.clone(),
        category,
    };
    let scanner =
        scan::Scanner::with_correlations(rules, &exprs, (table, index), &correlations, scope);
    // The scanner holds what it needs (rules compile on first use from their own copy): the
    // checked files and the detections are not kept for the scan.
    drop((results, exprs));
    let sources = match open_sources(&a.inputs) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let opts = scan::Options {
        format: match a.format {
            ScanFormat::Jsonl => scan::Format::Jsonl,
            ScanFormat::Human => scan::Format::Human,
        },
        strict: a.strict,
        lateness_ms,
        normalizer,
        ..scan::Options::default()
    };
    let bar = progress_bar(&sources, a.no_progress);
    let started = std::time::Instant::now();
    let stats = match stream(&scanner, &correlations, sources, &opts, bar.as_ref()) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::from(EXIT_OK),
        Err(e) => return usage_error(&format!("cannot write to standard output: {e}")),
    };
    if !a.no_summary {
        eprint!(
            "{}",
            scan::summary(&scanner, &correlations, &stats, started.elapsed())
        );
    }
    exit_code(&stats, rule_errors)
}

/// `--category`: a category of the schema, in any case (its canonical spelling), or a
/// usage error with a did-you-mean.
pub(super) fn known_category(
    name: &str,
    schema: &aisigma::semantics::schema::Schema,
) -> Result<String, String> {
    let names: Vec<&str> = schema
        .products
        .values()
        .flat_map(|p| p.categories.keys().map(String::as_str))
        .collect();
    if let Some(c) = names.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Ok(c.to_string());
    }
    let sugg = aisigma::report::diagnostic::suggest(name, names.iter().copied(), 2);
    Err(format!(
        "unknown --category `{name}`: {}",
        aisigma::report::diagnostic::did_you_mean(&sugg)
            .unwrap_or_else(|| format!("the categories are: {}", names.join(", ")))
    ))
}

/// The normaliser of `--source` (none for the default, data already in schema names); says
/// on standard error how many rules cannot match because the source lacks their category.
fn normalizer(
    source: &str,
    schema: &aisigma::semantics::schema::Schema,
    rules: &[scan::ScanRule],
) -> Result<Option<std::sync::Arc<aisigma::source::normalize::Normalizer>>, String> {
    let pack = super::sources::load_pack(source)?;
    if pack.name == aisigma::source::DEFAULT {
        return Ok(None);
    }
    let idle = rules
        .iter()
        .filter(|r| {
            r.category
                .as_ref()
                .is_some_and(|c| !pack.categories.contains(c))
        })
        .count();
    if idle > 0 {
        eprintln!(
            "aisigma: source `{}` carries only {} events: {} cannot match",
            pack.name,
            pack.categories.join(", "),
            super::plural(idle, "rule")
        );
    }
    Ok(Some(std::sync::Arc::new(
        aisigma::source::normalize::Normalizer::new(pack, schema),
    )))
}

/// Scan the sources to standard output, with warnings on standard error.
fn stream(
    scanner: &scan::Scanner,
    correlations: &[scan::ScanCorrelation],
    sources: Vec<Source>,
    opts: &scan::Options,
    bar: Option<&indicatif::ProgressBar>,
) -> std::io::Result<scan::Stats> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut warn = std::io::stderr();
    let progress = |n: u64| {
        if let Some(b) = bar {
            b.set_position(n);
        }
    };
    let result = scan::run(
        scanner,
        correlations,
        sources,
        opts,
        &mut out,
        &mut warn,
        &progress,
    );
    let flushed = out.flush();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stats = result?;
    flushed?;
    Ok(stats)
}

/// Every input file, opened (decompression detected).
fn open_sources(inputs: &[PathBuf]) -> Result<Vec<Source>, String> {
    let files = event_input::expand(inputs).map_err(|e| e.to_string())?;
    files
        .iter()
        .map(|f| event_input::open(f).map_err(|e| format!("cannot read {}: {e}", f.display())))
        .collect()
}

/// 2 for a scan stopped by a malformed line (`--strict`), an input that could not be read to
/// the end, or rules with errors; 1 for matches or alerts, else 0.
fn exit_code(stats: &scan::Stats, rule_errors: bool) -> ExitCode {
    if stats.stopped_at.is_some() || rule_errors || !stats.failed_inputs.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if stats.matches > 0 || stats.alerts > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}
