//! aisigma: a detection-rule compiler for AI systems.
//!
//! The pipeline, one folder per stage:
//! - [`syntax`]: rule files → positioned YAML → rule AST;
//! - [`semantics`]: AST → checked rules (metadata, tags, schema types) → detection IR;
//! - [`regex`]: the engine's regex dialect and its translation into each target's flavour;
//! - [`engine`]: evaluates the IR on JSON events (`aisigma test`), correlations included;
//! - [`source`]: source packs, real telemetry (Bedrock, CloudTrail, OTLP, ...): its landing
//!   per target for `compile --source`, its raw records as schema events for `scan --source`;
//! - [`scan`]: runs rules over event streams (`aisigma scan`);
//! - [`backend`]: renders the IR as each target's query language and artifact files, with
//!   their schedules, suppression and entities;
//! - [`deploy`]: brings a SIEM's rules in line with the artifacts (`aisigma deploy`);
//! - [`report`]: diagnostics and their human, JSON, SARIF and GitHub output;
//! - [`lsp`]: the same checks, completion, hover and fixes in an editor (`aisigma lsp`).
//!
//! The command line (`src/main.rs`, one module per command in `src/cli/`) drives these stages.

pub mod backend;
pub mod deploy;
pub mod engine;
pub mod lsp;
pub mod regex;
pub mod report;
pub mod scan;
pub mod semantics;
pub mod source;
pub mod syntax;
