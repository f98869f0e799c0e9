//! Snapshot tests of the human diagnostics for every fixture in tests/fixtures/diagnostics,
//! plus the JSON rendering of one of them.

use aisigma::report::render as report;
use aisigma::semantics::check::{check_files, repo_checks};
use aisigma::semantics::schema::Schema;
use std::path::{Path, PathBuf};

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures/diagnostics");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn human_diagnostics() {
    let schema = Schema::builtin();
    for f in fixture_files() {
        let mut results = check_files(std::slice::from_ref(&f), &schema, &Default::default());
        repo_checks(&mut results);
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, report::human(&results));
    }
}

#[test]
fn json_diagnostics() {
    let f = PathBuf::from("tests/fixtures/diagnostics/unknown_field.yml");
    let results = check_files(&[f], &Schema::builtin(), &Default::default());
    insta::assert_snapshot!("unknown_field_json", report::json(&results));
}

#[test]
fn test_failures_are_reported_at_the_event() {
    let f = PathBuf::from("tests/fixtures/diagnostics/failing_tests.yml");
    let results = check_files(&[f], &Schema::builtin(), &Default::default());
    let outcomes = aisigma::engine::ruletest::run(&results, false);
    let mut out = String::new();
    for o in &outcomes {
        for d in &o.diags {
            report::human_one(&mut out, &o.file, results[0].source.as_deref(), d);
        }
    }
    insta::assert_snapshot!("failing_tests_run", out);
    insta::assert_snapshot!(
        "failing_tests_junit",
        aisigma::engine::ruletest::junit(&outcomes)
    );
}
