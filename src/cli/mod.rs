//! The command line: one module per command. Each parses nothing itself (`main.rs` does, with
//! clap); it runs the pipeline stages the command needs and turns the outcome into output and
//! a documented exit code.

pub mod check;
pub mod compile;
pub mod config;
pub mod coverage;
pub mod deploy;
pub mod gen_events;
pub mod lsp;
pub mod new;
pub mod scan;
pub mod schema;
pub mod settings;
pub mod sources;
pub mod test;

use aisigma::report::diagnostic::Code;
use aisigma::report::render as report;
use aisigma::semantics::check::{Options, check_files};
use aisigma::semantics::checked::FileResult;
use aisigma::semantics::schema::Schema;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code: success, nothing to report.
pub const EXIT_OK: u8 = 0;
/// Exit code: errors found (or warnings with --deny-warnings), or tests failed.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or I/O problem.
pub const EXIT_USAGE: u8 = 2;

/// Options every rule-reading command takes.
#[derive(Args, Clone)]
pub struct Common {
    /// Extra schema file(s) to merge into the built-in AI telemetry schema
    #[arg(long = "schema", value_name = "FILE")]
    pub schemas: Vec<PathBuf>,
    /// Largest rule file to read, in bytes [default: 4194304]
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
}

impl Common {
    /// `--max-file-size`, else aisigma.toml's, else the default.
    pub fn max_file_size(&self) -> u64 {
        settings::get().max_file_size(self.max_file_size)
    }
}

/// The built-in schema with the `--schema` files merged in; a bad file is rendered as a
/// diagnostic.
pub fn load_schema(files: &[PathBuf]) -> Result<Schema, String> {
    let mut schema = Schema::builtin();
    for f in &settings::get().schema_files(files) {
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
    // The engine reads deprecated field names by this schema's aliases.
    aisigma::engine::aliases::use_schema(&schema);
    Ok(schema)
}

pub use aisigma::report::plural;

pub fn usage_error(msg: &str) -> ExitCode {
    eprintln!("aisigma: {}", msg.trim_end());
    ExitCode::from(EXIT_USAGE)
}

/// Write `s` to standard output. A closed pipe (`| head`) ends the command quietly with exit
/// 0; any other write error (a full disk) is reported, exit 2.
pub fn print(s: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => usage_error(&format!("cannot write to standard output: {e}")),
    }
}

/// Check the rules under `paths`; also says whether a file could not be read.
pub fn prepare(paths: &[PathBuf], common: &Common) -> Result<(Vec<FileResult>, bool), String> {
    let schema = load_schema(&common.schemas)?;
    let paths = settings::get().rule_paths(paths, ".");
    let files = aisigma::syntax::load::collect_files(&paths)?;
    let results = check_files(
        &files,
        &schema,
        &Options {
            max_file_size: common.max_file_size(),
        },
    );
    let io_failed = results
        .iter()
        .any(|r| r.diags.iter().any(|d| d.code == Code::IoError));
    Ok((results, io_failed))
}
