//! Every rule of the library compiled to every target and every artifact format (insta
//! snapshots, reviewed by hand), plus properties every target shares.

use aisigma::backend::artifact;
use aisigma::backend::compile::compile;
use aisigma::backend::target::Target;
use aisigma::semantics::check::check_files;
use aisigma::semantics::schema::Schema;
use std::path::PathBuf;

fn rule_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new("rules")
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// A compiled rule as a snapshot shows it: its `AIS803` warnings, its query and every
/// artifact format, or its refusals.
fn show(
    out: &mut String,
    target: Target,
    cd: &aisigma::semantics::checked::CheckedDoc,
    path: &str,
    result: Result<
        aisigma::backend::compile::Compiled,
        Vec<aisigma::report::diagnostic::Diagnostic>,
    >,
) {
    match result {
        Ok(c) => {
            for w in &c.warnings {
                out.push_str(&format!(
                    "warning [{}]: {}\n  help: {}\n",
                    w.code,
                    w.message,
                    w.help.as_deref().unwrap_or("")
                ));
            }
            out.push_str(&c.query);
            out.push('\n');
            let doc = &cd.doc;
            let deploy = match aisigma::backend::schedule::for_doc(
                cd,
                &c,
                target,
                &target.builtin_mapping(),
                &Schema::builtin(),
            ) {
                Ok(d) => d,
                Err(d) => {
                    out.push_str(&format!("refused [{}]: {}\n\n", d.code, d.message));
                    return;
                }
            };
            // The splunk-app format renders the savedsearches template (with the app's macros,
            // which `tests/cli.rs` checks).
            for f in target.formats().iter().filter(|f| f.name != "splunk-app") {
                let ctx = artifact::RuleContext::new(doc, path);
                let body = artifact::render(
                    f.template,
                    f.builtin,
                    &ctx,
                    &c.query,
                    &c.logsource,
                    c.correlation.as_ref(),
                    target.name(),
                    &deploy,
                )
                .unwrap();
                out.push_str(&format!("## {}\n{}\n", f.name, body.trim_end()));
            }
        }
        Err(ds) => {
            for d in ds {
                out.push_str(&format!(
                    "refused [{}] {}:{}: {}\n",
                    d.code, d.span.start.line, d.span.start.col, d.message
                ));
            }
        }
    }
    out.push('\n');
}

/// `(query or refusal, artifacts)` for every rule, in file order.
fn compile_all(target: Target) -> String {
    let schema = Schema::builtin();
    let results = check_files(&rule_files(), &schema, &Default::default());
    let mapping = target.builtin_mapping();
    let mut out = String::new();
    let inputs = aisigma::semantics::correlation::hidden_inputs(&results);
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            // Correlations have their own snapshots (`correlations_*`), with their inputs.
            if cd.doc.detection().is_none() || inputs.contains(&(fi, di)) {
                continue;
            }
            out.push_str(&format!("# {}\n", r.path));
            let result = compile(
                &cd.doc,
                cd.expr.as_ref().unwrap(),
                target,
                &mapping,
                &schema,
            );
            show(&mut out, target, cd, &r.path, result);
        }
    }
    out
}

#[test]
fn lucene_rules() {
    insta::assert_snapshot!("lucene_rules", compile_all(Target::Lucene));
}

#[test]
fn esql_rules() {
    insta::assert_snapshot!("esql_rules", compile_all(Target::Esql));
}

#[test]
fn eql_artifacts() {
    insta::assert_snapshot!("eql_artifacts", compile_all(Target::Eql));
}

#[test]
fn kql_artifacts() {
    insta::assert_snapshot!("kql_artifacts", compile_all(Target::Kql));
}

#[test]
fn spl_artifacts() {
    insta::assert_snapshot!("spl_artifacts", compile_all(Target::Spl));
}

#[test]
fn yaral_artifacts() {
    insta::assert_snapshot!("yaral_artifacts", compile_all(Target::Yaral));
}

/// Every correlation of the library on `target`: its query, its artifacts, its `AIS803`
/// warnings, or its refusals.
fn compile_correlations(target: Target) -> String {
    let schema = Schema::builtin();
    let results = check_files(&rule_files(), &schema, &Default::default());
    let mapping = target.builtin_mapping();
    let mut out = String::new();
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            if !matches!(
                cd.doc.body,
                Some(aisigma::syntax::ast::Body::Correlation(_))
            ) {
                continue;
            }
            out.push_str(&format!("# {} ({})\n", r.path, cd.doc.label()));
            let result = aisigma::backend::compile::compile_correlation(
                &results,
                (fi, di),
                target,
                &mapping,
                &schema,
            );
            show(&mut out, target, cd, &r.path, result);
        }
    }
    out
}

