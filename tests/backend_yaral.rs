//! The YARA-L 2.0 backend: each construct's translation, refusals and injection-proof literals.
//! The rule library's Chronicle rules are snapshotted in `backend_snapshots.rs` and checked by
//! yaraast, RE2 and the documented syntax rules in `tests/conformance/yaral_oracle.sh`.

use aisigma::backend::target::Target;
use aisigma::backend::yaral;
use aisigma::report::diagnostic::Code;
use proptest::prelude::*;

mod common;

use common::rule;

fn compile_rule(text: &str) -> Result<String, Vec<Code>> {
    common::compile_rule(Target::Yaral, text)
}

const F: &str = "$e.additional.fields[\"f\"]";

#[test]
fn semantics_of_each_construct() {
    let q = |d: &str| compile_rule(&rule("{product: x}", d)).unwrap();
    let w = |cond: &str| format!("({})", cond.replace("$F", F));
    assert_eq!(
        q("sel:\n  f|cased: abc\ncondition: sel"),
        w(r#"$F = "abc""#)
    );
    assert_eq!(
        q("sel:\n  f: abc\ncondition: sel"),
        w(r#"$F = "abc" nocase"#)
    );
    assert_eq!(
        q("sel:\n  f|contains: [Abc, d]\ncondition: sel"),
        w(
            r#"(strings.contains(strings.to_lower($F), "abc") or strings.contains(strings.to_lower($F), "d"))"#
        )
    );
    assert_eq!(
        q("sel:\n  f|startswith: 'A.b'\ncondition: sel"),
        w(r#"strings.starts_with(strings.to_lower($F), "a.b")"#)
    );
    assert_eq!(
        q("sel:\n  f|endswith: 'a.b'\ncondition: sel"),
        w(r"$F = /a\.b$/ nocase")
    );
    assert_eq!(
        q("sel:\n  f|contains|cased: a/b\ncondition: sel"),
        w(r#"strings.contains($F, "a/b")"#)
    );
    assert_eq!(
        q("sel:\n  f|cased: 'a?'\ncondition: sel"),
        w(r"$F = /^a(?s:.)$/")
    );
    assert_eq!(q("sel:\n  f: null\ncondition: sel"), w(r#"$F = """#));
    assert_eq!(
        q("sel:\n  f|exists: true\ncondition: sel"),
        w(r#"$F != """#)
    );
    // The casts read anything that is not a number as 0: a comparison that 0 fails needs no
    // check, one that 0 passes checks the value is a number (exponents included) first.
    assert_eq!(
        q("sel:\n  f|gt: 5\ncondition: sel"),
        w(r"cast.as_float($F) > 5")
    );
    assert_eq!(
        q("sel:\n  f|lt: 5\ncondition: sel"),
        w(
            r"($F = /^\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$/ and cast.as_float($F) < 5)"
        )
    );
    assert_eq!(
        q("sel:\n  source.ip|cidr: '10.0.0.0/8'\ncondition: sel"),
        w(
            r#"(net.ip_in_range_cidr($e.principal.ip, "10.0.0.0/8") or net.ip_in_range_cidr($e.principal.ip, "::ffff:10.0.0.0/104"))"#
        )
    );
    assert_eq!(
        q("a:\n  f|cased: x\nb:\n  g|cased: y\nc:\n  h|cased: z\ncondition: a and not (b or c)"),
        w(
            r#"$F = "x" and not ($e.additional.fields["g"] = "y" or $e.additional.fields["h"] = "z")"#
        )
    );
}

#[test]
fn category_selector_and_typed_fields() {
    let q = compile_rule(&rule(
        "{product: ai, category: llm_inference}",
        "sel:\n  gen_ai.usage.input_tokens|gte: 100\ncondition: sel",
    ))
    .unwrap();
    assert!(q.starts_with("$e.metadata.product_event_type = \"llm_inference\" and ("));
    assert!(q.contains("cast.as_int($e.additional.fields[\"gen_ai.usage.input_tokens\"]) >= 100"));
}

#[test]
fn refusals_name_the_construct() {
    let e = |d: &str| compile_rule(&rule("{product: x}", d)).unwrap_err();
    assert_eq!(
        e("kw:\n  - abc\ncondition: kw"),
        vec![Code::UnsupportedConstruct]
    );
    assert_eq!(
        e("sel:\n  f|lt: -1\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
    let arrays = compile_rule(&rule(
        "{product: ai, category: llm_inference}",
        "sel:\n  user.roles|re: 'a^b'\ncondition: sel",
    ));
    assert_eq!(arrays.unwrap_err(), vec![Code::UnsupportedConstruct]);
}

#[test]
fn list_fields_search_the_joined_values() {
    let q = |d: &str| {
        compile_rule(&rule("{product: ai, category: llm_inference}", d))
            .unwrap()
            .split_once(" and (")
            .unwrap()
            .1
            .trim_end_matches(')')
            .to_string()
    };
    let f = "$e.additional.fields[\"user.roles\"]";
    assert_eq!(
        q("sel:\n  user.roles|cased: admin\ncondition: sel"),
        format!(r"{f} = /(?:^|\x{{1F}})admin(?:$|\x{{1F}})/")
    );
    // `*` stays inside one value.
    assert_eq!(
        q("sel:\n  user.roles|cased|contains: 'a*b'\ncondition: sel"),
        format!(r"{f} = /a[^\x{{1F}}]*b/")
    );
    // A pattern that matches "" is guarded: an empty list reads as "".
    assert_eq!(
        q("sel:\n  user.roles|cased: ''\ncondition: sel"),
        format!(r#"({f} != "" and {f} = /(?:^|\x{{1F}})(?:$|\x{{1F}})/"#)
    );
}

/// The literals of a compiled events expression: `"..."` strings (unescaped) and `/.../`
/// regexes (as written), or `None` if a literal is malformed or unterminated.
fn literals(q: &str) -> Option<Vec<String>> {
    let cs: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match *cs.get(i)? {
                        '\\' => {
                            s.push(match *cs.get(i + 1)? {
                                'n' => '\n',
                                't' => '\t',
                                c @ ('\\' | '"') => c,
                                _ => return None,
                            });
                            i += 2;
                        }
                        '"' => break,
                        c if c.is_control() => return None,
                        c => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(s);
            }
            '/' => {
                let start = i;
                i += 1;
                loop {
                    match *cs.get(i)? {
                        '\\' => i += 2,
                        '/' => break,
                        c if c.is_control() => return None,
                        _ => i += 1,
                    }
                }
                out.push(cs[start..=i].iter().collect());
            }
            _ => {}
        }
        i += 1;
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A hostile value stays inside its string or regex literal: the expression still has
    /// exactly the literals it should, and a cased plain value reads back unchanged.
    #[test]
    fn values_cannot_escape_their_literals(s in "\\PC{1,30}|[\"\\\\/\n\t() a-z]{1,30}") {
        let yaml_value = serde_json::to_string(&s).unwrap();
        let cased = compile_rule(&rule("{product: x}", &format!("sel:\n  f|cased: {yaml_value}\ncondition: sel")));
        let ci = compile_rule(&rule("{product: x}", &format!("sel:\n  f|contains: {yaml_value}\ncondition: sel")));
        for (q, plain) in [(cased, true), (ci, false)] {
            let Ok(q) = q else { continue };
            let lits = literals(&q).unwrap_or_else(|| panic!("malformed literal in {q}"));
            // The map key, then the value.
            prop_assert_eq!(lits.len(), 2, "{}", q);
            prop_assert_eq!(&lits[0], "f");
            // Control characters and the line separators U+2028/U+2029 are written as regex
            // escapes (`yaral.rs`), so only other values read back as plain strings.
            let unescaped = !s.contains(['*', '?', '\\', '\u{2028}', '\u{2029}'])
                && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
            if plain && unescaped {
                prop_assert_eq!(&lits[1], &s);
            }
        }
    }
}

#[test]
fn strings_without_an_escape_are_refused() {
    assert_eq!(yaral::string("a\u{7}"), None);
    assert_eq!(yaral::string("tab\there").unwrap(), "\"tab\\there\"");
}
