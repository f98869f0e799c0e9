//! What a rule set covers: the ATLAS techniques and the OWASP LLM and Agentic risks its rules
//! are tagged with, each with its rules and the targets and sources those rules run on; the
//! gaps against a list of required techniques; and the coverage as a table, JSON or Markdown.
//! The ATLAS Navigator layer is [`crate::report::navigator`].

use crate::semantics::catalog::{ATLAS_VERSION, Catalog, Entry};
use crate::semantics::checked::FileResult;
use crate::source::runs::Runs;
use crate::syntax::ast::Body;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// One rule that counts toward coverage: a detection rule or a correlation.
#[derive(Clone, Debug)]
pub struct CoveredRule {
    pub title: String,
    pub id: Option<String>,
    pub file: String,
    /// Targets it compiles to on at least one source, in [`Target::ALL`] order, then `scan`.
    ///
    /// [`Target::ALL`]: crate::backend::target::Target::ALL
    pub targets: Vec<String>,
    /// Sources it runs on (compiles to one of their targets, or runs in `scan`).
    pub sources: Vec<String>,
}

/// An ATLAS technique or OWASP risk, and the rules tagged with it (indexes into
/// [`Coverage::rules`]).
#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    pub name: String,
    /// The ATLAS tactics of a technique, by short name (`ai-model-access`).
    pub tactics: Vec<String>,
    pub rules: Vec<usize>,
}

/// One OWASP list: its title and every entry, covered or not.
#[derive(Clone, Debug)]
pub struct OwaspList {
    pub title: &'static str,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct Coverage {
    pub rules: Vec<CoveredRule>,
    /// Every current ATLAS technique and sub-technique, by id.
    pub techniques: Vec<Item>,
    /// The OWASP LLM Top 10 (2025) and the Agentic Top 10 (2026).
    pub owasp: Vec<OwaspList>,
}

/// The OWASP lists the matrix shows: tag prefix and title.
const OWASP_LISTS: [(&str, &str); 2] = [
    ("llm", "OWASP Top 10 for LLM Applications 2025"),
    ("asi", "OWASP Top 10 for Agentic Applications 2026"),
];

