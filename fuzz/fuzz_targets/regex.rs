//! Regex translation: every pattern the translator accepts comes out in a form its target
//! parses. The Rust flavour (Kusto's `matches regex`) is parsed by `regex-syntax`, PCRE
//! (Splunk) by PCRE2 itself. RE2 (YARA-L) and Lucene's `RegExp` have no parser in Rust (RE2
//! escapes that `regex-syntax` rejects, such as `\!`, are valid RE2); the conformance oracles
//! (`tests/conformance/`) parse those with the real libraries.
#![no_main]

use aisigma::regex::translate::{Flavor, parse, translate_hir};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if source.len() > 200 {
        return;
    }
    let Ok(hir) = parse(source) else { return };
    for flavor in [Flavor::Rust, Flavor::Pcre] {
        let Ok(out) = translate_hir(&hir, flavor) else {
            continue;
        };
        match flavor {
            Flavor::Rust => {
                if let Err(e) = regex_syntax::Parser::new().parse(&out) {
                    panic!("{source:?} as {flavor:?}: {out:?} does not parse: {e}");
                }
            }
            Flavor::Pcre => {
                if let Err(e) = pcre2::bytes::RegexBuilder::new().utf(true).build(&out) {
                    panic!("{source:?} as PCRE: {out:?} does not compile: {e}");
                }
            }
            Flavor::Re2 | Flavor::Lucene => {}
        }
    }
});
