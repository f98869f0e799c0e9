//! `aisigma lsp` at the protocol level: the binary is started and spoken to over stdio, as an
//! editor does (JSON-RPC with Content-Length headers). The Neovim end-to-end test is
//! tests/editors/nvim_e2e.sh.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    backlog: Vec<Value>,
}

fn uri(p: &Path) -> String {
    let mut s = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

impl Client {
    fn start(root: &Path, extra: &[&str]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aisigma"))
            .arg("lsp")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 0,
            backlog: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(root), "capabilities": {}}),
        );
        assert_eq!(init["serverInfo"]["name"], "aisigma");
        assert_eq!(init["capabilities"]["textDocumentSync"], 1);
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_string(&msg).unwrap();
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self) -> Value {
        match self.rx.recv_timeout(Duration::from_secs(30)) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server in 30 s"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.recv();
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.backlog.push(m);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let m = self.request_raw(method, params);
        assert!(m.get("error").is_none(), "{method}: {m}");
        m["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.backlog.iter().position(is_for) {
            let m = self.backlog.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.recv();
            if is_for(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.backlog.push(m);
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> Vec<Value> {
        let u = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": "yaml", "version": 1, "text": text}}),
        );
        self.diagnostics(&u)
    }

    fn change(&mut self, path: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn at(path: &Path, line: u32, character: u32) -> Value {
        json!({"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": character}})
    }

    /// Shut down and exit; the exit status.
    fn shutdown(mut self) -> i32 {
        let r = self.request_raw("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The labels of a completion response.
fn labels(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|i| i["label"].as_str().expect("a label"))
        .collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `check --format json` on a directory, run from it, as (file, diagnostic) pairs.
fn check_json(dir: &Path) -> Vec<Value> {
    let o = Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(["check", ".", "--format", "json"])
        .current_dir(dir)
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A 1-based line and character column as an LSP position (UTF-16 units).
fn lsp_pos(text: &str, line: u64, col: u64) -> Value {
    let l = text.lines().nth(line as usize - 1).unwrap_or("");
    let units: usize = l.chars().take(col as usize - 1).map(char::len_utf16).sum();
    let extra = (col as usize - 1).saturating_sub(l.chars().count());
    json!({"line": line - 1, "character": units + extra})
}

#[test]
fn diagnostics_are_those_of_check_for_every_fixture() {
    let dir = repo().join("tests/fixtures/diagnostics");
    let expected = check_json(&dir);
    let mut c = Client::start(&dir, &[]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut compared = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let got = c.open(f, &text);
        let name = f.file_name().unwrap().to_str().unwrap();
        let want: Vec<Value> = expected
            .iter()
            .filter(|d| d["file"] == name)
            .map(|d| {
                let mut message = d["message"].as_str().unwrap().to_string();
                if let Some(h) = d["help"].as_str() {
                    message.push_str("\nhelp: ");
                    message.push_str(h);
                }
                json!({
                    "code": d["code"],
                    "message": message,
                    "range": {
                        "start": lsp_pos(&text, d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()),
                        "end": lsp_pos(&text, d["end_line"].as_u64().unwrap(), d["end_column"].as_u64().unwrap()),
                    },
                    "severity": match d["severity"].as_str().unwrap() { "error" => 1, "warning" => 2, _ => 3 },
                    "source": "aisigma",
                })
            })
            .collect();
        assert_eq!(got, want, "{name}");
        compared += want.len();
    }
    assert!(compared >= 37, "{compared}");
    assert_eq!(c.shutdown(), 0);
}

const RULE: &str = "title: Prompt injection
id: 5d0c0a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d
status: test
level: high
date: 2026-11-24
tags: [atlas.aml.t0051, owasp.llm01]
logsource: {product: ai, category: llm_inference}
detection:
    selection:
        ai.promt.text|contains: ignore previous
    condition: selection
";

#[test]
fn completion_hover_definition_and_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yml");
    std::fs::write(&path, RULE).unwrap();
    let mut c = Client::start(dir.path(), &[]);
    let diags = c.open(&path, RULE);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "AIS401");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("help: did you mean `ai.prompt.text`?")
    );

    // The quick fix replaces the field name, not its modifier.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&path)}, "range": diags[0]["range"], "context": {"diagnostics": diags}}),
    );
    let a = &actions[0];
    assert_eq!(a["kind"], "quickfix");
    assert_eq!(a["isPreferred"], true);
    let edit = &a["edit"]["changes"][uri(&path)][0];
    assert_eq!(edit["newText"], "ai.prompt.text");
    assert_eq!(edit["range"]["start"], json!({"line": 9, "character": 8}));
    assert_eq!(edit["range"]["end"], json!({"line": 9, "character": 21}));
    let fixed = RULE.replace("ai.promt.text", "ai.prompt.text");
    c.change(&path, 2, &fixed);
    assert_eq!(c.diagnostics(&uri(&path)), Vec::<Value>::new());

    // Completion of fields, with their type and description.
    let half = fixed.replace(
        "    condition: selection\n",
        "        gen_ai.usage.inp\n    condition: selection\n",
    );
    c.change(&path, 3, &half);
    let items = c.request("textDocument/completion", Client::at(&path, 10, 24));
    let items = items.as_array().unwrap();
    let it = items
        .iter()
        .find(|i| i["label"] == "gen_ai.usage.input_tokens")
        .expect("field offered");
    assert_eq!(it["detail"], "int");
    assert!(
        it["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("OpenTelemetry")
    );
    assert_eq!(
        it["textEdit"]["range"]["start"],
        json!({"line": 10, "character": 8})
    );
    // Modifiers that fit an int field.
    let half = fixed.replace(
        "    condition: selection\n",
        "        gen_ai.usage.input_tokens|\n    condition: selection\n",
    );
    c.change(&path, 4, &half);
    let items = c.request("textDocument/completion", Client::at(&path, 10, 34));
    let got = labels(&items);
    assert!(
        got.contains(&"gte") && !got.contains(&"contains"),
        "{got:?}"
    );
    c.change(&path, 5, &fixed);

    // Hover on a field, a modifier and a tag.
    let h = c.request("textDocument/hover", Client::at(&path, 9, 12));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**`ai.prompt.text`**: `string`"), "{md}");
    let h = c.request("textDocument/hover", Client::at(&path, 9, 26));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**`|contains`**")
    );
    let h = c.request("textDocument/hover", Client::at(&path, 5, 12));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("AML.T0051: LLM Prompt Injection") && md.contains("craft malicious prompts"),
        "{md}"
    );

    // Go to definition from the condition.
    let d = c.request("textDocument/definition", Client::at(&path, 10, 17));
    assert_eq!(d["range"]["start"], json!({"line": 8, "character": 4}));
    assert_eq!(d["uri"], uri(&path));

    // An unknown request is an error, not a crash.
    let r = c.request_raw("textDocument/formatting", Client::at(&path, 0, 0));
    assert_eq!(r["error"]["code"], -32601);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn checks_across_files_follow_the_edits() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.yml");
    std::fs::write(&other, RULE.replace("ai.promt.text", "ai.prompt.text")).unwrap();
    let path = dir.path().join("r.yml");
    let mut c = Client::start(dir.path(), &[]);
    // The same id as a rule on disk: AIS108, pointing at the other file, as `check` says.
    let text = RULE.replace("ai.promt.text", "ai.prompt.text");
    let diags = c.open(&path, &text);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["AIS108"], "{diags:?}");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("already used at other.yml:2:5")
    );
    // A new id: the finding goes away.
    let text = text.replace("5d0c0a52", "6d0c0a52");
    c.change(&path, 2, &text);
    assert_eq!(c.diagnostics(&uri(&path)), Vec::<Value>::new());
    // A correlation that names a misspelt rule: AIS603 with the loaded names.
    let corr = "title: C\nid: 7d0c0a52-1d2e-4b7a-9c3d-2e1f0a9b8c7d\nstatus: test\nlevel: high\ndate: 2026-11-24\ntags: [atlas.aml.t0051, owasp.llm01]\nname: my_corr\ncorrelation:\n    type: event_count\n    rules: [prompt_injektion]\n    group-by: [user.id]\n    timespan: 5m\n    condition: {gte: 3}\n";
    let text2 = text.replace(
        "title: Prompt injection\n",
        "title: Prompt injection\nname: prompt_injection\n",
    );
    c.change(&path, 3, &format!("{text2}---\n{corr}"));
    let diags = c.diagnostics(&uri(&path));
    let ais603 = diags
        .iter()
        .find(|d| d["code"] == "AIS603")
        .expect("AIS603");
    assert!(
        ais603["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `prompt_injection`?")
    );
    // Closing the document drops its diagnostics.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&path)}}),
    );
    assert_eq!(c.diagnostics(&uri(&path)), Vec::<Value>::new());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_is_status_1_and_garbage_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    // Hostile input: a binary document, a huge line, a position past the end.
    let path = dir.path().join("x.yml");
    let diags = c.open(&path, "a\u{0}b");
    assert_eq!(diags[0]["code"], "AIS003");
    let long = format!("title: {}\n", "x".repeat(200_000));
    c.change(&path, 2, &long);
    let _ = c.diagnostics(&uri(&path));
    let r = c.request("textDocument/completion", Client::at(&path, 99, 99));
    assert_eq!(r, json!([]));
    let r = c.request("textDocument/hover", Client::at(&path, 0, 300_000));
    assert_eq!(r, Value::Null);
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    let status = c.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

