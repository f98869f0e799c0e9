//! Scan: event logs in, matches and correlation alerts out (`aisigma scan`).
//!
//! Reads JSON Lines from files, directories or standard input, plain or compressed
//! ([`event_input`]); skips lines no rule can match with a literal prefilter ([`prefilter`]);
//! decodes only the fields the rules read ([`lazy_json`]); evaluates in parallel with ordered
//! output ([`scanner`]). [`gen_events`] writes synthetic telemetry to scan.

pub mod event_input;
pub mod gen_events;
pub mod lazy_json;
pub mod prefilter;
pub mod scanner;
pub mod value_index;
