//! `aisigma sources`: the source packs (real AI telemetry), one pack's content or effective
//! mapping, and the matrix of which rules run on which source.

use super::{Common, EXIT_FINDINGS, EXIT_OK, load_schema, prepare, print, usage_error};
use aisigma::backend::target::Target;
use aisigma::source::pack::Pack;
use aisigma::source::runs::{Runs, runs_on};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// List the source packs (the default)
    List,
    /// Print one pack (its YAML file), or its effective mapping for one target
    Show {
        /// The pack's name
        name: String,
        /// Print the mapping the pack gives this target, in the mapping-file format
        #[arg(long, value_enum)]
        target: Option<Target>,
    },
    /// Print the schema events `scan --source NAME` makes of raw records (JSON Lines)
    Normalize {
        /// The pack's name
        name: String,
        /// Files of raw records; `-` (the default) reads standard input
        #[arg(default_value = "-")]
        inputs: Vec<PathBuf>,
    },
    /// Which rules run on which source: the targets each compiles to, and `scan`
    Matrix {
        /// Rule files or directories [default: `rules` of aisigma.toml, else .]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = MatrixFormat::Human)]
        format: MatrixFormat,
        /// Only these sources (repeatable); default: every pack
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MatrixFormat {
    Human,
    Json,
    Markdown,
}

/// A built-in pack by name, or a pack file (a path ending in `.yaml` or `.yml`).
pub fn load_pack(name: &str) -> Result<Pack, String> {
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        let text = std::fs::read_to_string(name)
            .map_err(|e| format!("cannot read source pack {name}: {e}"))?;
        return Pack::parse(&text).map_err(|d| {
            let src = aisigma::syntax::source::SourceFile::new(name.to_string(), text.clone());
            let mut out = String::new();
            aisigma::report::render::human_one(&mut out, &src.path, Some(&src), &d);
            out
        });
    }
    aisigma::source::builtin(name).ok_or_else(|| {
        format!(
            "unknown source `{name}`: {}",
            aisigma::source::help_for(name)
        )
    })
}

pub fn run(a: Args) -> ExitCode {
    match a.command.unwrap_or(Command::List) {
        Command::List => print(&list()),
        Command::Show { name, target } => match show(&name, target) {
            Ok(s) => print(&s),
            Err(e) => usage_error(&e),
        },
        Command::Normalize { name, inputs } => normalize(&name, &inputs),
        Command::Matrix {
            paths,
            format,
            sources,
            common,
        } => matrix(&paths, format, &sources, &common),
    }
}

fn list() -> String {
    let packs = aisigma::source::all();
    let mut out = String::new();
    let w = packs.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &packs {
        let lands: Vec<&str> = if p.name == aisigma::source::DEFAULT {
            Target::ALL.iter().map(|t| t.name()).collect()
        } else {
            Target::ALL
                .iter()
                .map(|t| t.name())
                .filter(|t| p.targets.contains_key(*t))
                .collect()
        };
        let _ = writeln!(out, "{:w$}  v{}  {}", p.name, p.version, p.title);
        let _ = writeln!(
            out,
            "{:w$}       categories: {}",
            "",
            p.categories.join(", ")
        );
        let _ = writeln!(
            out,
            "{:w$}       lands on: {}",
            "",
            if lands.is_empty() {
                "no target".to_string()
            } else {
                lands.join(", ")
            }
        );
    }
    out
}

/// YAML scalar text: plain where that reads back as the same string, else double-quoted.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/@".contains(c))
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn show(name: &str, target: Option<Target>) -> Result<String, String> {
    let pack = load_pack(name)?;
    let Some(t) = target else {
        return Ok(pack.text.clone());
    };
    let m = aisigma::source::mapping(&pack, t)
        .ok_or_else(|| format!("source `{}` has no landing on {}", pack.name, t.name()))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The mapping source `{}` (v{}) gives {}; usable with `compile --mapping`.",
        pack.name,
        pack.version,
        t.name()
    );
    let _ = writeln!(out, "target: {}", t.name());
    match &m.identity {
        None => {
            let _ = writeln!(out, "identity: false");
        }
        Some(i) if i == "{field}" => {
            let _ = writeln!(out, "identity: true");
        }
        Some(i) => {
            let _ = writeln!(out, "identity: {}", yaml_str(i));
        }
    }
    if let Some(c) = &m.category_field {
        let _ = writeln!(out, "category_field: {}", yaml_str(c));
    }
    let section =
        |out: &mut String, key: &str, map: &std::collections::BTreeMap<String, String>| {
            if map.is_empty() {
                let _ = writeln!(out, "{key}: {{}}");
                return;
            }
            let _ = writeln!(out, "{key}:");
            for (k, v) in map {
                let _ = writeln!(out, "  {}: {}", yaml_str(k), yaml_str(v));
            }
        };
    section(&mut out, "fields", &m.fields);
    if !m.caseless.is_empty() {
        section(&mut out, "caseless", &m.caseless);
    }
    if !m.types.is_empty() {
        section(&mut out, "types", &m.types);
    }
    let _ = writeln!(out, "logsources:");
    for (c, settings) in &m.logsources {
        let inner: Vec<String> = settings
            .iter()
            .map(|(k, v)| format!("{}: {}", yaml_str(k), yaml_str(v)))
            .collect();
        let _ = writeln!(out, "  {c}: {{{}}}", inner.join(", "));
    }
    if !m.default_logsource.is_empty() {
        let inner: Vec<String> = m
            .default_logsource
            .iter()
            .map(|(k, v)| format!("{}: {}", yaml_str(k), yaml_str(v)))
            .collect();
        let _ = writeln!(out, "default: {{{}}}", inner.join(", "));
    }
    Ok(out)
}

