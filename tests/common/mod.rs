//! Helpers shared by the backend test files (each test file is its own crate and uses some).
#![allow(dead_code)]

use aisigma::backend::{Target, compile};
use aisigma::check::check_str;
use aisigma::diagnostic::Code;
use aisigma::schema::Schema;

/// A rule document with `logsource` (YAML flow map) and `detection` (indented here).
pub fn rule(logsource: &str, detection: &str) -> String {
    let indented: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "title: t\nid: 7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {logsource}\ndetection:\n{indented}"
    )
}

/// Check a rule (it must have no errors) and compile it for `target` with the built-in
/// mapping: the query, or the codes of the refusals.
pub fn compile_rule(target: Target, text: &str) -> Result<String, Vec<Code>> {
    let schema = Schema::builtin();
    let r = check_str("r.yml", text, &schema);
    assert!(
        r.diags
            .iter()
            .all(|d| d.severity != aisigma::diagnostic::Severity::Error),
        "{:?}",
        r.diags
    );
    let cd = &r.docs[0];
    compile(
        &cd.doc,
        cd.expr.as_ref().unwrap(),
        target,
        &target.builtin_mapping(),
        &schema,
    )
    .map(|c| c.query)
    .map_err(|ds| ds.iter().map(|d| d.code).collect())
}

/// A small deterministic PRNG (xorshift64*), so generated cases are the same every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
