//! Loading and checking arbitrary bytes as a rule file, then running its tests: nothing panics
//! and every diagnostic points inside the file.
#![no_main]

use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(Schema::builtin)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = check_str("fuzz.yml", &text, schema());
    let lines =
        aisigma::syntax::source::SourceFile::new("fuzz.yml", text.to_string()).line_count() as u32;
    for d in &r.diags {
        assert!(
            d.span.start.line >= 1 && d.span.start.line <= lines.max(1),
            "{d:?} outside a {lines}-line file"
        );
    }
    let _ = aisigma::engine::ruletest::run(&[r], true);
});
