//! `aisigma config show`: the effective settings (aisigma.toml, flags, defaults) and where
//! each comes from.

use super::print;
use super::settings::{Origin, get};
use aisigma::backend::target::Target;
use clap::ValueEnum;
use std::path::PathBuf;
use std::process::ExitCode;

/// `aisigma config`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the effective settings and where each comes from (default, the config file and
    /// line, or the command line); the flags below are those of the other commands, to see
    /// how they combine with the file
    Show(ShowArgs),
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum ShowFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct ShowArgs {
    /// Output format: a table, or one JSON object with each setting's value and origin
    #[arg(long, value_enum, default_value_t = ShowFormat::Human)]
    format: ShowFormat,
    /// As for check, compile, scan: rule files or directories
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// As for every command: extra schema files
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,
    /// As for every command: the largest rule file to read
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// As for compile and deploy: the target
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// As for compile, deploy, scan, check: the source pack
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// As for compile and deploy: the mapping file of the (one) target
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// As for compile: the templates directory
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// As for compile and deploy: refusals do not fail
    #[arg(long, overrides_with = "no_allow_refusals")]
    allow_refusals: bool,
    /// As for compile and deploy: refusals fail
    #[arg(long)]
    no_allow_refusals: bool,
}

fn shown(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| aisigma::syntax::load::display_path(p))
        .collect()
}

pub fn run(a: Args) -> ExitCode {
    let Command::Show(s) = a.command;
    let rows = rows(&s);
    print(&match s.format {
        ShowFormat::Json => json(&rows),
        ShowFormat::Human => human(&rows),
    })
}

/// Each setting: its key, effective value and origin.
fn rows(s: &ShowArgs) -> Vec<(String, serde_json::Value, Origin)> {
    let c = get();
    let flag = |given: bool, o: Origin| if given { Origin::CommandLine } else { o };
    let mut rows: Vec<(String, serde_json::Value, Origin)> = Vec::new();
    let (rules, o) = c.rule_paths_with_origin(&s.rules, ".");
    rows.push(("rules".into(), shown(&rules).into(), o));
    rows.push((
        "schema".into(),
        shown(&c.schema_files(&s.schemas)).into(),
        flag(!s.schemas.is_empty(), c.origin(&c.schema)),
    ));
    rows.push((
        "max-file-size".into(),
        c.max_file_size(s.max_file_size).into(),
        flag(s.max_file_size.is_some(), c.origin(&c.max_file_size)),
    ));
    let targets: Vec<&str> = c.targets(s.target).iter().map(|t| t.name()).collect();
    rows.push((
        "targets".into(),
        targets.into(),
        flag(s.target.is_some(), c.origin(&c.targets)),
    ));
    rows.push((
        "source".into(),
        c.source(s.source.as_deref()).into(),
        flag(s.source.is_some(), c.origin(&c.source)),
    ));
    let effective = c.targets(s.target);
    for t in Target::value_variants() {
        // --mapping is the mapping of the one target compiled for.
        let given = s.mapping.is_some() && effective.as_slice() == [*t];
        let file = if given {
            s.mapping.clone()
        } else {
            c.mapping(None, *t)
        };
        let Some(file) = file else {
            continue;
        };
        let origin = if given {
            Origin::CommandLine
        } else {
            let m = &c.mappings[t.name()];
            Origin::File(c.file.clone().unwrap_or_default(), m.line)
        };
        rows.push((
            format!("mappings.{}", t.name()),
            aisigma::syntax::load::display_path(&file).into(),
            origin,
        ));
    }
    rows.push((
        "templates".into(),
        c.templates(s.templates.as_deref())
            .map(|t| aisigma::syntax::load::display_path(&t))
            .into(),
        flag(s.templates.is_some(), c.origin(&c.templates)),
    ));
    rows.push((
        "allow-refusals".into(),
        c.allow_refusals(s.allow_refusals, s.no_allow_refusals)
            .into(),
        flag(
            s.allow_refusals || s.no_allow_refusals,
            c.origin(&c.allow_refusals),
        ),
    ));
    rows
}

fn json(rows: &[(String, serde_json::Value, Origin)]) -> String {
    let c = get();
    let settings: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|(k, v, o)| {
            (
                k.clone(),
                serde_json::json!({"value": v, "origin": o.describe()}),
            )
        })
        .collect();
    let v = serde_json::json!({"file": c.file, "settings": settings});
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}

fn human(rows: &[(String, serde_json::Value, Origin)]) -> String {
    let c = get();
    let mut out = format!(
        "config file: {}\n",
        c.file
            .as_deref()
            .unwrap_or("none (no aisigma.toml here or above)")
    );
    for (k, v, o) in rows {
        let text = match v {
            serde_json::Value::Array(a) if a.is_empty() => "(none)".to_string(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or(x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "(built-in)".to_string(),
            other => other.to_string(),
        };
        out.push_str(&format!("{k:<15} {text:<40} {}\n", o.describe()));
    }
    out
}
