//! `aisigma scan`: its matches must be exactly the engine's, whatever the prefilter skips and
//! the lazy decoder leaves out; checked on the rule library's own test events (the held-in
//! example log), on generated telemetry, and on random rules over events written with every
//! JSON escape. Then the command line: compression, malformed lines, scoping, exit codes.

use aisigma::engine::matcher::Matcher;
use aisigma::scan::scanner::{Loaded, Scanner, Scope, Verdict, load_rules};
use aisigma::semantics::check::{Options, check_files, check_str};
use aisigma::semantics::schema::Schema;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::Rng;

fn aisigma(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or_default()).expect("writes");
    drop(input);
    child.wait_with_output().expect("finishes")
}

/// The `line` of every rule match `scan` printed (JSON Lines; correlation alerts left out).
fn matched_lines(stdout: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("correlation").is_none())
        .map(|v| v["line"].as_u64().unwrap())
        .collect()
}

/// The rule library, checked.
fn checked_library() -> (Schema, Vec<aisigma::semantics::checked::FileResult>) {
    let schema = Schema::builtin();
    let files = aisigma::syntax::load::collect_files(&[PathBuf::from("rules")]).expect("rules");
    let results = check_files(
        &files,
        &schema,
        &Options {
            max_file_size: 1 << 22,
        },
    );
    (schema, results)
}

fn library() -> (Scanner, Vec<Matcher>, Vec<Option<String>>) {
    let (_, results) = checked_library();
    let Loaded {
        rules,
        exprs,
        table,
        index,
        correlations,
        skipped,
    } = load_rules(&results);
    // Every rule and correlation of the library is scanned (inputs of correlations too, not
    // reported on their own).
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(correlations.len(), 10);
    let matchers = exprs.iter().map(|e| Matcher::new(e).unwrap()).collect();
    let categories = rules.iter().map(|r| r.category.clone()).collect();
    (
        Scanner::new(rules, &exprs, (table, index), Scope::default()),
        matchers,
        categories,
    )
}

/// The rules that apply to `event` and match it, evaluated without prefilter or lazy
/// decoding.
fn full_evaluation(
    matchers: &[Matcher],
    categories: &[Option<String>],
    event: &Value,
) -> Vec<usize> {
    let category = event.get("ai.category").and_then(Value::as_str);
    (0..matchers.len())
        .filter(|&i| match (&categories[i], category) {
            (Some(rc), Some(ec)) => rc == ec,
            _ => true,
        })
        .filter(|&i| matchers[i].matches(event))
        .collect()
}

fn scanned(scanner: &Scanner, line: &[u8]) -> Vec<usize> {
    let mut scratch = aisigma::scan::scanner::Scratch::default();
    match scanner.scan_line(line, &mut scratch) {
        Verdict::Event(hits, _, _) => hits,
        other => panic!("{other:?} for {}", String::from_utf8_lossy(line)),
    }
}

