//! Compiling every rule that checks without errors to all six targets: nothing panics, and a
//! refusal is a diagnostic, never a crash.
#![no_main]

use aisigma::backend::compile::compile;
use aisigma::backend::target::Target;
use aisigma::report::diagnostic::Severity;
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
    if r.diags.iter().any(|d| d.severity == Severity::Error) {
        return;
    }
    for cd in &r.docs {
        let Some(expr) = &cd.expr else { continue };
        for target in Target::ALL {
            let _ = compile(&cd.doc, expr, target, &target.builtin_mapping(), schema());
        }
    }
});
