//! End-to-end tests of the `aisigma` binary: exit codes, formats, hostile input.

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

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

const GOOD_RULE: &str = "title: Good
id: 0f4c5a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d
status: test
level: low
date: 2026-11-24
tags: [atlas.aml.t0051, owasp.llm01]
logsource: {product: ai, category: llm_inference}
detection:
    selection:
        ai.prompt.text|contains: ignore previous
    condition: selection
unknown_key_marker: 1
";

#[test]
fn builtin_rules_check_and_test_clean() {
    let o = aisigma(&["check", "rules/", "--deny-warnings"]);
    assert_eq!(
        code(&o),
        0,
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = aisigma(&["test", "rules/", "--require-tests"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains(" 0 failed, 0 errors, 0 without tests"),
        "{}",
        stdout(&o)
    );
}

/// Each hostile file gets an error at the right line and exit 1; the good file beside it is
/// still checked (its unknown key warning appears).
#[test]
fn hostile_inputs_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.yml"), GOOD_RULE).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str, u64)> = vec![
        (
            "binary.yml",
            b"title: x\n\x00\x01\x02\xff".to_vec(),
            "AIS003",
            2,
        ),
        ("empty.yml", Vec::new(), "AIS008", 1),
        ("whitespace.yml", b"\n\n   \n".to_vec(), "AIS008", 1),
        (
            "latin1.yml",
            b"title: ok\ndescription: caf\xe9\n".to_vec(),
            "AIS002",
            2,
        ),
        (
            "broken.yml",
            b"title: x\ndetection:\n  sel: [a, b\n  condition: sel\n".to_vec(),
            "AIS004",
            0,
        ),
        (
            "tabs.yml",
            b"title: x\ndetection:\n\tsel: a\n".to_vec(),
            "AIS004",
            3,
        ),
        (
            "deep.yml",
            format!("title: x\nd: {}{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            "AIS006",
            2,
        ),
        (
            "deep_block.yml",
            (0..200)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>()
                .into_bytes(),
            "AIS006",
            0,
        ),
        ("scalar.yml", b"just a string\n".to_vec(), "AIS010", 1),
    ];
    let mut bomb = String::from("title: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    cases.push(("bomb.yml", bomb.into_bytes(), "AIS007", 0));
    let mut big = GOOD_RULE.replace("unknown_key_marker: 1\n", "");
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    cases.push(("huge.yml", big.into_bytes(), "AIS005", 1));
    for (name, bytes, _, _) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let o = aisigma(&["check", d.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 1);
    let diags: Vec<Value> = serde_json::from_str(&stdout(&o)).expect("json output");
    for (name, _, want_code, want_line) in &cases {
        let found: Vec<&Value> = diags
            .iter()
            .filter(|x| x["file"].as_str().unwrap().ends_with(&format!("/{name}")))
            .collect();
        assert!(
            found.iter().any(|x| x["code"] == *want_code
                && x["severity"] == "error"
                && (*want_line == 0 || x["line"] == *want_line)),
            "{name}: expected {want_code} at line {want_line}, got {found:#?}"
        );
    }
    assert!(
        diags
            .iter()
            .any(|x| x["file"].as_str().unwrap().ends_with("/good.yml") && x["code"] == "AIS103"),
        "good file still checked"
    );
    // The huge file passes with a larger limit.
    let o = aisigma(&[
        "check",
        d.join("huge.yml").to_str().unwrap(),
        "--max-file-size",
        "20000000",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn exit_codes() {
    let o = aisigma(&["check", "does/not/exist"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("does/not/exist"));
    let o = aisigma(&["check", "--format", "xml", "rules/"]);
    assert_eq!(code(&o), 2, "bad flag value is a usage error");
    let o = aisigma(&["check", "rules/", "--schema", "does/not/exist.yml"]);
    assert_eq!(code(&o), 2);
    let o = aisigma(&["check", "tests/fixtures/diagnostics/enums_and_aliases.yml"]);
    assert_eq!(code(&o), 1);
    let dir = tempfile::tempdir().unwrap();
    let warn_only = dir.path().join("w.yml");
    std::fs::write(&warn_only, GOOD_RULE).unwrap();
    assert_eq!(code(&aisigma(&["check", warn_only.to_str().unwrap()])), 0);
    assert_eq!(
        code(&aisigma(&[
            "check",
            warn_only.to_str().unwrap(),
            "--deny-warnings"
        ])),
        1
    );
    let o = aisigma(&["test", "tests/fixtures/diagnostics/failing_tests.yml"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("FAIL"));
}

#[test]
fn output_is_deterministic() {
    let a = aisigma(&["check", "tests/fixtures/diagnostics", "--format", "sarif"]);
    let b = aisigma(&["check", "tests/fixtures/diagnostics", "--format", "sarif"]);
    assert_eq!(a.stdout, b.stdout);
    let a = aisigma(&["check", "tests/fixtures/diagnostics"]);
    let b = aisigma(&["check", "tests/fixtures/diagnostics"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn sarif_is_well_formed() {
    let o = aisigma(&["check", "tests/fixtures/diagnostics", "--format", "sarif"]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("tests/fixtures/diagnostics/")
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn github_annotations() {
    let o = aisigma(&[
        "check",
        "tests/fixtures/diagnostics/unknown_field.yml",
        "--format",
        "github",
    ]);
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=tests/fixtures/diagnostics/unknown_field.yml,line=14,col=9,endColumn=34,title=AIS401 unknown-field::"),
        "{first}"
    );
    assert!(
        first.contains("%0Ahelp: did you mean"),
        "newlines are escaped: {first}"
    );
}

#[test]
fn junit_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("reports/junit.xml");
    let o = aisigma(&[
        "test",
        "rules/llm_inference",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains("failures=\"0\""));
    assert_eq!(
        xml.matches("<testcase ").count(),
        std::fs::read_dir("rules/llm_inference").unwrap().count()
    );
}

#[test]
fn schema_command() {
    let o = aisigma(&["schema", "--category", "llm_inference"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("gen_ai.usage.input_tokens"));
    assert!(!stdout(&o).contains("category ai_guardrail"));
    let o = aisigma(&["schema", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["product"], "ai");
    assert_eq!(v[0]["categories"].as_object().unwrap().len(), 11);
    let o = aisigma(&["schema", "--category", "nope"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn schema_command_writes_a_json_schema_for_rule_files() {
    let o = aisigma(&["schema", "--format", "json-schema"]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let field = &v["$defs"]["selection:llm_inference"]["anyOf"][0]["properties"]["ai.prompt.text"];
    assert_eq!(field["$ref"], "#/$defs/value:string");
    assert!(
        field["description"]
            .as_str()
            .unwrap()
            .contains("ai.prompt.text (string)")
    );
    // ATLAS tags carry their technique names.
    let tags = serde_json::to_string(&v["$defs"]["tag"]).unwrap();
    assert!(tags.contains("atlas.aml.t0051") && tags.contains("LLM Prompt Injection"));
    // Byte-identical on every run.
    assert_eq!(
        o.stdout,
        aisigma(&["schema", "--format", "json-schema"]).stdout
    );
    // One category: only its fields.
    let o = aisigma(&[
        "schema",
        "--format",
        "json-schema",
        "--category",
        "llm_inference",
    ]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["$defs"].get("selection:llm_inference").is_some());
    assert!(v["$defs"].get("selection:agent_activity").is_none());
    let o = aisigma(&["schema", "--format", "json-schema", "--category", "nope"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn user_schema_extends_fields() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("extra.yml");
    std::fs::write(&schema, "schema: acme\nversion: 1\nproduct: ai\ncategories:\n  llm_inference:\n    fields:\n      acme.tier: {type: string, enum: [gold, free], closed: true}\n").unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(
        &rule,
        GOOD_RULE.replace(
            "ai.prompt.text|contains: ignore previous",
            "acme.tier: gold",
        ),
    )
    .unwrap();
    assert_eq!(
        code(&aisigma(&["check", rule.to_str().unwrap()])),
        1,
        "unknown without the schema"
    );
    assert_eq!(
        code(&aisigma(&[
            "check",
            rule.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap()
        ])),
        0
    );
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "schema: x\nversion: 1\nproduct: ai\nenvelope:\n  f: {type: number}\n",
    )
    .unwrap();
    let o = aisigma(&[
        "check",
        rule.to_str().unwrap(),
        "--schema",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("AIS409"));
}

#[test]
fn duplicate_ids_across_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yml"), GOOD_RULE).unwrap();
    std::fs::write(dir.path().join("b.yml"), GOOD_RULE).unwrap();
    let o = aisigma(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 1);
    let diags: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let dup: Vec<_> = diags.iter().filter(|d| d["code"] == "AIS108").collect();
    assert_eq!(dup.len(), 1);
    assert!(dup[0]["file"].as_str().unwrap().ends_with("b.yml"));
    assert!(dup[0]["message"].as_str().unwrap().contains("a.yml:2:5"));
}

#[test]
fn examples_behave_as_documented() {
    assert!(Path::new("examples/prompt_injection.yml").exists());
    assert_eq!(
        code(&aisigma(&["check", "examples/prompt_injection.yml"])),
        0
    );
    assert_eq!(
        code(&aisigma(&["test", "examples/prompt_injection.yml"])),
        0
    );
    let o = aisigma(&["check", "examples/broken_rule.yml"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("did you mean `gen_ai.usage.input_tokens`?"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_same_file_twice_is_checked_once() {
    let o = aisigma(&[
        "check",
        "examples/prompt_injection.yml",
        "./examples/prompt_injection.yml",
        "examples/",
    ]);
    assert_eq!(code(&o), 1, "broken_rule.yml has errors");
    let o = aisigma(&[
        "check",
        "examples/prompt_injection.yml",
        "./examples/prompt_injection.yml",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    // A file is the same file under another name: a symbolic link, a hard link.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rule.yml");
    std::fs::write(&file, GOOD_RULE).unwrap();
    std::os::unix::fs::symlink(&file, dir.path().join("sym.yml")).unwrap();
    std::fs::hard_link(&file, dir.path().join("hard.yml")).unwrap();
    let o = aisigma(&[
        "check",
        dir.path().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checked 1 file (1 document)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn special_files_and_dangling_links() {
    let o = aisigma(&["check", "/dev/null", "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).contains("not a regular file"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yml"), GOOD_RULE).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("missing.yml"),
        dir.path().join("dangling.yml"),
    )
    .unwrap();
    let o = aisigma(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 2, "an unreadable file is an I/O problem");
    let diags: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(diags.iter().any(|d| d["code"] == "AIS001" && d["file"].as_str().unwrap().ends_with("dangling.yml")));
    assert!(
        diags
            .iter()
            .any(|d| d["code"] == "AIS103" && d["file"].as_str().unwrap().ends_with("good.yml")),
        "the rest is still checked"
    );
}

#[test]
fn sarif_uris_are_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("dir a,b#c%d");
    std::fs::create_dir(&odd).unwrap();
    std::fs::write(odd.join("r 1.yml"), GOOD_RULE).unwrap();
    let o = aisigma(&["check", odd.to_str().unwrap(), "--format", "sarif"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let uri = loc["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/dir%20a%2Cb%23c%25d/r%201.yml"),
        "{uri}"
    );
    assert!(loc.get("uriBaseId").is_none());
}

#[test]
fn compile_to_eql() {
    let dir = tempfile::tempdir().unwrap();
    // A keyword search: EQL has no full-text search, so the rule is refused.
    let refused = dir.path().join("kw.yml");
    std::fs::write(&refused, "title: Keywords\nid: 2d1e6a43-2c41-4b5a-8f0e-3b9a1c7d5e21\nstatus: test\nlevel: low\ndate: 2026-11-24\nlogsource: {product: x}\ndetection:\n    kw:\n        - evil\n    condition: kw\n").unwrap();
    let refused = refused.to_str().unwrap().to_string();
    let o = aisigma(&["compile", &refused, "--target", "eql"]);
    assert_eq!(code(&o), 1, "keyword searches are refused");
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "error[AIS801]: rule `Keywords`: keyword (field-less) searches cannot be compiled to eql"
    ));
    // The example's regex compiles, as a case-insensitive Lucene regex.
    let o = aisigma(&[
        "compile",
        "examples/prompt_injection.yml",
        "--target",
        "eql",
    ]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains(" regex~ \""));
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, GOOD_RULE).unwrap();
    let o = aisigma(&["compile", rule.to_str().unwrap(), "--target", "eql"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        stdout(&o),
        "any where (?ai.category == null or ai.category == \"llm_inference\") and ai.prompt.text : \"*ignore previous*\"\n"
    );
    let o = aisigma(&[
        "compile",
        rule.to_str().unwrap(),
        "--target",
        "eql",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["id"], "0f4c5a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d");
    assert_eq!(v["target"], "eql");
    assert_eq!(v["logsource"]["index"], "logs-*");
    let out = dir.path().join("out");
    let o = aisigma(&[
        "compile",
        rule.to_str().unwrap(),
        &refused,
        "--target",
        "eql",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        written,
        vec!["0f4c5a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d.eql".to_string()],
        "refused rules write nothing"
    );
    let o = aisigma(&["compile", &refused, "--target", "eql", "--format", "json"]);
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["error"]["code"], "AIS801");
    // A correlation is refused, not silently skipped. The rule it references is its input
    // (no `generate: true`), so it is not emitted on its own; with `generate: true` it is.
    let corr = dir.path().join("corr.yml");
    std::fs::write(&corr, "title: Many\nid: 1b2f1c8e-6a43-4a35-a1b8-4d8f0d6c6e19\nstatus: test\nlevel: high\ndate: 2026-11-24\ncorrelation:\n    type: event_count\n    rules: [blocked]\n    timespan: 10m\n    condition: {gte: 10}\n---\ntitle: Blocked\nname: blocked\nlogsource: {product: x}\ndetection:\n    sel:\n        action: block\n    condition: sel\n").unwrap();
    let o = aisigma(&["compile", corr.to_str().unwrap(), "--target", "eql"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let text = std::fs::read_to_string(&corr).unwrap();
    std::fs::write(
        &corr,
        text.replace(
            "    timespan: 10m\n",
            "    timespan: 10m\n    generate: true\n",
        ),
    )
    .unwrap();
    let o = aisigma(&["compile", corr.to_str().unwrap(), "--target", "eql"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "any where action : \"block\"\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "error[AIS801]: rule `Many`: `event_count` correlations cannot be compiled to eql"
    ));
    // On a target that can count, the correlation compiles, with its AIS803 warning on
    // stderr (fixed windows) and in the JSON output; exit 0.
    let o = aisigma(&[
        "compile",
        corr.to_str().unwrap(),
        "--target",
        "esql",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["correlation"]["type"], "event_count");
    assert_eq!(lines[0]["warnings"][0]["code"], "AIS803");
    assert!(
        lines[0]["query"]
            .as_str()
            .unwrap()
            .contains("BUCKET(@timestamp, 10 minutes)")
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning[AIS803]"));
    // Lucene expresses it only as a Kibana threshold rule.
    let o = aisigma(&["compile", corr.to_str().unwrap(), "--target", "lucene"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("only as `--format kibana-ndjson`"));
    let o = aisigma(&[
        "compile",
        corr.to_str().unwrap(),
        "--target",
        "lucene",
        "--format",
        "kibana-ndjson",
    ]);
    assert_eq!(code(&o), 0);
    let rule: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(rule["type"], "threshold");
    assert_eq!(rule["threshold"]["value"], 10);
    // One timespan (10m) that ends the default delay (1m) before the run.
    assert_eq!(rule["from"], "now-660s");
    assert_eq!(rule["to"], "now-60s");
    assert_eq!(rule["interval"], "10m");
    let o = aisigma(&["compile", "rules/", "--target", "splunk"]);
    assert_eq!(code(&o), 2, "unknown target is a usage error");
}

#[test]
fn compile_kibana_ndjson_pack_and_templates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = aisigma(&[
        "compile",
        "rules/llm_inference",
        "--target",
        "lucene",
        "--format",
        "kibana-ndjson",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let pack = std::fs::read_to_string(out.join("rules.ndjson")).unwrap();
    assert!(pack.lines().count() >= 5, "{pack}");
    for line in pack.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["language"], "lucene");
        assert_eq!(v["type"], "query");
    }
    // Byte-identical on a second run.
    let again = aisigma(&[
        "compile",
        "rules/llm_inference",
        "--target",
        "lucene",
        "--format",
        "kibana-ndjson",
    ]);
    assert_eq!(stdout(&again), pack);
    // A user template replaces the built-in one.
    let tpl = dir.path().join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(
        tpl.join("kibana-ndjson.j2"),
        "{{ rule.id }} {{ target }} {{ rule.atlas_ids | join(',') }}",
    )
    .unwrap();
    let o = aisigma(&[
        "compile",
        "rules/llm_inference/prompt_injection_override_phrase.yml",
        "--target",
        "eql",
        "--format",
        "kibana-ndjson",
        "--templates",
        tpl.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&o),
        "656aba00-6130-4d23-bd7e-f9d5e2084ba6 eql AML.T0051.000\n"
    );
    // A format the target does not have is a usage error that lists the target's formats.
    let o = aisigma(&[
        "compile",
        "rules/",
        "--target",
        "eql",
        "--format",
        "chronicle",
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("kibana-ndjson"));
}

#[test]
fn compile_splunk_sentinel_and_chronicle_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let o = aisigma(args);
        (
            code(&o),
            stdout(&o),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // Splunk: one savedsearches.conf pack.
    let (c, _, err) = run(&[
        "compile",
        "rules/model_serving",
        "--target",
        "spl",
        "--format",
        "savedsearches",
        "-o",
        &p("spl"),
    ]);
    assert_eq!(c, 0, "{err}");
    let conf = std::fs::read_to_string(dir.path().join("spl/savedsearches.conf")).unwrap();
    assert_eq!(
        conf.matches("\nsearch = search index=ai ").count(),
        3,
        "{conf}"
    );
    assert!(conf.contains("action.correlationsearch.annotations = {"));
    // Sentinel: one YAML and one ARM file per rule, named after the rule id.
    for (format, ext) in [("sentinel-rule", "yaml"), ("sentinel-arm", "json")] {
        let (c, _, err) = run(&[
            "compile",
            "rules/model_serving",
            "--target",
            "kql",
            "--format",
            format,
            "-o",
            &p(format),
        ]);
        assert_eq!(c, 0, "{err}");
        let files: Vec<_> = std::fs::read_dir(dir.path().join(format))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 3);
        for f in files {
            assert!(f.unwrap().file_name().to_string_lossy().ends_with(ext));
        }
    }
    // The table schema the KQL queries need.
    let (c, out, _) = run(&["compile", "--target", "kql", "--format", "tables"]);
    assert_eq!(c, 0);
    let tables: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(tables["AIModelServing_CL"]["TimeGenerated"], "datetime");
    let (c, _, err) = run(&["compile", "--target", "spl", "--format", "tables"]);
    assert_eq!(c, 2);
    assert!(err.contains("only available for target kql"), "{err}");
    // Chronicle: one rule file per rule, and their deployment settings.
    let (c, _, err) = run(&[
        "compile",
        "rules/training_job",
        "--target",
        "yaral",
        "--format",
        "chronicle",
        "-o",
        &p("yaral"),
    ]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("yaral")).unwrap().count(),
        3
    );
    assert!(dir.path().join("yaral/rule_deployments.json").is_file());
    let text = std::fs::read_to_string(
        dir.path()
            .join("yaral/0a4738a6-d3bf-4b17-a66d-33393a7e0791.yaral"),
    )
    .unwrap();
    assert!(
        text.starts_with("rule fine_tuning_job_with_large_network_egress {"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("condition:\n    $e\n}"), "{text}");
    // A rule with errors writes nothing and the command exits 1.
    let (c, _, err) = run(&["compile", "examples/", "--target", "yaral"]);
    assert_eq!(c, 1, "{err}");
}

/// `--allow-refusals`: a target's documented refusals still print, but exit 0; a rule with
/// errors still fails.
#[test]
fn compile_allows_refusals_on_request() {
    for target in ["spl", "kql", "eql", "lucene", "esql", "yaral"] {
        let o = aisigma(&["compile", "rules/", "--target", target, "--allow-refusals"]);
        assert_eq!(
            code(&o),
            0,
            "{target}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = aisigma(&["compile", "rules/", "--target", "eql", "--allow-refusals"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error[AIS801]"), "{err}");
    assert!(err.contains("allowed by --allow-refusals"), "{err}");
    let o = aisigma(&["compile", "rules/", "--target", "eql"]);
    assert_eq!(code(&o), 1);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "title: Bad\nlogsource: {product: ai}\ndetection:\n    sel: {a: 1}\n    condition: nope\n",
    )
    .unwrap();
    let o = aisigma(&[
        "compile",
        bad.to_str().unwrap(),
        "--target",
        "eql",
        "--allow-refusals",
    ]);
    assert_eq!(code(&o), 1, "a rule with errors is not a refusal");
}

/// `deploy:` sets each artifact's schedule and suppression, and `not-for` skips a target.
#[test]
fn deploy_settings_reach_every_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let rule = std::fs::read_to_string("rules/ai_guardrail/guardrail_blocked_high_confidence_prompt_attack.yml")
        .unwrap()
        .replace(
            "\ntags:",
            "\ndeploy:\n    interval: 15m\n    delay: 2m\n    suppress: {for: 2h, by: [user.id]}\n    not-for: [yaral]\ntags:",
        );
    let file = dir.path().join("r.yml");
    std::fs::write(&file, rule).unwrap();
    let f = file.to_str().unwrap();
    let o = aisigma(&["compile", f, "--target", "spl", "--format", "savedsearches"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let s = stdout(&o);
    for line in [
        "cron_schedule = */15 * * * *",
        "dispatch.earliest_time = -17m@m",
        "dispatch.index_earliest = -15m@m",
        "alert.suppress = 1",
        "alert.suppress.period = 7200s",
        "alert.suppress.fields = user.id",
        "alert.digest_mode = 0",
    ] {
        assert!(s.lines().any(|l| l == line), "{line} in\n{s}");
    }
    let o = aisigma(&["compile", f, "--target", "kql", "--format", "sentinel-arm"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let p = &v["resources"][0]["properties"];
    assert_eq!(p["queryFrequency"], "PT15M");
    assert_eq!(p["queryPeriod"], "PT17M");
    assert!(
        p["query"]
            .as_str()
            .unwrap()
            .ends_with("| where ingestion_time() > ago(15m)")
    );
    let g = &p["incidentConfiguration"]["groupingConfiguration"];
    assert_eq!(g["matchingMethod"], "Selected");
    assert_eq!(g["lookbackDuration"], "PT2H");
    assert_eq!(g["groupByCustomDetails"][0], "UserId");
    assert_eq!(p["customDetails"]["UserId"], "user_id");
    assert!(
        p["entityMappings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entityType"] == "Account")
    );
    let o = aisigma(&[
        "compile",
        f,
        "--target",
        "esql",
        "--format",
        "kibana-ndjson",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["interval"], "15m");
    assert_eq!(v["from"], "now-1020s");
    assert_eq!(v["alert_suppression"]["group_by"][0], "user.id");
    assert_eq!(v["alert_suppression"]["duration"]["value"], 120);
    assert!(v["query"].as_str().unwrap().contains(" METADATA _id"));
    // Not meant for SecOps: skipped with a note, not a failure.
    let o = aisigma(&["compile", f, "--target", "yaral"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("AIS806") && err.contains("1 not meant for it"),
        "{err}"
    );
    // A malformed block is an AIS112 error at its position, with help.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("interval: 15m", "interval: 7m"),
    )
    .unwrap();
    let o = aisigma(&["check", f]);
    assert_eq!(code(&o), 1);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("AIS112"), "{out}");
}

/// Every key of `conf` (a .conf file's text) is one its spec allows (tests/contracts/splunk/
/// conf_keys.json, from Splunk's .conf.spec files); the stanza names.
fn conf_keys_valid(file: &str, conf: &str) -> Vec<String> {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/contracts/splunk/conf_keys.json").unwrap(),
    )
    .unwrap();
    let spec = &spec[file];
    let stanzas = spec["stanzas"].as_object().unwrap();
    let mut names = Vec::new();
    let mut current: Option<&Value> = None;
    let mut lines = conf.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            names.push(name.to_string());
            current = stanzas.get(name).or_else(|| {
                spec["stanza_name_patterns"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .find_map(|(k, p)| {
                        regex::Regex::new(p.as_str().unwrap())
                            .unwrap()
                            .is_match(name)
                            .then(|| &stanzas[k])
                    })
            });
            assert!(
                current.is_some(),
                "{file}: stanza [{name}] is not in the spec"
            );
            continue;
        }
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        let s = current.unwrap_or_else(|| panic!("{file}: `{key}` outside a stanza"));
        let ok = s["keys"].as_array().unwrap().iter().any(|k| k == key)
            || s["patterns"].as_array().unwrap().iter().any(|p| {
                regex::Regex::new(p.as_str().unwrap())
                    .unwrap()
                    .is_match(key)
            });
        assert!(ok, "{file}: key `{key}` is not in the spec");
        // A continued value: skip its lines.
        let mut l = line;
        while l.ends_with('\\') {
            l = lines.next().unwrap_or_default();
        }
    }
    names
}

/// `--format splunk-app` writes an app Splunk installs as it is: every .conf key from the
/// specs, and every macro a search uses defined once in macros.conf.
#[test]
fn splunk_app_package() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = aisigma(&[
        "compile",
        "rules/",
        "--target",
        "spl",
        "--format",
        "splunk-app",
        "--allow-refusals",
        "-o",
        out,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let searches = read("default/savedsearches.conf");
    let macros = read("default/macros.conf");
    conf_keys_valid("savedsearches.conf", &searches);
    conf_keys_valid("app.conf", &read("default/app.conf"));
    conf_keys_valid("default.meta", &read("metadata/default.meta"));
    let defined = conf_keys_valid("macros.conf", &macros);
    let used: std::collections::BTreeSet<String> = regex::Regex::new(r"`(aisigma_[a-z0-9_]+)`")
        .unwrap()
        .captures_iter(&searches)
        .map(|c| c[1].to_string())
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for m in &used {
        assert_eq!(defined.iter().filter(|d| *d == m).count(), 1, "macro {m}");
    }
    assert!(
        macros.contains(
            "[aisigma_llm_inference]\ndefinition = index=ai sourcetype=ai:llm_inference\n"
        )
    );
    assert!(
        !searches.contains("search index="),
        "every search starts with its macro"
    );
    let o = aisigma(&[
        "compile",
        "rules/",
        "--target",
        "spl",
        "--format",
        "splunk-app",
    ]);
    assert_eq!(code(&o), 2, "an app is a directory: -o is required");
}

/// `--format sentinel-tables`: custom tables and one DCR per table, in the types each API
/// takes; `chronicle -o` writes each rule's SecOps deployment settings.
#[test]
fn sentinel_tables_and_secops_deployments() {
    let o = aisigma(&["compile", "--target", "kql", "--format", "sentinel-tables"]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let res = v["resources"].as_array().unwrap();
    let tables: Vec<&Value> = res
        .iter()
        .filter(|r| r["type"] == "Microsoft.OperationalInsights/workspaces/tables")
        .collect();
    let dcrs: Vec<&Value> = res
        .iter()
        .filter(|r| r["type"] == "Microsoft.Insights/dataCollectionRules")
        .collect();
    assert_eq!(tables.len(), dcrs.len());
    assert!(tables.len() >= 11);
    for t in &tables {
        assert_eq!(t["apiVersion"], "2025-07-01");
        let cols = t["properties"]["schema"]["columns"].as_array().unwrap();
        assert!(
            cols.iter()
                .any(|c| c["name"] == "TimeGenerated" && c["type"] == "dateTime")
        );
        for c in cols {
            let ty = c["type"].as_str().unwrap();
            assert!(
                [
                    "string", "int", "long", "real", "boolean", "dateTime", "guid", "dynamic"
                ]
                .contains(&ty),
                "{ty}"
            );
        }
    }
    for d in &dcrs {
        assert_eq!(d["apiVersion"], "2024-03-11");
        let p = &d["properties"];
        let (stream, decl) = p["streamDeclarations"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        assert!(stream.starts_with("Custom-") && stream.ends_with("_CL"));
        for c in decl["columns"].as_array().unwrap() {
            let ty = c["type"].as_str().unwrap();
            assert!(
                [
                    "string", "int", "long", "real", "boolean", "datetime", "dynamic"
                ]
                .contains(&ty),
                "{ty}"
            );
        }
        assert_eq!(p["dataFlows"][0]["outputStream"], stream.as_str());
        assert_eq!(
            p["dataFlows"][0]["destinations"][0],
            p["destinations"]["logAnalytics"][0]["name"]
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let o = aisigma(&[
        "compile",
        "rules/correlations",
        "rules/agent_activity",
        "--target",
        "yaral",
        "--format",
        "chronicle",
        "--allow-refusals",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let d: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("rule_deployments.json")).unwrap(),
    )
    .unwrap();
    let rules = d["ruleDeployments"].as_array().unwrap();
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaral")
        })
        .count();
    assert_eq!(rules.len(), files);
    assert!(rules.iter().any(|r| r["runFrequency"] == "LIVE"));
    assert!(
        rules.iter().any(|r| r["runFrequency"] == "HOURLY"),
        "multi-event rules run hourly"
    );
}

/// `aisigma new` writes, for every category, a rule that passes `check` (no errors) and
/// `test`, and never overwrites a file.
#[test]
fn new_rule_skeletons_pass_check_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let schema = aisigma::semantics::schema::Schema::builtin();
    let categories: Vec<&String> = schema.product("ai").unwrap().categories.keys().collect();
    assert!(categories.len() >= 11);
    for c in categories {
        let c = c.as_str();
        let f = dir.path().join(format!("{c}.yml"));
        let o = aisigma(&[
            "new",
            "--category",
            c,
            "--title",
            "My: new [rule]",
            "-o",
            f.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{c}: {}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains(&format!("category: {c}")));
    }
    let d = dir.path().to_str().unwrap();
    let o = aisigma(&["check", d, "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = aisigma(&["test", d]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let f = dir.path().join("llm_inference.yml");
    let o = aisigma(&[
        "new",
        "--category",
        "llm_inference",
        "--title",
        "x",
        "-o",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "an existing file is not overwritten");
    let o = aisigma(&["new", "--category", "llm_inferense", "--title", "x"]);
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("llm_inference"),
        "did you mean"
    );
}
