//! Regression tests for bugs found in review.

use aisigma::check::check_str;
use aisigma::diagnostic::Code;
use aisigma::ruletest::{Outcome, run};
use aisigma::schema::Schema;

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
    assert!(aisigma::ruletest::junit(&out).contains("<failure message=\"the rule has no tests\">"));
}
