//! Refusals: a construct a target cannot express exactly becomes an `AIS801` (or, for a
//! field the mapping lacks, `AIS802`) error that names the rule, the construct and the target.

use crate::report::diagnostic::{Code, Diagnostic};
use crate::syntax::span::Span;

/// A construct the target cannot express exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    /// What the rule uses, e.g. "regular expressions (`re`)".
    pub construct: String,
    /// Why the target cannot express it (shown as help).
    pub reason: String,
    pub span: Span,
    /// `AIS801` for a construct, `AIS802` for a field the mapping lacks.
    pub code: Code,
}

impl Unsupported {
    pub fn new(construct: impl Into<String>, reason: impl Into<String>, span: Span) -> Self {
        Unsupported {
            construct: construct.into(),
            reason: reason.into(),
            span,
            code: Code::UnsupportedConstruct,
        }
    }

    pub fn into_diagnostic(self, rule: &str, target: &str) -> Diagnostic {
        Diagnostic::new(
            self.code,
            self.span,
            format!(
                "rule `{rule}`: {} cannot be compiled to {}",
                self.construct, target
            ),
        )
        .with_help(self.reason)
    }
}
