//! The engine's reference semantics (docs/semantics.md), one behaviour per assertion.

use aisigma::engine::matcher::Matcher;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use serde_json::{Value, json};

/// Compile a detection (YAML under `detection:`) for a generic (schema-less) logsource.
fn rule(detection: &str) -> Matcher {
    rule_with("product: generic", detection)
}

fn rule_with(logsource: &str, detection: &str) -> Matcher {
    let indented: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    let text = format!(
        "title: t\nid: 5f0b6c1e-2f0a-4c9e-9a57-0d6f3c1e2a11\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {{{logsource}}}\ndetection:\n{indented}"
    );
    let r = check_str("t.yml", &text, &Schema::builtin());
    let errors: Vec<_> = r
        .diags
        .iter()
        .filter(|d| d.severity == aisigma::report::diagnostic::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "rule has errors: {errors:#?}\n{text}");
    Matcher::new(r.docs[0].expr.as_ref().expect("lowered")).expect("compiles")
}

fn m(matcher: &Matcher, ev: Value) -> bool {
    matcher.matches(&ev)
}

#[test]
fn plain_values_are_whole_value_case_insensitive() {
    let r = rule("sel:\n  f: Hello World\ncondition: sel");
    assert!(m(&r, json!({"f": "hello world"})));
    assert!(m(&r, json!({"f": "HELLO WORLD"})));
    assert!(!m(&r, json!({"f": "hello world!"})));
    assert!(!m(&r, json!({"g": "hello world"})));
    let c = rule("sel:\n  f|cased: Hello\ncondition: sel");
    assert!(m(&c, json!({"f": "Hello"})));
    assert!(!m(&c, json!({"f": "hello"})));
}

#[test]
fn wildcards_and_escapes() {
    let r = rule("sel:\n  f: 'a?c*'\ncondition: sel");
    assert!(m(&r, json!({"f": "abc"})));
    assert!(m(&r, json!({"f": "aXcdef"})));
    assert!(
        m(&r, json!({"f": "a\u{e9}c"})),
        "? is one Unicode scalar, not one byte"
    );
    assert!(!m(&r, json!({"f": "ac"})), "? needs exactly one character");
    assert!(!m(&r, json!({"f": "abbc"})));
    let star = rule("sel:\n  f: 'x*y'\ncondition: sel");
    assert!(m(&star, json!({"f": "xy"})));
    assert!(m(&star, json!({"f": "x\nline\ny"})), "* spans newlines");
    let lit = rule("sel:\n  f: 'a\\*b\\?'\ncondition: sel");
    assert!(m(&lit, json!({"f": "a*b?"})));
    assert!(!m(&lit, json!({"f": "aXb?"})), "escaped * is literal");
    assert!(!m(&lit, json!({"f": "a*bX"})), "escaped ? is literal");
    let bs = rule("sel:\n  f: 'C:\\Windows\\cmd.exe'\ncondition: sel");
    assert!(
        m(&bs, json!({"f": "c:\\windows\\CMD.EXE"})),
        "a lone backslash is literal"
    );
    let bs_star = rule("sel:\n  f: 'dir\\\\*'\ncondition: sel");
    assert!(
        m(&bs_star, json!({"f": "dir\\anything"})),
        "\\\\* is a backslash then a wildcard"
    );
    assert!(!m(&bs_star, json!({"f": "dirx"})));
    let regex_chars = rule("sel:\n  f: 'a.b(c)[d]+$'\ncondition: sel");
    assert!(m(&regex_chars, json!({"f": "a.b(c)[d]+$"})));
    assert!(
        !m(&regex_chars, json!({"f": "aXb(c)[d]+$"})),
        "regex metacharacters are literal"
    );
}

