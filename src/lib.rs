//! aisigma: a detection-rule compiler for AI systems.
//!
//! Pipeline: [`load`] (files → positioned YAML) → [`rule_parser`] (YAML → AST) →
//! [`condition`] (condition grammar) → [`typecheck`] (schema) → [`lower`] (AST → [`ir`]) →
//! [`engine`] (evaluation). [`check`] runs the pipeline over many files; [`report`] renders
//! diagnostics; [`backend`] compiles to target query languages; [`scan`] runs rules over event
//! streams ([`event_input`], [`prefilter`], [`lazy_json`]).

pub mod ast;
pub mod backend;
pub mod catalog;
pub mod check;
pub mod condition;
pub mod correlate;
pub mod correlation;
pub mod diagnostic;
pub mod engine;
pub mod event_input;
pub mod gen_events;
pub mod ir;
pub mod lazy_json;
pub mod load;
pub mod lower;
pub mod metadata;
pub mod modifier;
pub mod output;
pub mod prefilter;
pub mod regex_translate;
pub mod report;
pub mod rule_parser;
pub mod ruletest;
pub mod scan;
pub mod schema;
pub mod schema_doc;
pub mod sigma_string;
pub mod source;
pub mod span;
pub mod time;
pub mod typecheck;
pub mod yaml;
