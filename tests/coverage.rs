//! `aisigma coverage`: the ATLAS and OWASP coverage of a rule set, its Navigator layer and its
//! gaps against a required list. (The layer's validity against the layer format is checked
//! by tests/conformance/json_schemas.sh.)

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn aisigma(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

fn rule(title: &str, id_tail: u32, tags: &str) -> String {
    format!(
        "title: {title}\nid: 0f4c5a52-1d2e-4b7a-9c3d-2e1f0a9b{id_tail:04}\nstatus: test\nlevel: low\n\
         date: 2026-11-24\ntags: [{tags}]\nlogsource: {{product: ai, category: llm_inference}}\n\
         detection:\n  selection:\n    ai.prompt.text|contains: ignore previous\n  condition: selection\n"
    )
}

/// Three rules: a direct prompt injection (sub-technique), a jailbreak, and a parent-level
/// prompt injection.
fn rules(dir: &Path) -> String {
    let rules = dir.join("rules");
    std::fs::create_dir(&rules).unwrap();
    for (file, text) in [
        (
            "a.yml",
            rule("Direct injection", 1, "atlas.aml.t0051.000, owasp.llm01"),
        ),
        (
            "b.yml",
            rule(
                "Jailbreak persona",
                2,
                "atlas.aml.t0054, owasp.asi01, owasp.llm01",
            ),
        ),
        (
            "c.yml",
            rule("Any injection", 3, "atlas.aml.t0051, attack.t1059"),
        ),
    ] {
        std::fs::write(rules.join(file), text).unwrap();
    }
    rules.to_str().unwrap().to_string()
}

#[test]
fn coverage_lists_techniques_and_the_owasp_matrix_with_targets_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path());
    let o = aisigma(&["coverage", &rules]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with(
            "MITRE ATLAS 5.6.0: 3 of 170 techniques and sub-techniques covered by 3 rules\n"
        ),
        "{text}"
    );
    // A sub-technique reads with its parent's name; every row names targets and sources.
    let row = text
        .lines()
        .find(|l| l.starts_with("AML.T0051.000"))
        .unwrap();
    assert!(row.contains("LLM Prompt Injection: Direct"), "{row}");
    assert!(row.contains("spl kql eql lucene esql yaral scan"), "{row}");
    assert!(row.contains("aisigma"), "{row}");
    // The OWASP lists show every entry, covered or not.
    assert!(text.contains("OWASP Top 10 for LLM Applications 2025: 1 of 10 covered"));
    assert!(text.contains("OWASP Top 10 for Agentic Applications 2026: 1 of 10 covered"));
    let llm01 = text.lines().find(|l| l.starts_with("LLM01")).unwrap();
    assert!(llm01.split_whitespace().any(|w| w == "2"), "{llm01}");
    let llm09 = text.lines().find(|l| l.starts_with("LLM09")).unwrap();
    let cells: Vec<&str> = llm09.split_whitespace().collect();
    assert_eq!(cells, ["LLM09", "Misinformation", "0", "-", "-"]);

    // JSON: the same facts, with the rules by index.
    let o = aisigma(&["coverage", &rules, "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let covered: Vec<&str> = v["atlas"]["covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(covered, ["AML.T0051", "AML.T0051.000", "AML.T0054"]);
    assert_eq!(v["atlas"]["covered"][0]["tactics"][0], "execution");
    assert_eq!(v["rules"].as_array().unwrap().len(), 3);
    let asi = &v["owasp"][1]["entries"][0];
    assert_eq!(
        (asi["id"].as_str(), asi["rules"].as_array().unwrap().len()),
        (Some("ASI01"), 1)
    );

    // Markdown: a table per framework, rules by title.
    let o = aisigma(&["coverage", &rules, "--format", "markdown"]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("| LLM01 | Prompt Injection | Direct injection<br>Jailbreak persona |"),
        "{md}"
    );
}

#[test]
fn navigator_layer_scores_techniques_by_rule_count_and_names_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path());
    let layer = dir.path().join("layer.json");
    let o = aisigma(&[
        "coverage",
        &rules,
        "--navigator",
        layer.to_str().unwrap(),
        "--layer-name",
        "AI detections",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&layer).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["name"], "AI detections");
    assert_eq!(v["domain"], "atlas-atlas");
    assert_eq!(
        v["versions"],
        serde_json::json!({"layer": "4.3", "navigator": "4.6.4"})
    );
    assert_eq!(
        v["metadata"][0],
        serde_json::json!({"name": "atlas_data_version", "value": "5.6.0"})
    );
    let t = v["techniques"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t[0]["techniqueID"], "AML.T0051");
    // The parent shows its covered sub-technique.
    assert_eq!(t[0]["showSubtechniques"], true);
    assert_eq!(t[0]["score"], 1);
    assert_eq!(t[0]["comment"], "1 rule: Any injection");
    assert_eq!(t[1]["techniqueID"], "AML.T0051.000");
    assert!(t[1].get("showSubtechniques").is_none());
    assert_eq!(
        t[1]["metadata"][0],
        serde_json::json!({"name": "rule", "value": "Direct injection"})
    );
    assert!(v["gradient"]["maxValue"].as_u64() > v["gradient"]["minValue"].as_u64());
    // Byte-identical on a second run.
    let again = dir.path().join("again.json");
    aisigma(&[
        "coverage",
        &rules,
        "--navigator",
        again.to_str().unwrap(),
        "--layer-name",
        "AI detections",
    ]);
    assert_eq!(text, std::fs::read_to_string(&again).unwrap());
}