/// Every "did you mean" of the diagnostics fixtures has a quick fix, and applying the first
/// one removes the diagnostic.
#[test]
fn every_did_you_mean_has_a_fix_that_works() {
    use aisigma::lsp::fixes::fixes;
    use aisigma::semantics::check::{Options, check_files};
    use aisigma::semantics::schema::Schema;
    let dir = repo().join("tests/fixtures/diagnostics");
    let schema = Schema::builtin();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut fixed = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let results = check_files(std::slice::from_ref(f), &schema, &Options::default());
        for d in &results[0].diags {
            if !d.help.as_deref().unwrap_or("").contains("did you mean") {
                continue;
            }
            let fx = fixes(&lines, d);
            assert!(!fx.is_empty(), "no fix for {d:?}");
            let first = &fx[0];
            let mut new_lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let chars: Vec<char> = new_lines[first.line].chars().collect();
            new_lines[first.line] = chars[..first.start].iter().collect::<String>()
                + &first.new_text
                + &chars[first.end..].iter().collect::<String>();
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join(f.file_name().unwrap());
            std::fs::write(&out, new_lines.join("\n") + "\n").unwrap();
            let after = check_files(&[out], &schema, &Options::default());
            assert!(
                !after[0]
                    .diags
                    .iter()
                    .any(|e| e.code == d.code && e.span.start.line == d.span.start.line),
                "{}: the fix `{}` left {:?}",
                f.display(),
                first.new_text,
                d
            );
            fixed += 1;
        }
    }
    assert!(fixed >= 7, "{fixed}");
}

