//! The rules the server knows: every rule file of the workspace, checked on its own once, and
//! the open documents, re-checked as they change. The checks across files (duplicate ids and
//! names, rule references, correlation fields) are recomputed over all of them, so an open
//! document gets exactly the diagnostics `aisigma check` gives for it when run on the
//! workspace.

use crate::report::diagnostic::Diagnostic;
use crate::semantics::check::{Options, check_each, check_source, sort_diags, workspace_findings};
use crate::semantics::checked::FileResult;
use crate::semantics::schema::Schema;
use crate::syntax::load;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub struct Workspace {
    pub schema: Schema,
    /// The workspace folder: paths in messages are relative to it, as for `check` run there.
    pub root: Option<PathBuf>,
    /// The rule files and directories searched (absolute).
    pub rule_paths: Vec<PathBuf>,
    pub options: Options,
    /// Every known file (absolute path), in path order, and its own check (same index).
    paths: Vec<PathBuf>,
    results: Vec<FileResult>,
    /// The text of each open document.
    open: BTreeMap<PathBuf, String>,
    /// Open documents whose text changed since they were last checked.
    dirty: BTreeSet<PathBuf>,
    /// The checks of open documents outside the rule paths: they see the workspace's rules,
    /// but the workspace's rules do not see them (as `check` of the rule paths would not).
    outside: BTreeMap<PathBuf, FileResult>,
}

impl Workspace {
    /// Check every rule file under `rule_paths` (the root when empty).
    pub fn load(
        schema: Schema,
        root: Option<PathBuf>,
        rule_paths: Vec<PathBuf>,
        options: Options,
    ) -> Workspace {
        let rule_paths: Vec<PathBuf> = if rule_paths.is_empty() {
            root.iter().cloned().collect()
        } else {
            rule_paths
                .into_iter()
                .map(|p| match &root {
                    Some(r) if p.is_relative() => r.join(p),
                    _ => p,
                })
                .collect()
        };
        let mut ws = Workspace {
            schema,
            root,
            rule_paths,
            options,
            paths: Vec::new(),
            results: Vec::new(),
            open: BTreeMap::new(),
            dirty: BTreeSet::new(),
            outside: BTreeMap::new(),
        };
        let paths: Vec<PathBuf> = ws
            .rule_paths
            .iter()
            .filter(|p| p.exists())
            .cloned()
            .collect();
        let found = load::collect_files(&paths).unwrap_or_default();
        let results = check_each(&found, &ws.schema, &ws.options);
        for (path, r) in found.into_iter().zip(results) {
            ws.insert(path, r);
        }
        ws
    }

    /// Add or replace a file's result, keeping path order.
    fn insert(&mut self, path: PathBuf, mut r: FileResult) {
        r.path = self.shown(&path);
        match self.paths.binary_search(&path) {
            Ok(i) => self.results[i] = r,
            Err(i) => {
                self.paths.insert(i, path);
                self.results.insert(i, r);
            }
        }
    }

    fn remove(&mut self, path: &Path) {
        if let Ok(i) = self.paths.binary_search_by(|p| p.as_path().cmp(path)) {
            self.paths.remove(i);
            self.results.remove(i);
        }
    }

    /// How a path appears in messages: relative to the root when inside it.
    pub fn shown(&self, path: &Path) -> String {
        let rel = self
            .root
            .as_ref()
            .and_then(|r| path.strip_prefix(r).ok())
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(path);
        load::display_path(rel)
    }

    /// The paths of the open documents.
    pub fn open_paths(&self) -> Vec<PathBuf> {
        self.open.keys().cloned().collect()
    }

    pub fn text(&self, path: &Path) -> Option<&str> {
        self.open.get(path).map(String::as_str)
    }

    /// A document was opened or changed. It is checked at the next [`Workspace::refresh`],
    /// so a burst of changes is checked once.
    pub fn set_text(&mut self, path: &Path, text: String) {
        self.open.insert(path.to_path_buf(), text);
        self.dirty.insert(path.to_path_buf());
    }

    /// Whether a path is one of the rule files the workspace checks together.
    fn inside(&self, path: &Path) -> bool {
        let rule_file = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        );
        rule_file && self.rule_paths.iter().any(|p| path.starts_with(p))
    }

    /// Check the documents that changed since their last check.
    pub fn refresh(&mut self) {
        for path in std::mem::take(&mut self.dirty) {
            let Some(text) = self.open.get(&path) else {
                continue;
            };
            let shown = self.shown(&path);
            let r = match load::source_from_bytes(
                shown.clone(),
                text.clone().into_bytes(),
                self.options.max_file_size,
            ) {
                Ok(src) => check_source(src, &self.schema),
                Err(d) => FileResult {
                    path: shown,
                    source: None,
                    docs: Vec::new(),
                    diags: vec![d],
                },
            };
            if self.inside(&path) {
                self.insert(path, r);
            } else {
                self.outside.insert(path, r);
            }
        }
    }

    /// A document was closed: the file on disk counts again, if it is a rule file of the
    /// workspace.
    pub fn close(&mut self, path: &Path) {
        self.open.remove(path);
        self.dirty.remove(path);
        self.outside.remove(path);
        self.reload(path);
    }

    /// A file changed on disk (and is not open): check it again, or forget it if it is gone
    /// or outside the rule paths.
    pub fn reload(&mut self, path: &Path) {
        if self.open.contains_key(path) {
            return;
        }
        if !(self.inside(path) && path.is_file()) {
            self.remove(path);
            return;
        }
        if let Some(r) = check_each(&[path.to_path_buf()], &self.schema, &self.options).pop() {
            self.insert(path.to_path_buf(), r);
        }
    }

    /// The diagnostics of a file: its own, and those across files that fall in it, in the
    /// order `check` prints them. A document outside the rule paths is checked with the
    /// workspace's rules for this purpose only. Call [`Workspace::refresh`] first.
    pub fn diagnostics(&mut self, path: &Path) -> Vec<Diagnostic> {
        if let Some(r) = self.outside.remove(path) {
            // Next to the others for the checks across files, then put back.
            self.results.push(r);
            let index = self.results.len() - 1;
            let out = self.findings_of(index);
            if let Some(r) = self.results.pop() {
                self.outside.insert(path.to_path_buf(), r);
            }
            return out;
        }
        match self.paths.binary_search_by(|p| p.as_path().cmp(path)) {
            Ok(index) => self.findings_of(index),
            Err(_) => Vec::new(),
        }
    }

    fn findings_of(&self, index: usize) -> Vec<Diagnostic> {
        let mut out = self.results[index].diags.clone();
        out.extend(
            workspace_findings(&self.results, &self.schema)
                .into_iter()
                .filter(|(fi, _)| *fi == index)
                .map(|(_, d)| d),
        );
        sort_diags(&mut out);
        out
    }
}
