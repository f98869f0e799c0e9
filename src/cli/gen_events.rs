//! `aisigma gen-events`: deterministic synthetic AI telemetry, with a fraction of attacks.

use super::{Common, EXIT_OK, prepare, usage_error};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Number of events
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Seed of the generator (the same seed gives the same bytes)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of events that are attacks (0 to 1)
    #[arg(long, default_value_t = 0.01)]
    attack_rate: f64,
    /// Rules whose `tests.match` events are used as the attacks [default: `rules` of
    /// aisigma.toml, else rules]
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Write to FILE instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> ExitCode {
    if !(0.0..=1.0).contains(&a.attack_rate) {
        return usage_error("--attack-rate must be between 0 and 1");
    }
    let rules = super::settings::get().rule_paths(&a.rules, "rules");
    let (results, _) = match prepare(&rules, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let attacks: Vec<serde_json::Value> = results
        .iter()
        .flat_map(|r| &r.docs)
        .flat_map(|cd| cd.doc.tests.iter().flatten())
        // Raw records of a source are not events in the schema's names.
        .filter(|t| t.expect_match && !aisigma::engine::ruletest::is_raw_record(&t.event))
        .map(|t| t.event.clone())
        .collect();
    let (count, seed, rate) = (a.count, a.seed, a.attack_rate);
    let written = match &a.output {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            aisigma::scan::gen_events::write(&mut out, count, seed, rate, &attacks)
                .and_then(|()| out.flush())
        }
        Some(path) => aisigma::report::output::write_atomic_with(path, |out| {
            aisigma::scan::gen_events::write(out, count, seed, rate, &attacks)
        }),
    };
    match written {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => usage_error(&format!(
            "cannot write {}: {e}",
            a.output
                .as_ref()
                .map_or("to standard output".to_string(), |p| p
                    .display()
                    .to_string())
        )),
    }
}