#[test]
fn gaps_against_a_required_list_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path());
    let required = dir.path().join("required.txt");
    // A parent technique is covered by its sub-technique; ids in any spelling; comments.
    std::fs::write(
        &required,
        "# what the programme must detect\nAML.T0051  # prompt injection\natlas.aml.t0054\nowasp.llm01\nLLM02\nASI10\nAML.T0024.002\n",
    )
    .unwrap();
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        required.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    let gaps = text.split("gaps: ").nth(1).unwrap();
    assert_eq!(
        gaps,
        "3 required, not covered:\n  LLM02          Sensitive Information Disclosure\n  \
         ASI10          Rogue Agents\n  \
         AML.T0024.002  Exfiltration via AI Inference API: Extract AI Model\n"
    );
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        required.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["gaps"].as_array().unwrap().len(), 3);

    // Everything covered: exit 0.
    std::fs::write(&required, "AML.T0051.000\nLLM01\n").unwrap();
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        required.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().contains("gaps: none"));

    // A Navigator layer is a required list too: its techniques.
    let layer = dir.path().join("required.json");
    std::fs::write(&layer, r#"{"name": "must", "domain": "atlas-atlas", "techniques": [{"techniqueID": "AML.T0054"}, {"techniqueID": "AML.T0056"}]}"#).unwrap();
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        layer.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8(o.stdout)
            .unwrap()
            .contains("gaps: 1 required, not covered:\n  AML.T0056")
    );

    // An unknown id is a usage error naming the line and a suggestion.
    std::fs::write(&required, "LLM01\nAML.T9999\n").unwrap();
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        required.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("line 2: unknown ATLAS id AML.T9999"), "{err}");
    assert!(err.contains("did you mean"), "{err}");
    std::fs::write(&required, "AML.TA0005\n").unwrap();
    let o = aisigma(&[
        "coverage",
        &rules,
        "--fail-on-gaps",
        required.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_rule_library_covers_every_llm_risk_but_misinformation() {
    let o = aisigma(&["coverage", "rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let uncovered: Vec<&str> = v["owasp"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rules"].as_array().unwrap().is_empty())
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(uncovered, ["LLM09"]);
    // Every covered id is a current ATLAS technique.
    let catalog = aisigma::semantics::catalog::Catalog::get();
    for t in v["atlas"]["covered"].as_array().unwrap() {
        let id = t["id"].as_str().unwrap();
        assert!(
            catalog.techniques.get(id).is_some_and(|e| !e.removed),
            "{id}"
        );
    }
}

#[test]
fn rules_with_errors_exit_1_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path());
    std::fs::write(
        Path::new(&rules).join("d.yml"),
        rule("Broken", 4, "atlas.aml.t0054").replace("contains", "containz"),
    )
    .unwrap();
    let o = aisigma(&["coverage", &rules]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("run `aisigma check`")
    );
}