#[test]
fn position_modifiers() {
    let c = rule("sel:\n  f|contains: 'mid'\ncondition: sel");
    assert!(m(&c, json!({"f": "aMIDb"})));
    assert!(!m(&c, json!({"f": "mi d"})));
    let s = rule("sel:\n  f|startswith: 'pre'\ncondition: sel");
    assert!(m(&s, json!({"f": "prefix"})));
    assert!(!m(&s, json!({"f": "xprefix"})));
    let e = rule("sel:\n  f|endswith: '.exe'\ncondition: sel");
    assert!(m(&e, json!({"f": "a.EXE"})));
    assert!(!m(&e, json!({"f": "a.exe.txt"})));
    let cw = rule("sel:\n  f|contains: 'a?c'\ncondition: sel");
    assert!(
        m(&cw, json!({"f": "xxabcxx"})),
        "wildcards keep working inside contains"
    );
}

#[test]
fn lists_maps_and_all() {
    let or = rule("sel:\n  f: [a, b]\ncondition: sel");
    assert!(m(&or, json!({"f": "b"})));
    assert!(!m(&or, json!({"f": "c"})));
    let and = rule("sel:\n  f|contains|all: [a, b]\ncondition: sel");
    assert!(m(&and, json!({"f": "xaxbx"})));
    assert!(!m(&and, json!({"f": "xax"})));
    let map = rule("sel:\n  f: a\n  g: b\ncondition: sel");
    assert!(m(&map, json!({"f": "a", "g": "b"})));
    assert!(!m(&map, json!({"f": "a", "g": "c"})));
    let list_of_maps = rule("sel:\n  - f: a\n  - g: b\ncondition: sel");
    assert!(m(&list_of_maps, json!({"g": "b"})));
    assert!(!m(&list_of_maps, json!({"f": "b", "g": "a"})));
}

#[test]
fn keywords_search_every_value() {
    let k = rule("kw:\n  - 'event::clear'\n  - evil\ncondition: kw");
    assert!(m(&k, json!({"msg": "ran EVENT::CLEAR now"})));
    assert!(m(&k, json!({"nested": {"deep": ["x", "an evil thing"]}})));
    assert!(!m(&k, json!({"evil": "key names are not searched"})));
    let all = rule("kw:\n  '|all': [alpha, beta]\ncondition: kw");
    assert!(m(&all, json!({"a": "alpha", "b": "beta"})));
    assert!(!m(&all, json!({"a": "alpha"})));
    let num = rule("kw:\n  - 4625\ncondition: kw");
    assert!(
        m(&num, json!({"EventID": 4625})),
        "numbers are searched in their textual form"
    );
}

#[test]
fn regexes_are_unanchored_and_case_sensitive() {
    let r = rule("sel:\n  f|re: 'ab+c'\ncondition: sel");
    assert!(m(&r, json!({"f": "xxabbbcxx"})));
    assert!(!m(&r, json!({"f": "ABC"})));
    let i = rule("sel:\n  f|re|i: 'ab+c'\ncondition: sel");
    assert!(m(&i, json!({"f": "xABBC"})));
    let anchored = rule("sel:\n  f|re: '^ab$'\ncondition: sel");
    assert!(!m(&anchored, json!({"f": "xab"})));
    let dot = rule("sel:\n  f|re: 'a.b'\ncondition: sel");
    assert!(!m(&dot, json!({"f": "a\nb"})));
    let dots = rule("sel:\n  f|re|s: 'a.b'\ncondition: sel");
    assert!(m(&dots, json!({"f": "a\nb"})));
    let ml = rule("sel:\n  f|re|m: '^b$'\ncondition: sel");
    assert!(m(&ml, json!({"f": "a\nb\nc"})));
    let nonml = rule("sel:\n  f|re: '^b$'\ncondition: sel");
    assert!(!m(&nonml, json!({"f": "a\nb\nc"})));
}

