//! `aisigma.toml`: found upward, flags win over it, `config show` says where each value comes
//! from, and a bad file is a usage error that names its line.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A project: aisigma.toml, the library's LLM inference rules under `detections/`, a broken
/// rule outside it, and a subfolder.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("detections");
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(repo().join("rules/llm_inference")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("broken.yml"), "title: [\n").unwrap();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("aisigma.toml"), config).unwrap();
    dir
}

fn show(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["config", "show", "--format", "json"];
    all.extend_from_slice(args);
    let o = run(dir, &all);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

const CONFIG: &str = "# project defaults
rules = [\"detections\"]
targets = [\"kql\"]
source = \"aisigma\"
allow-refusals = true

[mappings]
kql = \"maps/kql.yml\"
";

#[test]
fn config_show_gives_values_and_origins() {
    let p = project(CONFIG);
    let v = show(p.path(), &[]);
    assert_eq!(v["file"], "aisigma.toml");
    let s = &v["settings"];
    assert_eq!(s["rules"]["value"], serde_json::json!(["detections"]));
    assert_eq!(s["rules"]["origin"], "aisigma.toml:2");
    assert_eq!(s["targets"]["origin"], "aisigma.toml:3");
    assert_eq!(s["allow-refusals"]["value"], true);
    assert_eq!(s["mappings.kql"]["value"], "maps/kql.yml");
    assert_eq!(s["mappings.kql"]["origin"], "aisigma.toml:8");
    assert_eq!(s["max-file-size"]["origin"], "default");
    assert_eq!(s["schema"]["value"], serde_json::json!([]));
    // Found from a subfolder: paths stay relative to the file, shown from here.
    let v = show(&p.path().join("sub"), &[]);
    assert_eq!(v["file"], "../aisigma.toml");
    assert_eq!(
        v["settings"]["rules"]["value"],
        serde_json::json!(["../detections"])
    );
    // Flags win, and say so.
    let v = show(
        p.path(),
        &["--target", "spl", "--rules", "x", "--no-allow-refusals"],
    );
    let s = &v["settings"];
    assert_eq!(s["targets"]["value"], serde_json::json!(["spl"]));
    assert_eq!(s["targets"]["origin"], "command line");
    assert_eq!(s["rules"]["origin"], "command line");
    assert_eq!(s["allow-refusals"]["value"], false);
    // --no-config and --config.
    let v = show(p.path(), &["--no-config"]);
    assert_eq!(v["file"], Value::Null);
    assert_eq!(v["settings"]["rules"]["value"], serde_json::json!(["."]));
    assert_eq!(v["settings"]["source"]["origin"], "default");
    std::fs::write(p.path().join("other.toml"), "source = \"litellm\"\n").unwrap();
    let v = show(p.path(), &["--config", "other.toml"]);
    assert_eq!(v["settings"]["source"]["value"], "litellm");
    assert_eq!(v["settings"]["source"]["origin"], "other.toml:1");
    // The human table.
    let o = run(p.path(), &["config", "show"]);
    assert!(stdout(&o).starts_with("config file: aisigma.toml\n"));
    assert!(stdout(&o).contains("aisigma.toml:3"));
}

#[test]
fn commands_take_their_defaults_from_the_file() {
    let p = project("rules = [\"detections\"]\ntargets = [\"kql\"]\n");
    // `check` with no paths checks `detections`, not the broken file beside it.
    let o = run(p.path(), &["check"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("checked 9 files"), "{}", stderr(&o));
    // A path on the command line wins.
    let o = run(p.path(), &["check", "broken.yml"]);
    assert_eq!(code(&o), 1);
    // `compile` with no --target compiles for the file's target.
    let o = run(p.path(), &["compile"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("to kql"), "{}", stderr(&o));
    let o = run(p.path(), &["compile", "--target", "spl"]);
    assert!(stderr(&o).contains("to spl"), "{}", stderr(&o));
    // `coverage` and `scan` read the same rules.
    let o = run(p.path(), &["coverage", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(!v["atlas"]["covered"].as_array().unwrap().is_empty());
    let events = repo().join("examples/logs/rule-tests.jsonl");
    let o = run(
        p.path(),
        &["scan", events.to_str().unwrap(), "--no-summary"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // Without the file, scan needs --rules.
    let o = run(p.path(), &["scan", events.to_str().unwrap(), "--no-config"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--rules PATH, or `rules` in aisigma.toml"));
}

#[test]
fn several_targets_and_the_refusal_policy() {
    let p = project("rules = [\"detections\"]\ntargets = [\"spl\", \"kql\"]\n");
    // Several targets to standard output would mix languages: refused, with the ways out.
    let o = run(p.path(), &["compile"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("names 2 targets (spl, kql)"),
        "{}",
        stderr(&o)
    );
    // Into a folder, one subfolder per target.
    let o = run(p.path(), &["compile", "-o", "out"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(p.path().join("out/spl").read_dir().unwrap().count() > 0);
    assert!(p.path().join("out/kql").read_dir().unwrap().count() > 0);
    // One target's --mapping with several targets is ambiguous.
    let o = run(
        p.path(),
        &["compile", "--format", "json", "--mapping", "m.yml"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("pass --target too"), "{}", stderr(&o));
    // deploy goes to one SIEM: it needs --target.
    let o = run(p.path(), &["deploy", "--plan"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("pass --target"), "{}", stderr(&o));
    // A source that carries none of the rules' category: refusals fail the compile unless
    // the file allows them, and --no-allow-refusals overrides the file.
    let p = project(
        "rules = [\"detections\"]\ntargets = [\"kql\"]\nsource = \"aws-cloudtrail\"\nallow-refusals = true\n",
    );
    assert_eq!(code(&run(p.path(), &["compile"])), 0);
    assert_eq!(code(&run(p.path(), &["compile", "--no-allow-refusals"])), 1);
    assert_eq!(
        code(&run(
            p.path(),
            &["compile", "--source", "aisigma", "--no-allow-refusals"]
        )),
        0
    );
}

#[test]
fn a_bad_file_is_a_usage_error_naming_its_line() {
    for (text, want) in [
        (
            "rules = [\"r\"]\ntarget = \"kql\"\n",
            "aisigma.toml:2: unknown field `target`",
        ),
        (
            "targets = [\"splunk\"]\n",
            "aisigma.toml:1: unknown target `splunk`",
        ),
        ("rules = \"r\"\n", "aisigma.toml:1:"),
        (
            "[mappings]\nsentinel = \"m.yml\"\n",
            "aisigma.toml:2: `mappings` names `sentinel`",
        ),
        ("rules = [\n", "aisigma.toml:"),
        ("rules = []\n", "aisigma.toml:1: `rules` is empty"),
        (
            "targets = [\"spl\", \"SPL\"]\n",
            "aisigma.toml:1: `targets` names `spl` twice",
        ),
        (
            "[mappings]\nkql = \"a.yml\"\nKQL = \"b.yml\"\n",
            "names target `kql` twice",
        ),
        (
            "\nsource = \"nope\"\n",
            "aisigma.toml:2: unknown source `nope`",
        ),
    ] {
        let p = project(text);
        let o = run(p.path(), &["check"]);
        assert_eq!(code(&o), 2, "{text}");
        assert!(stderr(&o).contains(want), "{text}: {}", stderr(&o));
        // --no-config gets past it.
        assert_eq!(
            code(&run(p.path(), &["check", "detections", "--no-config"])),
            0
        );
    }
}
