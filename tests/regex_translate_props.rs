//! The regex translation against the engine: random patterns and strings, evaluated by the
//! engine's regex and by each translated flavor. The Lucene flavor is read back by a small
//! interpreter of the Lucene syntax the translator emits (the real Lucene runs in CI, see
//! tests/conformance/lucene_oracle.sh); the RE2/PCRE flavors use the `regex` crate with `\b`
//! made ASCII, as in RE2 and PCRE.

use aisigma::backend::lucene::{MAX_REGEX_LENGTH, elastic_regexes};
use aisigma::regex::translate::{Flavor, engine_source, exclude_char, list_search, translate};
use proptest::prelude::*;

fn hex(c: char) -> String {
    format!("\\x{{{:X}}}", c as u32)
}

/// Lucene RegExp (as emitted) -> an anchored Rust regex.
fn lucene_to_rust(p: &str) -> String {
    let mut out = String::from("^(?:");
    let mut cs = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = cs.next() {
        match c {
            '\\' => {
                let x = cs.next().expect("dangling escape");
                // Lucene's predefined white space: tab, line feed, carriage return, space.
                if x == 's' {
                    out.push_str(if in_class { r"\t\n\r " } else { r"[\t\n\r ]" });
                } else if x == 'S' {
                    assert!(!in_class, "\\S is only written alone");
                    out.push_str(r"[^\t\n\r ]");
                } else if x.is_ascii_punctuation() {
                    out.push('\\');
                    out.push(x);
                } else {
                    out.push_str(&hex(x));
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if cs.peek() == Some(&'^') {
                    out.push(cs.next().unwrap());
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '-' if in_class => out.push('-'),
            '.' if !in_class => out.push_str("(?s:.)"),
            '(' | ')' | '|' | '*' | '+' | '?' | '{' | '}' | ',' if !in_class => out.push(c),
            c if c.is_alphanumeric() || c == '_' => out.push(c),
            c => out.push_str(&hex(c)),
        }
    }
    out.push_str(")$");
    out
}

fn search_to_rust(p: &str) -> String {
    p.replace("\\b", "(?-u:\\b)")
        .replace("\\B", "(?-u:\\B)")
        // PCRE's written-out multi-line anchors (Rust has no look-around).
        .replace("(?:\\A|(?<=\\n))", "(?m:^)")
        .replace("(?=\\n|\\z)", "(?m:$)")
}

const ATOMS: &[&str] = &[
    "a", "b", "k", "K", "ſ", " ", "-", "é", r"\d", r"\w", r"\s", r"\b", r"\B", "^", "$", ".",
    "[a-c]", "[^a]", "(a|-)", "x?", "(ab)*", "a+", "[kſ_]", "(^|-)", "(-|$)",
];
const CHARS: &[&str] = &[
    "a", "b", "A", "B", "k", "K", "\u{212A}", "s", "S", "ſ", " ", "-", "\n", "é", "É", "1", "_",
    "x", "c",
];

fn pattern() -> impl Strategy<Value = (String, String)> {
    let seq = prop::collection::vec(prop::sample::select(ATOMS), 1..5).prop_map(|v| v.concat());
    (
        prop::collection::vec(seq, 1..3).prop_map(|v| v.join("|")),
        prop::sample::select(&["", "i", "s", "m", "is", "im"][..]),
    )
        .prop_map(|(p, f)| (p, f.to_string()))
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(CHARS), 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn flavors_agree_with_the_engine(
        (p, flags) in pattern(),
        inputs in prop::collection::vec(text(), 8),
    ) {
        let source = engine_source(&p, &flags);
        let engine = regex::Regex::new(&source).unwrap();
        let lucene = translate(&source, Flavor::Lucene)
            .ok()
            .map(|l| regex::Regex::new(&lucene_to_rust(&l)).unwrap());
        let re2 = regex::Regex::new(&search_to_rust(&translate(&source, Flavor::Re2).unwrap())).unwrap();
        let pcre = regex::Regex::new(&search_to_rust(&translate(&source, Flavor::Pcre).unwrap())).unwrap();
        // Kusto's `matches regex` (RE2 syntax, run by the Rust regex crate): its flavor runs as
        // written, and must also parse as RE2 (checked with google-re2 in the KQL oracle). A
        // word boundary it cannot write without an assertion is refused.
        let rust = translate(&source, Flavor::Rust)
            .ok()
            .map(|r| regex::Regex::new(&r).unwrap());
        if let Some(r) = &rust {
            prop_assert!(!r.as_str().contains("(?-u"), "{}", r.as_str());
        }
        for s in &inputs {
            let want = engine.is_match(s);
            if let Some(rust) = &rust {
                prop_assert_eq!(rust.is_match(s), want, "rust {:?} on {:?}", rust.as_str(), s);
            }
            prop_assert_eq!(re2.is_match(s), want, "re2 {:?} on {:?}", re2.as_str(), s);
            prop_assert_eq!(pcre.is_match(s), want, "pcre {:?} on {:?}", pcre.as_str(), s);
            if let Some(l) = &lucene {
                prop_assert_eq!(l.is_match(s), want, "lucene {:?} on {:?}", l.as_str(), s);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// ES|QL's test on a multi-valued field: the values joined with U+001F and searched with
    /// the pattern confined to one value match exactly when some value matches the pattern.
    #[test]
    fn joined_list_search_is_any_element(
        (p, flags) in pattern(),
        lists in prop::collection::vec(prop::collection::vec(text(), 0..4), 6),
    ) {
        let source = engine_source(&p, &flags);
        let engine = regex::Regex::new(&source).unwrap();
        let Ok(element) = exclude_char(&source, '\u{1f}') else { return Ok(()) };
        let Ok(pieces) = elastic_regexes(&element, Default::default()) else { return Ok(()) };
        let joined: Vec<regex::Regex> = pieces
            .iter()
            .map(|r| regex::Regex::new(&lucene_to_rust(&format!("(.*\u{1f})?({r})(\u{1f}.*)?"))).unwrap())
            .collect();
        for values in &lists {
            let want = values.iter().any(|v| engine.is_match(v));
            let text = values.join("\u{1f}");
            // An empty list has no MV_CONCAT value at all (null): no match.
            let got = !values.is_empty() && joined.iter().any(|r| r.is_match(&text));
            prop_assert_eq!(got, want, "{:?} on {:?}", pieces, values);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// YARA-L's test on a list kept as values joined with U+001F: the rewritten pattern (RE2
    /// flavor) matches the joined text exactly when some value matches the pattern. Empty
    /// lists are left out: they read as "" like a missing field, and the backend guards them.
    #[test]
    fn list_search_is_any_element(
        (p, flags) in pattern(),
        lists in prop::collection::vec(prop::collection::vec(text(), 1..4), 6),
    ) {
        let source = engine_source(&p, &flags);
        let engine = regex::Regex::new(&source).unwrap();
        let Ok(list) = list_search(&source, '\u{1f}') else { return Ok(()) };
        let re2 = translate(&list, Flavor::Re2).unwrap();
        let joined = regex::Regex::new(&search_to_rust(&re2)).unwrap();
        for values in &lists {
            let want = values.iter().any(|v| engine.is_match(v));
            let text = values.join("\u{1f}");
            prop_assert_eq!(joined.is_match(&text), want, "{} on {:?}", re2, values);
        }
    }
}

#[test]
fn list_search_keeps_most_patterns() {
    // Only anchors inside a pattern are refused.
    let mut ok = 0;
    let mut total = 0;
    for a in ATOMS {
        for b in ATOMS {
            total += 1;
            if list_search(&engine_source(&format!("{a}{b}"), ""), '\u{1f}').is_ok() {
                ok += 1;
            }
        }
    }
    assert!(ok * 10 >= total * 8, "{ok}/{total}");
}

#[test]
fn most_generated_patterns_have_a_lucene_form() {
    // The refusals are the assertions in the middle of a pattern; count them on a fixed
    // sample so a regression that refuses more shows up.
    let mut ok = 0;
    let mut total = 0;
    for a in ATOMS {
        for b in ATOMS {
            total += 1;
            if translate(&engine_source(&format!("{a}{b}"), "i"), Flavor::Lucene).is_ok() {
                ok += 1;
            }
        }
    }
    assert!(ok * 10 >= total * 8, "{ok}/{total}");
}

#[test]
fn long_patterns_split_into_pieces_that_together_mean_the_pattern() {
    // Too long for one Elasticsearch regex once case folding and `\b` are written out.
    let verbs = [
        "ignore",
        "disregard",
        "forget",
        "skip",
        "override",
        "bypass",
        "drop",
    ];
    let nouns = [
        "instructions",
        "rules",
        "guidelines",
        "prompts",
        "directions",
        "context",
        "messages",
        "directives",
        "orders",
    ];
    let p = format!(
        r"\b({})\s+(all\s+|the\s+)*(previous|prior|above|earlier|system)\s+({})\b",
        verbs.join("|"),
        nouns.join("|")
    );
    let source = engine_source(&p, "i");
    let whole = translate(&source, Flavor::Lucene).unwrap();
    assert!(
        whole.encode_utf16().count() > MAX_REGEX_LENGTH,
        "{}",
        whole.len()
    );
    let parts = elastic_regexes(&source, Default::default()).unwrap();
    assert!(parts.len() > 1);
    let parts: Vec<regex::Regex> = parts
        .iter()
        .map(|r| {
            assert!(r.encode_utf16().count() <= MAX_REGEX_LENGTH);
            regex::Regex::new(&lucene_to_rust(r)).unwrap()
        })
        .collect();
    let engine = regex::Regex::new(&source).unwrap();
    let mut texts = Vec::new();
    for v in verbs {
        for n in nouns {
            texts.push(format!("please {v} all the PREVIOUS {n}."));
            texts.push(format!("x{v} prior {n}"));
            texts.push(format!("{v} earlier {n}s"));
            texts.push(format!("{} system\t{n}", v.to_uppercase()));
        }
    }
    texts.push("ignore the previous rule".into());
    for t in &texts {
        assert_eq!(
            parts.iter().any(|r| r.is_match(t)),
            engine.is_match(t),
            "{t:?}"
        );
    }
    assert!(texts.iter().filter(|t| engine.is_match(t)).count() > 60);
}
