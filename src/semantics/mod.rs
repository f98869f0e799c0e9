//! Semantics: the AST in, checked rules and the detection IR out.
//!
//! Checks metadata and tags against the ATLAS and OWASP catalogs ([`metadata`], [`catalog`]),
//! types every field against the AI telemetry schema ([`schema`], [`typecheck`]), lowers each
//! detection to the IR that the engine evaluates and the backends render ([`lower`], [`ir`]),
//! and checks correlations across files ([`correlation`]). [`check`] runs it all over many files.

pub mod catalog;
pub mod check;
pub mod checked;
pub mod correlation;
pub mod ir;
pub mod literals;
pub mod lower;
pub mod metadata;
pub mod schema;
pub mod typecheck;
