//! What checking a file gives: its documents, each with its detection IR when it has one
//! without errors, and every diagnostic, positioned in the file. The engine, the scanner, the
//! backends and the reports all read this.

use crate::report::diagnostic::{Diagnostic, Severity};
use crate::semantics::ir::Expr;
use crate::syntax::ast::Doc;
use crate::syntax::source::SourceFile;
use std::sync::Arc;

/// A document after checking, with its lowered detection if it has one without errors.
#[derive(Debug)]
pub struct CheckedDoc {
    pub doc: Doc,
    pub expr: Option<Expr>,
    /// The category the rule is scoped to in mixed data ([`crate::semantics::schema::Schema::scope`]).
    pub scope: Option<String>,
}

#[derive(Debug)]
pub struct FileResult {
    pub path: String,
    pub source: Option<Arc<SourceFile>>,
    pub docs: Vec<CheckedDoc>,
    pub diags: Vec<Diagnostic>,
}

impl FileResult {
    pub fn count(&self, sev: Severity) -> usize {
        self.diags.iter().filter(|d| d.severity == sev).count()
    }
}