/// What an adversarial review found, each now handled.
#[test]
fn line_endings_list_items_quotes_comments_and_block_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yml");
    let mut c = Client::start(dir.path(), &[]);
    // Lone CR line breaks: lines as `check` counts them, UTF-16 columns after emoji.
    let text = RULE
        .replace(
            "ai.promt.text|contains: ignore previous",
            "ai.promt.text|contains: '😀 x'",
        )
        .replace("title: Prompt injection", "title: Prompt 😀 injection")
        .replace('\n', "\r");
    let diags = c.open(&path, &text);
    assert_eq!(diags[0]["code"], "AIS401");
    assert_eq!(
        diags[0]["range"]["start"],
        json!({"line": 9, "character": 8})
    );
    let h = c.request("textDocument/hover", Client::at(&path, 5, 12));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("AML.T0051")
    );
    // The first line of a list of maps, and a quoted key: fields and the modifiers that fit.
    let list = RULE.replace(
        "        ai.promt.text|contains: ignore previous\n",
        "        - gen\n          ai.prompt.text: x\n        - \"gen_ai.usage.input_tokens|\n",
    );
    c.change(&path, 2, &list);
    let items = c.request("textDocument/completion", Client::at(&path, 9, 13));
    let got = labels(&items);
    assert!(got.contains(&"gen_ai.request.model"), "{got:?}");
    let items = c.request("textDocument/completion", Client::at(&path, 11, 37));
    let got = labels(&items);
    assert!(
        got.contains(&"gte") && !got.contains(&"contains"),
        "{got:?}"
    );
    let h = c.request("textDocument/hover", Client::at(&path, 10, 14));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**`ai.prompt.text`**")
    );
    // No completion in a comment.
    let commented = RULE.replace(
        "    condition: selection\n",
        "        # gen_ai.\n    condition: selection\n",
    );
    c.change(&path, 3, &commented);
    let items = c.request("textDocument/completion", Client::at(&path, 10, 17));
    assert_eq!(items, json!([]));
    // A block scalar condition: definition and completion on its lines.
    let block = RULE.replace(
        "    condition: selection\n",
        "    condition: |\n        selection\n",
    );
    c.change(&path, 4, &block);
    let d = c.request("textDocument/definition", Client::at(&path, 11, 10));
    assert_eq!(d["range"]["start"], json!({"line": 8, "character": 4}));
    let items = c.request("textDocument/completion", Client::at(&path, 11, 12));
    assert!(labels(&items).contains(&"selection"), "{items}");
    // A document that is not a file: nothing, not an error.
    let r = c.request_raw("textDocument/hover", json!({"textDocument": {"uri": "untitled:Untitled-1"}, "position": {"line": 0, "character": 0}}));
    assert_eq!(r["result"], Value::Null);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn documents_outside_the_rule_paths_do_not_change_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    let good = RULE.replace("ai.promt.text", "ai.prompt.text");
    let inside = dir.path().join("rules/a.yml");
    std::fs::write(&inside, &good).unwrap();
    let mut c = Client::start(dir.path(), &["--rules", "rules"]);
    assert_eq!(c.open(&inside, &good), Vec::<Value>::new());
    // A copy elsewhere sees the rule it duplicates; the rule does not see the copy.
    let copy = dir.path().join("scratch.yml");
    let diags = c.open(&copy, &good);
    assert_eq!(diags[0]["code"], "AIS108");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("rules/a.yml")
    );
    let r = c.request("textDocument/hover", Client::at(&inside, 9, 12));
    assert!(r["contents"]["value"].is_string());
    assert!(
        !c.backlog.iter().any(|m| m["params"]["uri"] == uri(&inside)),
        "the rule's diagnostics changed: {:?}",
        c.backlog
    );
    // A burst of edits: the diagnostics are those of the last text.
    for v in 2..40 {
        let t = if v % 2 == 0 {
            RULE.to_string()
        } else {
            good.clone()
        };
        c.change(&inside, v, &t);
    }
    c.change(&inside, 40, RULE);
    let mut last = c.diagnostics(&uri(&inside));
    while let Some(i) = c
        .backlog
        .iter()
        .position(|m| m["params"]["uri"] == uri(&inside))
    {
        last = c.backlog.remove(i)["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .clone();
    }
    let _ = c.request("textDocument/hover", Client::at(&inside, 0, 0));
    while let Some(i) = c
        .backlog
        .iter()
        .position(|m| m["params"]["uri"] == uri(&inside))
    {
        last = c.backlog.remove(i)["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .clone();
    }
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["code"], "AIS401");
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn bodies_that_are_not_json_rpc_are_survived_and_shutdown_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    let stdin = c.stdin.as_mut().unwrap();
    for body in [
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"hover\",",
        "[1,2,3]",
        "null",
    ] {
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    }
    stdin.flush().unwrap();
    // The server says so, and still answers.
    let r = c.request("textDocument/hover", json!({"textDocument": {"uri": uri(&dir.path().join("x.yml"))}, "position": {"line": 0, "character": 0}}));
    assert_eq!(r, Value::Null);
    let logs = c
        .backlog
        .iter()
        .filter(|m| m["method"] == "window/logMessage")
        .count();
    assert_eq!(logs, 3);
    // After `shutdown`, requests are refused until `exit`.
    let r = c.request_raw("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null);
    let r = c.request_raw("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32600);
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}
