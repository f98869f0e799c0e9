//! `aisigma compile`: compile rules to a target's queries or deployable artifacts.

use super::usage_error;
use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, load_schema, plural, prepare, print};
use aisigma::backend::artifact::{self, Format};
use aisigma::backend::compile::{Compiled, Options, compile_correlation_with, compile_with};
use aisigma::backend::mapping::Mapping;
use aisigma::backend::target::Target;
use aisigma::report::diagnostic::{Code, Diagnostic, Severity};
use aisigma::report::render as report;
use aisigma::semantics::checked::FileResult;
use aisigma::semantics::schema::Schema;
use aisigma::syntax::ast::{Body, Doc};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum CompileFormat {
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
    /// A Splunk app directory (with -o DIR): default/app.conf, savedsearches.conf using one
    /// macro per log source, macros.conf, metadata/default.meta (spl)
    SplunkApp,
    /// A complete YARA-L 2.0 rule file per rule (yaral)
    Chronicle,
    /// The custom tables the queries read, as JSON: {"Table_CL": {"column": "type"}} (kql)
    Tables,
    /// An ARM template that creates those custom tables and a data collection rule per table
    /// for the Logs Ingestion API (kql)
    SentinelTables,
}

impl CompileFormat {
    /// The artifact format this names (rendered from a template), if any.
    fn artifact(self) -> Option<&'static str> {
        match self {
            CompileFormat::Query
            | CompileFormat::Json
            | CompileFormat::Tables
            | CompileFormat::SentinelTables => None,
            CompileFormat::KibanaNdjson => Some("kibana-ndjson"),
            CompileFormat::SentinelRule => Some("sentinel-rule"),
            CompileFormat::SentinelArm => Some("sentinel-arm"),
            CompileFormat::Savedsearches => Some("savedsearches"),
            CompileFormat::SplunkApp => Some("splunk-app"),
            CompileFormat::Chronicle => Some("chronicle"),
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories [default: `rules` of aisigma.toml, else .]
    paths: Vec<PathBuf>,
    /// Target query language [default: each of `targets` of aisigma.toml]
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// Output format: `query` prints each query; `json` prints one JSON object per rule and
    /// line; the others are deployable artifacts of one target (see docs/backends.md)
    #[arg(long, value_enum, default_value_t = CompileFormat::Query)]
    format: CompileFormat,
    /// The telemetry the queries run on: a source pack (`aisigma sources` lists them)
    /// [default: `source` of aisigma.toml, else aisigma]
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Field and log-source mapping file merged over the source's mapping for the target
    /// [default: `mappings.<target>` of aisigma.toml]
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Directory of artifact templates (`<format>.j2`) overriding the built-in ones
    /// [default: `templates` of aisigma.toml]
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Write one file per rule (or one pack file) into DIR, atomically (with several targets
    /// from aisigma.toml, into DIR/<target>/)
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// Compare case-insensitive strings by Unicode simple case folding (`k` also matches the
    /// Kelvin sign), written out exactly, instead of the default ASCII contract
    #[arg(long)]
    unicode_exact: bool,
    /// Exit 0 when the only failures are refusals (AIS801, AIS802, AIS804: a rule the target
    /// or the source cannot express); they are still reported. Rules with errors still fail
    /// [default: `allow-refusals` of aisigma.toml, else off]
    #[arg(long, overrides_with = "no_allow_refusals")]
    allow_refusals: bool,
    /// Fail on refusals even when aisigma.toml sets `allow-refusals = true`
    #[arg(long)]
    no_allow_refusals: bool,
    #[command(flatten)]
    common: Common,
}

/// One compilation, every setting resolved (flags over aisigma.toml over defaults).
pub struct Job {
    paths: Vec<PathBuf>,
    target: Target,
    format: CompileFormat,
    source: String,
    mapping: Option<PathBuf>,
    templates: Option<PathBuf>,
    output: Option<PathBuf>,
    unicode_exact: bool,
    allow_refusals: bool,
    common: Common,
}

/// The jobs of a `compile`: one per target (the flag's, or each of aisigma.toml's).
fn jobs(a: Args) -> Result<Vec<Job>, String> {
    let c = super::settings::get();
    let targets = c.targets(a.target);
    let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
    if targets.is_empty() {
        return Err(
            "no target: pass --target (spl, kql, eql, lucene, esql, yaral), or list `targets` in aisigma.toml"
                .into(),
        );
    }
    let several = targets.len() > 1;
    if several && a.mapping.is_some() {
        return Err(format!(
            "--mapping is one target's mapping, and aisigma.toml names {} targets ({}): pass --target too, or set [mappings] per target in aisigma.toml",
            targets.len(),
            names.join(", ")
        ));
    }
    if several && a.output.is_none() && a.format != CompileFormat::Json {
        return Err(format!(
            "aisigma.toml names {} targets ({}): pass --target, or -o DIR (each target's files go into DIR/<target>/), or --format json",
            targets.len(),
            names.join(", ")
        ));
    }
    Ok(targets
        .into_iter()
        .map(|t| Job {
            paths: a.paths.clone(),
            target: t,
            format: a.format,
            source: c.source(a.source.as_deref()),
            mapping: c.mapping(a.mapping.as_deref(), t),
            templates: c.templates(a.templates.as_deref()),
            output: match &a.output {
                Some(o) if several => Some(o.join(t.name())),
                o => o.clone(),
            },
            unicode_exact: a.unicode_exact,
            allow_refusals: c.allow_refusals(a.allow_refusals, a.no_allow_refusals),
            common: a.common.clone(),
        })
        .collect())
}

/// Run each job; the exit code is the worst of theirs.
pub fn run(a: Args) -> ExitCode {
    let jobs = match jobs(a) {
        Ok(j) => j,
        Err(e) => return usage_error(&e),
    };
    let mut worst = ExitCode::from(EXIT_OK);
    for job in jobs {
        let code = run_job(job);
        if code == ExitCode::from(EXIT_USAGE) {
            return code;
        }
        if code != ExitCode::from(EXIT_OK) {
            worst = code;
        }
    }
    worst
}

/// An artifact format and its template text (built in, or from `--templates`).
type Artifact = (&'static Format, String);

/// The artifact format `format` names for `target`, with its template.
fn artifact_template(a: &Job) -> Result<Option<Artifact>, String> {
    let Some(name) = a.format.artifact() else {
        return Ok(None);
    };
    let Some(f) = a.target.format(name) else {
        let names: Vec<&str> = a.target.formats().iter().map(|f| f.name).collect();
        return Err(format!(
            "format `{name}` is not available for target {}; it has: query, json{}",
            a.target.name(),
            names.iter().map(|n| format!(", {n}")).collect::<String>()
        ));
    };
    let text = match &a.templates {
        Some(dir) if dir.join(f.template).is_file() => {
            std::fs::read_to_string(dir.join(f.template)).map_err(|e| {
                format!(
                    "cannot read template {}: {e}",
                    dir.join(f.template).display()
                )
            })?
        }
        _ => f.builtin.to_string(),
    };
    Ok(Some((f, text)))
}

/// The source's mapping for the target (`--source`), with the `--mapping` file merged over
/// it; a bad mapping file is rendered as a diagnostic.
pub fn load_mapping(
    target: Target,
    source: &str,
    file: Option<&Path>,
    schema: &Schema,
) -> Result<Mapping, String> {
    let pack = super::sources::load_pack(source)?;
    let base = aisigma::source::mapping(&pack, target).ok_or_else(|| {
        let lands: Vec<&str> = pack.targets.keys().map(String::as_str).collect();
        format!(
            "source `{}` has no landing on {} (it lands on: {})",
            pack.name,
            target.name(),
            if lands.is_empty() {
                "none".to_string()
            } else {
                lands.join(", ")
            }
        )
    })?;
    let Some(f) = file else {
        return Ok(base);
    };
    let shown = aisigma::syntax::load::display_path(f);
    let text =
        std::fs::read_to_string(f).map_err(|e| format!("cannot read mapping {shown}: {e}"))?;
    let render = |d: Diagnostic| {
        let src = aisigma::syntax::source::SourceFile::new(shown.clone(), text.clone());
        let mut out = String::new();
        report::human_one(&mut out, &src.path, Some(&src), &d);
        out
    };
    let over = Mapping::parse(&shown, &text).map_err(render)?;
    if let Some(d) = aisigma::backend::mapping::problems(&text, target.name(), schema) {
        return Err(render(d));
    }
    let mut merged = base;
    merged.merge(over);
    Ok(merged)
}

fn run_job(a: Job) -> ExitCode {
    let artifact = match artifact_template(&a) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let schema = match load_schema(&a.common.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let mapping = match load_mapping(a.target, &a.source, a.mapping.as_deref(), &schema) {
        Ok(m) => m,
        Err(e) => return usage_error(&e),
    };
    // A Splunk app's searches name their log sources with its macros.
    let (mapping, macros) = match a.format {
        CompileFormat::SplunkApp if a.source == aisigma::source::DEFAULT => {
            aisigma::backend::spl::with_macros(&mapping, "aisigma")
        }
        CompileFormat::SplunkApp => {
            aisigma::backend::spl::with_macros(&mapping, &format!("aisigma_{}", a.source))
        }
        _ => (mapping, Vec::new()),
    };
    if matches!(
        a.format,
        CompileFormat::Tables | CompileFormat::SentinelTables
    ) {
        return run_tables(a.target, &mapping, &schema, a.output.as_deref(), a.format);
    }
    let (results, io_failed) = match prepare(&a.paths, &a.common) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let opts = Options {
        unicode_exact: a.unicode_exact,
    };
    let compiled = compile_all(&results, a.target, &mapping, &schema, &opts);
    let mut out = Output::default();
    let env = Env {
        mapping: &mapping,
        schema: &schema,
    };
    if let Err(e) = assemble(&mut out, &results, compiled, &a, artifact.as_ref(), &env) {
        return usage_error(&e);
    }
    let compiled_count = out.files.len();
    if let Err(e) = package(&mut out, &a, artifact.as_ref(), &macros) {
        return usage_error(&e);
    }
    if let Some(dir) = &a.output {
        for (name, body) in &out.files {
            if let Err(e) = aisigma::report::output::write_atomic(&dir.join(name), body.as_bytes())
            {
                return usage_error(&format!("cannot write {}: {e}", dir.join(name).display()));
            }
        }
    } else if print(&out.text) != ExitCode::from(EXIT_OK) {
        return ExitCode::from(EXIT_USAGE);
    }
    eprint!("{}", out.errors);
    if a.format == CompileFormat::Query || !out.errors.is_empty() {
        eprintln!(
            "compiled {} to {}, {} refused or invalid{}{}",
            plural(compiled_count, "rule"),
            a.target.name(),
            out.failed,
            if out.skipped > 0 {
                format!(", {} not meant for it (deploy.not-for)", out.skipped)
            } else {
                String::new()
            },
            if a.allow_refusals && out.refused > 0 {
                format!(" ({} refused, allowed by --allow-refusals)", out.refused)
            } else {
                String::new()
            }
        );
    }
    let failed = if a.allow_refusals {
        out.failed - out.refused
    } else {
        out.failed
    };
    if io_failed {
        ExitCode::from(EXIT_USAGE)
    } else if failed > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// Every document of every file compiled (or refused), in parallel; in input order.
type PerDoc = Vec<Vec<Result<Compiled, Vec<Diagnostic>>>>;

/// The error diagnostics of each file from checking.
fn check_errors(results: &[FileResult]) -> Vec<Vec<Diagnostic>> {
    results
        .iter()
        .map(|r| {
            r.diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .cloned()
                .collect()
        })
        .collect()
}

fn compile_all(
    results: &[FileResult],
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
    opts: &Options,
) -> PerDoc {
    use rayon::prelude::*;
    let check_errors = check_errors(results);
    results
        .par_iter()
        .enumerate()
        .map(|(fi, r)| {
            let errors = &check_errors[fi];
            r.docs
                .iter()
                .enumerate()
                .map(|(di, cd)| match (&cd.expr, errors.is_empty()) {
                    (_, true) if not_meant_for(&cd.doc, target).is_some() => {
                        Err(vec![not_meant_for(&cd.doc, target).expect("checked")])
                    }
                    (_, true) if matches!(cd.doc.body, Some(Body::Correlation(_))) => {
                        compile_correlation_with(results, (fi, di), target, mapping, schema, opts)
                    }
                    // Meta filters are refused, never silently skipped.
                    (_, true) if cd.doc.detection().is_none() => Err(vec![meta_filter(&cd.doc)]),
                    (Some(expr), true) => {
                        compile_with(&cd.doc, expr, target, mapping, schema, opts)
                    }
                    _ => Err(errors.clone()),
                })
                .collect()
        })
        .collect()
}

/// The note for a rule whose `deploy.not-for` names the target.
fn not_meant_for(doc: &Doc, target: Target) -> Option<Diagnostic> {
    let t = doc
        .meta
        .deploy
        .as_ref()?
        .not_for
        .iter()
        .find(|t| t.value == target.name())?;
    Some(
        Diagnostic::new(
            Code::NotMeantForTarget,
            t.span,
            format!(
                "rule `{}` is not meant for {} (deploy.not-for); skipped",
                doc.label(),
                target.name()
            ),
        )
        .with_severity(Severity::Note),
    )
}

fn meta_filter(doc: &Doc) -> Diagnostic {
    Diagnostic::new(
        Code::NotYetSupported,
        doc.meta.title.as_ref().map(|t| t.span).unwrap_or(doc.span),
        format!(
            "rule `{}`: {} documents cannot be compiled yet",
            doc.label(),
            doc.kind_name()
        ),
    )
    .with_severity(Severity::Error)
    .with_help("meta filters are checked, but applying them is not implemented yet")
}

/// What `compile` writes: standard output's text, standard error's diagnostics, the files of
/// `-o`, and how many rules were refused.
#[derive(Default)]
struct Output {
    text: String,
    errors: String,
    files: Vec<(String, String)>,
    failed: usize,
    /// Of `failed`: rules refused by the target or the source (`AIS801`, `AIS802`, `AIS804`),
    /// not rules with errors.
    refused: usize,
    /// Rules whose `deploy.not-for` names the target (`AIS806`): not written, not failed.
    skipped: usize,
    /// Each artifact rendered, with its `deploy` object (for `aisigma deploy`).
    artifacts: Vec<(String, serde_json::Value)>,
}

/// The files of `-o`: a pack format's one file, and the files a format adds beside the
/// rules (SecOps deployment settings, a Splunk app's other files).
fn package(
    out: &mut Output,
    a: &Job,
    artifact: Option<&Artifact>,
    macros: &[(String, String, String)],
) -> Result<(), String> {
    if let Some(p) = artifact.and_then(|(f, _)| f.pack) {
        out.files = vec![(p.to_string(), out.text.clone())];
    }
    if a.format == CompileFormat::Chronicle && a.output.is_some() {
        out.files.push(chronicle_deployments(&out.artifacts)?);
    }
    if a.format == CompileFormat::SplunkApp {
        if a.output.is_none() {
            return Err("`--format splunk-app` writes a directory: give it with -o DIR".into());
        }
        out.files
            .extend(splunk_app_files(macros, a.source.as_str())?);
    }
    Ok(())
}

/// `rule_deployments.json` beside the YARA-L files: each rule's SecOps deployment settings
/// (`RuleDeployment`: enabled, alerting, run frequency), by rule name and aisigma id.
fn chronicle_deployments(
    artifacts: &[(String, serde_json::Value)],
) -> Result<(String, String), String> {
    let mut rules = Vec::new();
    for (text, deploy) in artifacts {
        let d = aisigma::deploy::secops::desired(text, deploy)?;
        let mut v = d.body["deployment"].clone();
        v["rule"] = d.name.into();
        v["aisigma_id"] = d.id.into();
        rules.push(v);
    }
    rules.sort_by(|a, b| a["rule"].as_str().cmp(&b["rule"].as_str()));
    let body = serde_json::to_string_pretty(&serde_json::json!({"ruleDeployments": rules}))
        .unwrap_or_default()
        + "\n";
    Ok(("rule_deployments.json".into(), body))
}

/// The files of a Splunk app besides its saved searches: `default/app.conf`,
/// `default/macros.conf` (one macro per log source of the mapping) and
/// `metadata/default.meta`, from the templates in `backends/spl/`.
fn splunk_app_files(
    macros: &[(String, String, String)],
    source: &str,
) -> Result<Vec<(String, String)>, String> {
    let macros: Vec<serde_json::Value> = macros
        .iter()
        .map(|(name, category, definition)| {
            serde_json::json!({"name": name, "definition": definition, "source": source, "category": category})
        })
        .collect();
    let render = |name: &str, text: &str| -> Result<String, String> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
        let t = env.get_template(name).map_err(|e| e.to_string())?;
        t.render(minijinja::context! {
            app => "aisigma",
            macros => minijinja::Value::from(minijinja::value::Serde(&macros)),
        })
        .map(|s| s.trim_start_matches('\n').to_string())
        .map_err(|e| format!("template {name}: {e}"))
    };
    Ok(vec![
        (
            "default/app.conf".into(),
            render(
                "app.conf.j2",
                include_str!("../../backends/spl/app.conf.j2"),
            )?,
        ),
        (
            "default/macros.conf".into(),
            render(
                "macros.conf.j2",
                include_str!("../../backends/spl/macros.conf.j2"),
            )?,
        ),
        (
            "metadata/default.meta".into(),
            render(
                "default.meta.j2",
                include_str!("../../backends/spl/default.meta.j2"),
            )?,
        ),
    ])
}

/// What `aisigma deploy` needs of a compile run: each rule's artifact and `deploy` object,
/// the diagnostics text, and how many rules failed (of them, refused).
pub struct Built {
    pub artifacts: Vec<(String, serde_json::Value)>,
    pub errors: String,
    pub failed: usize,
    pub refused: usize,
}

/// Compile `paths` to `target`'s deployable artifact format (`savedsearches`,
/// `sentinel-arm`, `kibana-ndjson`, `chronicle`), as `compile --format` would.
pub fn build(
    paths: Vec<PathBuf>,
    common: Common,
    target: Target,
    source: String,
    mapping: Option<PathBuf>,
) -> Result<Built, String> {
    let format = match target {
        Target::Spl => CompileFormat::Savedsearches,
        Target::Kql => CompileFormat::SentinelArm,
        Target::Lucene | Target::Eql | Target::Esql => CompileFormat::KibanaNdjson,
        Target::Yaral => CompileFormat::Chronicle,
    };
    let a = Job {
        paths,
        target,
        format,
        source,
        mapping,
        templates: None,
        output: None,
        unicode_exact: false,
        allow_refusals: false,
        common,
    };
    let artifact = artifact_template(&a)?;
    let schema = load_schema(&a.common.schemas)?;
    let mapping = load_mapping(a.target, &a.source, a.mapping.as_deref(), &schema)?;
    let (results, io_failed) = prepare(&a.paths, &a.common)?;
    if io_failed {
        return Err("some rule files could not be read".into());
    }
    let compiled = compile_all(&results, a.target, &mapping, &schema, &Options::default());
    let mut out = Output::default();
    let env = Env {
        mapping: &mapping,
        schema: &schema,
    };
    assemble(&mut out, &results, compiled, &a, artifact.as_ref(), &env)?;
    Ok(Built {
        artifacts: out.artifacts,
        errors: out.errors,
        failed: out.failed,
        refused: out.refused,
    })
}

/// What rendering an artifact needs besides the rule.
struct Env<'a> {
    mapping: &'a Mapping,
    schema: &'a Schema,
}

fn deploy_context(
    cd: &aisigma::semantics::checked::CheckedDoc,
    c: &Compiled,
    target: Target,
    env: &Env,
) -> Result<serde_json::Value, Diagnostic> {
    aisigma::backend::schedule::for_doc(cd, c, target, env.mapping, env.schema)
}

/// Every compiled rule's output, and every refusal, in input order. Inputs of correlations
/// are compiled with their correlation, not on their own.
fn assemble(
    out: &mut Output,
    results: &[FileResult],
    compiled: PerDoc,
    a: &Job,
    artifact: Option<&Artifact>,
    env: &Env,
) -> Result<(), String> {
    let check_errors = check_errors(results);
    let inputs = aisigma::semantics::correlation::hidden_inputs(results);
    for (fi, (r, compiled_docs)) in results.iter().zip(compiled).enumerate() {
        if r.docs.is_empty() && !check_errors[fi].is_empty() {
            out.failed += 1;
            emit_errors(out, a, r, None, &check_errors[fi]);
            continue;
        }
        for (i, (cd, compiled)) in r.docs.iter().zip(compiled_docs).enumerate() {
            if inputs.contains(&(fi, i)) {
                continue;
            }
            let compiled = compiled.and_then(|c| {
                requires_format(&c, &cd.doc, artifact.map(|(f, _)| f.name), a.target).map(|()| c)
            });
            match compiled {
                Ok(c) => {
                    let deploy = match artifact {
                        Some(_) => deploy_context(cd, &c, a.target, env),
                        None => Ok(serde_json::Value::Null),
                    };
                    match deploy {
                        Ok(deploy) => emit_rule(out, a, artifact, r, &cd.doc, i, &c, &deploy)?,
                        Err(d) => {
                            out.failed += 1;
                            out.refused += 1;
                            emit_errors(out, a, r, Some(&cd.doc), &[d]);
                        }
                    }
                }
                Err(diags) if diags.iter().all(|d| d.code == Code::NotMeantForTarget) => {
                    out.skipped += 1;
                    if a.format != CompileFormat::Json {
                        emit_errors(out, a, r, Some(&cd.doc), &diags);
                    }
                }
                Err(diags) => {
                    out.failed += 1;
                    let refusal = check_errors[fi].is_empty()
                        && diags.iter().all(|d| {
                            matches!(
                                d.code,
                                Code::UnsupportedConstruct
                                    | Code::UnmappedField
                                    | Code::NotInSource
                            )
                        });
                    out.refused += usize::from(refusal);
                    emit_errors(out, a, r, Some(&cd.doc), &diags);
                }
            }
        }
    }
    Ok(())
}

/// The name of the file a rule is written to with `-o`: its id, else the rule file's stem
/// (numbered when the file has several documents).
fn file_name(r: &FileResult, doc: &Doc, index: usize) -> String {
    let stem = Path::new(&r.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match &doc.meta.id {
        Some(id) => id.value.to_lowercase(),
        None if r.docs.len() > 1 => format!("{stem}-{}", index + 1),
        None => stem,
    }
}

/// One compiled rule: its warnings on stderr, its text on stdout, its file for `-o`.
#[allow(clippy::too_many_arguments)]
fn emit_rule(
    out: &mut Output,
    a: &Job,
    artifact: Option<&Artifact>,
    r: &FileResult,
    doc: &Doc,
    index: usize,
    c: &Compiled,
    deploy: &serde_json::Value,
) -> Result<(), String> {
    for w in &c.warnings {
        report::human_one(&mut out.errors, &r.path, r.source.as_deref(), w);
    }
    let body = if let Some((f, text)) = artifact {
        let ctx = artifact::RuleContext::new(doc, &r.path);
        let b = artifact::render(
            f.template,
            text,
            &ctx,
            &c.query,
            &c.logsource,
            c.correlation.as_ref(),
            a.target.name(),
            deploy,
        )?;
        // Every artifact ends with one line break, so that pack parts concatenate cleanly.
        b.trim_end_matches('\n').to_string() + "\n"
    } else if a.format == CompileFormat::Json {
        json_line(r, doc, a.target, c)
    } else {
        c.query.clone() + "\n"
    };
    out.text.push_str(&body);
    if artifact.is_some() {
        out.artifacts.push((body.clone(), deploy.clone()));
    }
    // With `-o`, `query` and `json` write each rule's query to its own file.
    let (ext, file_body) = match artifact {
        Some((f, _)) => (f.extension, body),
        None => (a.target.extension(), c.query.clone() + "\n"),
    };
    out.files
        .push((format!("{}.{ext}", file_name(r, doc, index)), file_body));
    Ok(())
}

/// `--format json`: one object per rule.
fn json_line(r: &FileResult, doc: &Doc, target: Target, c: &Compiled) -> String {
    let mut v = serde_json::json!({
        "file": r.path,
        "id": doc.meta.id.as_ref().map(|x| x.value.clone()),
        "title": doc.label(),
        "target": target.name(),
        "query": c.query,
        "logsource": c.logsource,
    });
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
}

/// A correlation that only an artifact format can express (a Kibana threshold rule) is
/// refused in every other format: its query alone would drop the threshold.
fn requires_format(
    c: &Compiled,
    doc: &Doc,
    format: Option<&str>,
    target: Target,
) -> Result<(), Vec<Diagnostic>> {
    let needed = c
        .correlation
        .as_ref()
        .and_then(|v| v.get("artifact_only"))
        .and_then(|v| v.as_str());
    match needed {
        Some(n) if format != Some(n) => {
            let span = match &doc.body {
                Some(Body::Correlation(corr)) => corr.kind.span,
                _ => doc.span,
            };
            Err(vec![
                Diagnostic::new(
                    Code::UnsupportedConstruct,
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
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
    output: Option<&Path>,
    format: CompileFormat,
) -> ExitCode {
    if target != Target::Kql {
        return usage_error(&format!(
            "formats `tables` and `sentinel-tables` are only available for target kql, not {}",
            target.name()
        ));
    }
    let tables = match aisigma::backend::kql::tables(mapping, schema) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let (file, value) = if format == CompileFormat::SentinelTables {
        (
            "tables-arm.json",
            aisigma::backend::kql::tables_arm(&tables),
        )
    } else {
        (
            "tables.json",
            serde_json::to_value(&tables).unwrap_or_default(),
        )
    };
    let body = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    match output {
        Some(dir) => {
            let path = dir.join(file);
            match aisigma::report::output::write_atomic(&path, body.as_bytes()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) => usage_error(&format!("cannot write {}: {e}", path.display())),
            }
        }
        None => print(&body),
    }
}

/// Report a rule that did not compile: human diagnostics on stderr, or a JSON error object.
fn emit_errors(out: &mut Output, a: &Job, r: &FileResult, doc: Option<&Doc>, diags: &[Diagnostic]) {
    if a.format == CompileFormat::Json {
        let d = &diags[0];
        let v = serde_json::json!({
            "file": r.path,
            "id": doc.and_then(|d| d.meta.id.as_ref()).map(|x| x.value.clone()),
            "title": doc.map(|d| d.label()),
            "target": a.target.name(),
            "error": {
                "code": d.code.as_str(),
                "message": d.message,
                "help": d.help,
                "line": d.span.start.line,
                "column": d.span.start.col,
                "count": diags.len(),
            },
        });
        out.text.push_str(&v.to_string());
        out.text.push('\n');
    } else {
        for d in diags {
            report::human_one(&mut out.errors, &r.path, r.source.as_deref(), d);
        }
    }
}
