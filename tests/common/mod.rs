//! Helpers shared by the backend test files (each test file is its own crate and uses some).
#![allow(dead_code)]

use aisigma::backend::compile::compile;
use aisigma::backend::target::Target;
use aisigma::report::diagnostic::Code;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;

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
            .all(|d| d.severity != aisigma::report::diagnostic::Severity::Error),
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

/// A random condition over the selections `names` (`sel1`, ...): `and`, `or`, `not`,
/// `1 of sel*`, `all of sel*`, and unparenthesised `a or b and c`, whose precedence
/// (not > and > or) compilation must keep.
pub fn condition(r: &mut Rng, names: &[String], depth: u32) -> String {
    if depth == 0 || r.below(3) == 0 {
        return match r.below(6) {
            0 => "1 of sel*".to_string(),
            1 => "all of sel*".to_string(),
            _ => names[r.below(names.len())].clone(),
        };
    }
    let a = condition(r, names, depth - 1);
    match r.below(4) {
        0 => format!("({a} and {})", condition(r, names, depth - 1)),
        1 => format!("({a} or {})", condition(r, names, depth - 1)),
        2 => format!(
            "{a} or {} and {}",
            condition(r, names, 0),
            condition(r, names, 0)
        ),
        _ => format!("not {a}"),
    }
}

/// A random rule: one to three selections of one or two `item`s (YAML `key: value` lines,
/// no key twice in a selection) and a random condition over them.
pub fn random_rule(r: &mut Rng, logsource: &str, item: impl Fn(&mut Rng) -> String) -> String {
    use std::fmt::Write;
    let n = 1 + r.below(3);
    let names: Vec<String> = (1..=n).map(|i| format!("sel{i}")).collect();
    let mut text = format!(
        "title: generated\nid: 00000000-0000-4000-8000-000000000000\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {logsource}\ndetection:\n"
    );
    for name in &names {
        let _ = writeln!(text, "    {name}:");
        let mut used = Vec::new();
        for _ in 0..1 + r.below(2) {
            let it = item(r);
            let key = it.split(':').next().unwrap_or_default().to_string();
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            let _ = writeln!(text, "        {it}");
        }
    }
    let _ = writeln!(text, "    condition: {}", condition(r, &names, 3));
    text
}
