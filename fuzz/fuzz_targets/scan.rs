//! Scanning arbitrary lines with the rule library: for every line, the scanner's verdict (the
//! prefilter, the field-value index, lazy decoding, then the rules) equals decoding the whole
//! line and evaluating every rule's matcher on its own.
#![no_main]

use aisigma::engine::matcher::Matcher;
use aisigma::scan::lazy_json::{self, Paths};
use aisigma::scan::scanner::{Scanner, Scope, Scratch, Verdict, load_rules};
use aisigma::semantics::schema::Schema;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

struct Fixture {
    scanner: Scanner,
    matchers: Vec<Matcher>,
    categories: Vec<Option<String>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let schema = Schema::builtin();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
        let paths: Vec<std::path::PathBuf> = walk(std::path::Path::new(dir));
        let results: Vec<_> = paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("rule file");
                aisigma::semantics::check::check_str(&p.display().to_string(), &text, &schema)
            })
            .collect();
        let loaded = load_rules(&results);
        let matchers = loaded
            .exprs
            .iter()
            .map(|e| Matcher::new(e).expect("evaluates"))
            .collect();
        let categories = loaded.rules.iter().map(|r| r.category.clone()).collect();
        let scanner = Scanner::new(
            loaded.rules,
            &loaded.exprs,
            (loaded.table, loaded.index),
            Scope::default(),
        );
        Fixture {
            scanner,
            matchers,
            categories,
        }
    })
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("rules/").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "yml") {
            out.push(p);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut scratch = Scratch::default();
    for line in data.split(|&b| b == b'\n') {
        let verdict = f.scanner.scan_line(line, &mut scratch);
        let trimmed = line.trim_ascii();
        let full = lazy_json::decode(trimmed, &Paths::all());
        match verdict {
            Verdict::Blank => assert!(trimmed.is_empty()),
            Verdict::Malformed(_) => assert!(
                !matches!(full, Ok(Value::Object(_)))
                    || !trimmed.starts_with(b"{")
                    || !trimmed.ends_with(b"}"),
                "a well-formed object was reported malformed: {:?}",
                String::from_utf8_lossy(line)
            ),
            Verdict::Event(hits, _, _) => {
                let Ok(event @ Value::Object(_)) = full else {
                    panic!(
                        "scanned a line that is not an object: {:?}",
                        String::from_utf8_lossy(line)
                    );
                };
                let category = aisigma::engine::matcher::text_at(&event, "ai.category");
                let want: Vec<usize> = (0..f.matchers.len())
                    .filter(|&i| match (&f.categories[i], &category) {
                        (Some(rc), Some(ec)) => rc == ec,
                        _ => true,
                    })
                    .filter(|&i| f.matchers[i].matches(&event))
                    .collect();
                assert_eq!(hits, want, "{:?}", String::from_utf8_lossy(line));
            }
        }
    }
});
