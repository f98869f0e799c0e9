//! Syntax: rule files in, a positioned AST out.
//!
//! Finds and reads rule files safely ([`load`]), parses YAML with a position for every node
//! ([`yaml`]), and turns each document into the rule AST ([`ast`]) with its condition
//! ([`condition`]), value strings ([`sigma_string`]) and modifiers ([`modifier`]). Nothing
//! here knows the schema; structural problems come out as diagnostics.

pub mod ast;
pub mod condition;
pub mod correlation;
pub mod deploy;
pub mod load;
pub mod modifier;
pub mod rule_parser;
pub mod sigma_string;
pub mod source;
pub mod span;
pub mod time;
pub mod yaml;
