//! Deployable artifacts: a compiled query plus the rule's metadata, rendered with a minijinja
//! template of the target (`backends/<target>/<format>.j2`, or the user's `--templates DIR`).
//!
//! Templates receive one rule as `rule` (see [`RuleContext`]), the compiled `query`, the
//! target's `logsource` settings from the mapping file, `deploy` (the schedule, suppression
//! and highlighted fields of `crate::backend::schedule`, with `deploy.query`: the query
//! with the clauses its schedule needs), and these filters:
//! `json` (a JSON value, also a valid YAML double-quoted scalar), `conf` (a
//! `savedsearches.conf` value: line breaks continued with a trailing backslash), `conf_stanza`
//! (a stanza name without brackets or line breaks),
//! `yaral_string` (a YARA-L double-quoted string), `arm_literal` (an ARM template string
//! that must not be read as an expression: a leading `[` doubled) and `merge` (`a | merge(b)`: map `a` with
//! the entries of `b`). Map keys come out sorted, so output is deterministic.

use crate::semantics::catalog::Catalog;
use crate::syntax::ast::Doc;
use serde::Serialize;
use std::collections::BTreeMap;

/// An artifact format of `aisigma compile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub name: &'static str,
    /// File name of the template (in `backends/<target>/`, or in `--templates DIR`).
    pub template: &'static str,
    /// The built-in template's text, embedded from `backends/`.
    pub builtin: &'static str,
    /// A pack is one file for all rules (its parts are concatenated); otherwise one file per
    /// rule, named after the rule id with this extension.
    pub pack: Option<&'static str>,
    pub extension: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub url: String,
    /// Sub-techniques of this technique that the rule names (for Elastic's `threat[]`).
    pub subtechniques: Vec<Technique>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tactic {
    pub id: String,
    pub name: String,
    pub url: String,
    pub techniques: Vec<Technique>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Owasp {
    pub id: String,
    pub name: String,
}

/// What a template knows about the rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleContext {
    pub id: String,
    pub title: String,
    /// A name safe for identifiers (letters, digits, `_`), for YARA-L rule names.
    pub ident: String,
    pub description: String,
    /// The description (or title), then the false positives, references and status, for
    /// products whose rule format has no fields for them (Splunk, Sentinel).
    pub details: String,
    pub status: String,
    pub level: String,
    pub authors: Vec<String>,
    pub date: String,
    pub modified: String,
    pub license: String,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub tags: Vec<String>,
    /// ATLAS tactics named by the rule's technique tags, with those techniques.
    pub atlas: Vec<Tactic>,
    /// Every ATLAS technique id the rule names (sub-techniques included), sorted.
    pub atlas_ids: Vec<String>,
    pub owasp: Vec<Owasp>,
    /// `threat[]` entries of an Elastic detection rule (framework "MITRE ATLAS").
    pub elastic_threat: serde_json::Value,
    /// ATT&CK technique ids (`T1059.001`) and tactic names (`Execution`) from `attack.*` tags.
    pub attack_techniques: Vec<String>,
    /// `attack_techniques` split for Sentinel's ARM API: parent ids (`T1059`) and
    /// sub-technique ids (`T1059.001`).
    pub attack_parent_techniques: Vec<String>,
    pub attack_subtechniques: Vec<String>,
    pub attack_tactics: Vec<String>,
    /// The rule id if it is a UUID, else a UUID derived from the file and title (Sentinel
    /// needs one).
    pub guid: String,
    /// Severity in each product's vocabulary.
    pub elastic_severity: &'static str,
    pub elastic_risk_score: u32,
    pub sentinel_severity: &'static str,
    pub splunk_severity: u32,
    pub chronicle_severity: &'static str,
    pub file: String,
    /// A stable id for every rule: its `id`, else `guid` (Kibana's `rule_id`, deploy's marker).
    pub uid: String,
    /// A version that grows when the rule changes: its `modified` (else `date`) as
    /// `YYYYMMDD`, else 1.
    pub version: u32,
}

/// ATT&CK tactic ids (the ATLAS catalog's `attack_reference`) and Sentinel's names for them.
const ATTACK_TACTIC_IDS: &[(&str, &str)] = &[
    ("TA0043", "Reconnaissance"),
    ("TA0042", "ResourceDevelopment"),
    ("TA0001", "InitialAccess"),
    ("TA0002", "Execution"),
    ("TA0003", "Persistence"),
    ("TA0004", "PrivilegeEscalation"),
    ("TA0005", "DefenseEvasion"),
    ("TA0006", "CredentialAccess"),
    ("TA0007", "Discovery"),
    ("TA0008", "LateralMovement"),
    ("TA0009", "Collection"),
    ("TA0011", "CommandAndControl"),
    ("TA0010", "Exfiltration"),
    ("TA0040", "Impact"),
];