#[test]
fn cidr_ipv4_and_ipv6() {
    let r = rule("sel:\n  ip|cidr: ['10.0.0.0/8', 'fe80::/10', '192.168.1.7']\ncondition: sel");
    assert!(m(&r, json!({"ip": "10.200.3.4"})));
    assert!(m(&r, json!({"ip": "FE80::1"})));
    assert!(m(&r, json!({"ip": "192.168.1.7"})));
    assert!(!m(&r, json!({"ip": "192.168.1.8"})));
    assert!(!m(&r, json!({"ip": "11.0.0.1"})));
    assert!(!m(&r, json!({"ip": "fec0::1"})));
    assert!(!m(&r, json!({"ip": "not an ip"})));
    // An IPv4-mapped IPv6 address is the IPv4 address (Elasticsearch stores IPv4 so), and an
    // IPv6 range that covers the mapped space holds IPv4 addresses.
    assert!(m(&r, json!({"ip": "::ffff:10.0.0.1"})));
    assert!(!m(&r, json!({"ip": "::ffff:11.0.0.1"})));
    let all6 = rule("sel:\n  ip|cidr: '::/0'\ncondition: sel");
    assert!(m(&all6, json!({"ip": "10.0.0.1"})));
    let mapped = rule("sel:\n  ip|cidr: '::ffff:10.0.0.0/104'\ncondition: sel");
    assert!(m(&mapped, json!({"ip": "10.1.2.3"})));
    let all4 = rule("sel:\n  ip|cidr: '0.0.0.0/0'\ncondition: sel");
    assert!(!m(&all4, json!({"ip": "fe80::1"})));
    assert!(m(&all4, json!({"ip": "::ffff:1.2.3.4"})));
}

#[test]
fn addresses_on_ip_fields_compare_as_addresses() {
    let r = rule_with(
        "product: ai, category: llm_inference",
        "sel:\n  source.ip: 10.0.0.1\ncondition: sel",
    );
    assert!(m(&r, json!({"source.ip": "10.0.0.1"})));
    assert!(m(&r, json!({"source.ip": "::ffff:10.0.0.1"})));
    assert!(!m(&r, json!({"source.ip": "10.0.0.10"})));
}

#[test]
fn case_contract_folds_ascii_letters_only() {
    let r = rule("sel:\n  f|contains: Kiss\ncondition: sel");
    assert!(m(&r, json!({"f": "a KISS b"})));
    // The listed code points (Kelvin sign, long s) and other letters outside ASCII compare
    // exactly.
    assert!(!m(&r, json!({"f": "\u{212A}iss"})));
    assert!(!m(&r, json!({"f": "Ki\u{17F}s"})));
    let e = rule("sel:\n  f: \u{e9}t\u{e9}\ncondition: sel");
    assert!(m(&e, json!({"f": "\u{e9}T\u{e9}"})));
    assert!(!m(&e, json!({"f": "\u{c9}T\u{c9}"})));
    // `re|i` folds ASCII letters only too.
    let re = rule("sel:\n  f|re|i: 'kiss'\ncondition: sel");
    assert!(m(&re, json!({"f": "KISS"})));
    assert!(!m(&re, json!({"f": "\u{212A}iss"})));
    // `--unicode-exact`: Unicode simple case folding.
    let text = "title: t\nid: 5f0b6c1e-2f0a-4c9e-9a57-0d6f3c1e2a11\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {product: generic}\ndetection:\n    sel:\n        f|contains: Kiss\n    condition: sel\n";
    let checked = check_str("t.yml", text, &Schema::builtin());
    let unicode = Matcher::with_mode(
        checked.docs[0].expr.as_ref().unwrap(),
        aisigma::regex::casefold::CaseMode::Unicode,
    )
    .unwrap();
    assert!(m(&unicode, json!({"f": "\u{212A}i\u{17F}s"})));
}

#[test]
fn numbers_and_comparisons() {
    let eq = rule("sel:\n  n: 4624\ncondition: sel");
    assert!(m(&eq, json!({"n": 4624})));
    assert!(m(&eq, json!({"n": "4624"})));
    assert!(m(&eq, json!({"n": 4624.0})));
    assert!(!m(&eq, json!({"n": 4625})));
    let gt = rule("sel:\n  n|gt: 10\ncondition: sel");
    assert!(m(&gt, json!({"n": 11})));
    assert!(m(&gt, json!({"n": "10.5"})));
    assert!(!m(&gt, json!({"n": 10})));
    assert!(!m(&gt, json!({"n": "abc"})));
    let lte = rule("sel:\n  n|lte: 2.5\ncondition: sel");
    assert!(m(&lte, json!({"n": 2.5})));
    assert!(!m(&lte, json!({"n": 2.51})));
    let b = rule("sel:\n  flag: true\ncondition: sel");
    assert!(m(&b, json!({"flag": true})));
    assert!(m(&b, json!({"flag": "True"})));
    assert!(!m(&b, json!({"flag": false})));
}