#[test]
fn correlations_compile_or_are_refused_on_every_target() {
    for t in [
        Target::Spl,
        Target::Kql,
        Target::Eql,
        Target::Esql,
        Target::Lucene,
        Target::Yaral,
    ] {
        insta::assert_snapshot!(
            format!("correlations_{}", t.name()),
            compile_correlations(t)
        );
    }
}

#[test]
fn savedsearches_stanzas_are_well_formed() {
    let text = compile_all(Target::Spl);
    let mut stanzas = 0;
    for part in text.split("## savedsearches\n").skip(1) {
        let body = part.split("\n\n# ").next().unwrap().trim_end();
        let mut lines = body.lines();
        let header = lines.next().unwrap();
        assert!(header.starts_with('[') && header.ends_with(']'), "{header}");
        let mut continued = false;
        for l in lines {
            // Every line is `key = value`, or continues the previous one.
            assert!(continued || l.contains(" = "), "{l}");
            continued = l.ends_with(" \\");
        }
        assert!(body.contains("\nsearch = search index="), "{body}");
        let search = body.lines().find(|l| l.starts_with("search = ")).unwrap();
        assert!(
            !search.contains('$'),
            "a `$` would be read as a token: {search}"
        );
        stanzas += 1;
    }
    assert!(stanzas >= 30, "{stanzas}");
}

#[test]
fn sentinel_artifacts_are_valid_json_and_yaml() {
    let text = compile_all(Target::Kql);
    let mut arm = 0;
    for part in text.split("## ").skip(1) {
        let (name, body) = part.split_once('\n').unwrap();
        let body = body.split("\n# ").next().unwrap().trim();
        match name {
            "sentinel-arm" => {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                let p = &v["resources"][0]["properties"];
                assert!(p["query"].as_str().unwrap().contains(" | where "));
                assert_eq!(p["triggerThreshold"], 0);
                arm += 1;
            }
            "sentinel-rule" => {
                let docs = aisigma::syntax::yaml::parse(body).unwrap();
                let root = &docs[0].root;
                for key in ["id", "name", "severity", "query", "tactics", "kind"] {
                    assert!(root.get(key).is_some(), "{key} in {body}");
                }
            }
            other => panic!("unexpected format {other}"),
        }
    }
    assert!(arm >= 30, "{arm}");
}

#[test]
fn kibana_ndjson_is_one_json_object_per_rule() {
    for &t in [Target::Lucene, Target::Eql, Target::Esql].iter() {
        let text = compile_all(t);
        let mut n = 0;
        for line in text.lines().filter(|l| l.starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["language"], t.name());
            assert!(v["rule_id"].as_str().is_some_and(|s| s.len() == 36));
            assert_eq!(v["index"].is_null(), t == Target::Esql);
            for th in v["threat"].as_array().unwrap() {
                assert_eq!(th["framework"], "MITRE ATLAS");
                assert!(th["tactic"]["id"].as_str().unwrap().starts_with("AML.TA"));
            }
            n += 1;
        }
        assert!(n >= 30, "{t:?}: {n}");
    }
}

/// Artifacts name the rule file relative to its repository, whatever the path given and the
/// working directory: byte-identical output on any machine, and no local path in it.
#[test]
fn artifacts_hold_no_absolute_path() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rule = root.join("rules/llm_inference/prompt_injection_override_phrase.yml");
    let run = |cwd: &std::path::Path, path: &str, target: &str, format: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_aisigma"))
            .args(["compile", path, "--target", target, "--format", format])
            .current_dir(cwd)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    let tmp = std::env::temp_dir();
    for (target, format) in [
        ("eql", "kibana-ndjson"),
        ("yaral", "chronicle"),
        ("kql", "sentinel-arm"),
        ("spl", "savedsearches"),
    ] {
        let relative = run(
            &root,
            "rules/llm_inference/prompt_injection_override_phrase.yml",
            target,
            format,
        );
        let absolute = run(&tmp, rule.to_str().unwrap(), target, format);
        assert!(!relative.is_empty(), "{target} {format}");
        assert_eq!(relative, absolute, "{target} {format}");
        let root_text = root.to_string_lossy();
        assert!(
            !absolute.contains(root_text.as_ref()),
            "{target} {format}: {absolute}"
        );
    }
}
