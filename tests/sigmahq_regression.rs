//! The engine against SigmaHQ's own regression events: every rule must match at least as many
//! of its sample events as SigmaHQ's EVTX regression runner counts. (The JSON renderings hold a
//! few more events than the runner counts, e.g. the same registry write to `http`, `https` and
//! `*` keys; each extra match was checked by hand to be a real match.)
//! Fixtures: tests/fixtures/sigmahq_regression (see tests/conformance/import_sigmahq_regression.py).

use aisigma::engine::matcher::Matcher;
use aisigma::semantics::check::check_source;
use aisigma::semantics::schema::Schema;
use std::path::Path;

#[test]
fn sigmahq_regression_events_match_their_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigmahq_regression");
    let schema = Schema::builtin();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 200,
        "expected the imported fixtures, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    let mut events_total = 0;
    for dir in &dirs {
        let src = aisigma::syntax::load::read_source(&dir.join("rule.yml"), 1 << 22).unwrap();
        let result = check_source(src, &schema);
        let errors: Vec<_> = result
            .diags
            .iter()
            .filter(|d| d.severity == aisigma::report::diagnostic::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", dir.display());
        let expr = result.docs[0].expr.as_ref().expect("lowered");
        let matcher = Matcher::new(expr).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let want = expected["match_count"].as_u64().unwrap() as usize;
        let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        let mut got = 0;
        for line in events.lines() {
            events_total += 1;
            let ev: serde_json::Value = serde_json::from_str(line).unwrap();
            if matcher.matches(&ev) {
                got += 1;
            }
        }
        if got < want {
            failures.push(format!(
                "{} ({}): matched {got} events, expected {want}",
                dir.file_name().unwrap().to_string_lossy(),
                expected["source"]
            ));
        }
    }
    eprintln!("{} rules, {events_total} events checked", dirs.len());
    assert!(
        failures.is_empty(),
        "{} of {} rules disagree ({} events):\n{}",
        failures.len(),
        dirs.len(),
        events_total,
        failures.join("\n")
    );
}
