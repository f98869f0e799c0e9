//! Embedded MITRE ATLAS 5.6.0 and OWASP catalogs, and validation of `atlas.*` / `owasp.*` tags.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The ATLAS data version of the embedded catalog.
pub const ATLAS_VERSION: &str = "5.6.0";

const ATLAS_TACTICS: &str = include_str!("../../data/catalogs/atlas-tactics.tsv");
const ATLAS_TECHNIQUES: &str = include_str!("../../data/catalogs/atlas-techniques.tsv");
const OWASP: &str = include_str!("../../data/catalogs/owasp-llm-top10.tsv");
const ATLAS_DESCRIPTIONS: &str = include_str!("../../data/catalogs/atlas-descriptions.tsv");

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub name: String,
    pub removed: bool,
    /// Parent technique of a sub-technique.
    pub parent: Option<String>,
    /// Tactic ids of a technique (inherited by sub-techniques).
    pub tactics: Vec<String>,
    /// The MITRE ATT&CK tactic an ATLAS tactic is (`TA0002` for Execution), if any.
    pub attack: Option<String>,
    /// One paragraph: ATLAS's own description (its first paragraph), or for OWASP entries a
    /// summary in our words. Empty for removed ATLAS ids.
    pub description: String,
}

#[derive(Debug, Default)]
pub struct Catalog {
    /// ATLAS techniques and sub-techniques by upper-case id (`AML.T0051.000`).
    pub techniques: BTreeMap<String, Entry>,
    /// ATLAS tactics by id (`AML.TA0005`).
    pub tactics: BTreeMap<String, Entry>,
    /// OWASP entries by tag suffix (`llm01`, `asi03`, `ml05`).
    pub owasp: BTreeMap<String, Entry>,
}

fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut lines = tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let _header = lines.next();
    lines.map(|l| l.split('\t').collect())
}

