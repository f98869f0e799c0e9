//! Reporting: diagnostics and results in, text for people and tools out.
//!
//! [`diagnostic`] is the registry of stable codes (`AIS…`) and the diagnostic type every
//! stage produces. [`render`] writes diagnostics as human text, JSON, SARIF or GitHub
//! annotations; [`schema_doc`] prints the schema;
//! [`rule_schema`] is the JSON Schema of rule files; [`output`] writes files atomically;
//! [`coverage`] says what a rule set covers, and [`navigator`] writes it as an ATLAS
//! Navigator layer.

pub mod coverage;
pub mod diagnostic;
pub mod navigator;
pub mod output;
pub mod render;
pub mod rule_schema;
pub mod schema_doc;

/// "1 rule", "2 rules".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
