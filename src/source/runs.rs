//! Which rules run on which source: a rule runs on a target of a source when it compiles with
//! the source's landing there, and it runs in `scan --source` when the source's records give
//! every field it reads (docs/sources.md, "Which rules run on a source").

use super::pack::Pack;
use crate::backend::compile::{Options, compile_correlation_with, compile_with};
use crate::backend::target::Target;
use crate::report::diagnostic::{Diagnostic, Severity};
use crate::semantics::checked::FileResult;
use crate::semantics::schema::Schema;
use crate::syntax::ast::Body;
use std::collections::HashMap;

/// Where one rule runs on one source.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// Targets it compiles to with the source's landing.
    pub targets: Vec<Target>,
    /// `scan --source` gives every field it reads.
    pub scan: bool,
    /// Why it does not compile, per target where it does not (the first diagnostic).
    pub refused: Vec<(Target, Diagnostic)>,
    /// The fields it reads that the source's records lack (for `scan`).
    pub missing: Vec<String>,
}

/// Fields of a detection rule that the source's records lack, or `None` if its category is
/// not the source's (nothing runs then).
fn scan_missing(
    results: &[FileResult],
    at: (usize, usize),
    pack: &Pack,
    schema: &Schema,
    index: &HashMap<String, (usize, usize)>,
    depth: usize,
) -> Option<Vec<String>> {
    let cd = &results[at.0].docs[at.1];
    if let Some(Body::Correlation(c)) = &cd.doc.body {
        if depth > 8 {
            return None;
        }
        let mut missing = Vec::new();
        for r in &c.rules {
            let at = *crate::semantics::correlation::resolve(index, &r.value)?;
            missing.extend(scan_missing(results, at, pack, schema, index, depth + 1)?);
        }
        return Some(missing);
    }
    let category = cd.doc.category()?;
    if !pack.categories.iter().any(|c| c == category) {
        return None;
    }
    let have = pack.scan_fields(schema, category);
    let aliases = schema.product("ai").map(|p| &p.aliases);
    let carried = |f: &str| {
        let canonical = aliases.and_then(|a| a.get(f)).map_or(f, |a| a.to.as_str());
        have.contains(&f) || have.contains(&canonical)
    };
    let expr = cd.expr.as_ref()?;
    // A keyword search reads every value: it runs on whatever the records hold.
    let mut read = Vec::new();
    expr.fields_read(&mut read);
    let mut missing: Vec<String> = read.into_iter().filter(|f| !carried(f)).collect();
    missing.sort();
    missing.dedup();
    // Decided as `scan` would: fields the records lack are absent, fields the pack fixes
    // hold one of their values. A rule that cannot match there does not run there.
    let known = |f: &str| {
        use crate::backend::constants::Known;
        if !carried(f) {
            return Some(Known::Absent);
        }
        pack.possible_values(f).map(Known::OneOf)
    };
    match crate::backend::constants::fold_with(expr, &known) {
        crate::backend::constants::Folded::Const(false) if missing.is_empty() => {
            Some(vec!["(its tests never hold on these records)".to_string()])
        }
        crate::backend::constants::Folded::Const(false) => Some(missing),
        _ => Some(Vec::new()),
    }
}

/// Where each rule of `results` runs on `pack`: per file, per document. Documents with check
/// errors run nowhere.
pub fn runs_on(results: &[FileResult], pack: &Pack, schema: &Schema) -> Vec<Vec<Runs>> {
    let index = crate::semantics::correlation::index(results);
    let mappings: Vec<_> = Target::ALL
        .into_iter()
        .filter_map(|t| Some((t, super::mapping(pack, t)?)))
        .collect();
    let opts = Options::default();
    results
        .iter()
        .enumerate()
        .map(|(fi, r)| {
            let broken = r.diags.iter().any(|d| d.severity == Severity::Error);
            r.docs
                .iter()
                .enumerate()
                .map(|(di, cd)| {
                    let mut runs = Runs::default();
                    if broken {
                        return runs;
                    }
                    for (t, m) in &mappings {
                        let out = match (&cd.doc.body, &cd.expr) {
                            (Some(Body::Correlation(_)), _) => {
                                compile_correlation_with(results, (fi, di), *t, m, schema, &opts)
                            }
                            (_, Some(expr)) => compile_with(&cd.doc, expr, *t, m, schema, &opts),
                            _ => continue,
                        };
                        match out {
                            Ok(_) => runs.targets.push(*t),
                            Err(d) => {
                                if let Some(first) = d.into_iter().next() {
                                    runs.refused.push((*t, first));
                                }
                            }
                        }
                    }
                    match scan_missing(results, (fi, di), pack, schema, &index, 0) {
                        Some(m) if m.is_empty() => runs.scan = true,
                        Some(m) => runs.missing = m,
                        None => {}
                    }
                    runs
                })
                .collect()
        })
        .collect()
}