impl Catalog {
    pub fn get() -> &'static Catalog {
        static C: OnceLock<Catalog> = OnceLock::new();
        C.get_or_init(Catalog::load)
    }

    fn load() -> Catalog {
        let mut c = Catalog::default();
        let descriptions: BTreeMap<&str, &str> = rows(ATLAS_DESCRIPTIONS)
            .filter_map(|r| Some((*r.first()?, *r.get(1)?)))
            .collect();
        let description = |id: &str| descriptions.get(id).copied().unwrap_or("").to_string();
        for r in rows(ATLAS_TACTICS) {
            c.tactics.insert(
                r[0].to_string(),
                Entry {
                    id: r[0].to_string(),
                    name: r[1].to_string(),
                    removed: false,
                    parent: None,
                    tactics: Vec::new(),
                    attack: r.get(3).filter(|a| !a.is_empty()).map(|a| a.to_string()),
                    description: description(r[0]),
                },
            );
        }
        for r in rows(ATLAS_TECHNIQUES) {
            let removed = r.get(12).is_some_and(|d| *d == "removed");
            c.techniques.insert(
                r[0].to_string(),
                Entry {
                    id: r[0].to_string(),
                    name: r[1].to_string(),
                    removed,
                    parent: r.get(4).filter(|p| !p.is_empty()).map(|p| p.to_string()),
                    tactics: r
                        .get(5)
                        .map(|t| {
                            t.split([',', ';', '|'])
                                .map(str::trim)
                                .filter(|t| !t.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    attack: None,
                    description: description(r[0]),
                },
            );
        }
        for r in rows(OWASP) {
            let (list, version, id, name) = (r[0], r[1], r[2], r[3]);
            // The current editions only: LLM Top 10 2025, Agentic Top 10 2026, ML Top 10 2023.
            let current = matches!(
                (list, version),
                ("owasp-llm", "2025") | ("owasp-agentic", "2026") | ("owasp-ml", "2023")
            );
            if current {
                let key = id.to_lowercase();
                c.owasp.insert(
                    key,
                    Entry {
                        id: id.to_string(),
                        name: name.to_string(),
                        removed: false,
                        parent: None,
                        tactics: Vec::new(),
                        attack: None,
                        description: r.get(4).unwrap_or(&"").to_string(),
                    },
                );
            }
        }
        c
    }

    fn tactic_by_slug(&self, slug: &str) -> Option<&Entry> {
        self.tactics.values().find(|t| tactic_slug(t) == slug)
    }

    /// Validate an `atlas.*` or `owasp.*` tag. `Ok(None)` for other namespaces.
    pub fn check_tag(&self, tag: &str) -> Result<Option<&Entry>, TagError> {
        self.check_tag_for(tag, "")
    }

    /// [`Catalog::check_tag`] for a rule titled `title`: among equally close ids, the
    /// suggestions for an unknown ATLAS id prefer those whose names share words with it.
    pub fn check_tag_for(&self, tag: &str, title: &str) -> Result<Option<&Entry>, TagError> {
        if let Some(rest) = tag.strip_prefix("atlas.") {
            let upper = rest.to_uppercase();
            if upper.starts_with("AML.TA") {
                return self
                    .tactics
                    .get(&upper)
                    .map(Some)
                    .ok_or_else(|| TagError::unknown_atlas(self, &upper, title));
            }
            if upper.starts_with("AML.T") {
                return match self.techniques.get(&upper) {
                    Some(e) if e.removed => Err(TagError {
                        message: format!(
                            "ATLAS technique {upper} was removed from ATLAS before 5.6.0"
                        ),
                        help: None,
                    }),
                    Some(e) => Ok(Some(e)),
                    None => Err(TagError::unknown_atlas(self, &upper, title)),
                };
            }
            return self.tactic_by_slug(rest).map(Some).ok_or_else(|| TagError {
                message: format!("`{tag}` names no ATLAS technique or tactic"),
                help: Some("write techniques as `atlas.aml.t0051` or `atlas.aml.t0051.000`, tactics as `atlas.aml.ta0005` or `atlas.execution`".into()),
            });
        }
        if let Some(rest) = tag.strip_prefix("owasp.") {
            return self.owasp.get(rest).map(Some).ok_or_else(|| TagError {
                message: format!("`{tag}` names no entry of the OWASP LLM Top 10 (2025), Agentic Top 10 (2026) or ML Top 10"),
                help: Some("use `owasp.llm01`..`owasp.llm10`, `owasp.asi01`..`owasp.asi10` or `owasp.ml01`..`owasp.ml10`".into()),
            });
        }
        Ok(None)
    }
}

/// The short name of an ATLAS tactic, as tags (`atlas.ai-model-access`) and Navigator layers
/// (`"tactic": "ai-model-access"`) write it.
pub fn tactic_slug(tactic: &Entry) -> String {
    tactic.name.to_lowercase().replace(' ', "-")
}

#[derive(Debug, Clone, PartialEq)]
pub struct TagError {
    pub message: String,
    pub help: Option<String>,
}

impl TagError {
    fn unknown_atlas(c: &Catalog, id: &str, title: &str) -> TagError {
        // Suggest the parent technique of an unknown sub-technique, else the closest ids.
        let parent = id
            .rsplit_once('.')
            .map(|(p, _)| p)
            .filter(|p| p.matches('.').count() == 1);
        let help = match parent.and_then(|p| c.techniques.get(p)) {
            Some(p) => {
                let subs: Vec<&str> = c
                    .techniques
                    .keys()
                    .filter(|k| k.starts_with(&format!("{}.", p.id)))
                    .map(String::as_str)
                    .collect();
                Some(if subs.is_empty() {
                    format!(
                        "{} ({}) has no sub-techniques; tag the technique itself",
                        p.id, p.name
                    )
                } else {
                    format!(
                        "sub-techniques of {} ({}): {}",
                        p.id,
                        p.name,
                        subs.iter()
                            .map(|s| format!("atlas.{}", s.to_lowercase()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }
            None => {
                // The closest ids by edit distance, then by words their names share with the
                // rule's title; each shown with its name.
                let words = |s: &str| -> std::collections::BTreeSet<String> {
                    s.to_lowercase()
                        .split(|ch: char| !ch.is_ascii_alphanumeric())
                        .filter(|w| w.len() >= 3)
                        .map(str::to_string)
                        .collect()
                };
                let title = words(title);
                let mut scored: Vec<(usize, std::cmp::Reverse<usize>, &Entry)> = c
                    .techniques
                    .values()
                    .filter(|e| !e.removed)
                    .chain(c.tactics.values())
                    .map(|e| {
                        let shared = words(&e.name).intersection(&title).count();
                        (strsim::levenshtein(id, &e.id), std::cmp::Reverse(shared), e)
                    })
                    .filter(|(d, _, _)| *d <= 3)
                    .collect();
                scored.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
                let shown: Vec<String> = scored
                    .iter()
                    .take(3)
                    .map(|(_, _, e)| format!("`atlas.{}` ({})", e.id.to_lowercase(), e.name))
                    .collect();
                match shown.as_slice() {
                    [] => None,
                    [one] => Some(format!("did you mean {one}?")),
                    many => Some(format!("did you mean one of {}?", many.join(", "))),
                }
            }
        };
        TagError {
            message: format!("unknown ATLAS id {id} (ATLAS 5.6.0)"),
            help,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_current_entry_has_a_description() {
        let c = Catalog::get();
        for e in c
            .techniques
            .values()
            .chain(c.tactics.values())
            .chain(c.owasp.values())
        {
            assert_eq!(e.description.is_empty(), e.removed, "{}", e.id);
        }
        assert!(
            c.techniques["AML.T0051"]
                .description
                .starts_with("An adversary may craft malicious prompts")
        );
    }

    #[test]
    fn atlas_and_owasp_tags() {
        let c = Catalog::get();
        assert_eq!(
            c.check_tag("atlas.aml.t0051").unwrap().unwrap().name,
            "LLM Prompt Injection"
        );
        assert!(c.check_tag("atlas.aml.t0051.000").unwrap().is_some());
        assert!(c.check_tag("atlas.aml.ta0005").unwrap().is_some());
        assert!(c.check_tag("atlas.execution").unwrap().is_some());
        assert!(c.check_tag("atlas.aml.t9999").is_err());
        assert!(
            c.check_tag("atlas.aml.t0051.009")
                .unwrap_err()
                .help
                .unwrap()
                .contains("atlas.aml.t0051.000")
        );
        assert!(
            c.check_tag("atlas.aml.t0045")
                .unwrap_err()
                .message
                .contains("removed")
        );
        assert_eq!(
            c.check_tag("owasp.llm01").unwrap().unwrap().name,
            "Prompt Injection"
        );
        assert!(c.check_tag("owasp.asi10").unwrap().is_some());
        assert!(c.check_tag("owasp.llm11").is_err());
        assert!(c.check_tag("attack.t1059").unwrap().is_none());
        assert_eq!(c.techniques.values().filter(|e| !e.removed).count(), 170);
    }

    #[test]
    fn unknown_atlas_ids_suggest_close_ids_with_their_names_preferring_the_title_words() {
        let c = Catalog::get();
        let help = c
            .check_tag_for("atlas.aml.t9999", "Prompt injection through a tool result")
            .unwrap_err()
            .help
            .unwrap();
        // Edit distance first (T0099 is 2 away), then shared words: of the ids 3 away,
        // the one named "Prompt Infiltration ..." comes before the others.
        assert_eq!(
            help,
            "did you mean one of `atlas.aml.t0099` (AI Agent Tool Data Poisoning), \
             `atlas.aml.t0093` (Prompt Infiltration via Public-Facing Application), \
             `atlas.aml.t0098` (AI Agent Tool Credential Harvesting)?"
        );
        let other = c
            .check_tag_for("atlas.aml.t9999", "Credential harvesting by an agent")
            .unwrap_err()
            .help
            .unwrap();
        assert!(other.contains("`atlas.aml.t0098` (AI Agent Tool Credential Harvesting)"));
        assert!(other.find("t0098").unwrap() < other.find("t0093").unwrap_or(usize::MAX));
        // Nothing within 3 edits: no guess.
        assert!(
            c.check_tag_for("atlas.aml.t123456789", "")
                .unwrap_err()
                .help
                .is_none()
        );
    }
}
