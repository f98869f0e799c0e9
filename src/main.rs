//! The `aisigma` command line.

use aisigma::engine::ruletest::{self, Outcome};
use aisigma::report::render::{self as report, Format};
use aisigma::semantics::check::{self, Options};
use aisigma::semantics::schema::Schema;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: success, nothing to report.
const EXIT_OK: u8 = 0;
/// Exit code: errors found (or warnings with --deny-warnings), or tests failed.
const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or I/O problem.
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(name = "aisigma", version, about = "Detection-rule compiler for AI systems: check, test and compile Sigma-superset rules", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Extra schema file(s) to merge into the built-in AI telemetry schema
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,
    /// Largest rule file to read, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = aisigma::syntax::load::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Check rules: YAML, structure, metadata, tags, condition, schema types
    Check {
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
    },
    /// Run the in-rule tests (`tests: {match: [...], no_match: [...]}`) of every rule
    Test {
        /// Rule files or directories
        #[arg(default_value = ".")]
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
        #[command(flatten)]
        common: Common,
    },
    /// Compile rules to a target query language
    Compile {
        /// Rule files or directories
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Target query language
        #[arg(long, value_enum)]
        target: aisigma::backend::Target,
        /// Output format: `query` prints each query; `json` prints one JSON object per rule and
        /// line; the others are deployable artifacts of one target (see docs/backends.md)
        #[arg(long, value_enum, default_value_t = CompileFormat::Query)]
        format: CompileFormat,
        /// Field and log-source mapping file replacing the target's built-in one
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Directory of artifact templates (`<format>.j2`) overriding the built-in ones
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Write one file per rule (or one pack file) into DIR, atomically
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Run rules over JSON Lines events (files, directories, `-` for stdin; gzip/zstd)
    Scan {
        /// Event files or directories; `-` reads standard input
        #[arg(default_value = "-")]
        inputs: Vec<PathBuf>,
        /// Rule files or directories (repeatable)
        #[arg(long = "rules", value_name = "PATH", required = true)]
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
        #[command(flatten)]
        common: Common,
    },
    /// Write deterministic synthetic AI telemetry (JSON Lines), with a fraction of attacks
    GenEvents {
        /// Number of events
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Seed of the generator (the same seed gives the same bytes)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of events that are attacks (0 to 1)
        #[arg(long, default_value_t = 0.01)]
        attack_rate: f64,
        /// Rules whose `tests.match` events are used as the attacks
        #[arg(long = "rules", value_name = "PATH", default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Write to FILE instead of standard output
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Print the AI telemetry schema (fields, types and enums per category)
    Schema {
        /// Output format
        #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
        format: SchemaFormat,
        /// Only this category
        #[arg(long)]
        category: Option<String>,
        /// Extra schema file(s) to merge in
        #[arg(long = "schema", value_name = "FILE")]
        schemas: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum CompileFormat {
    Query,
    Json,
    /// Kibana detection-rule import file, NDJSON (lucene, eql, esql)
    KibanaNdjson,
    /// Microsoft Sentinel analytics rule, YAML of the Azure-Sentinel repository (kql)
    SentinelRule,
    /// Microsoft Sentinel analytics rule, ARM template JSON (kql)
    SentinelArm,
    /// Splunk savedsearches.conf stanzas, one pack (spl)
    Savedsearches,
    /// A complete YARA-L 2.0 rule file per rule (yaral)
    Chronicle,
    /// The custom tables the queries read, as JSON: {"Table_CL": {"column": "type"}} (kql)
    Tables,
}

impl CompileFormat {
    /// The artifact format this names (rendered from a template), if any.
    fn artifact(self) -> Option<&'static str> {
        match self {
            CompileFormat::Query | CompileFormat::Json | CompileFormat::Tables => None,
            CompileFormat::KibanaNdjson => Some("kibana-ndjson"),
            CompileFormat::SentinelRule => Some("sentinel-rule"),
            CompileFormat::SentinelArm => Some("sentinel-arm"),
            CompileFormat::Savedsearches => Some("savedsearches"),
            CompileFormat::Chronicle => Some("chronicle"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum ScanFormat {
    /// One JSON object per match and line
    Jsonl,
    /// A table row per match
    Human,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaFormat {
    Table,
    Json,
}

fn load_schema(files: &[PathBuf]) -> Result<Schema, String> {
    let mut schema = Schema::builtin();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read schema {}: {e}", f.display()))?;
        schema.add_source(&text).map_err(|d| {
            let src = aisigma::syntax::source::SourceFile::new(
                aisigma::syntax::load::display_path(f),
                text.clone(),
            );
            let mut out = String::new();
            report::human_one(&mut out, &src.path, Some(&src), &d);
            out
        })?;
    }
    Ok(schema)
}

/// "1 file", "2 files".
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("aisigma: {}", msg.trim_end());
    ExitCode::from(EXIT_USAGE)
}

fn print(s: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    if out
        .write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::from(EXIT_OK)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            common,
        } => run_check(&paths, format, deny_warnings, &common),
        Command::Test {
            paths,
            junit,
            require_tests,
            format,
            common,
        } => run_test(&paths, junit, require_tests, format, &common),
        Command::Schema {
            format,
            category,
            schemas,
        } => run_schema(format, category, &schemas),
        Command::GenEvents {
            count,
            seed,
            attack_rate,
            rules,
            output,
            common,
        } => run_gen_events(count, seed, attack_rate, &rules, output, &common),
        Command::Scan {
            inputs,
            rules,
            format,
            category_field,
            category,
            strict,
            no_progress,
            no_summary,
            lateness,
            common,
        } => run_scan(
            &inputs,
            &rules,
            format,
            aisigma::scan::scanner::Scope {
                category_field,
                category,
            },
            strict,
            no_progress,
            no_summary,
            &lateness,
            &common,
        ),
        Command::Compile {
            paths,
            target,
            format,
            mapping,
            templates,
            output,
            common,
        } => run_compile(&paths, target, format, mapping, templates, output, &common),
    }
}

fn prepare(paths: &[PathBuf], common: &Common) -> Result<(Vec<check::FileResult>, bool), String> {
    let schema = load_schema(&common.schemas)?;
    let files = aisigma::syntax::load::collect_files(paths)?;
    let results = check::check_files(
        &files,
        &schema,
        &Options {
            max_file_size: common.max_file_size,
        },
    );
    let io_failed = results.iter().any(|r| {
        r.diags
            .iter()
            .any(|d| d.code == aisigma::report::diagnostic::Code::IoError)
    });
    Ok((results, io_failed))
}

fn run_check(paths: &[PathBuf], format: Format, deny_warnings: bool, common: &Common) -> ExitCode {
    let (results, io_failed) = match prepare(paths, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let rendered = report::render(format, &results);
    let printed = print(&rendered);
    let (errors, warnings, _) = check::totals(&results);
    let rules: usize = results.iter().map(|r| r.docs.len()).sum();
    if format == Format::Human {
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
    } else if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

fn run_test(
    paths: &[PathBuf],
    junit: Option<PathBuf>,
    require_tests: bool,
    format: TestFormat,
    common: &Common,
) -> ExitCode {
    let (results, io_failed) = match prepare(paths, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let outcomes = ruletest::run(&results, require_tests);
    let count = |o: Outcome| outcomes.iter().filter(|r| r.outcome == o).count();
    let (passed, failed, errored, untested) = (
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Error),
        count(Outcome::NoTests),
    );
    let mut out = String::new();
    match format {
        TestFormat::Human => {
            for o in &outcomes {
                let label = match o.outcome {
                    Outcome::Passed => "PASS",
                    Outcome::Failed => "FAIL",
                    Outcome::Error => "ERROR",
                    Outcome::NoTests if require_tests => "FAIL",
                    Outcome::NoTests => "SKIP",
                };
                let detail = match o.outcome {
                    Outcome::Passed => plural(o.cases, "case"),
                    Outcome::Failed => {
                        format!("{} of {} failed", o.failed_cases, plural(o.cases, "case"))
                    }
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
                "\n{}: {passed} passed, {failed} failed, {}, {untested} without tests\n",
                plural(outcomes.len(), "rule"),
                plural(errored, "error")
            ));
        }
        TestFormat::Json => {
            for o in &outcomes {
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
        }
    }
    if let Some(path) = junit
        && let Err(e) =
            aisigma::report::output::write_atomic(&path, ruletest::junit(&outcomes).as_bytes())
    {
        return usage_error(&format!("cannot write {}: {e}", path.display()));
    }
    if print(&out) != ExitCode::from(EXIT_OK) || io_failed {
        return ExitCode::from(EXIT_USAGE);
    }
    if failed + errored > 0 || (require_tests && untested > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

fn run_gen_events(
    count: u64,
    seed: u64,
    attack_rate: f64,
    rules: &[PathBuf],
    output: Option<PathBuf>,
    common: &Common,
) -> ExitCode {
    if !(0.0..=1.0).contains(&attack_rate) {
        return usage_error("--attack-rate must be between 0 and 1");
    }
    let (results, _) = match prepare(rules, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let attacks: Vec<serde_json::Value> = results
        .iter()
        .flat_map(|r| &r.docs)
        .flat_map(|cd| cd.doc.tests.iter().flatten())
        .filter(|t| t.expect_match)
        .map(|t| t.event.clone())
        .collect();
    let written = match &output {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            aisigma::scan::gen_events::write(&mut out, count, seed, attack_rate, &attacks)
                .and_then(|()| out.flush())
        }
        Some(path) => aisigma::report::output::write_atomic_with(path, |out| {
            aisigma::scan::gen_events::write(out, count, seed, attack_rate, &attacks)
        }),
    };
    match written {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => usage_error(&e.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_scan(
    inputs: &[PathBuf],
    rule_paths: &[PathBuf],
    format: ScanFormat,
    scope: aisigma::scan::scanner::Scope,
    strict: bool,
    no_progress: bool,
    no_summary: bool,
    lateness: &str,
    common: &Common,
) -> ExitCode {
    use aisigma::scan::scanner as scan;
    let zero = lateness.starts_with('0')
        && lateness
            .trim_start_matches('0')
            .chars()
            .all(|c| c.is_ascii_alphabetic());
    let Some(lateness_ms) = (if zero {
        Some(0)
    } else {
        aisigma::semantics::correlation::timespan_ms(lateness)
    }) else {
        return usage_error(&format!(
            "--lateness `{lateness}` is not a duration (a number and ms, s, m, h, d, w, M or y)"
        ));
    };
    use std::io::IsTerminal;
    let (results, io_failed) = match prepare(rule_paths, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if io_failed {
        return usage_error("cannot read the rules (run `aisigma check` on them)");
    }
    let scan::Loaded {
        rules,
        exprs,
        correlations,
        skipped,
    } = scan::load_rules(&results);
    for s in &skipped {
        eprintln!("aisigma: {s}");
    }
    let rule_errors = results.iter().any(|r| {
        r.diags
            .iter()
            .any(|d| d.severity == aisigma::report::diagnostic::Severity::Error)
    });
    if rules.is_empty() {
        return usage_error("no rule to scan with");
    }
    let schema = match load_schema(&common.schemas) {
        Ok(schema) => schema,
        Err(e) => return usage_error(&e),
    };
    let scanner = scan::Scanner::with_correlations(rules, &exprs, &correlations, scope, &schema);
    let files = match aisigma::scan::event_input::expand(inputs) {
        Ok(f) => f,
        Err(e) => return usage_error(&e.to_string()),
    };
    let mut sources = Vec::new();
    for f in &files {
        match aisigma::scan::event_input::open(f) {
            Ok(s) => sources.push(s),
            Err(e) => return usage_error(&format!("cannot read {}: {e}", f.display())),
        }
    }
    // A progress bar for files, on a terminal.
    let total: Option<u64> = sources.iter().map(|s| s.size).sum();
    let bar = match total {
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
    };
    let opts = scan::Options {
        format: match format {
            ScanFormat::Jsonl => scan::Format::Jsonl,
            ScanFormat::Human => scan::Format::Human,
        },
        strict,
        lateness_ms,
        ..scan::Options::default()
    };
    let started = std::time::Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut warn = std::io::stderr();
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let result = scan::run(
        &scanner,
        &correlations,
        sources,
        &opts,
        &mut out,
        &mut warn,
        &progress,
    );
    let flushed = out.flush();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let stats = match (result, flushed) {
        (Ok(s), Ok(())) => s,
        (Err(e), _) | (_, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return ExitCode::from(EXIT_OK);
        }
        (Err(e), _) | (_, Err(e)) => return usage_error(&e.to_string()),
    };
    if !no_summary {
        eprint!(
            "{}",
            scan::summary(&scanner, &correlations, &stats, started.elapsed())
        );
    }
    if stats.stopped_at.is_some() || rule_errors {
        ExitCode::from(EXIT_USAGE)
    } else if stats.matches > 0 || stats.alerts > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

fn run_schema(format: SchemaFormat, category: Option<String>, schemas: &[PathBuf]) -> ExitCode {
    let schema = match load_schema(schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    if let Some(c) = &category
        && !schema
            .products
            .values()
            .any(|p| p.categories.contains_key(c))
    {
        let all: Vec<&str> = schema
            .products
            .values()
            .flat_map(|p| p.categories.keys().map(String::as_str))
            .collect();
        return usage_error(&format!(
            "no category `{c}`; categories: {}",
            all.join(", ")
        ));
    }
    let out = match format {
        SchemaFormat::Json => aisigma::report::schema_doc::json(&schema, category.as_deref()),
        SchemaFormat::Table => aisigma::report::schema_doc::table(&schema, category.as_deref()),
    };
    print(&out)
}

fn run_compile(
    paths: &[PathBuf],
    target: aisigma::backend::Target,
    format: CompileFormat,
    mapping: Option<PathBuf>,
    templates: Option<PathBuf>,
    output: Option<PathBuf>,
    common: &Common,
) -> ExitCode {
    use aisigma::backend;
    let artifact = match format.artifact() {
        None => None,
        Some(name) => match target.format(name) {
            Some(f) => {
                let text = match &templates {
                    Some(dir) if dir.join(f.template).is_file() => {
                        match std::fs::read_to_string(dir.join(f.template)) {
                            Ok(t) => t,
                            Err(e) => {
                                return usage_error(&format!(
                                    "cannot read template {}: {e}",
                                    dir.join(f.template).display()
                                ));
                            }
                        }
                    }
                    _ => f.builtin.to_string(),
                };
                Some((f, text))
            }
            None => {
                let names: Vec<&str> = target.formats().iter().map(|f| f.name).collect();
                return usage_error(&format!(
                    "format `{name}` is not available for target {}; it has: query, json{}",
                    target.name(),
                    names.iter().map(|n| format!(", {n}")).collect::<String>()
                ));
            }
        },
    };
    let mapping = match &mapping {
        None => target.builtin_mapping(),
        Some(f) => {
            let shown = aisigma::syntax::load::display_path(f);
            let text = match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => return usage_error(&format!("cannot read mapping {shown}: {e}")),
            };
            match backend::mapping::Mapping::parse(&shown, &text) {
                Ok(m) => m,
                Err(d) => {
                    let src = aisigma::syntax::source::SourceFile::new(shown.clone(), text.clone());
                    let mut out = String::new();
                    report::human_one(&mut out, &src.path, Some(&src), &d);
                    return usage_error(&out);
                }
            }
        }
    };
    let schema = match load_schema(&common.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    if format == CompileFormat::Tables {
        return run_tables(target, &mapping, &schema, output.as_deref());
    }
    let (results, io_failed) = match prepare(paths, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let mut out = String::new();
    let mut errors = String::new();
    let mut failed = 0usize;
    let mut files: Vec<(String, String)> = Vec::new();
    // Rules compile in parallel; the output is assembled in input order below.
    let check_errors: Vec<Vec<_>> = results
        .iter()
        .map(|r| {
            r.diags
                .iter()
                .filter(|d| d.severity == aisigma::report::diagnostic::Severity::Error)
                .cloned()
                .collect()
        })
        .collect();
    let precompiled: Vec<Vec<_>> = {
        use rayon::prelude::*;
        results
            .par_iter()
            .enumerate()
            .map(|(fi, r)| {
                let check_errors = &check_errors[fi];
                r.docs
                    .iter()
                    .enumerate()
                    .map(|(di, cd)| match (&cd.expr, check_errors.is_empty()) {
                        (_, true) if matches!(cd.doc.body, Some(aisigma::syntax::ast::Body::Correlation(_))) => {
                            backend::correlation::compile(&results, (fi, di), target, &mapping, &schema)
                        }
                        // Meta filters are refused, never silently skipped.
                        (_, true) if cd.doc.detection().is_none() => Err(vec![
                            aisigma::report::diagnostic::Diagnostic::new(
                                aisigma::report::diagnostic::Code::NotYetSupported,
                                cd.doc
                                    .meta
                                    .title
                                    .as_ref()
                                    .map(|t| t.span)
                                    .unwrap_or(cd.doc.span),
                                format!(
                                    "rule `{}`: {} documents cannot be compiled yet",
                                    cd.doc.label(),
                                    cd.doc.kind_name()
                                ),
                            )
                            .with_severity(aisigma::report::diagnostic::Severity::Error)
                            .with_help("meta filters are checked, but applying them is not implemented yet"),
                        ]),
                        (Some(expr), true) => {
                            backend::compile(&cd.doc, expr, target, &mapping, &schema)
                        }
                        _ => Err(check_errors.clone()),
                    })
                    .collect()
            })
            .collect()
    };
    // Inputs of correlations are compiled with their correlation, not on their own.
    let inputs = aisigma::semantics::correlation::hidden_inputs(&results);
    for (fi, (r, compiled_docs)) in results.iter().zip(precompiled).enumerate() {
        let check_errors = &check_errors[fi];
        let docs: Vec<_> = r.docs.iter().collect();
        if docs.is_empty() && !check_errors.is_empty() {
            failed += 1;
            emit_errors(&mut out, &mut errors, format, r, None, target, check_errors);
            continue;
        }
        for (i, (cd, compiled)) in docs.iter().zip(compiled_docs).enumerate() {
            if inputs.contains(&(fi, i)) {
                continue;
            }
            let compiled = compiled.and_then(|c| {
                requires_format(&c, &cd.doc, artifact.as_ref().map(|(f, _)| f.name), target)
                    .map(|()| c)
            });
            match compiled {
                Ok(c) => {
                    for w in &c.warnings {
                        report::human_one(&mut errors, &r.path, r.source.as_deref(), w);
                    }
                    let stem = Path::new(&r.path)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let name = match &cd.doc.meta.id {
                        Some(id) => id.value.to_lowercase(),
                        None if docs.len() > 1 => format!("{stem}-{}", i + 1),
                        None => stem,
                    };
                    let body = if let Some((f, text)) = &artifact {
                        let ctx = backend::artifact::RuleContext::new(&cd.doc, &r.path);
                        match backend::artifact::render(
                            f.template,
                            text,
                            &ctx,
                            &c.query,
                            &c.logsource,
                            c.correlation.as_ref(),
                            target.name(),
                        ) {
                            // Every artifact ends with one line break, so that pack parts
                            // concatenate cleanly.
                            Ok(b) => b.trim_end_matches('\n').to_string() + "\n",
                            Err(e) => return usage_error(&e),
                        }
                    } else if format == CompileFormat::Json {
                        let v = serde_json::json!({
                            "file": r.path,
                            "id": cd.doc.meta.id.as_ref().map(|x| x.value.clone()),
                            "title": cd.doc.label(),
                            "target": target.name(),
                            "query": c.query,
                            "logsource": c.logsource,
                        });
                        let mut v = v;
                        if let Some(corr) = &c.correlation {
                            v["correlation"] = corr.clone();
                        }
                        if !c.warnings.is_empty() {
                            v["warnings"] = c
                                .warnings
                                .iter()
                                .map(|d| {
                                    serde_json::json!({
                                        "code": d.code.as_str(),
                                        "message": d.message,
                                        "help": d.help,
                                        "line": d.span.start.line,
                                        "column": d.span.start.col,
                                    })
                                })
                                .collect();
                        }
                        v.to_string() + "\n"
                    } else {
                        c.query.clone() + "\n"
                    };
                    out.push_str(&body);
                    // With `-o`, `query` and `json` write each rule's query to its own file.
                    let (ext, file_body) = match &artifact {
                        Some((f, _)) => (f.extension, body),
                        None => (target.extension(), c.query.clone() + "\n"),
                    };
                    files.push((format!("{name}.{ext}"), file_body));
                }
                Err(diags) => {
                    failed += 1;
                    emit_errors(
                        &mut out,
                        &mut errors,
                        format,
                        r,
                        Some(&cd.doc),
                        target,
                        &diags,
                    );
                }
            }
        }
    }
    let pack = artifact.as_ref().and_then(|(f, _)| f.pack);
    let compiled = files.len();
    if let Some(p) = pack {
        files = vec![(p.to_string(), out.clone())];
    }
    if let Some(dir) = output {
        for (name, body) in &files {
            if let Err(e) = aisigma::report::output::write_atomic(&dir.join(name), body.as_bytes())
            {
                return usage_error(&format!("cannot write {}: {e}", dir.join(name).display()));
            }
        }
    } else if print(&out) != ExitCode::from(EXIT_OK) {
        return ExitCode::from(EXIT_USAGE);
    }
    eprint!("{errors}");
    if format == CompileFormat::Query || !errors.is_empty() {
        eprintln!(
            "compiled {} to {}, {} refused or invalid",
            plural(compiled, "rule"),
            target.name(),
            failed
        );
    }
    if io_failed {
        ExitCode::from(EXIT_USAGE)
    } else if failed > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// A correlation that only an artifact format can express (a Kibana threshold rule) is
/// refused in every other format: its query alone would drop the threshold.
fn requires_format(
    c: &aisigma::backend::Compiled,
    doc: &aisigma::syntax::ast::Doc,
    format: Option<&str>,
    target: aisigma::backend::Target,
) -> Result<(), Vec<aisigma::report::diagnostic::Diagnostic>> {
    let needed = c
        .correlation
        .as_ref()
        .and_then(|v| v.get("artifact_only"))
        .and_then(|v| v.as_str());
    match needed {
        Some(n) if format != Some(n) => {
            let span = match &doc.body {
                Some(aisigma::syntax::ast::Body::Correlation(corr)) => corr.kind.span,
                _ => doc.span,
            };
            Err(vec![
                aisigma::report::diagnostic::Diagnostic::new(
                    aisigma::report::diagnostic::Code::UnsupportedConstruct,
                    span,
                    format!(
                        "rule `{}`: this correlation can be compiled to {} only as `--format {n}`",
                        doc.label(),
                        target.name()
                    ),
                )
                .with_help(format!(
                    "the {} query alone has no count; the count lives in the {n} rule",
                    target.name()
                )),
            ])
        }
        _ => Ok(()),
    }
}

/// `compile --format tables`: the table schema of the KQL output (rules are not read).
fn run_tables(
    target: aisigma::backend::Target,
    mapping: &aisigma::backend::mapping::Mapping,
    schema: &aisigma::semantics::schema::Schema,
    output: Option<&Path>,
) -> ExitCode {
    if target != aisigma::backend::Target::Kql {
        return usage_error(&format!(
            "format `tables` is only available for target kql, not {}",
            target.name()
        ));
    }
    let tables = match aisigma::backend::kql::tables(mapping, schema) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let body = serde_json::to_string_pretty(&tables).unwrap_or_default() + "\n";
    match output {
        Some(dir) => {
            match aisigma::report::output::write_atomic(&dir.join("tables.json"), body.as_bytes()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) => usage_error(&format!(
                    "cannot write {}: {e}",
                    dir.join("tables.json").display()
                )),
            }
        }
        None => print(&body),
    }
}

/// Report a rule that did not compile: human diagnostics on stderr, or a JSON error object.
fn emit_errors(
    out: &mut String,
    errors: &mut String,
    format: CompileFormat,
    r: &check::FileResult,
    doc: Option<&aisigma::syntax::ast::Doc>,
    target: aisigma::backend::Target,
    diags: &[aisigma::report::diagnostic::Diagnostic],
) {
    if format == CompileFormat::Json {
        let d = &diags[0];
        let v = serde_json::json!({
            "file": r.path,
            "id": doc.and_then(|d| d.meta.id.as_ref()).map(|x| x.value.clone()),
            "title": doc.map(|d| d.label()),
            "target": target.name(),
            "error": {
                "code": d.code.as_str(),
                "message": d.message,
                "help": d.help,
                "line": d.span.start.line,
                "column": d.span.start.col,
                "count": diags.len(),
            },
        });
        out.push_str(&v.to_string());
        out.push('\n');
    } else {
        for d in diags {
            report::human_one(errors, &r.path, r.source.as_deref(), d);
        }
    }
}
