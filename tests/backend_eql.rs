//! The EQL backend: each construct's translation, refusals, and injection-proof strings. The
//! rule library's EQL queries and Kibana rules are snapshotted in `backend_snapshots.rs`.

use aisigma::backend::compile::compile;
use aisigma::backend::eql;
use aisigma::backend::target::Target;
use aisigma::report::diagnostic::Code;
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use proptest::prelude::*;

mod common;

fn rule(detection: &str) -> String {
    common::rule("{product: x}", detection)
}

fn compile_rule(text: &str) -> Result<String, Vec<Code>> {
    common::compile_rule(Target::Eql, text)
}

#[test]
fn semantics_of_each_construct() {
    let q = |d: &str| compile_rule(&rule(d)).unwrap();
    assert_eq!(
        q("sel:\n  f: abc\ncondition: sel"),
        r#"any where f : "abc""#
    );
    assert_eq!(
        q("sel:\n  f|cased: abc\ncondition: sel"),
        r#"any where f == "abc""#
    );
    assert_eq!(
        q("sel:\n  f|contains: a?c\ncondition: sel"),
        r#"any where f : "*a?c*""#
    );
    assert_eq!(
        q("sel:\n  f|startswith|cased: Ab\ncondition: sel"),
        r#"any where f like "Ab*""#
    );
    assert_eq!(q("sel:\n  f: 5\ncondition: sel"), "any where f == 5");
    assert_eq!(
        q("sel:\n  f|gte: 2.5\ncondition: sel"),
        "any where f >= 2.5"
    );
    assert_eq!(q("sel:\n  f: null\ncondition: sel"), "any where ?f == null");
    assert_eq!(
        q("sel:\n  f|exists: true\ncondition: sel"),
        "any where ?f != null"
    );
    assert_eq!(
        q("sel:\n  ip|cidr: 10.1.2.3/8\ncondition: sel"),
        r#"any where cidrMatch(ip, "10.0.0.0/8")"#
    );
    // Under `not`, predicates are guarded so that an absent field makes `not` true.
    assert_eq!(
        q("sel:\n  f: a\nflt:\n  g: b\ncondition: sel and not flt"),
        r#"any where f : "a" and not ((?g != null and g : "b"))"#
    );
    // Double negation is not guarded (the field must be present for the inner test).
    assert_eq!(
        q("sel:\n  g: b\ncondition: not (not sel)"),
        r#"any where not (not (g : "b"))"#
    );
    // Structure is always parenthesised: no precedence mistakes.
    assert_eq!(
        q("a:\n  f: 1\nb:\n  g: 1\nc:\n  h: 1\ncondition: (a or b) and c"),
        "any where (f == 1 or g == 1) and h == 1"
    );
    assert_eq!(
        q("s1:\n  f: 1\ns2:\n  g: 1\ns3:\n  h: 1\ncondition: 2 of s*"),
        "any where (f == 1 and g == 1) or (f == 1 and h == 1) or (g == 1 and h == 1)"
    );
    assert_eq!(
        q("sel:\n  '@timestamp|exists': true\ncondition: sel"),
        "any where ?`@timestamp` != null"
    );
}

#[test]
fn refusals_name_the_construct() {
    let refused = |d: &str| compile_rule(&rule(d)).unwrap_err();
    assert_eq!(
        refused("sel:\n  f|re: 'a\\bb'\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
    // Regexes are Lucene regexes, rewritten as whole-value matches.
    assert_eq!(
        compile_rule(&rule("sel:\n  f|re: '^a+\\d'\ncondition: sel")).unwrap(),
        r#"any where f regex "a+[0-9].*""#
    );
    assert_eq!(
        refused("sel:\n  f|fieldref: g\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
    assert_eq!(
        refused("kw:\n  - evil\ncondition: kw"),
        vec![Code::UnsupportedConstruct]
    );
    // A literal `*` has no escape in `:` and `like`: the value becomes a regex, written
    // case-insensitively (`regex~`).
    assert_eq!(
        compile_rule(&rule("sel:\n  f|contains: 'a\\*b'\ncondition: sel")).unwrap(),
        r#"any where f regex~ ".*a\\*b.*""#
    );
    // A backslash is literal in `like` patterns (Elasticsearch escapes it for Lucene).
    assert_eq!(
        compile_rule(&rule("sel:\n  f|endswith: '\\cmd.exe'\ncondition: sel")).unwrap(),
        r#"any where f : "*\\cmd.exe""#
    );
    assert_eq!(
        refused("sel:\n  f|hour: 3\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
    // Every refusal is reported, not only the first.
    assert_eq!(
        refused("a:\n  f|re: x\\b-\nb:\n  g|fieldref: h\ncondition: a or b").len(),
        2
    );
    // A plain value with a literal `*` is a regex too (`:` would read it as a wildcard).
    assert_eq!(
        compile_rule(&rule("sel:\n  f: 'a\\*b\\c'\ncondition: sel")).unwrap(),
        r#"any where f regex~ "a\\*b[\\\\]c""#
    );
    // Field names spelled like EQL keywords are quoted, never read as literals.
    assert_eq!(
        compile_rule(&rule("sel:\n  null: x\n  where.in: y\ncondition: sel")).unwrap(),
        r#"any where `null` : "x" and `where.in` : "y""#
    );
    // U+0000 and U+0001 have no place in an EQL string (the parser rejects them).
    assert_eq!(
        refused("sel:\n  f: \"a\\u0001\"\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
}

#[test]
fn unmapped_fields_name_the_mapping_file() {
    let r = check_str(
        "r.yml",
        &rule("sel:\n  f: a\ncondition: sel"),
        &Schema::builtin(),
    );
    let cd = &r.docs[0];
    let strict = aisigma::backend::mapping::Mapping::parse(
        "my-mapping.yml",
        "target: eql\nidentity: false\nfields: {g: h}\n",
    )
    .unwrap();
    let err = compile(
        &cd.doc,
        cd.expr.as_ref().unwrap(),
        Target::Eql,
        &strict,
        &Schema::builtin(),
    )
    .unwrap_err();
    assert_eq!(err[0].code, Code::UnmappedField);
    assert!(err[0].help.as_deref().unwrap().contains("my-mapping.yml"));
    let renamed =
        aisigma::backend::mapping::Mapping::parse("m.yml", "target: eql\nfields: {f: event.f}\n")
            .unwrap();
    assert_eq!(
        compile(
            &cd.doc,
            cd.expr.as_ref().unwrap(),
            Target::Eql,
            &renamed,
            &Schema::builtin()
        )
        .unwrap()
        .query,
        r#"any where event.f : "a""#
    );
}

/// Undo EQL string escaping (the documented escapes only); `None` if the literal is malformed
/// or ends before its closing quote.
fn unescape(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        match c {
            '"' => return None, // an unescaped quote would end the literal early
            '\\' => match it.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'u' => {
                    if it.next()? != '{' {
                        return None;
                    }
                    let hex: String = it.by_ref().take_while(|c| *c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

proptest! {
    /// Any value, however hostile, stays inside its string literal and round-trips.
    #[test]
    fn string_literals_cannot_be_escaped_from(s in "\\PC*|[\"\\\\\n\r\t\u{0}-\u{1f}\u{7f}\u{2028}a-z ]{0,40}") {
        let lit = eql::string(&s);
        prop_assert_eq!(unescape(&lit), Some(s.clone()));
        prop_assert!(!lit.contains('\n') && !lit.contains('\r'));
    }
}