impl Coverage {
    /// The coverage of the checked rules. `runs[p]` is where each document runs on source
    /// `sources[p]` ([`crate::source::runs::runs_on`]).
    pub fn build(results: &[FileResult], sources: &[String], runs: &[Vec<Vec<Runs>>]) -> Self {
        let catalog = Catalog::get();
        let tactic_slugs = |e: &Entry| -> Vec<String> {
            e.tactics
                .iter()
                .filter_map(|t| catalog.tactics.get(t))
                .map(crate::semantics::catalog::tactic_slug)
                .collect()
        };
        let mut techniques: Vec<Item> = catalog
            .techniques
            .values()
            .filter(|e| !e.removed)
            .map(|e| Item {
                id: e.id.clone(),
                // A sub-technique's name ("Direct") reads with its parent's.
                name: match e.parent.as_ref().and_then(|p| catalog.techniques.get(p)) {
                    Some(p) => format!("{}: {}", p.name, e.name),
                    None => e.name.clone(),
                },
                tactics: tactic_slugs(e),
                rules: Vec::new(),
            })
            .collect();
        let mut owasp: Vec<OwaspList> = OWASP_LISTS
            .iter()
            .map(|(prefix, title)| OwaspList {
                title,
                items: catalog
                    .owasp
                    .iter()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .map(|(_, e)| Item {
                        id: e.id.clone(),
                        name: e.name.clone(),
                        tactics: Vec::new(),
                        rules: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        let mut rules = Vec::new();
        for (fi, r) in results.iter().enumerate() {
            for (di, cd) in r.docs.iter().enumerate() {
                if !matches!(
                    cd.doc.body,
                    Some(Body::Detection(_)) | Some(Body::Correlation(_))
                ) {
                    continue;
                }
                let ri = rules.len();
                let mut tagged = false;
                for tag in &cd.doc.meta.tags {
                    let tag = tag.value.to_lowercase();
                    let Ok(Some(entry)) = catalog.check_tag(&tag) else {
                        continue;
                    };
                    let slot = if tag.starts_with("atlas.") {
                        techniques.iter_mut().find(|t| t.id == entry.id)
                    } else {
                        owasp
                            .iter_mut()
                            .flat_map(|l| l.items.iter_mut())
                            .find(|t| t.id == entry.id)
                    };
                    // ATLAS tactics and OWASP ML entries are valid tags outside this matrix.
                    if let Some(item) = slot {
                        if item.rules.last() != Some(&ri) {
                            item.rules.push(ri);
                        }
                        tagged = true;
                    }
                }
                if !tagged {
                    continue;
                }
                let mut targets = Vec::new();
                let mut on = Vec::new();
                let mut scan = false;
                for (name, per_doc) in sources.iter().zip(runs) {
                    let cell = &per_doc[fi][di];
                    targets.extend(cell.targets.iter().copied());
                    scan |= cell.scan;
                    if !cell.targets.is_empty() || cell.scan {
                        on.push(name.clone());
                    }
                }
                let mut targets: Vec<String> = crate::backend::target::Target::ALL
                    .into_iter()
                    .filter(|t| targets.contains(t))
                    .map(|t| t.name().to_string())
                    .collect();
                if scan {
                    targets.push("scan".into());
                }
                rules.push(CoveredRule {
                    title: cd.doc.label(),
                    id: cd.doc.meta.id.as_ref().map(|i| i.value.clone()),
                    file: r.path.clone(),
                    targets,
                    sources: on,
                });
            }
        }
        Coverage {
            rules,
            techniques,
            owasp,
        }
    }

    /// The covered techniques.
    pub fn covered(&self) -> impl Iterator<Item = &Item> {
        self.techniques.iter().filter(|t| !t.rules.is_empty())
    }

    /// The targets (in order) and sources (sorted) of an item's rules.
    pub fn reach(&self, item: &Item) -> (Vec<String>, Vec<String>) {
        let mut targets: Vec<String> = Vec::new();
        let mut sources = BTreeSet::new();
        for &r in &item.rules {
            for t in &self.rules[r].targets {
                if !targets.contains(t) {
                    targets.push(t.clone());
                }
            }
            sources.extend(self.rules[r].sources.iter().cloned());
        }
        let order = |t: &String| {
            crate::backend::target::Target::ALL
                .iter()
                .position(|x| x.name() == t)
                .unwrap_or(usize::MAX)
        };
        targets.sort_by_key(order);
        (targets, sources.into_iter().collect())
    }

    /// The required ids (`AML.T0051`, `LLM01`, `ASI03`) that no rule covers. A technique is
    /// covered by a rule tagged with it or with one of its sub-techniques.
    pub fn gaps<'a>(&self, required: &'a [String]) -> Vec<&'a str> {
        required
            .iter()
            .filter(|id| {
                let prefix = format!("{id}.");
                let technique = self
                    .techniques
                    .iter()
                    .any(|t| !t.rules.is_empty() && (t.id == **id || t.id.starts_with(&prefix)));
                let risk = self
                    .owasp
                    .iter()
                    .flat_map(|l| &l.items)
                    .any(|t| !t.rules.is_empty() && t.id == **id);
                !technique && !risk
            })
            .map(String::as_str)
            .collect()
    }

    /// The coverage as a terminal table: the ATLAS techniques covered, then each OWASP
    /// list entry by entry (covered or not), then the gaps.
    pub fn table(&self, gaps: Option<&[&str]>) -> String {
        let mut out = String::new();
        let covered: Vec<&Item> = self.covered().collect();
        let _ = writeln!(
            out,
            "MITRE ATLAS {ATLAS_VERSION}: {} of {} techniques and sub-techniques covered by {}",
            covered.len(),
            self.techniques.len(),
            crate::report::plural(self.rules.len(), "rule")
        );
        let rows: Vec<[String; 5]> = covered.iter().map(|t| self.row(t)).collect();
        table(
            &mut out,
            ["ID", "NAME", "RULES", "TARGETS", "SOURCES"],
            &rows,
        );
        for list in &self.owasp {
            let n = list.items.iter().filter(|i| !i.rules.is_empty()).count();
            let _ = writeln!(out, "\n{}: {n} of {} covered", list.title, list.items.len());
            let rows: Vec<[String; 5]> = list.items.iter().map(|t| self.row(t)).collect();
            table(
                &mut out,
                ["ID", "NAME", "RULES", "TARGETS", "SOURCES"],
                &rows,
            );
        }
        if let Some(gaps) = gaps {
            let _ = writeln!(out);
            if gaps.is_empty() {
                let _ = writeln!(out, "gaps: none, every required technique is covered");
            } else {
                let _ = writeln!(out, "gaps: {} required, not covered:", gaps.len());
                let w = gaps.iter().map(|g| g.len()).max().unwrap_or(0);
                for g in gaps {
                    let _ = writeln!(out, "  {g:<w$}  {}", self.name_of(g));
                }
            }
        }
        out
    }

    /// One table row: id, name, rule count, targets, sources (`-` for none).
    fn row(&self, t: &Item) -> [String; 5] {
        let (targets, sources) = self.reach(t);
        let or_dash = |v: Vec<String>| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(" ")
            }
        };
        [
            t.id.clone(),
            t.name.clone(),
            t.rules.len().to_string(),
            or_dash(targets),
            or_dash(sources),
        ]
    }

