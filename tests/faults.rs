//! Faults `aisigma` must survive: a corrupt input among several, numbers beyond `f64`, a full
//! disk, a closed pipe or standard output, and an interrupted write.

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aisigma"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// A truncated gzip file is reported with its name and where it broke; the scan goes on with
/// the next input, and exits 2.
#[test]
fn a_corrupt_input_does_not_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read("examples/logs/rule-tests.jsonl").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&log).unwrap();
    let gz = gz.finish().unwrap();
    let bad = dir.path().join("a-truncated.jsonl.gz");
    std::fs::write(&bad, &gz[..gz.len() / 2]).unwrap();
    let good = dir.path().join("b-good.jsonl");
    std::fs::write(&good, &log).unwrap();
    let scan = |inputs: &[&std::path::Path]| {
        let mut c = bin();
        c.arg("scan")
            .args(inputs)
            .args(["--rules", "rules/", "--no-progress"]);
        c.output().unwrap()
    };
    let whole = scan(&[&good]);
    let both = scan(&[&bad, &good]);
    assert_eq!(both.status.code(), Some(2));
    let err = String::from_utf8_lossy(&both.stderr);
    assert!(
        err.contains("a-truncated.jsonl.gz") && err.contains("bytes of the file"),
        "{err}"
    );
    assert!(
        err.contains("1 inputs could not be read to the end"),
        "{err}"
    );
    // Every match of the good file is still found, after those of the broken one's first half.
    let good_matches = String::from_utf8_lossy(&whole.stdout).lines().count();
    let all = String::from_utf8_lossy(&both.stdout).lines().count();
    assert!(
        good_matches > 0 && all >= good_matches,
        "{all} < {good_matches}"
    );
}

/// RFC 8259 numbers beyond `f64` keep their line; the number is compared by its text.
#[test]
fn huge_numbers_keep_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(
        &rule,
        "title: Huge\nid: 5f0c7a52-8d1e-4b8e-9a51-0d6f2c3b7e41\nstatus: test\ndate: 2026-12-03\nlevel: low\ntags: [atlas.aml.t0040, owasp.llm10]\nlogsource: {product: ai, category: llm_inference}\ndetection:\n  sel: {gen_ai.request.model: gpt-4o}\n  big: {gen_ai.usage.input_tokens|gt: 5}\n  condition: sel or big\n",
    )
    .unwrap();
    let mut c = bin()
        .args([
            "scan",
            "-",
            "--rules",
            rule.to_str().unwrap(),
            "--no-progress",
            "--strict",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(b"{\"ai.category\":\"llm_inference\",\"gen_ai.request.model\":\"gpt-4o\",\"gen_ai.usage.input_tokens\":1e400}\n")
        .unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 bad lines"));
}

/// A full disk is an error with a message (exit 2); a closed pipe ends quietly (exit 0).
#[test]
fn write_errors_and_closed_pipes() {
    if std::path::Path::new("/dev/full").exists() {
        for args in [
            &["compile", "rules/", "--target", "kql"][..],
            &["schema"][..],
        ] {
            let o = bin()
                .args(args)
                .stdout(std::fs::File::create("/dev/full").unwrap())
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write to standard output"));
        }
    }
    for args in [
        &["compile", "rules/", "--target", "spl"][..],
        &["schema"][..],
        &["gen-events", "--count", "200000"][..],
    ] {
        let mut c = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        drop(c.stdout.take());
        assert_eq!(
            c.wait().unwrap().code(),
            Some(0),
            "{args:?} into a closed pipe"
        );
    }
    // A closed standard output: Rust's runtime opens /dev/null in its place at start-up, so
    // this is `> /dev/null`: the summary still reports every match, with their exit code.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} scan examples/logs/rule-tests.jsonl --rules rules/ --no-progress >&-",
            env!("CARGO_BIN_EXE_aisigma")
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("matches"));
}

/// An interrupted write leaves no temporary file behind.
#[test]
fn an_interrupted_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let mut c = bin()
        .args([
            "gen-events",
            "--count",
            "50000000",
            "-o",
            out.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // Wait until the temporary file exists, then terminate.
    let started = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).unwrap().count() == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .unwrap();
    let status = c.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
