//! The check pipeline over many files: load, parse, type-check, lower, then repo-wide checks.
//! Files are processed in parallel; results come back in path order.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, Severity, did_you_mean, suggest};
use crate::semantics::checked::{CheckedDoc, FileResult};
use crate::semantics::ir::Expr;
use crate::semantics::lower;
use crate::semantics::metadata;
use crate::semantics::schema::Schema;
use crate::semantics::typecheck::Scope;
use crate::syntax::ast::{Body, Doc};
use crate::syntax::load;
use crate::syntax::source::SourceFile;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Options {
    pub max_file_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: load::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Check one already-loaded source.
pub fn check_source(src: Arc<SourceFile>, schema: &Schema) -> FileResult {
    let mut diags = Diagnostics::default();
    let docs = load::parse_source(&src, &mut diags);
    // Names and ids that correlations in this file reference: such documents are inputs,
    // not standalone rules, and need less metadata.
    let referenced: HashSet<String> = docs
        .iter()
        .filter_map(|d| match &d.body {
            Some(Body::Correlation(c)) => Some(c.rules.iter().map(|r| r.value.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    let mut checked = Vec::new();
    for doc in docs {
        let standalone = !(doc
            .meta
            .name
            .as_ref()
            .is_some_and(|n| referenced.contains(&n.value))
            || doc
                .meta
                .id
                .as_ref()
                .is_some_and(|i| referenced.contains(&i.value)));
        metadata::check(&doc, standalone, &mut diags);
        let expr = check_body(&doc, schema, standalone, &mut diags);
        let scope = schema.scope(&doc).map(str::to_string);
        checked.push(CheckedDoc { doc, expr, scope });
    }
    let mut items = diags.items;
    for d in &mut items {
        d.span = src.clamp(d.span);
    }
    // A file with errors has no trustworthy meaning (e.g. an entry dropped for an unknown
    // modifier would widen its selection): none of its documents is evaluated.
    if items.iter().any(|d| d.severity == Severity::Error) {
        for c in &mut checked {
            c.expr = None;
        }
    }
    sort_diags(&mut items);
    FileResult {
        path: src.path.clone(),
        source: Some(src),
        docs: checked,
        diags: items,
    }
}

/// `standalone` is false for an input of a correlation in the same file: the correlation
/// carries the ATLAS and OWASP tags.
fn check_body(
    doc: &Doc,
    schema: &Schema,
    standalone: bool,
    diags: &mut Diagnostics,
) -> Option<Expr> {
    let scope = doc
        .meta
        .logsource
        .as_ref()
        .and_then(|ls| Scope::of(schema, ls, diags));
    if scope.is_some() && doc.detection().is_some() && standalone {
        metadata::check_ai_mapping(doc, diags);
    }
    check_suppress_fields(doc, scope.as_ref(), diags);
    check_test_fields(doc, scope.as_ref(), diags);
    match &doc.body {
        Some(Body::Detection(det)) => {
            if let Some(s) = &scope {
                crate::semantics::typecheck::check_detection(det, s, diags);
            }
            let type_of = |f: &str| scope.as_ref().and_then(|s| s.type_of(f));
            lower::lower_detection(det, &type_of, diags)
        }
        Some(Body::Filter(f)) => {
            if let Some(s) = &scope {
                crate::semantics::typecheck::check_detection(&f.detection, s, diags);
            }
            let type_of = |fld: &str| scope.as_ref().and_then(|s| s.type_of(fld));
            let _ = lower::lower_detection(&f.detection, &type_of, diags);
            diags.push(
                Diagnostic::new(
                    Code::NotYetSupported,
                    doc.meta.title.as_ref().map(|t| t.span).unwrap_or(f.span),
                    "meta filters are checked, but not yet applied by `test` or compiled",
                )
                .with_help(
                    "support for applying filters is planned together with correlation rules",
                ),
            );
            None
        }
        Some(Body::Correlation(c)) => {
            if let Some(e) = c.condition.as_ref().and_then(|c| c.expression.as_ref()) {
                diags.push(
                    Diagnostic::new(Code::NotYetSupported, e.span, "boolean conditions over rule names (a pySigma extension) are checked, but not yet evaluated or compiled")
                        .with_help("list the rules in `rules` and leave out `condition`: a temporal correlation then needs all of them"),
                );
            }
            None
        }
        None => None,
    }
}

/// `deploy.suppress.by` names fields the rule's alerts carry: a field of the rule's category,
/// or for a correlation one of its `group-by` fields (its alerts carry no other).
/// Warn about the fields of test events that the rule's category does not define (a typo in a
/// `no_match` event makes a test that tests nothing). Raw records of a source
/// (`{source, record}`) are in the source's own names and are not checked.
fn check_test_fields(doc: &Doc, scope: Option<&Scope>, diags: &mut Diagnostics) {
    let (Some(scope), Some(tests)) = (scope, &doc.tests) else {
        return;
    };
    fn leaves(prefix: &str, v: &serde_json::Value, scope: &Scope, out: &mut Vec<String>) {
        let Some(obj) = v.as_object() else { return };
        for (k, child) in obj {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if child.is_object() && scope.resolve(&path).is_none() {
                leaves(&path, child, scope, out);
            } else {
                out.push(path);
            }
        }
    }
    for t in tests {
        let raw = t.event.as_object().is_some_and(|o| {
            o.len() == 2
                && o.get("source").is_some_and(|s| s.is_string())
                && o.contains_key("record")
        });
        if raw {
            continue;
        }
        let mut paths = Vec::new();
        leaves("", &t.event, scope, &mut paths);
        for p in paths.iter().filter(|p| scope.resolve(p).is_none()) {
            let names = scope.schema.field_names(&scope.category);
            let kind = if t.expect_match { "match" } else { "no_match" };
            let mut d = Diagnostic::new(
                Code::UnknownTestField,
                t.span,
                format!(
                    "`{p}` in a `{kind}` test event is not a field of category `{}`",
                    scope.category
                ),
            );
            let help = did_you_mean(&suggest(p, names.iter().copied(), 3)).unwrap_or_else(|| {
                "the rule reads schema fields only, so this value is never looked at".to_string()
            });
            d = d.with_help(help);
            diags.push(d);
        }
    }
}

fn check_suppress_fields(doc: &Doc, scope: Option<&Scope>, diags: &mut Diagnostics) {
    let Some(by) = doc.meta.deploy.as_ref().and_then(|d| d.suppress.as_ref()) else {
        return;
    };
    for f in &by.by {
        let (known, candidates): (bool, Vec<&str>) = match &doc.body {
            Some(Body::Correlation(c)) => {
                let names: Vec<&str> = c.group_by.iter().map(|g| g.value.as_str()).collect();
                (names.contains(&f.value.as_str()), names)
            }
            _ => match scope {
                Some(s) => (
                    s.type_of(&f.value).is_some(),
                    s.schema.field_names(&s.category),
                ),
                None => continue,
            },
        };
        if !known {
            let sugg = crate::report::diagnostic::suggest(&f.value, candidates.iter().copied(), 1);
            let what = if matches!(doc.body, Some(Body::Correlation(_))) {
                "is not one of the correlation's `group-by` fields, the only fields its alerts carry"
            } else {
                "is not a field of the rule's category"
            };
            let mut d = Diagnostic::new(
                Code::InvalidDeploy,
                f.span,
                format!("`deploy.suppress.by`: `{}` {what}", f.value),
            );
            if let Some(h) = crate::report::diagnostic::did_you_mean(&sugg) {
                d = d.with_help(h);
            }
            diags.push(d);
        }
    }
}

pub fn sort_diags(items: &mut [Diagnostic]) {
    items.sort_by(|a, b| {
        (a.span.start, a.span.end, a.code, &a.message)
            .partial_cmp(&(b.span.start, b.span.end, b.code, &b.message))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Check rule text held in memory (used by tests and tools).
pub fn check_str(path: &str, text: &str, schema: &Schema) -> FileResult {
    check_source(SourceFile::new(path, text.to_string()), schema)
}

/// Check every file, in parallel, then run the repository-wide checks.
pub fn check_files(files: &[PathBuf], schema: &Schema, opts: &Options) -> Vec<FileResult> {
    let mut results = check_each(files, schema, opts);
    for (fi, d) in workspace_findings(&results, schema) {
        results[fi].diags.push(d);
    }
    for r in results.iter_mut() {
        sort_diags(&mut r.diags);
    }
    results
}

/// Check every file on its own, in parallel, without the checks across files
/// ([`workspace_findings`]).
pub fn check_each(files: &[PathBuf], schema: &Schema, opts: &Options) -> Vec<FileResult> {
    files
        .par_iter()
        .map(|p| match load::read_source(p, opts.max_file_size) {
            Ok(src) => check_source(src, schema),
            Err(d) => FileResult {
                path: load::display_path(p),
                source: None,
                docs: Vec::new(),
                diags: vec![d],
            },
        })
        .collect()
}

/// The diagnostics that need every file, each with the index of its file: duplicate ids and
/// names, unknown rule references ([`repo_findings`]), and the fields correlations read in
/// the rules they reference. `check` adds them to each file's own; `aisigma lsp` recomputes
/// them as documents change.
pub fn workspace_findings(results: &[FileResult], schema: &Schema) -> Vec<(usize, Diagnostic)> {
    let mut out = repo_findings(results);
    out.extend(crate::semantics::correlation::field_findings(
        results, schema,
    ));
    out
}

/// Checks across files: duplicate ids and names, and references of correlations and filters.
pub fn repo_checks(results: &mut [FileResult]) {
    for (fi, d) in repo_findings(results) {
        results[fi].diags.push(d);
    }
    for r in results.iter_mut() {
        sort_diags(&mut r.diags);
    }
}

/// What [`repo_checks`] finds, each with the index of its file.
pub fn repo_findings(results: &[FileResult]) -> Vec<(usize, Diagnostic)> {
    let mut ids: BTreeMap<String, Vec<(usize, crate::syntax::span::Span)>> = BTreeMap::new();
    let mut names: BTreeMap<String, Vec<(usize, crate::syntax::span::Span)>> = BTreeMap::new();
    for (fi, r) in results.iter().enumerate() {
        for d in &r.docs {
            if let Some(id) = &d.doc.meta.id {
                ids.entry(id.value.to_lowercase())
                    .or_default()
                    .push((fi, id.span));
            }
            if let Some(n) = &d.doc.meta.name {
                names.entry(n.value.clone()).or_default().push((fi, n.span));
            }
        }
    }
    let mut extra: Vec<(usize, Diagnostic)> = Vec::new();
    for (table, code, what) in [
        (&ids, Code::DuplicateId, "id"),
        (&names, Code::DuplicateName, "name"),
    ] {
        for (key, places) in table {
            if places.len() < 2 {
                continue;
            }
            let (first_file, first_span) = places[0];
            for &(fi, span) in &places[1..] {
                let msg = format!(
                    "rule {what} `{key}` is already used at {}:{}:{}",
                    results[first_file].path, first_span.start.line, first_span.start.col
                );
                let help = if what == "id" {
                    "give this rule a new random UUID (e.g. from `uuidgen`)".to_string()
                } else {
                    "rule names must be unique".into()
                };
                extra.push((fi, Diagnostic::new(code, span, msg).with_help(help)));
            }
        }
    }
    for (fi, r) in results.iter().enumerate() {
        for d in &r.docs {
            for rf in &d.doc.references {
                let key = rf.value.as_str();
                if ids.contains_key(&key.to_lowercase()) || names.contains_key(key) {
                    continue;
                }
                let pool = names.keys().chain(ids.keys()).map(String::as_str);
                let help = did_you_mean(&suggest(key, pool, 3)).unwrap_or_else(|| {
                    "check the spelling, or pass the file that defines the rule to the same command"
                        .into()
                });
                extra.push((
                    fi,
                    Diagnostic::new(
                        Code::UnknownRuleReference,
                        rf.span,
                        format!("`{key}` matches the id or name of no loaded rule"),
                    )
                    .with_help(help),
                ));
            }
        }
    }
    extra
}

/// Totals over results: (errors, warnings, notes).
pub fn totals(results: &[FileResult]) -> (usize, usize, usize) {
    results.iter().fold((0, 0, 0), |(e, w, n), r| {
        (
            e + r.count(Severity::Error),
            w + r.count(Severity::Warning),
            n + r.count(Severity::Note),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags_of(detection: &str) -> Vec<Diagnostic> {
        let text = format!(
            "title: t\nid: 6a0f3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b\nstatus: test\nlevel: low\n\
             date: 2026-01-01\nlogsource: {{product: ai, category: llm_inference}}\n\
             detection:\n{detection}"
        );
        let r = check_str("t.yml", &text, &Schema::builtin());
        r.diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    }

    #[test]
    fn a_comparison_with_a_word_is_one_error_with_help() {
        let d = diags_of("  sel:\n    gen_ai.usage.input_tokens|gte: high\n  condition: sel\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, Code::InvalidModifierValue);
        assert!(
            d[0].help.as_deref().unwrap().contains("`gte: 1000`"),
            "{d:?}"
        );
    }

    #[test]
    fn a_regex_error_points_at_its_position() {
        // Line 9 of the rule; plain, single-quoted, and (not narrowed) double-quoted with an escape.
        let at = |value: &str| {
            let d = diags_of(&format!(
                "  sel:\n    ai.prompt.text|re: {value}\n  condition: sel\n"
            ));
            assert_eq!(d.len(), 1, "{d:?}");
            (d[0].span.start.col, d[0].span.end.col)
        };
        assert_eq!(at("ab(cd"), (26, 27));
        assert_eq!(at("'ab(cd'"), (27, 28));
        // `"a\\d(b"` in YAML is the pattern `a\d(b`: the escape breaks the column mapping.
        let (start, end) = at(r#""a\\d(b""#);
        assert_eq!((start, end), (24, 32));
    }

    #[test]
    fn unknown_fields_of_test_events_are_warned_about() {
        let rule = "title: t\nid: 6a0f3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b\nstatus: test\nlevel: low\n\
                    date: 2026-01-01\ntags: [atlas.aml.t0051, owasp.llm01]\n\
                    logsource: {product: ai, category: llm_inference}\n\
                    detection:\n  sel:\n    ai.prompt.text|contains: x\n  condition: sel\n\
                    tests:\n  match:\n    - {ai: {prompt: {text: x}}, gen_ai.request.model: m}\n\
                    \x20\x20no_match:\n    - {ai.promt.text: x}\n\
                    \x20\x20\x20\x20- {source: otel-genai, record: {resourceSpans: []}}\n";
        let r = check_str("t.yml", rule, &Schema::builtin());
        let w: Vec<&Diagnostic> = r
            .diags
            .iter()
            .filter(|d| d.code == Code::UnknownTestField)
            .collect();
        // Nested keys are dotted names; the raw record is not checked.
        assert_eq!(w.len(), 1, "{:?}", r.diags);
        assert!(
            w[0].message
                .contains("`ai.promt.text` in a `no_match` test event")
        );
        assert_eq!(w[0].help.as_deref(), Some("did you mean `ai.prompt.text`?"));
        assert_eq!(w[0].severity, Severity::Warning);
    }

    #[test]
    fn every_correlation_problem_is_reported_at_once_with_rule_reference_suggestions() {
        let text = "title: input\nname: my_input_rule\nid: 6a0f3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b\n\
                    status: test\nlevel: low\ndate: 2026-01-01\n\
                    logsource: {product: ai, category: llm_inference}\n\
                    detection:\n  sel:\n    ai.prompt.text|contains: x\n  condition: sel\n\
                    ---\n\
                    title: many\nid: 6a0f3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2c\nstatus: test\n\
                    level: low\ndate: 2026-01-01\n\
                    correlation:\n  type: event_cont\n  rules: [my_inptu_rule]\n\
                    \x20\x20group-by: [user.id]\n  condition: {gte: 10}\n\
                    tests:\n  - name: burst\n    events: []\n    alerts: 0\n";
        let mut results = vec![check_str("c.yml", text, &Schema::builtin())];
        repo_checks(&mut results);
        let found: Vec<(Code, String, Option<String>)> = results[0]
            .diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.code, d.message.clone(), d.help.clone()))
            .collect();
        // The bad type, the missing timespan and the misspelled reference, in one pass; the
        // tests are read as a correlation's tests, not as a rule's.
        let codes: Vec<Code> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            codes,
            [
                Code::InvalidCorrelation,
                Code::InvalidCorrelation,
                Code::UnknownRuleReference
            ],
            "{found:?}"
        );
        // Sorted by position: the missing timespan is reported on the `correlation` block.
        assert!(found[0].1.contains("needs a `timespan`"), "{found:?}");
        assert!(found[1].1.contains("unknown correlation type `event_cont`"));
        assert_eq!(found[2].2.as_deref(), Some("did you mean `my_input_rule`?"));
    }
}
