//! `aisigma schema`: print the AI telemetry schema.

use super::{load_schema, print, usage_error};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SchemaFormat {
    Table,
    Json,
    /// The JSON Schema (draft 2020-12) of rule files, for editors and CI (docs/rule-schema.md)
    JsonSchema,
}

#[derive(clap::Args)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
    format: SchemaFormat,
    /// Only this category
    #[arg(long)]
    category: Option<String>,
    /// Extra schema file(s) to merge in
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,
}

pub fn run(a: Args) -> ExitCode {
    let schema = match load_schema(&a.schemas) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    if let Some(c) = &a.category
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
    let out = match a.format {
        SchemaFormat::JsonSchema => {
            let Some(v) = aisigma::report::rule_schema::rule_schema(&schema, a.category.as_deref())
            else {
                return usage_error(&format!(
                    "category `{}` is not one of the AI schema's (`product: ai`)",
                    a.category.as_deref().unwrap_or_default()
                ));
            };
            let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
            text.push('\n');
            text
        }
        SchemaFormat::Json => aisigma::report::schema_doc::json(&schema, a.category.as_deref()),
        SchemaFormat::Table => aisigma::report::schema_doc::table(&schema, a.category.as_deref()),
    };
    print(&out)
}
