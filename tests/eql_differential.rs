//! Generated differential tests: random rules built from the Sigma grammar, random events,
//! evaluated by aisigma's engine and compiled to EQL. The cases are written (with the engine's
//! verdicts) to `$AISIGMA_EQL_DIFF` when that variable is set, and
//! `tests/conformance/eql_differential.py` replays them through Elastic's `eql` engine (CI does).
//! The same rules compiled to Lucene go to the directory `$AISIGMA_LUCENE_DIFF` for
//! `tests/conformance/lucene_oracle.sh`, which runs them in Lucene 9.
//! Without the variables the test still checks that every generated rule compiles.
//!
//! The generator keeps to what eql's Python engine models faithfully: case-insensitive
//! operators, no `?` wildcard, no multi-valued fields.

use aisigma::backend::compile::compile;
use aisigma::backend::target::Target;
use aisigma::engine::matcher::Matcher;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use serde_json::{Value, json};

mod common;

use common::Rng;

const WORDS: &[&str] = &["x", "y", "xy", "Xy", "yx", "x-y", "X Y", ""];
const FIELDS: &[&str] = &["a", "b", "c"];

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn item(r: &mut Rng) -> String {
    let f = r.pick(FIELDS);
    match r.below(10) {
        0 => format!("{f}: {}", quoted(r.pick(WORDS))),
        1 => format!("{f}|contains: {}", quoted(r.pick(&WORDS[..7]))),
        2 => format!("{f}|startswith: {}", quoted(r.pick(&WORDS[..7]))),
        3 => format!("{f}|endswith: {}", quoted(r.pick(&WORDS[..7]))),
        4 => format!(
            "{f}: [{}, {}]",
            quoted(r.pick(WORDS)),
            quoted(r.pick(WORDS))
        ),
        5 => format!("n|{}: {}", r.pick(&["gt", "gte", "lt", "lte"]), r.below(5)),
        6 => format!("n: {}", r.below(5)),
        7 => format!("{f}: null"),
        8 => format!("{f}|exists: {}", r.below(2) == 1),
        _ => format!(
            "ip|cidr: {}",
            r.pick(&["10.0.0.0/8", "192.168.1.0/24", "fe80::/10"])
        ),
    }
}

fn event(r: &mut Rng) -> Value {
    let mut m = serde_json::Map::new();
    for f in FIELDS {
        match r.below(5) {
            0 => {}
            1 => {
                m.insert(f.to_string(), Value::Null);
            }
            _ => {
                m.insert(f.to_string(), json!(r.pick(WORDS)));
            }
        }
    }
    if r.below(4) != 0 {
        m.insert("n".into(), json!(r.below(6)));
    }
    if r.below(4) != 0 {
        m.insert(
            "ip".into(),
            json!(r.pick(&[
                "10.1.2.3",
                "192.168.1.9",
                "192.168.2.1",
                "fe80::1",
                "8.8.8.8"
            ])),
        );
    }
    Value::Object(m)
}

#[test]
fn generated_rules_compile_and_record_engine_verdicts() {
    let schema = Schema::builtin();
    let mapping = Target::Eql.builtin_mapping();
    let lucene_mapping = Target::Lucene.builtin_mapping();
    let mut lucene_out = String::new();
    let mut r = Rng(0x5EED_1234_ABCD_0001);
    let mut out = String::new();
    let (mut rules, mut cases) = (0, 0);
    while rules < 400 {
        let text = common::random_rule(&mut r, "{product: generated}", item);
        let checked = check_str("gen.yml", &text, &schema);
        // Conditions such as `not sel1` alone are fine; a generated rule can only fail to
        // check when a selection ended up unused, which is a warning, not an error.
        let Some(expr) = checked.docs.first().and_then(|d| d.expr.as_ref()) else {
            panic!("generated rule does not check: {:?}\n{text}", checked.diags);
        };
        let query = compile(&checked.docs[0].doc, expr, Target::Eql, &mapping, &schema)
            .unwrap_or_else(|e| panic!("generated rule does not compile: {e:?}\n{text}"))
            .query;
        let lucene = compile(
            &checked.docs[0].doc,
            expr,
            Target::Lucene,
            &lucene_mapping,
            &schema,
        )
        .unwrap_or_else(|e| panic!("generated rule does not compile to Lucene: {e:?}\n{text}"))
        .query;
        let matcher = Matcher::new(expr).unwrap();
        rules += 1;
        let (mut events, mut expect) = (Vec::new(), Vec::new());
        for _ in 0..12 {
            let ev = event(&mut r);
            cases += 1;
            let verdict = matcher.matches(&ev);
            let line = json!({"query": query, "event": ev, "verdict": verdict, "rule": text});
            out.push_str(&line.to_string());
            out.push('\n');
            events.push(ev);
            expect.push(verdict);
        }
        // `cidr` needs the field mapped as `ip` in Elasticsearch.
        let line = json!({"id": rules, "query": lucene, "events": events, "expect": expect,
                          "types": {"ip": "ip"}});
        lucene_out.push_str(&line.to_string());
        lucene_out.push('\n');
    }
    assert_eq!((rules, cases), (400, 4800));
    if let Ok(path) = std::env::var("AISIGMA_EQL_DIFF") {
        std::fs::write(path, out).unwrap();
    }
    // The same cases, compiled to Lucene, for tests/conformance/lucene_oracle.sh.
    if let Ok(dir) = std::env::var("AISIGMA_LUCENE_DIFF") {
        std::fs::write(
            std::path::Path::new(&dir).join("eql_generator.jsonl"),
            lucene_out,
        )
        .unwrap();
    }
}
