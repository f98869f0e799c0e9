//! Generated differential tests: random rules built from the Sigma grammar, random events,
//! evaluated by aisigma's engine and compiled to EQL. The cases are written (with the engine's
//! verdicts) to `$AISIGMA_EQL_DIFF` when that variable is set, and
//! `tests/conformance/eql_differential.py` replays them through Elastic's `eql` engine (CI does).
//! The same rules compiled to Lucene go to the directory `$AISIGMA_LUCENE_DIFF` for
//! `tests/conformance/lucene_oracle.sh`, which runs them in Lucene 9.
//! Without the variables the test still checks that every generated rule compiles.
//!
//! The generator keeps to what eql's Python engine models (with Elasticsearch's string
//! semantics from tests/conformance/es_semantics_eql.py): single-valued fields.

use aisigma::backend::compile::compile;
use aisigma::backend::target::Target;
use aisigma::engine::matcher::Matcher;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use serde_json::{Value, json};

mod common;

use common::Rng;

// Mixed case, wildcard characters as data (`*`, `?`), a backslash, a tab and a bell (EQL
// writes control characters as `\u{...}`), the Kelvin sign (which ASCII folding, the case
// contract and Elasticsearch's, keeps apart from `k`), and the empty string.
const WORDS: &[&str] = &[
    "x", "y", "xy", "Xy", "yx", "x-y", "X Y", "x*y", "x?y", "x\\y", "x\ty", "k", "\u{212A}", "Ky",
    "x\u{7}", "",
];
// Field names that are EQL keywords are written in backticks.
const FIELDS: &[&str] = &["a", "b", "where", "in"];
const REGEXES: &[&str] = &[
    "x.y", "^x", "y$", "^(x|y)+$", "[a-x]y", "k", "x\\?y", "X\\sY", "\\*", "^$",
];

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn item(r: &mut Rng) -> String {
    let f = r.pick(FIELDS);
    // `cased` asks for exact case; the rest folds ASCII letters.
    let cased = if r.below(3) == 0 { "|cased" } else { "" };
    let word = |r: &mut Rng| quoted(r.pick(WORDS));
    match r.below(14) {
        0 => format!("{f}{cased}: {}", word(r)),
        1 => format!(
            "{f}|contains{cased}: {}",
            quoted(r.pick(&WORDS[..WORDS.len() - 1]))
        ),
        2 => format!(
            "{f}|startswith{cased}: {}",
            quoted(r.pick(&WORDS[..WORDS.len() - 1]))
        ),
        3 => format!(
            "{f}|endswith{cased}: {}",
            quoted(r.pick(&WORDS[..WORDS.len() - 1]))
        ),
        4 => format!("{f}{cased}: [{}, {}, {}]", word(r), word(r), word(r)),
        // Wildcards in the rule: `*` any run, `?` one character.
        5 => format!(
            "{f}{cased}: {}",
            quoted(r.pick(&["x?y", "*y", "x*", "?", "*x*y*", "K?"]))
        ),
        6 => format!(
            "{f}|re{}: {}",
            if r.below(2) == 0 { "|i" } else { "" },
            quoted(r.pick(REGEXES))
        ),
        7 => format!("n|{}: {}", r.pick(&["gt", "gte", "lt", "lte"]), r.below(5)),
        8 => format!("n: {}", r.pick(&["0", "1", "2e0", "3.0", "4"])),
        9 => format!("{f}: null"),
        10 => format!("{f}|exists: {}", r.below(2) == 1),
        11 => format!(
            "{f}|contains|all{cased}: [{}, {}]",
            quoted(r.pick(&WORDS[..5])),
            quoted(r.pick(&WORDS[..5]))
        ),
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
    let (mut rules, mut cases, mut lucene_refused) = (0, 0, 0);
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
        // Lucene's query string cannot hold a control character (nor a regex `.`, which excludes a
        // line feed): such rules are refused.
        let lucene = match compile(
            &checked.docs[0].doc,
            expr,
            Target::Lucene,
            &lucene_mapping,
            &schema,
        ) {
            Ok(c) => Some(c.query),
            Err(e) if e.iter().all(|d| d.message.contains("control character")) => {
                lucene_refused += 1;
                None
            }
            Err(e) => panic!("generated rule does not compile to Lucene: {e:?}\n{text}"),
        };
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
        if let Some(lucene) = lucene {
            let line = json!({"id": rules, "query": lucene, "events": events, "expect": expect,
                              "types": {"ip": "ip"}});
            lucene_out.push_str(&line.to_string());
            lucene_out.push('\n');
        }
    }
    assert_eq!((rules, cases), (400, 4800));
    assert!(
        lucene_refused < 100,
        "{lucene_refused} of 400 rules refused by Lucene"
    );
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