/// The held-in example log: every test event of the rule library, one per line, in rule-file
/// order. It is committed as `examples/logs/rule-tests.jsonl` for the README's example.
fn rule_test_events() -> Vec<(String, bool, Value)> {
    let (_, results) = checked_library();
    // Inputs of correlations are not rules of their own: scan does not report them.
    let inputs = aisigma::semantics::correlation::hidden_inputs(&results);
    let mut out = Vec::new();
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            if inputs.contains(&(fi, di)) || cd.doc.detection().is_none() {
                continue;
            }
            let id = cd.doc.meta.id.as_ref().map(|i| i.value.clone()).unwrap();
            // Raw records of a source (`{source, record}`) are scanned with --source, not here.
            for t in cd.doc.tests.iter().flatten() {
                if !aisigma::engine::ruletest::is_raw_record(&t.event) {
                    out.push((id.clone(), t.expect_match, t.event.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn held_in_log_is_current() {
    let mut text = String::new();
    for (_, _, e) in rule_test_events() {
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    let path = Path::new("examples/logs/rule-tests.jsonl");
    if std::env::var_os("AISIGMA_UPDATE_EXAMPLES").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap_or_default(),
        text,
        "examples/logs/rule-tests.jsonl is out of date: run with AISIGMA_UPDATE_EXAMPLES=1"
    );
}

#[test]
fn scan_of_held_in_log_gives_what_the_rule_tests_expect() {
    let events = rule_test_events();
    assert!(events.len() > 100);
    let o = aisigma(
        &["scan", "--rules", "rules", "examples/logs/rule-tests.jsonl"],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut found: BTreeSet<(u64, String)> = BTreeSet::new();
    for l in String::from_utf8(o.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        if v.get("correlation").is_some() {
            continue;
        }
        found.insert((
            v["line"].as_u64().unwrap(),
            v["rule_id"].as_str().unwrap().to_string(),
        ));
        for key in ["title", "level", "tags", "file", "timestamp", "event"] {
            assert!(v.get(key).is_some(), "{key} missing in {l}");
        }
    }
    for (i, (id, expect, event)) in events.iter().enumerate() {
        let line = i as u64 + 1;
        assert_eq!(
            found.contains(&(line, id.clone())),
            *expect,
            "line {line}, rule {id}: {event}"
        );
    }
    // And every other (line, rule) pair is the engine's verdict too.
    let (scanner, matchers, categories) = library();
    let mut want = BTreeSet::new();
    for (i, (_, _, event)) in events.iter().enumerate() {
        for r in full_evaluation(&matchers, &categories, event) {
            if scanner.rules()[r].report {
                want.insert((i as u64 + 1, scanner.rules()[r].id.clone()));
            }
        }
    }
    assert_eq!(found, want);
}

#[test]
fn generated_telemetry_scans_as_the_engine_evaluates() {
    let (scanner, matchers, categories) = library();
    let attacks: Vec<Value> = rule_test_events()
        .into_iter()
        .filter(|(_, m, _)| *m)
        .map(|(_, _, e)| e)
        .collect();
    let mut buf = Vec::new();
    aisigma::scan::gen_events::write(&mut buf, 4000, 11, 0.05, &attacks).unwrap();
    let mut matched = 0;
    for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let event: Value = serde_json::from_slice(line).unwrap();
        let want = full_evaluation(&matchers, &categories, &event);
        matched += want.len();
        assert_eq!(scanned(&scanner, line), want, "{event}");
    }
    assert!(matched > 100, "{matched}");
}

// Random rules and events whose values hold what a prefilter can get wrong: letters that
// fold to ASCII from elsewhere (`ſ`, `K`), quotes, slashes, backslashes, control characters,
// non-ASCII text; events written with random JSON escapes and both flat and nested keys.

const WORDS: &[&str] = &[
    "skip",
    "SKIP",
    "ſkip",
    "\u{212A}ey",
    "key",
    "a\"b",
    "path/to",
    "café",
    "CAFÉ",
    "straße",
    "STRASSE",
    "line\nbreak",
    "tab\tx",
    "😀smile",
    "İstanbul",
    "istanbul",
    "plain",
    "o'neil",
    "<tag>",
    "a+b&c",
];
const FIELDS: &[&str] = &["f", "g.h", "k"];
const REGEXES: &[&str] = &[
    "(?i)skip",
    "ke[yz]",
    "a\"b",
    "path/to",
    "caf[eé]",
    "(?i)straße",
    "line\\nbreak",
    "😀",
    "^plain$",
    "(?i)\\bkey\\b",
    "(?i)(skip|key)\\s*plain",
    "o'n[e]il",
];

fn yaml(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn word(r: &mut Rng) -> String {
    // Values are Sigma strings: no backslash, no wildcard.
    let n = 1 + r.below(2);
    (0..n).map(|_| r.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

fn item(r: &mut Rng) -> String {
    let f = r.pick(FIELDS);
    match r.below(11) {
        0 => format!("{f}: {}", yaml(&word(r))),
        1 => format!("{f}|contains: {}", yaml(r.pick(WORDS))),
        2 => format!("{f}|startswith: {}", yaml(r.pick(WORDS))),
        3 => format!("{f}|endswith: {}", yaml(r.pick(WORDS))),
        4 => format!("{f}|contains|cased: {}", yaml(r.pick(WORDS))),
        5 => format!("{f}|re: {}", yaml(r.pick(REGEXES))),
        6 => format!("{f}|re|i: {}", yaml(r.pick(REGEXES))),
        7 => format!(
            "{f}|contains|all: [{}, {}]",
            yaml(r.pick(WORDS)),
            yaml(r.pick(WORDS))
        ),
        8 => format!("{f}|exists: {}", r.below(2) == 1),
        9 => format!("n|gt: {}", r.below(5)),
        _ => format!("{f}: null"),
    }
}

/// A JSON string with random escaping: raw, `\uXXXX` (surrogate pairs above U+FFFF), short
/// escapes, `\/`.
fn json_string(r: &mut Rng, s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        let must = matches!(c, '"' | '\\') || (c as u32) < 0x20;
        match r.below(4) {
            0 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            1 if c == '/' => out.push_str("\\/"),
            _ if must => match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push_str(&format!("\\u{:04x}", c as u32)),
            },
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value(r: &mut Rng) -> String {
    match r.below(6) {
        0 => "null".to_string(),
        1 => {
            let (a, b) = (word(r), word(r));
            format!("[{}, {}]", json_string(r, &a), json_string(r, &b))
        }
        _ => {
            let w = word(r);
            json_string(r, &w)
        }
    }
}

/// An event line: `f`, `g.h` (flat, or nested as `{"g":{"h":..}}`) and `k`, each maybe
/// absent, and `n`.
fn event_line(r: &mut Rng) -> String {
    let mut parts = Vec::new();
    if r.below(4) != 0 {
        parts.push(format!("\"f\":{}", value(r)));
    }
    match r.below(3) {
        0 => parts.push(format!("\"g.h\":{}", value(r))),
        1 => parts.push(format!("\"g\":{{\"h\":{}}}", value(r))),
        _ => {}
    }
    if r.below(3) != 0 {
        parts.push(format!("{}:{}", json_string(r, "k"), value(r)));
    }
    if r.below(2) == 0 {
        parts.push(format!("\"n\":{}", r.below(6)));
    }
    parts.push(format!("\"pad\":{}", json_string(r, "noise words ſ K")));
    format!("{{{}}}", parts.join(","))
}

#[test]
fn random_rules_scan_as_the_engine_evaluates() {
    let schema = Schema::builtin();
    let mut r = Rng(0x5CA9_F11E);
    let (mut cases, mut filtered, mut rules_total, mut matches) = (0, 0, 0, 0);
    for _ in 0..300 {
        let texts: Vec<String> = (0..4)
            .map(|_| common::random_rule(&mut r, "{product: generated}", item))
            .collect();
        let results: Vec<_> = texts
            .iter()
            .map(|t| check_str("gen.yml", t, &schema))
            .collect();
        let Loaded {
            rules,
            exprs,
            table,
            index,
            skipped,
            ..
        } = load_rules(&results);
        assert!(skipped.is_empty(), "{skipped:?}\n{texts:?}");
        let matchers: Vec<Matcher> = exprs.iter().map(|e| Matcher::new(e).unwrap()).collect();
        let scanner = Scanner::new(rules, &exprs, (table, index), Scope::default());
        rules_total += matchers.len();
        filtered += scanner.prefiltered_rules();
        for _ in 0..20 {
            let line = event_line(&mut r);
            let event: Value = serde_json::from_str(&line).unwrap();
            let want: Vec<usize> = (0..matchers.len())
                .filter(|&i| matchers[i].matches(&event))
                .collect();
            matches += want.len();
            assert_eq!(
                scanned(&scanner, line.as_bytes()),
                want,
                "line {line}\nrules {texts:#?}"
            );
            cases += 1;
        }
    }
    // The test means something only if the prefilter was at work and rules matched.
    assert!(filtered * 2 > rules_total, "{filtered} of {rules_total}");
    assert!(matches * 10 > cases, "{matches} matches in {cases} cases");
}

const RULE: &str = "title: Override phrase
id: 4d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a
status: test
level: high
date: 2026-11-24
logsource: {product: ai, category: llm_inference}
detection:
    selection:
        ai.prompt.text|contains: ignore previous instructions
    condition: selection
";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aisigma-scan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const EVENTS: &str = concat!(
    r#"{"ai.category":"llm_inference","@timestamp":"2026-11-24T10:00:00Z","ai.prompt.text":"please IGNORE previous instructions"}"#,
    "\n",
    r#"{"ai.category":"llm_inference","ai.prompt.text":"hello"}"#,
    "\n",
    "\n",
    r#"{"ai":{"category":"rag_retrieval","prompt":{"text":"ignore previous instructions"}}}"#,
    "\n",
    r#"{"ai":{"prompt":{"text":"ignore previous instructions"}}}"#,
    "\n",
);

#[test]
fn cli_formats_compression_and_exit_codes() {
    let d = temp_dir("cli");
    let rule = d.join("rule.yml");
    std::fs::write(&rule, RULE).unwrap();
    let rule = rule.to_str().unwrap();
    let plain = d.join("events.jsonl");
    std::fs::write(&plain, EVENTS).unwrap();
    // Line 1 matches; line 4 is another category (nested keys); line 5 has no category, so
    // every rule applies to it.
    let o = aisigma(&["scan", "--rules", rule, plain.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["timestamp"], "2026-11-24T10:00:00Z");
    assert_eq!(lines[0]["level"], "high");
    assert_eq!(lines[0]["rule_id"], "4d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a");
    assert_eq!(
        lines[0]["event"]["ai.prompt.text"],
        "please IGNORE previous instructions"
    );
    assert_eq!(lines[1]["line"], 5);
    assert_eq!(lines[1]["timestamp"], Value::Null);
    let stderr = String::from_utf8(o.stderr.clone()).unwrap();
    assert!(stderr.contains("scanned 4 events"), "{stderr}");

    // gzip and zstd, recognized by their magic bytes whatever the file is called.
    let gz = d.join("events.gz.data");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, EVENTS.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let o2 = aisigma(&["scan", "--rules", rule, gz.to_str().unwrap()], None);
    let zst = Path::new("tests/fixtures/scan/lines.jsonl.zst");
    assert!(zst.exists());
    let strip_file = |o: &Output| {
        String::from_utf8(o.stdout.clone())
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v["file"] = Value::Null;
                v.to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip_file(&o2), strip_file(&o));

    // Standard input, `-`, and the `--category` override (every event is llm_inference).
    let o3 = aisigma(
        &["scan", "--rules", rule, "--category", "llm_inference", "-"],
        Some(EVENTS.as_bytes()),
    );
    assert_eq!(o3.status.code(), Some(1));
    let got = matched_lines(&o3.stdout);
    assert_eq!(got, vec![1, 4, 5]);
    // A custom category field.
    let o4 = aisigma(
        &["scan", "--rules", rule, "--category-field", "nope", "-"],
        Some(EVENTS.as_bytes()),
    );
    assert_eq!(o4.stdout.iter().filter(|&&b| b == b'\n').count(), 3);

    // No match: exit 0. Human format: a row per match.
    let o5 = aisigma(&["scan", "--rules", rule, "-"], Some(b"{\"a\":1}\n"));
    assert_eq!(o5.status.code(), Some(0));
    assert!(o5.stdout.is_empty());
    let o6 = aisigma(
        &[
            "scan",
            "--rules",
            rule,
            "--format",
            "human",
            plain.to_str().unwrap(),
        ],
        None,
    );
    let human = String::from_utf8(o6.stdout).unwrap();
    assert_eq!(human.lines().count(), 2, "{human}");
    assert!(human.contains("events.jsonl:1") && human.contains("Override phrase"));

    // Usage errors: exit 2.
    assert_eq!(
        aisigma(&["scan", "--rules", rule, "/no/such/file"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        aisigma(&["scan", "--rules", "/no/such/rules", "-"], None)
            .status
            .code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn malformed_lines_are_reported_and_skipped_unless_strict() {
    let d = temp_dir("bad");
    let rule = d.join("rule.yml");
    std::fs::write(&rule, RULE).unwrap();
    let rule = rule.to_str().unwrap();
    let input = concat!(
        r#"{"ai.prompt.text":"ignore previous instructions"}"#,
        "\n",
        "not json\n",
        r#"{"ai.prompt.text":"ignore previous instructions", }"#,
        "\n",
        "[1,2]\n",
        r#"{"ai.prompt.text":"ignore previous instructions"}"#,
        "\n",
    );
    let o = aisigma(&["scan", "--rules", rule, "-"], Some(input.as_bytes()));
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8(o.stderr).unwrap();
    for n in [2, 3, 4] {
        assert!(
            stderr.contains(&format!("<stdin>:{n}: malformed line skipped")),
            "{stderr}"
        );
    }
    assert!(stderr.contains("3 bad lines"), "{stderr}");
    let lines = matched_lines(&o.stdout);
    assert_eq!(lines, vec![1, 5]);

    // --strict: the first malformed line ends the scan with exit 2, after the matches
    // before it.
    let o = aisigma(
        &["scan", "--strict", "--rules", rule, "-"],
        Some(input.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(o.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
    let o = aisigma(
        &["scan", "--strict", "--rules", rule, "-"],
        Some(b"{\"other\": tru}\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    // Every line is parsed: a malformed line that no rule could match is reported too, and
    // so is invalid UTF-8 in a value no rule reads (found by `fuzz/`, target `scan`).
    let mut input = b"{\"other\": tru}\n{\"other\": \"\xff\xfe\"}\n".to_vec();
    input.extend_from_slice(b"{\"ai.prompt.text\":\"ignore previous instructions\"}\n");
    let o = aisigma(&["scan", "--rules", rule, "-"], Some(&input));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.contains("<stdin>:1: malformed line skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("<stdin>:2: malformed line skipped: invalid UTF-8 at byte 12"),
        "{stderr}"
    );
    assert_eq!(matched_lines(&o.stdout), vec![3]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn output_is_in_input_order_and_deterministic() {
    let d = temp_dir("order");
    let events = d.join("gen.jsonl");
    let g = aisigma(
        &[
            "gen-events",
            "--count",
            "30000",
            "--attack-rate",
            "0.05",
            "-o",
            events.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(g.status.code(), Some(0));
    let run = |threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_aisigma"))
            .args(["scan", "--rules", "rules", events.to_str().unwrap()])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        o.stdout
    };
    let one = run("1");
    assert_eq!(run("2"), one);
    assert_eq!(run("4"), one);
    let lines = matched_lines(&one);
    assert!(lines.len() > 1000, "{}", lines.len());
    assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    let _ = std::fs::remove_dir_all(&d);
}

/// The alerts of correlation `id` in scan's JSON Lines output, as (time, group).
fn alerts_of(stdout: &[u8], id: &str) -> Vec<(i64, std::collections::BTreeMap<String, String>)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["correlation"] == true && v["rule_id"] == id)
        .map(|v| {
            let t = aisigma::syntax::time::parse_timestamp_ms(v["timestamp"].as_str().unwrap())
                .unwrap();
            let g = v["group"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, x)| (k.clone(), x.as_str().unwrap().to_string()))
                .collect();
            (t, g)
        })
        .collect()
}

#[test]
fn scan_raises_the_correlation_alerts_of_the_correlation_tests() {
    // Every test case of every library correlation, as a stream: scan's alerts for the
    // correlation equal the engine's (which `aisigma test` compares with the expectations),
    // with the events in time order, and shuffled within the lateness.
    let (_, results) = checked_library();
    let mut cases = 0;
    let mut alerts = 0;
    let mut r = Rng(7);
    for (fi, res) in results.iter().enumerate() {
        for (di, cd) in res.docs.iter().enumerate() {
            let Some(tests) = &cd.doc.corr_tests else {
                continue;
            };
            let (net, node) = aisigma::engine::correlate::build(&results, (fi, di)).unwrap();
            let id = cd
                .doc
                .meta
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            for case in tests {
                let events: Vec<Value> = case.events.iter().map(|(e, _)| e.clone()).collect();
                let want = aisigma::engine::correlate::rows(&net.run(&events).0, node);
                let mut timed: Vec<(i64, usize)> = events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let t = e["@timestamp"].as_str().unwrap();
                        (aisigma::syntax::time::parse_timestamp_ms(t).unwrap(), i)
                    })
                    .collect();
                timed.sort();
                let lines = |order: &[(i64, usize)]| -> String {
                    order
                        .iter()
                        .map(|&(_, i)| events[i].to_string() + "\n")
                        .collect()
                };
                let o = aisigma(
                    &["scan", "--rules", "rules", "--no-summary", "-"],
                    Some(lines(&timed).as_bytes()),
                );
                assert_eq!(alerts_of(&o.stdout, &id), want, "{}", cd.doc.label());
                // Swap neighbours less than a minute apart (the default lateness): the
                // same alerts.
                let mut shuffled = timed.clone();
                for k in 1..shuffled.len() {
                    if shuffled[k].0 - shuffled[k - 1].0 < 60_000 && r.below(2) == 0 {
                        shuffled.swap(k, k - 1);
                    }
                }
                let o = aisigma(
                    &[
                        "scan",
                        "--rules",
                        "rules",
                        "--no-summary",
                        "--lateness",
                        "2m",
                        "-",
                    ],
                    Some(lines(&shuffled).as_bytes()),
                );
                assert_eq!(
                    alerts_of(&o.stdout, &id),
                    want,
                    "{} (shuffled)",
                    cd.doc.label()
                );
                cases += 1;
                alerts += want.len();
            }
        }
    }
    assert!(
        cases >= 30 && alerts >= 10,
        "{cases} cases, {alerts} alerts"
    );
}

#[test]
fn late_correlation_inputs_are_counted_not_evaluated() {
    // Model extraction: 200 calls by one key within 5 minutes. Sent in time order they fire;
    // with the first 100 sent after the rest, and no lateness allowed, those 100 are late.
    let event = |s: i64| {
        format!(
            "{{\"@timestamp\":\"{}\",\"ai.category\":\"llm_inference\",\"gen_ai.operation.name\":\"chat\",\"ai.credential.id\":\"key-1\"}}\n",
            aisigma::syntax::time::format_ms(1_767_225_600_000 + s * 1000)
        )
    };
    let ordered: String = (0..200).map(event).collect();
    let o = aisigma(&["scan", "--rules", "rules", "-"], Some(ordered.as_bytes()));
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.matches("\"correlation\":true").count(),
        1,
        "{stdout}"
    );
    let late: String = (100..200).chain(0..100).map(event).collect();
    let o = aisigma(
        &["scan", "--rules", "rules", "--lateness", "0s", "-"],
        Some(late.as_bytes()),
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("\"correlation\":true"));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("100 inputs late"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // With enough lateness they are put back in order.
    let o = aisigma(
        &["scan", "--rules", "rules", "--lateness", "5m", "-"],
        Some(late.as_bytes()),
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("\"correlation\":true")
            .count(),
        1
    );
    let o = aisigma(
        &["scan", "--rules", "rules", "--lateness", "soon", "-"],
        Some(b""),
    );
    assert_eq!(o.status.code(), Some(2));
}