#[test]
fn null_exists_and_empty() {
    let null = rule("sel:\n  f: null\ncondition: sel");
    assert!(m(&null, json!({})));
    assert!(m(&null, json!({"f": null})));
    assert!(!m(&null, json!({"f": ""})));
    assert!(!m(&null, json!({"f": "x"})));
    let ex = rule("sel:\n  f|exists: true\ncondition: sel");
    assert!(m(&ex, json!({"f": ""})));
    assert!(!m(&ex, json!({"f": null})));
    assert!(!m(&ex, json!({})));
    let nex = rule("sel:\n  f|exists: false\ncondition: sel");
    assert!(m(&nex, json!({})));
    assert!(!m(&nex, json!({"f": 0})));
    let empty = rule("sel:\n  f: ''\ncondition: sel");
    assert!(m(&empty, json!({"f": ""})));
    assert!(!m(&empty, json!({})));
    assert!(!m(&empty, json!({"f": null})));
    // An empty array, an array of nulls and an empty object are not there (as for
    // Elasticsearch's `exists`).
    for absent in [json!([]), json!([null]), json!([[], null]), json!({})] {
        assert!(m(&null, json!({ "f": absent.clone() })), "{absent}");
        assert!(!m(&ex, json!({ "f": absent.clone() })), "{absent}");
    }
    assert!(m(&ex, json!({"f": [null, "x"]})));
    assert!(m(&ex, json!({"f": {"g": 1}})));
}

#[test]
fn arrays_and_field_paths() {
    let r = rule("sel:\n  tags: admin\ncondition: sel");
    assert!(m(&r, json!({"tags": ["user", "ADMIN"]})));
    assert!(m(&r, json!({"tags": [["nested", "admin"]]})));
    assert!(!m(&r, json!({"tags": []})));
    let path = rule("sel:\n  gen_ai.request.model: gpt-4o\ncondition: sel");
    assert!(m(&path, json!({"gen_ai.request.model": "gpt-4o"})));
    assert!(m(
        &path,
        json!({"gen_ai": {"request": {"model": "gpt-4o"}}})
    ));
    assert!(m(&path, json!({"gen_ai": {"request.model": "gpt-4o"}})));
    assert!(!m(&path, json!({"gen_ai": {"request": "gpt-4o"}})));
    let objs = rule("sel:\n  calls.name: shell\ncondition: sel");
    assert!(m(
        &objs,
        json!({"calls": [{"name": "read"}, {"name": "shell"}]})
    ));
}

#[test]
fn neq_and_fieldref() {
    let r = rule("sel:\n  user|neq: [root, admin]\ncondition: sel");
    assert!(m(&r, json!({"user": "bob"})));
    assert!(!m(&r, json!({"user": "ROOT"})));
    assert!(
        m(&r, json!({})),
        "neq is `not (field in values)`, so an absent field matches"
    );
    let fr = rule("sel:\n  src_user|fieldref: dst_user\ncondition: sel");
    assert!(m(&fr, json!({"src_user": "Alice", "dst_user": "alice"})));
    assert!(!m(&fr, json!({"src_user": "alice", "dst_user": "bob"})));
    assert!(!m(&fr, json!({"src_user": "alice"})));
    let frc = rule("sel:\n  a|fieldref|contains: b\ncondition: sel");
    assert!(m(&frc, json!({"a": "xxhelloxx", "b": "hello"})));
    let frn = rule("sel:\n  a|fieldref|neq: b\ncondition: sel");
    assert!(m(&frn, json!({"a": "x", "b": "y"})));
    assert!(!m(&frn, json!({"a": "x", "b": "x"})));
}

