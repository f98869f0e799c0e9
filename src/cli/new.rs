//! `aisigma new`: write a rule skeleton that passes `check` and `test`: a fresh UUID,
//! today's date, the log source, ATLAS and OWASP tags to replace, a selection on a field of
//! the category, and `tests:` that exercise it.

use super::{EXIT_OK, load_schema, print, usage_error};
use aisigma::semantics::schema::{BaseType, FieldDef, Schema};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The logsource category (`aisigma schema` lists them)
    #[arg(long)]
    category: String,
    /// The rule's title
    #[arg(long)]
    title: String,
    /// Write the rule to FILE (which must not exist) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Extra schema file(s) to merge in
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,
}

/// A starting ATLAS technique and OWASP risk per category, to be replaced by the author.
fn default_tags(category: &str) -> (&'static str, &'static str) {
    match category {
        "ai_guardrail" => ("atlas.aml.t0054", "owasp.llm01"),
        "agent_activity" => ("atlas.aml.t0053", "owasp.llm06"),
        "rag_retrieval" => ("atlas.aml.t0070", "owasp.llm08"),
        "model_serving" => ("atlas.aml.t0040", "owasp.llm10"),
        "accelerator_metrics" => ("atlas.aml.t0034", "owasp.llm10"),
        "ml_monitoring" => ("atlas.aml.t0015", "owasp.llm04"),
        "ai_access_audit" => ("atlas.aml.t0012", "owasp.llm03"),
        "model_registry" => ("atlas.aml.t0010", "owasp.llm03"),
        "training_job" | "data_pipeline" => ("atlas.aml.t0020", "owasp.llm04"),
        _ => ("atlas.aml.t0051", "owasp.llm01"),
    }
}

/// The field the skeleton's selection tests, with a value that matches and one that does
/// not: a field of the category with known values, else its first string field.
fn example_field(schema: &Schema, category: &str) -> Option<(String, String, String)> {
    let p = schema.product("ai")?;
    let fields: Vec<(&String, &FieldDef)> = p.categories.get(category)?.fields.iter().collect();
    let plain = |d: &FieldDef| d.ty.base == BaseType::String && !d.ty.array;
    if let Some((name, d)) = fields
        .iter()
        .find(|(_, d)| plain(d) && d.enum_values.len() >= 2)
    {
        return Some((
            name.to_string(),
            d.enum_values[0].clone(),
            d.enum_values[1].clone(),
        ));
    }
    let (name, _) = fields.iter().find(|(_, d)| plain(d))?;
    Some((
        name.to_string(),
        "CHANGE-ME".into(),
        "something-else".into(),
    ))
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = aisigma::syntax::time::civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The skeleton's text.
pub fn skeleton(schema: &Schema, category: &str, title: &str) -> Result<String, String> {
    let (field, yes, no) = example_field(schema, category)
        .ok_or_else(|| format!("category `{category}` has no string field to start from"))?;
    let (atlas, owasp) = default_tags(category);
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    Ok(format!(
        "title: {title}
id: {id}
status: experimental
description: |
    TODO: what the rule detects, and why it matters to an analyst.
references:
    - https://atlas.mitre.org/techniques/{atlas_ref}
author: TODO
date: {date}
tags:
    # Replace with the ATLAS technique and OWASP risk this rule detects (docs/rule-format.md#tags).
    - {atlas}
    - {owasp}
logsource:
    product: ai
    category: {category}
detection:
    selection:
        {field}: {yes}
    condition: selection
falsepositives:
    - TODO
level: medium
tests:
    match:
        - ai.category: {category}
          {field}: {yes}
    no_match:
        - ai.category: {category}
          {field}: {no}
",
        title = q(title),
        id = uuid::Uuid::new_v4().hyphenated(),
        atlas_ref = atlas.trim_start_matches("atlas.").to_uppercase(),
        date = today(),
        yes = q(&yes),
        no = q(&no),
    ))
}

pub fn run(a: Args) -> ExitCode {
    let schema = match load_schema(&a.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let category = match super::scan::known_category(&a.category, &schema) {
        Ok(c) => c,
        Err(e) => return usage_error(&e.replace("--category", "category")),
    };
    if a.title.trim().is_empty() {
        return usage_error("--title must not be empty");
    }
    let text = match skeleton(&schema, &category, a.title.trim()) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    match &a.output {
        None => print(&text),
        Some(path) if path.exists() => usage_error(&format!(
            "{} exists; `new` does not overwrite a rule",
            path.display()
        )),
        Some(path) => match aisigma::report::output::write_atomic(path, text.as_bytes()) {
            Ok(()) => {
                eprintln!("wrote {}; `aisigma check {0}` checks it", path.display());
                ExitCode::from(EXIT_OK)
            }
            Err(e) => usage_error(&format!("cannot write {}: {e}", path.display())),
        },
    }
}