    /// The name of a technique or risk id, or "" for an unknown one.
    pub fn name_of(&self, id: &str) -> &str {
        self.techniques
            .iter()
            .chain(self.owasp.iter().flat_map(|l| &l.items))
            .find(|t| t.id == id)
            .map_or("", |t| t.name.as_str())
    }

    /// The coverage as Markdown: one table per framework, each row naming its rules.
    pub fn markdown(&self, gaps: Option<&[&str]>) -> String {
        let mut out = String::new();
        let covered: Vec<&Item> = self.covered().collect();
        let _ = writeln!(
            out,
            "## MITRE ATLAS {ATLAS_VERSION}\n\n{} of {} techniques and sub-techniques covered by {}.\n",
            covered.len(),
            self.techniques.len(),
            crate::report::plural(self.rules.len(), "rule")
        );
        self.markdown_table(&mut out, &covered);
        for list in &self.owasp {
            let n = list.items.iter().filter(|i| !i.rules.is_empty()).count();
            let _ = writeln!(
                out,
                "\n## {}\n\n{n} of {} covered.\n",
                list.title,
                list.items.len()
            );
            let items: Vec<&Item> = list.items.iter().collect();
            self.markdown_table(&mut out, &items);
        }
        if let Some(gaps) = gaps {
            let _ = writeln!(out, "\n## Gaps\n");
            if gaps.is_empty() {
                let _ = writeln!(out, "None: every required technique is covered.");
            }
            for g in gaps {
                let _ = writeln!(out, "- {g} {}", md(self.name_of(g)));
            }
        }
        out
    }

    fn markdown_table(&self, out: &mut String, items: &[&Item]) {
        let _ = writeln!(out, "| id | name | rules | targets | sources |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for t in items {
            let (targets, sources) = self.reach(t);
            let rules: Vec<String> = t.rules.iter().map(|&r| md(&self.rules[r].title)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                t.id,
                md(&t.name),
                if rules.is_empty() {
                    "-".to_string()
                } else {
                    rules.join("<br>")
                },
                if targets.is_empty() {
                    "-".to_string()
                } else {
                    targets.join(" ")
                },
                if sources.is_empty() {
                    "-".to_string()
                } else {
                    sources.join(" ")
                },
            );
        }
    }

