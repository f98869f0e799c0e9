//! `aisigma lsp`: the language server, over standard input and output (docs/editors.md).

use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, load_schema, usage_error};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories, relative to the workspace folder, whose rules count for the
    /// checks across files (duplicate ids, rule references) [default: `rules` of
    /// aisigma.toml, else the whole folder]
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Accepted for editors that always pass it; the server only speaks over stdio
    #[arg(long, hide = true)]
    stdio: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> ExitCode {
    let schema = match load_schema(&a.common.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let (conn, io) = aisigma::lsp::transport::stdio();
    let served = aisigma::lsp::serve(
        &conn,
        aisigma::lsp::Settings {
            schema,
            rule_paths: rule_paths(a.rules),
            max_file_size: a.common.max_file_size(),
        },
    );
    drop(conn);
    match served {
        // The reader thread has seen `exit` (or the end of input): join both threads, so a
        // transport failure is not lost.
        Ok(clean) => match io.join() {
            Err(e) => {
                eprintln!("error: aisigma lsp: {e}");
                ExitCode::from(EXIT_USAGE)
            }
            Ok(()) if clean => ExitCode::from(EXIT_OK),
            Ok(()) => ExitCode::from(EXIT_FINDINGS),
        },
        // A protocol error: the reader may still wait on input, so it is not joined.
        Err(e) => {
            eprintln!("error: aisigma lsp: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `--rules`, else aisigma.toml's `rules` (made absolute: the workspace folder need not be
/// the working directory), else none (the whole workspace folder).
fn rule_paths(given: Vec<PathBuf>) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    super::settings::get()
        .rules
        .as_ref()
        .map(|r| r.value.iter().map(|p| cwd.join(p)).collect())
        .unwrap_or_default()
}
