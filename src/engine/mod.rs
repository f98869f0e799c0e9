//! The engine: the detection IR and JSON events in, verdicts and alerts out.
//!
//! [`matcher`] is the reference evaluator of one rule on one event, whose semantics
//! `docs/semantics.md` states and every backend must reproduce. [`correlate`] runs
//! correlations and baselines over time-ordered events. [`ruletest`] runs the `tests:` that
//! rules carry (`aisigma test`). [`aliases`] resolves deprecated field names both ways.

pub mod aliases;
pub mod correlate;
pub mod matcher;
pub mod ruletest;