    /// The coverage as one JSON document (docs/coverage.md describes its fields).
    pub fn json(&self, gaps: Option<&[&str]>) -> serde_json::Value {
        use serde_json::json;
        let item = |t: &Item| {
            let (targets, sources) = self.reach(t);
            let mut v = json!({
                "id": t.id,
                "name": t.name,
                "rules": t.rules,
                "targets": targets,
                "sources": sources,
            });
            if !t.tactics.is_empty() {
                v["tactics"] = json!(t.tactics);
            }
            v
        };
        let rules: Vec<serde_json::Value> = self
            .rules
            .iter()
            .map(|r| {
                json!({
                    "title": r.title,
                    "id": r.id,
                    "file": r.file,
                    "targets": r.targets,
                    "sources": r.sources,
                })
            })
            .collect();
        let mut v = json!({
            "atlas_version": ATLAS_VERSION,
            "rules": rules,
            "atlas": {
                "techniques": self.techniques.len(),
                "covered": self.covered().map(item).collect::<Vec<_>>(),
            },
            "owasp": self.owasp.iter().map(|l| json!({
                "list": l.title,
                "entries": l.items.iter().map(item).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        if let Some(gaps) = gaps {
            v["gaps"] = json!(
                gaps.iter()
                    .map(|g| json!({"id": g, "name": self.name_of(g)}))
                    .collect::<Vec<_>>()
            );
        }
        v
    }
}

/// Escape a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Aligned columns, the last one unpadded.
fn table<const N: usize>(out: &mut String, head: [&str; N], rows: &[[String; N]]) {
    let mut width = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                l.push_str(c);
            } else {
                let pad = width[i] - c.chars().count();
                let _ = write!(l, "{c}{}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", l.trim_end());
    };
    line(head.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// Parse a list of required techniques and risks: one id per line (`AML.T0051`,
/// `atlas.aml.t0051`, `LLM01`, `owasp.asi03`), `#` comments and blank lines ignored; or an
/// ATLAS Navigator layer (JSON), whose techniques are the list. Unknown ids are errors.
pub fn parse_required(text: &str) -> Result<Vec<String>, String> {
    let catalog = Catalog::get();
    let mut ids: Vec<(usize, String)> = Vec::new();
    if text.trim_start().starts_with('{') {
        let layer: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a valid Navigator layer: {e}"))?;
        let techniques = layer["techniques"]
            .as_array()
            .ok_or("a Navigator layer needs a `techniques` list")?;
        for t in techniques {
            let id = t["techniqueID"]
                .as_str()
                .ok_or("every technique of the layer needs a `techniqueID`")?;
            ids.push((0, id.to_string()));
        }
    } else {
        for (n, line) in text.lines().enumerate() {
            let word = line.split('#').next().unwrap_or("").trim();
            if !word.is_empty() {
                ids.push((n + 1, word.to_string()));
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (line, raw) in ids {
        let lower = raw.to_lowercase();
        let tag = if lower.starts_with("atlas.") || lower.starts_with("owasp.") {
            lower
        } else if lower.starts_with("aml.") {
            format!("atlas.{lower}")
        } else {
            format!("owasp.{lower}")
        };
        let at = if line > 0 {
            format!("line {line}: ")
        } else {
            String::new()
        };
        match catalog.check_tag(&tag) {
            Ok(Some(e)) if !e.id.starts_with("AML.TA") && !e.id.starts_with("ML") => {
                if !out.contains(&e.id) {
                    out.push(e.id.clone());
                }
            }
            Ok(_) => {
                return Err(format!(
                    "{at}`{raw}` is not an ATLAS technique or an OWASP LLM or Agentic risk \
                     (ATLAS tactics and the OWASP ML Top 10 are not in the coverage matrix)"
                ));
            }
            Err(e) => {
                let help = e.help.map(|h| format!(" ({h})")).unwrap_or_default();
                return Err(format!("{at}{}{help}", e.message));
            }
        }
    }
    Ok(out)
}
