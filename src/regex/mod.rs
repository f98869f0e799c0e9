//! Regexes: the engine's regex dialect in, each target's regex flavour out.
//!
//! [`translate`] parses a rule's regex (and the regexes string values become) and writes it
//! for PCRE (Splunk), RE2 (Kusto, SecOps), Rust (the engine) and Lucene (Elastic).
//! [`casefold`] compares case-insensitive matching on targets with aisigma's definition.
//! Shared by the lowering, the engine, the scanner and the backends, so it depends on none.

pub mod casefold;
pub mod compiled;
pub mod pcre;
pub mod translate;
