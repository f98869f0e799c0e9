//! Backends: render the detection IR as a target's query language.
//!
//! A target is a [`Dialect`]: it says how to write one predicate, a field name and a string
//! literal, and the shared renderer here does the boolean structure (grouping, `not`,
//! `N of`). Defaults are the common case, in the spirit of PRQL's `DialectHandler`; a dialect
//! overrides only where its language differs. A construct a target cannot express exactly is
//! refused with [`Unsupported`], which becomes an `AIS801` error naming the rule, the construct
//! and the target: a backend never emits an approximation.

pub mod artifact;
pub mod column;
pub mod compile;
pub mod constants;
pub mod correlation;
pub mod dialect;
pub mod entities;
pub mod eql;
pub mod esql;
pub mod kql;
pub mod literal;
pub mod lucene;
pub mod mapping;
pub mod refusal;
pub mod render;
pub mod schedule;
pub mod spl;
pub mod target;
pub mod text;
pub mod yaral;