#[test]
fn encodings() {
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let r = rule("sel:\n  cmd|base64offset|contains: 'http://'\ncondition: sel");
    for prefix in ["", "a", "ab", "abc"] {
        let encoded = b64(format!("{prefix}http://evil").as_bytes());
        assert!(
            m(&r, json!({"cmd": format!("powershell -enc {encoded}")})),
            "offset {}",
            prefix.len()
        );
    }
    assert!(!m(&r, json!({"cmd": b64(b"https://evil")})));
    let w = rule("sel:\n  cmd|wide|base64offset|contains: 'ping'\ncondition: sel");
    let utf16: Vec<u8> = "x ping y"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(m(&w, json!({"cmd": b64(&utf16)})));
    let plain = rule("sel:\n  cmd|base64: 'abc'\ncondition: sel");
    assert!(m(&plain, json!({"cmd": "YWJj"})));
    assert!(
        !m(&plain, json!({"cmd": "ywjj"})),
        "base64 text is matched case-sensitively"
    );
    let wd = rule("sel:\n  cmd|windash|contains: ' -enc '\ncondition: sel");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            m(&wd, json!({"cmd": format!("powershell {dash}enc ZQ==")})),
            "dash {dash}"
        );
    }
    assert!(!m(&wd, json!({"cmd": "powershell +enc ZQ=="})));
}

#[test]
fn conditions_and_precedence() {
    let det = "a:\n  f: 1\nb:\n  g: 1\nc:\n  h: 1\ncondition: a or b and not c";
    let r = rule(det);
    assert!(m(&r, json!({"f": 1, "h": 1})), "a or (b and not c)");
    assert!(m(&r, json!({"g": 1})));
    assert!(!m(&r, json!({"g": 1, "h": 1})));
    let p = rule("a:\n  f: 1\nb:\n  g: 1\nc:\n  h: 1\ncondition: (a or b) and not c");
    assert!(!m(&p, json!({"f": 1, "h": 1})));
    let q = rule("sel_a:\n  f: 1\nsel_b:\n  g: 1\nsel_c:\n  h: 1\ncondition: 2 of sel_*");
    assert!(m(&q, json!({"f": 1, "h": 1})));
    assert!(!m(&q, json!({"f": 1})));
    let all = rule("sel_a:\n  f: 1\nsel_b:\n  g: 1\ncondition: all of sel_*");
    assert!(!m(&all, json!({"f": 1})));
    assert!(m(&all, json!({"f": 1, "g": 1})));
    let them = rule("a:\n  f: 1\n_b:\n  g: 1\ncondition: all of them and not _b");
    assert!(
        m(&them, json!({"f": 1})),
        "`them` skips _-prefixed identifiers"
    );
    let multi = rule("a:\n  f: 1\nb:\n  g: 1\ncondition:\n  - a\n  - b");
    assert!(m(&multi, json!({"g": 1})), "a list of conditions is ORed");
}

#[test]
fn time_parts_are_utc() {
    let r = rule("sel:\n  ts|hour: 3\ncondition: sel");
    assert!(m(&r, json!({"ts": "2026-01-01T03:15:00Z"})));
    assert!(m(&r, json!({"ts": "2026-01-01T05:15:00+02:00"})));
    assert!(!m(&r, json!({"ts": "2026-01-01T04:00:00Z"})));
    assert!(!m(&r, json!({"ts": "garbage"})));
}

#[test]
fn schema_types_decide_how_values_are_read() {
    let ls = "product: ai, category: llm_inference";
    let r = rule_with(
        ls,
        "sel:\n  gen_ai.usage.input_tokens: '500'\ncondition: sel",
    );
    assert!(m(&r, json!({"gen_ai.usage.input_tokens": 500})));
    let s = rule_with(ls, "sel:\n  gen_ai.request.model: 4\ncondition: sel");
    assert!(m(&s, json!({"gen_ai.request.model": "4"})));
    let b = rule_with(ls, "sel:\n  gen_ai.request.stream: 'true'\ncondition: sel");
    assert!(m(&b, json!({"gen_ai.request.stream": true})));
}
