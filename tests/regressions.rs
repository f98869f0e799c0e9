//! Regression tests for bugs found in review.

use aisigma::engine::ruletest::{Outcome, run};
use aisigma::report::diagnostic::Code;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;

const HEAD: &str = "title: t\nid: 3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\nstatus: test\nlevel: low\ndate: 2026-01-01\n";

fn codes(text: &str) -> Vec<Code> {
    check_str("r.yml", text, &Schema::builtin())
        .diags
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_dropped_entry_never_lets_tests_pass() {
    // The unknown modifier drops its entry; evaluating what is left would match everything.
    let text = format!(
        "{HEAD}logsource: {{product: x}}\ndetection:\n  sel:\n    f|contians: evil\n  condition: sel\ntests:\n  no_match:\n    - {{f: benign}}\n  match:\n    - {{f: evil}}\n"
    );
    let r = check_str("r.yml", &text, &Schema::builtin());
    assert!(r.docs[0].expr.is_none());
    let out = run(&[r], false);
    assert_eq!(out[0].outcome, Outcome::Error);
    assert!(out[0].diags.iter().any(|d| d.code == Code::UnknownModifier));
}

#[test]
fn zero_of_is_an_error() {
    let text = format!(
        "{HEAD}logsource: {{product: x}}\ndetection:\n  sel:\n    f: a\n  condition: 0 of them\n"
    );
    assert!(codes(&text).contains(&Code::ConditionSyntax));
}

#[test]
fn non_rule_yaml_is_not_a_test_error() {
    let r = check_str(
        "config.yml",
        "rule_metadata: []\nsomething: 1\n",
        &Schema::builtin(),
    );
    assert_eq!(r.diags[0].code, Code::NotARule);
    assert!(run(&[r], false).is_empty());
}

#[test]
fn a_tactic_tag_is_not_a_technique_mapping() {
    let text = format!(
        "{HEAD}tags: [atlas.aml.ta0005, owasp.llm01]\nlogsource: {{product: ai, category: llm_inference}}\ndetection:\n  sel:\n    ai.prompt.text|contains: x\n  condition: sel\n"
    );
    assert!(codes(&text).contains(&Code::MissingAiMapping));
}

#[test]
fn uppercase_atlas_tags_get_the_atlas_code() {
    let text = format!(
        "{HEAD}tags: [ATLAS.AML.T9999]\nlogsource: {{product: x}}\ndetection:\n  sel:\n    f: a\n  condition: sel\n"
    );
    let c = codes(&text);
    assert!(c.contains(&Code::UnknownAtlas), "{c:?}");
    assert!(!c.contains(&Code::UnknownOwasp));
}

#[test]
fn numbers_are_not_dates() {
    let text = "title: t\nid: 3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\nstatus: test\nlevel: low\ndate: 1234567890\nlogsource: {product: x}\ndetection:\n  sel:\n    f: a\n  condition: sel\n";
    assert!(codes(text).contains(&Code::InvalidDate));
}

#[test]
fn required_tests_fail_untested_rules() {
    let text = format!(
        "{HEAD}logsource: {{product: x}}\ndetection:\n  sel:\n    f: a\n  condition: sel\n"
    );
    let r = check_str("r.yml", &text, &Schema::builtin());
    let out = run(&[r], true);
    assert_eq!(out[0].outcome, Outcome::NoTests);
    assert_eq!(out[0].diags[0].code, Code::NoTests);
    assert!(
        aisigma::engine::ruletest::junit(&out)
            .contains("<failure message=\"the rule has no tests\">")
    );
}

fn rule(detection: &str) -> String {
    let indented: String = detection.lines().map(|l| format!("  {l}\n")).collect();
    format!("{HEAD}logsource: {{product: ai, category: llm_inference}}\ndetection:\n{indented}")
}

#[test]
fn huge_wildcard_values_are_bounded_not_panics() {
    let too_long = rule(&format!(
        "sel:\n  ai.prompt.text: '{}'\ncondition: sel",
        "?".repeat(20_000)
    ));
    assert!(codes(&too_long).contains(&Code::InvalidModifierValue));
    let long = format!(
        "{}tests:\n  match:\n    - {{ai.prompt.text: {}}}\n",
        rule(&format!(
            "sel:\n  ai.prompt.text: '{}'\ncondition: sel",
            "?".repeat(10_000)
        )),
        "a".repeat(10_000)
    );
    let r = check_str("r.yml", &long, &Schema::builtin());
    assert_eq!(run(&[r], false)[0].outcome, Outcome::Passed);
}

#[test]
fn alias_expansion_of_large_scalars_is_bounded() {
    let big = "x".repeat(1 << 20);
    let mut text = format!("title: t\nbig: &a '{big}'\nlist: [");
    text.push_str(&vec!["*a"; 64].join(", "));
    text.push_str("]\n");
    assert!(codes(&text).contains(&Code::AliasExpansion));
}

#[test]
fn long_dotted_field_names_evaluate() {
    let name = vec!["a"; 500].join("."); // YAML simple keys stop at 1024 characters
    let text = format!(
        "{HEAD}logsource: {{product: x}}\ndetection:\n  sel:\n    {name}: v\n  condition: sel\ntests:\n  match:\n    - {{{name}: v}}\n"
    );
    let r = check_str("r.yml", &text, &Schema::builtin());
    assert_eq!(run(&[r], false)[0].outcome, Outcome::Passed);
}

#[test]
fn fields_written_directly_under_detection_are_flagged() {
    let piped = rule("ai.prompt.text|contains: 'ignore previous'\ncondition: 1 of them");
    assert!(codes(&piped).contains(&Code::InvalidSearch));
    let named = rule("ai.prompt.text: 'ignore previous'\ncondition: 1 of them");
    let r = check_str("r.yml", &named, &Schema::builtin());
    assert!(r.diags.iter().any(|d| d.code == Code::InvalidSearch
        && d.severity == aisigma::report::diagnostic::Severity::Warning));
}

#[test]
fn empty_condition_list_is_an_error() {
    assert!(
        codes(&rule("sel:\n  ai.prompt.text: x\ncondition: []")).contains(&Code::ConditionSyntax)
    );
}

#[test]
fn non_finite_numbers_are_rejected() {
    assert!(
        codes(&rule(
            "sel:\n  gen_ai.usage.input_tokens|gt: .nan\ncondition: sel"
        ))
        .contains(&Code::InvalidModifierValue)
    );
    assert!(
        codes(&rule(
            "sel:\n  gen_ai.request.temperature: .inf\ncondition: sel"
        ))
        .contains(&Code::InvalidModifierValue)
    );
    let t = format!(
        "{}tests:\n  match:\n    - {{gen_ai.request.temperature: .inf}}\n",
        rule("sel:\n  gen_ai.request.temperature: 1\ncondition: sel")
    );
    assert!(codes(&t).contains(&Code::InvalidTests));
}

#[test]
fn base64offset_without_contains_warns() {
    let r = check_str(
        "r.yml",
        &rule("sel:\n  ai.prompt.text|base64offset: 'http://'\ncondition: sel"),
        &Schema::builtin(),
    );
    assert!(r.diags.iter().any(|d| d.code == Code::ModifierConflict
        && d.severity == aisigma::report::diagnostic::Severity::Warning));
}

#[test]
fn a_broken_search_is_not_also_undefined() {
    let c = codes(&rule(
        "sel: []\nsel2:\n  ai.prompt.text: x\ncondition: sel or sel2",
    ));
    assert!(c.contains(&Code::EmptySearch));
    assert!(!c.contains(&Code::UndefinedSearch), "{c:?}");
}

#[test]
fn carets_in_escaped_conditions_do_not_shift() {
    let r = check_str(
        "r.yml",
        &rule("sel:\n  ai.prompt.text: x\ncondition: \"sel and\\tselx\""),
        &Schema::builtin(),
    );
    let d = r
        .diags
        .iter()
        .find(|d| d.code == Code::UndefinedSearch)
        .unwrap();
    // With an escape in the scalar, offsets cannot be mapped: the whole scalar is marked.
    assert_eq!(d.span.start.col, 14);
    let r = check_str(
        "r.yml",
        &rule("sel:\n  ai.prompt.text: x\ncondition: 'sel and selx'"),
        &Schema::builtin(),
    );
    let d = r
        .diags
        .iter()
        .find(|d| d.code == Code::UndefinedSearch)
        .unwrap();
    assert_eq!((d.span.start.col, d.span.end.col), (23, 27));
}

#[test]
fn junit_escapes_xml_forbidden_characters() {
    let text = rule("sel:\n  ai.prompt.text: x\ncondition: sel")
        .replace("title: t", "title: \"t\\uFFFF\\u0001\"");
    let r = check_str(
        "r.yml",
        &format!("{text}tests:\n  match:\n    - {{ai.prompt.text: x}}\n"),
        &Schema::builtin(),
    );
    let xml = aisigma::engine::ruletest::junit(&run(&[r], false));
    assert!(!xml.contains('\u{FFFF}') && !xml.contains('\u{1}'));
}