/// The cell of the matrix: the targets and `scan`, or `-`.
fn cell(r: &Runs) -> String {
    let mut parts: Vec<&str> = r.targets.iter().map(|t| t.name()).collect();
    if r.scan {
        parts.push("scan");
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" ")
    }
}

fn matrix(paths: &[PathBuf], format: MatrixFormat, names: &[String], common: &Common) -> ExitCode {
    let schema = match load_schema(&common.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let packs: Vec<Pack> = if names.is_empty() {
        aisigma::source::all()
    } else {
        match names.iter().map(|n| load_pack(n)).collect() {
            Ok(p) => p,
            Err(e) => return usage_error(&e),
        }
    };
    let (results, io_failed) = match prepare(paths, common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if io_failed {
        return usage_error("cannot read the rules (run `aisigma check` on them)");
    }
    let per_pack: Vec<Vec<Vec<Runs>>> = packs
        .iter()
        .map(|p| runs_on(&results, p, &schema))
        .collect();
    // One row per document: its label and file.
    let mut rows: Vec<MatrixRow> = Vec::new();
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            let cells = per_pack.iter().map(|p| &p[fi][di]).collect();
            rows.push((cd.doc.label(), r.path.clone(), cells));
        }
    }
    let text = render_matrix(format, &packs, &rows);
    let code = print(&text);
    if code != ExitCode::from(EXIT_OK) {
        return code;
    }
    if results.iter().any(|r| {
        r.diags
            .iter()
            .any(|d| d.severity == aisigma::report::diagnostic::Severity::Error)
    }) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// One row of the matrix: a rule's label, its file, and how it runs on each pack.
type MatrixRow<'a> = (String, String, Vec<&'a Runs>);

/// The matrix as text: JSON Lines, a Markdown table, or human lines.
fn render_matrix(format: MatrixFormat, packs: &[Pack], rows: &[MatrixRow]) -> String {
    match format {
        MatrixFormat::Json => {
            let mut out = String::new();
            for (label, file, cells) in rows {
                let sources: serde_json::Map<String, serde_json::Value> = packs
                    .iter()
                    .zip(cells)
                    .map(|(p, r)| {
                        let refused: serde_json::Map<String, serde_json::Value> = r
                            .refused
                            .iter()
                            .map(|(t, d)| (t.name().to_string(), d.message.clone().into()))
                            .collect();
                        (
                            p.name.clone(),
                            serde_json::json!({
                                "targets": r.targets.iter().map(|t| t.name()).collect::<Vec<_>>(),
                                "scan": r.scan,
                                "scan_missing": r.missing,
                                "refused": refused,
                            }),
                        )
                    })
                    .collect();
                let line = serde_json::json!({"rule": label, "file": file, "sources": sources});
                let _ = writeln!(out, "{line}");
            }
            out
        }
        MatrixFormat::Markdown => {
            let mut out = String::from("| rule |");
            for p in packs {
                let _ = write!(out, " {} |", p.name);
            }
            out.push_str("\n|---|");
            out.push_str(&"---|".repeat(packs.len()));
            out.push('\n');
            for (label, _, cells) in rows {
                let _ = write!(out, "| {} |", label.replace('|', "\\|"));
                for c in cells {
                    let _ = write!(out, " {} |", cell(c));
                }
                out.push('\n');
            }
            out
        }
        MatrixFormat::Human => {
            let mut out = String::new();
            for (label, file, cells) in rows {
                let _ = writeln!(out, "{label} ({file})");
                for (p, c) in packs.iter().zip(cells) {
                    let _ = writeln!(out, "  {:26} {}", p.name, cell(c));
                }
            }
            let _ = writeln!(
                out,
                "\nEach line: the targets the rule compiles to with the source's landing, and \
                 `scan` when `scan --source` gives every field it reads; `-`: neither."
            );
            out
        }
    }
}

/// Each raw line's schema events, one JSON object per line; a line that is not a record of
/// the source is reported on standard error with its file and line number (exit 1).
fn normalize(name: &str, inputs: &[PathBuf]) -> ExitCode {
    use std::io::BufRead;
    let pack = match load_pack(name) {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let schema = match load_schema(&[]) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let n = aisigma::source::normalize::Normalizer::new(pack, &schema);
    let files = match aisigma::scan::event_input::expand(inputs) {
        Ok(f) => f,
        Err(e) => return usage_error(&e.to_string()),
    };
    let mut out = String::new();
    let mut bad = 0;
    for f in &files {
        let src = match aisigma::scan::event_input::open(f) {
            Ok(s) => s,
            Err(e) => return usage_error(&format!("cannot read {}: {e}", f.display())),
        };
        for (i, line) in src.reader.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => return usage_error(&format!("{}: {e}", src.name)),
            };
            if line.trim().is_empty() {
                continue;
            }
            match n.events(line.as_bytes()) {
                Ok(events) => {
                    for e in events {
                        let _ = writeln!(out, "{}", serde_json::Value::Object(e));
                    }
                }
                Err(why) => {
                    bad += 1;
                    eprintln!("{}:{}: not a `{}` record: {why}", src.name, i + 1, name);
                }
            }
        }
    }
    let code = print(&out);
    if code != ExitCode::from(EXIT_OK) {
        return code;
    }
    ExitCode::from(if bad > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
