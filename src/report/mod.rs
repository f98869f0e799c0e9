//! Reporting: diagnostics and results in, text for people and tools out.
//!
//! [`diagnostic`] is the registry of stable codes (`AIS…`) and the diagnostic type every
//! stage produces. [`render`] writes diagnostics as human text, JSON, SARIF or GitHub
//! annotations; [`schema_doc`] prints the schema; [`output`] writes files atomically.

pub mod diagnostic;
pub mod output;
pub mod render;
pub mod schema_doc;