const ATTACK_TACTICS: &[(&str, &str)] = &[
    ("reconnaissance", "Reconnaissance"),
    ("resource-development", "ResourceDevelopment"),
    ("initial-access", "InitialAccess"),
    ("execution", "Execution"),
    ("persistence", "Persistence"),
    ("privilege-escalation", "PrivilegeEscalation"),
    ("defense-evasion", "DefenseEvasion"),
    ("credential-access", "CredentialAccess"),
    ("discovery", "Discovery"),
    ("lateral-movement", "LateralMovement"),
    ("collection", "Collection"),
    ("command-and-control", "CommandAndControl"),
    ("exfiltration", "Exfiltration"),
    ("impact", "Impact"),
];

fn atlas_url(id: &str) -> String {
    if id.starts_with("AML.TA") {
        format!("https://atlas.mitre.org/tactics/{id}")
    } else {
        format!("https://atlas.mitre.org/techniques/{id}")
    }
}

/// The path artifacts record for a rule file: relative to the repository that holds it (the
/// nearest directory above it with a `.git`), else to the working directory when it is under
/// it, else its file name. Never an absolute path: artifacts are byte-identical on any machine
/// and leak no local layout.
pub fn artifact_path(file: &str) -> String {
    use std::path::{Component, Path};
    let given = Path::new(file);
    let rel = |p: &Path| -> String {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(x) => Some(x.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let Ok(abs) = std::fs::canonicalize(given) else {
        // Not a file on disk (a test's in-memory rule): as given, without a root or `..`.
        return rel(given);
    };
    let repo = abs.ancestors().skip(1).find(|d| d.join(".git").exists());
    if let Some(root) = repo
        && let Ok(r) = abs.strip_prefix(root)
    {
        return rel(r);
    }
    if let Some(r) = std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| abs.strip_prefix(&cwd).ok().map(rel))
    {
        return r;
    }
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl RuleContext {
    pub fn new(doc: &Doc, file: &str) -> RuleContext {
        let file = &artifact_path(file);
        let m = &doc.meta;
        let text = |v: &Option<crate::syntax::span::Spanned<String>>| {
            v.as_ref().map(|s| s.value.clone()).unwrap_or_default()
        };
        let list = |v: &[crate::syntax::span::Spanned<String>]| -> Vec<String> {
            v.iter().map(|s| s.value.clone()).collect()
        };
        let tags = list(&m.tags);
        let cat = Catalog::get();
        // ATLAS: technique tags grouped by tactic, sub-techniques under their parent.
        let mut ids: Vec<String> = Vec::new();
        let mut owasp = Vec::new();
        let mut attack_techniques = Vec::new();
        let mut attack_tactics = Vec::new();
        for t in &tags {
            let lower = t.to_lowercase();
            if let Some(rest) = lower.strip_prefix("atlas.") {
                let up = rest.to_uppercase();
                if cat.techniques.contains_key(&up) {
                    ids.push(up);
                }
            } else if let Some(rest) = lower.strip_prefix("owasp.") {
                if let Some(e) = cat.owasp.get(rest) {
                    owasp.push(Owasp {
                        id: e.id.clone(),
                        name: e.name.clone(),
                    });
                }
            } else if let Some(rest) = lower.strip_prefix("attack.") {
                if let Some(t) = rest
                    .strip_prefix('t')
                    .filter(|x| x.chars().next().is_some_and(|c| c.is_ascii_digit()))
                {
                    attack_techniques.push(format!("T{}", t.to_uppercase()));
                } else if let Some((_, name)) = ATTACK_TACTICS.iter().find(|(k, _)| *k == rest) {
                    attack_tactics.push(name.to_string());
                }
            }
        }
        ids.sort();
        ids.dedup();
        let mut tactics: BTreeMap<String, Tactic> = BTreeMap::new();
        for id in &ids {
            let e = &cat.techniques[id];
            let (tech_id, sub) = match &e.parent {
                Some(p) => (p.clone(), Some(e)),
                None => (id.clone(), None),
            };
            let Some(tech) = cat.techniques.get(&tech_id) else {
                continue;
            };
            for ta in &tech.tactics {
                let Some(tac) = cat.tactics.get(ta) else {
                    continue;
                };
                let entry = tactics.entry(ta.clone()).or_insert_with(|| Tactic {
                    id: tac.id.clone(),
                    name: tac.name.clone(),
                    url: atlas_url(&tac.id),
                    techniques: Vec::new(),
                });
                let pos = match entry.techniques.iter().position(|t| t.id == tech_id) {
                    Some(p) => p,
                    None => {
                        entry.techniques.push(Technique {
                            id: tech.id.clone(),
                            name: tech.name.clone(),
                            url: atlas_url(&tech.id),
                            subtechniques: Vec::new(),
                        });
                        entry.techniques.len() - 1
                    }
                };
                if let Some(s) = sub {
                    let subs = &mut entry.techniques[pos].subtechniques;
                    if !subs.iter().any(|x| x.id == s.id) {
                        subs.push(Technique {
                            id: s.id.clone(),
                            name: s.name.clone(),
                            url: atlas_url(&s.id),
                            subtechniques: Vec::new(),
                        });
                    }
                }
            }
        }
        // The ATT&CK tactics the rule's ATLAS tactics are (ATLAS Execution is ATT&CK TA0002):
        // those of its techniques, and those its tags name.
        let tagged_tactics = tags.iter().filter_map(|t| {
            let up = t.to_lowercase().strip_prefix("atlas.")?.to_uppercase();
            cat.tactics.contains_key(&up).then_some(up)
        });
        for ta in tactics.keys().cloned().chain(tagged_tactics) {
            let attack = cat.tactics.get(&ta).and_then(|e| e.attack.as_deref());
            if let Some((_, name)) = ATTACK_TACTIC_IDS.iter().find(|(id, _)| Some(*id) == attack) {
                attack_tactics.push(name.to_string());
            }
        }
        attack_techniques.sort();
        attack_techniques.dedup();
        attack_tactics.sort();
        attack_tactics.dedup();
        let mut attack_parent_techniques: Vec<String> = attack_techniques
            .iter()
            .map(|t| t.split('.').next().unwrap_or(t).to_string())
            .collect();
        attack_parent_techniques.dedup();
        let attack_subtechniques: Vec<String> = attack_techniques
            .iter()
            .filter(|t| t.contains('.'))
            .cloned()
            .collect();
        let guid = match uuid::Uuid::parse_str(&text(&m.id)) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("aisigma:{file}:{}", doc.label()).as_bytes(),
            )
            .hyphenated()
            .to_string(),
        };
        let level = text(&m.level).to_lowercase();
        let (es, risk, sentinel, splunk, chronicle) = match level.as_str() {
            "informational" => ("low", 21, "Informational", 1, "INFORMATIONAL"),
            "low" => ("low", 21, "Low", 2, "LOW"),
            "high" => ("high", 73, "High", 4, "HIGH"),
            "critical" => ("critical", 99, "High", 5, "CRITICAL"),
            _ => ("medium", 47, "Medium", 3, "MEDIUM"),
        };
        let title = doc.label();
        let mut ident: String = title
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while ident.contains("__") {
            ident = ident.replace("__", "_");
        }
        let ident = ident.trim_matches('_').to_string();
        let ident = if ident.starts_with(|c: char| c.is_ascii_alphabetic()) {
            ident
        } else {
            format!("rule_{ident}")
        };
        let atlas: Vec<Tactic> = tactics.into_values().collect();
        let elastic_threat = serde_json::Value::Array(
            atlas
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "framework": "MITRE ATLAS",
                        "tactic": {"id": t.id, "name": t.name, "reference": t.url},
                        "technique": t.techniques.iter().map(|x| serde_json::json!({
                            "id": x.id, "name": x.name, "reference": x.url,
                            "subtechnique": x.subtechniques.iter().map(|s| serde_json::json!({
                                "id": s.id, "name": s.name, "reference": s.url,
                            })).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        );
        let description = text(&m.description);
        let mut details = if description.trim().is_empty() {
            title.clone()
        } else {
            description.trim().to_string()
        };
        let falsepositives = list(&m.falsepositives);
        let references = list(&m.references);
        if !falsepositives.is_empty() {
            details.push_str(&format!(
                "\n\nFalse positives: {}",
                falsepositives.join("; ")
            ));
        }
        if !references.is_empty() {
            details.push_str(&format!("\n\nReferences: {}", references.join(" ")));
        }
        if let Some(st) = &m.status {
            details.push_str(&format!("\n\nStatus: {}", st.value));
        }
        let version = [text(&m.modified), text(&m.date)]
            .iter()
            .find_map(|d| {
                let digits: String = d.chars().filter(char::is_ascii_digit).collect();
                (digits.len() == 8)
                    .then(|| digits.parse::<u32>().ok())
                    .flatten()
            })
            .unwrap_or(1);
        let id = text(&m.id).to_lowercase();
        RuleContext {
            uid: if id.is_empty() {
                guid.clone()
            } else {
                id.clone()
            },
            version,
            id,
            details,
            title,
            ident,
            description,
            status: text(&m.status),
            level: if level.is_empty() {
                "medium".into()
            } else {
                level
            },
            authors: text(&m.author)
                .split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            date: text(&m.date),
            modified: text(&m.modified),
            license: text(&m.license),
            references,
            falsepositives,
            tags,
            atlas,
            elastic_threat,
            atlas_ids: ids,
            owasp,
            attack_techniques,
            attack_parent_techniques,
            attack_subtechniques,
            attack_tactics,
            guid,
            elastic_severity: es,
            elastic_risk_score: risk,
            sentinel_severity: sentinel,
            splunk_severity: splunk,
            chronicle_severity: chronicle,
            file: file.to_string(),
        }
    }
}

/// A `savedsearches.conf` value: each line break becomes `\` + line break, as the .conf
/// format continues a value on the next line.
fn conf(v: String) -> String {
    let mut v = v
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', " \\\n");
    // A value that ends with a backslash would continue onto the next key.
    if v.ends_with('\\') {
        v.push(' ');
    }
    v
}

/// A `savedsearches.conf` stanza name: brackets, control characters and line breaks become
/// spaces, so the name cannot end the `[...]` header or start another stanza.
fn conf_stanza(v: String) -> String {
    v.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '[' | ']' | '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A YARA-L string literal body: `\` and `"` escaped, control characters as escapes.
pub fn yaral_string(v: String) -> String {
    let mut o = String::with_capacity(v.len() + 2);
    o.push('"');
    for c in v.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// An ARM template string value: ARM evaluates a string that starts with `[` as an
/// expression, and `[[` escapes it.
fn arm_literal(v: String) -> String {
    if v.starts_with('[') {
        format!("[{v}")
    } else {
        v
    }
}

fn json(v: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(&v)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// `a | merge(b)`: the map `a` with the entries of `b` added (or replaced).
fn merge(a: minijinja::Value, b: minijinja::Value) -> Result<minijinja::Value, minijinja::Error> {
    let mut out: std::collections::BTreeMap<String, minijinja::Value> = Default::default();
    for m in [&a, &b] {
        for k in m.try_iter()? {
            let v = m.get_item(&k)?;
            out.insert(k.to_string(), v);
        }
    }
    Ok(minijinja::Value::from(out))
}

/// Render one rule's artifact with `template` (the template's source text).
#[allow(clippy::too_many_arguments)]
pub fn render(
    template_name: &str,
    template: &str,
    rule: &RuleContext,
    query: &str,
    logsource: &BTreeMap<String, String>,
    correlation: Option<&serde_json::Value>,
    target: &str,
    deploy: &serde_json::Value,
) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("json", json);
    env.add_filter("conf", conf);
    env.add_filter("conf_stanza", conf_stanza);
    env.add_filter("merge", merge);
    env.add_filter("arm_literal", arm_literal);
    env.add_filter("yaral_string", yaral_string);
    env.add_template(template_name, template)
        .map_err(|e| format!("template {template_name}: {e}"))?;
    let t = env
        .get_template(template_name)
        .map_err(|e| format!("template {template_name}: {e}"))?;
    t.render(minijinja::context! {
        rule => minijinja::Value::from(minijinja::value::Serde(rule)),
        query => query,
        logsource => minijinja::Value::from(minijinja::value::Serde(logsource)),
        target => target,
        correlation => minijinja::Value::from(minijinja::value::Serde(correlation)),
        deploy => minijinja::Value::from(minijinja::value::Serde(deploy)),
    })
    .map_err(|e| format!("template {template_name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_escape() {
        assert_eq!(conf("a\nb".into()), "a \\\nb");
        assert_eq!(conf("a\\".into()), "a\\ ");
        assert_eq!(conf_stanza("x]\n[y".into()), "x   y");
        assert_eq!(yaral_string("a\"b\\c\nd".into()), r#""a\"b\\c\nd""#);
    }
}
