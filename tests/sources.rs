//! Source packs: every built-in pack is valid against the schema; each pack's raw-shaped
//! fixtures normalise to the events written down beside them; and every library rule that
//! can run on a pack gives, on its test events written in the pack's raw shape, the verdict
//! the rule's tests expect.

use aisigma::engine::matcher::Matcher;
use aisigma::semantics::check::{Options, check_files};
use aisigma::semantics::schema::Schema;
use aisigma::source::normalize::Normalizer;
use aisigma::source::pack::{CategoryRule, Format, Pack, Spec};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn builtin_packs_are_valid() {
    let schema = Schema::builtin();
    let packs = aisigma::source::all();
    let names: Vec<&str> = packs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "aisigma",
            "aws-bedrock-invocation",
            "aws-cloudtrail",
            "azure-apim-llm",
            "azure-openai-diagnostics",
            "gcp-vertex-audit",
            "litellm",
            "ocsf",
            "openai-audit",
            "otel-genai"
        ]
    );
    for (name, _) in aisigma::source::BUILTIN {
        let file = root().join(format!("backends/sources/{name}.yaml"));
        assert!(file.is_file(), "{name}: backends/sources/{name}.yaml");
    }
    for p in &packs {
        assert!(
            p.problems(&schema).is_empty(),
            "{}: {:?}",
            p.name,
            p.problems(&schema)
        );
        assert!(!p.references.is_empty(), "{}: no references", p.name);
        assert!(!p.description.is_empty(), "{}: no description", p.name);
        // Every landing names a place for each category it lists, and something to read.
        for (t, m) in &p.targets {
            assert!(!m.logsources.is_empty(), "{}/{t}: no logsources", p.name);
            assert!(
                !m.fields.is_empty() || m.identity.is_some(),
                "{}/{t}: no fields",
                p.name
            );
        }
        if p.name != aisigma::source::DEFAULT {
            assert!(!p.fields.is_empty() || p.record.identity, "{}", p.name);
        }
    }
}

/// A pack's records read from `tests/fixtures/sources/NAME/records.jsonl` give the events
/// of `expected.jsonl`, in order.
#[test]
fn fixtures_normalise_to_the_expected_events() {
    let schema = Schema::builtin();
    let mut checked = 0;
    for pack in aisigma::source::all() {
        if pack.name == aisigma::source::DEFAULT {
            continue;
        }
        let dir = root().join("tests/fixtures/sources").join(&pack.name);
        let records = std::fs::read_to_string(dir.join("records.jsonl"))
            .unwrap_or_else(|e| panic!("{}: records.jsonl: {e}", pack.name));
        let expected: Vec<Value> = std::fs::read_to_string(dir.join("expected.jsonl"))
            .unwrap_or_else(|e| panic!("{}: expected.jsonl: {e}", pack.name))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("expected.jsonl is JSON"))
            .collect();
        assert!(dir.join("README.md").is_file(), "{}: README.md", pack.name);
        let name = pack.name.clone();
        let n = Normalizer::new(pack, &schema);
        let mut got = Vec::new();
        for (i, line) in records.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let events = n
                .events(line.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: record line {}: {e}", i + 1));
            got.extend(events.into_iter().map(Value::Object));
        }
        assert_eq!(got.len(), expected.len(), "{name}: number of events");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "{name}: event {} differs", i + 1);
        }
        checked += got.len();
    }
    assert!(checked >= 27, "{checked} fixture events");
}

/// Where an event value goes in a raw record: the first path of a plain field entry, with
/// the raw value a `map` gives it (or, for its `default`, any other value); `Some(None)` when
/// nothing is to be written (the entry's `missing` value); `None` if the entry cannot be
/// inverted (a constant, JSON inside a string, a `where` selection).
#[allow(clippy::type_complexity)]
fn inverse<'a>(spec: &'a Spec, value: &Value) -> Option<Option<(&'a str, Value)>> {
    match spec {
        Spec::All(items) => items.iter().find_map(|s| inverse(s, value)),
        Spec::Values {
            paths,
            json: false,
            filter,
            then: None,
            map,
            default,
            missing,
            ..
        } if filter.is_empty() => {
            if missing.as_ref() == Some(value) {
                return Some(None);
            }
            let raw = match map {
                None => value.clone(),
                Some(m) => {
                    let values: Vec<&Value> = match value {
                        Value::Array(a) => a.iter().collect(),
                        v => vec![v],
                    };
                    let mut out = Vec::new();
                    for v in values {
                        match m.iter().find(|(_, to)| *to == v) {
                            Some((k, _)) => out.push(Value::String(k.clone())),
                            None if default.as_ref() == Some(v) => {
                                out.push(Value::String("aisigma-test-value".into()))
                            }
                            None => return None,
                        }
                    }
                    if out.len() == 1 {
                        out.pop()?
                    } else {
                        Value::Array(out)
                    }
                }
            };
            Some(Some((paths.first()?.as_str(), raw)))
        }
        _ => None,
    }
}

/// Set `value` at a dotted path, `*` as a one-element array.
fn put(target: &mut Value, path: &str, value: Value) {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = target;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if *seg == "*" {
            if last {
                *cur = match value {
                    Value::Array(a) => Value::Array(a),
                    v => json!([v]),
                };
                return;
            }
            if !cur.is_array() {
                *cur = json!([{}]);
            }
            cur = &mut cur.as_array_mut().expect("array")[0];
            continue;
        }
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("object");
        if last {
            obj.insert(seg.to_string(), value);
            return;
        }
        cur = obj
            .entry(seg.to_string())
            .or_insert(Value::Object(Map::new()));
    }
}

/// The leaves of a test event, by dotted name (events are written flat or nested).
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(x, &name, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// A test event in the pack's raw shape, or `None` if one of its fields cannot be written
/// there (not carried, or not invertible).
fn raw_record(pack: &Pack, event: &Value, category: &str) -> Option<Value> {
    let mut raw = Value::Object(Map::new());
    let mut fields = Vec::new();
    leaves(event, "", &mut fields);
    // Plain entries first: a value derived by a `map` from a raw value that a plain entry
    // already wrote (`ai.audit.operation_class` from `eventName`) is left to the plain one.
    let mut written: Vec<&str> = Vec::new();
    let mut todo: Vec<(&Spec, Value, bool)> = Vec::new();
    for (name, value) in fields {
        if name == "ai.category" {
            continue;
        }
        let spec = &pack.fields.iter().find(|(f, _)| *f == name)?.1;
        if let Spec::Const(c) = spec {
            if *c != value {
                return None;
            }
            continue;
        }
        let mapped = matches!(spec, Spec::Values { map: Some(_), .. });
        todo.push((spec, value, mapped));
    }
    todo.sort_by_key(|(_, _, mapped)| *mapped);
    for (spec, value, _) in todo {
        let Some((path, v)) = inverse(spec, &value)? else {
            continue;
        };
        if written.contains(&path) {
            continue;
        }
        written.push(path);
        put(&mut raw, path, v);
    }
    match &pack.record.category {
        CategoryRule::Const(c) if c == category => {}
        // The fields already gave the category's raw value (checked by the caller).
        CategoryRule::Path { path, .. } if written.contains(&path.as_str()) => {}
        CategoryRule::Path { path, map, default } => {
            match map.iter().find(|(_, c)| *c == category) {
                Some((k, _)) => put(&mut raw, &path_text(path), Value::String(k.clone())),
                None if map.is_empty() => put(
                    &mut raw,
                    &path_text(path),
                    Value::String(category.to_string()),
                ),
                None if default.as_deref() == Some(category) => {}
                None => return None,
            }
        }
        _ => return None,
    }
    Some(raw)
}

fn path_text(p: &aisigma::source::path::Path) -> String {
    p.as_str().to_string()
}

#[test]
fn library_rules_give_their_verdicts_on_raw_shaped_events() {
    let schema = Schema::builtin();
    let files = aisigma::syntax::load::collect_files(&[root().join("rules")]).unwrap();
    let results = check_files(&files, &schema, &Options::default());
    let mut total = 0;
    let mut per_pack = Vec::new();
    for pack in aisigma::source::all() {
        if pack.name == aisigma::source::DEFAULT || pack.record.format != Format::Json {
            continue;
        }
        let norm = Normalizer::new(pack.clone(), &schema);
        let mut cases = 0;
        let mut rules = 0;
        for r in &results {
            for cd in &r.docs {
                let (Some(expr), Some(cat)) = (&cd.expr, cd.doc.category()) else {
                    continue;
                };
                if !pack.categories.iter().any(|c| c == cat) {
                    continue;
                }
                let matcher = Matcher::new(expr).expect("library rules evaluate");
                let mut any = false;
                for case in cd.doc.tests.as_deref().unwrap_or_default() {
                    let Some(raw) = raw_record(&pack, &case.event, cat) else {
                        continue;
                    };
                    let line = serde_json::to_vec(&raw).unwrap();
                    let events = norm.events(&line).unwrap();
                    assert_eq!(events.len(), 1, "{}: {raw}", pack.name);
                    if events[0].get("ai.category").and_then(Value::as_str) != Some(cat) {
                        continue;
                    }
                    // Only events the raw shape holds faithfully: every test field back with
                    // its value.
                    let mut want = Vec::new();
                    leaves(&case.event, "", &mut want);
                    let faithful = want.iter().all(|(k, v)| {
                        k == "ai.category"
                            || events[0].get(k).is_some_and(|g| {
                                g == v || g.to_string().eq_ignore_ascii_case(&v.to_string())
                            })
                    });
                    if !faithful {
                        continue;
                    }
                    let got = matcher.matches(&Value::Object(events[0].clone()));
                    assert_eq!(
                        got,
                        case.expect_match,
                        "{}: rule `{}` on the raw record {raw}\nnormalised to {}",
                        pack.name,
                        cd.doc.label(),
                        Value::Object(events[0].clone())
                    );
                    cases += 1;
                    any = true;
                }
                rules += usize::from(any);
            }
        }
        per_pack.push(format!("{}: {rules} rules, {cases} cases", pack.name));
        total += cases;
    }
    eprintln!("{}", per_pack.join("\n"));
    assert!(
        total >= 20,
        "only {total} cases ran on raw-shaped events:\n{}",
        per_pack.join("\n")
    );
}

#[test]
fn paths_of_fixture_dirs_match_packs() {
    let dir = root().join("tests/fixtures/sources");
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            aisigma::source::builtin(&name).is_some(),
            "tests/fixtures/sources/{name} has no pack"
        );
    }
}

fn aisigma(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A rule on the current name matches an event with the deprecated one, and the other way
/// round, in `test` and in `scan`; an event with both reads the rule's own name.
#[test]
fn deprecated_names_resolve_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |field: &str, tests: &str| {
        format!(
            "title: Provider {field}\nid: 6f1c2b0e-7d4a-4a51-9a53-0b8f7f0c{}\nstatus: test\n\
             level: low\ndate: 2026-12-03\nlogsource: {{product: ai, category: llm_inference}}\n\
             detection:\n    sel:\n        {field}: openai\n    condition: sel\n{tests}",
            if field.contains("provider") {
                "1111"
            } else {
                "2222"
            }
        )
    };
    let tests = "tests:\n    match:\n        - {ai.category: llm_inference, gen_ai.system: openai}\n        - {ai.category: llm_inference, gen_ai.provider.name: openai}\n    no_match:\n        - {ai.category: llm_inference, gen_ai.provider.name: anthropic, gen_ai.system: openai}\n";
    let current = dir.path().join("current.yml");
    std::fs::write(&current, rule("gen_ai.provider.name", tests)).unwrap();
    let (code, out, err) = aisigma(&["test", current.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    let events = "{\"ai.category\":\"llm_inference\",\"gen_ai.system\":\"openai\"}\n\
                  {\"ai.category\":\"llm_inference\",\"gen_ai.provider.name\":\"openai\"}\n\
                  {\"ai.category\":\"llm_inference\",\"gen_ai.provider.name\":\"x\",\"gen_ai.system\":\"openai\"}\n";
    let (code, out, _) = aisigma(
        &["scan", "--rules", current.to_str().unwrap(), "--no-summary"],
        events,
    );
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "{out}");
    let old = dir.path().join("old.yml");
    std::fs::write(&old, rule("gen_ai.system", "")).unwrap();
    let (_, out, _) = aisigma(
        &["scan", "--rules", old.to_str().unwrap(), "--no-summary"],
        events,
    );
    // The third event has the deprecated name itself: the old rule reads it.
    assert_eq!(out.lines().count(), 3, "{out}");
}

/// The library compiled for every source pack and target: each rule's query, or why it does
/// not run there (insta snapshot per pack, reviewed by hand). The default pack is the
/// backend snapshots' business.
#[test]
fn library_queries_per_source() {
    use aisigma::backend::compile::{
        Options as CompileOptions, compile_correlation_with, compile_with,
    };
    use aisigma::backend::target::Target;
    use aisigma::syntax::ast::Body;
    let schema = Schema::builtin();
    let mut files = aisigma::syntax::load::collect_files(&[PathBuf::from("rules")]).unwrap();
    files.sort();
    let results = check_files(&files, &schema, &Options::default());
    for pack in aisigma::source::all() {
        if pack.name == aisigma::source::DEFAULT {
            continue;
        }
        let mut out = String::new();
        for t in Target::ALL {
            let Some(m) = aisigma::source::mapping(&pack, t) else {
                out.push_str(&format!("# {}: no landing\n\n", t.name()));
                continue;
            };
            let mut compiled = 0;
            let mut body = String::new();
            for (fi, r) in results.iter().enumerate() {
                for (di, cd) in r.docs.iter().enumerate() {
                    let res = match (&cd.doc.body, &cd.expr) {
                        (Some(Body::Correlation(_)), _) => compile_correlation_with(
                            &results,
                            (fi, di),
                            t,
                            &m,
                            &schema,
                            &CompileOptions::default(),
                        ),
                        (_, Some(e)) => {
                            compile_with(&cd.doc, e, t, &m, &schema, &CompileOptions::default())
                        }
                        _ => continue,
                    };
                    // Rules of other categories are left out: one line says how many.
                    match res {
                        Ok(c) => {
                            compiled += 1;
                            body.push_str(&format!("{}\n{}\n\n", r.path, c.query));
                        }
                        Err(d) => {
                            let d = &d[0];
                            if d.message.contains(" carries no ") {
                                continue;
                            }
                            body.push_str(&format!(
                                "{}\nrefused [{}]: {}\n\n",
                                r.path, d.code, d.message
                            ));
                        }
                    }
                }
            }
            out.push_str(&format!("# {}: {compiled} compiled\n\n{body}", t.name()));
        }
        insta::assert_snapshot!(format!("source_{}", pack.name.replace('-', "_")), out);
    }
}

/// `{"a.b": 1}` -> `{"a": {"b": 1}}`, as an Elastic document's `_source`; `None` if a key
/// is both a value and a parent.
fn nest(flat: &Map<String, Value>) -> Option<Value> {
    let mut out = Map::new();
    let mut keys: Vec<&String> = flat.keys().collect();
    keys.sort_by_key(|k| k.matches('.').count());
    for k in keys {
        let parts: Vec<&str> = k.split('.').collect();
        let mut cur = &mut out;
        for p in &parts[..parts.len() - 1] {
            let next = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            cur = next.as_object_mut()?;
        }
        let last = parts[parts.len() - 1];
        if cur.contains_key(last) {
            return None;
        }
        cur.insert(last.to_string(), flat[k].clone());
    }
    Some(Value::Object(out))
}

/// The library's rules compiled for each source with an Elastic landing, and events in the
/// integration's shape (the rules' test events and the pack's fixture events, renamed to
/// the integration's fields), with the engine's verdicts: written for the EQL and Lucene
/// oracles (`AISIGMA_EQL_DIFF`.sources, `AISIGMA_LUCENE_DIFF`/sources.jsonl), which run them
/// on Elastic's eql engine and on Lucene with the integration's field types.
#[test]
fn elastic_source_cases_for_the_oracles() {
    use aisigma::backend::compile::compile;
    use aisigma::backend::target::Target;
    let schema = Schema::builtin();
    let files = aisigma::syntax::load::collect_files(&[root().join("rules")]).unwrap();
    let results = check_files(&files, &schema, &Options::default());
    let (mut eql_out, mut lucene_out) = (String::new(), String::new());
    let (mut eql_cases, mut lucene_cases) = (0, 0);
    for pack in aisigma::source::all() {
        if pack.name == aisigma::source::DEFAULT {
            continue;
        }
        // Schema events: the pack's fixture events and the rules' test events.
        let mut events: Vec<Map<String, Value>> = Vec::new();
        let dir = root().join("tests/fixtures/sources").join(&pack.name);
        if let Ok(text) = std::fs::read_to_string(dir.join("expected.jsonl")) {
            for l in text.lines().filter(|l| !l.trim().is_empty()) {
                if let Ok(Value::Object(m)) = serde_json::from_str(l) {
                    events.push(m);
                }
            }
        }
        for r in &results {
            for cd in &r.docs {
                if cd
                    .doc
                    .category()
                    .is_some_and(|c| pack.categories.iter().any(|x| x == c))
                {
                    for case in cd.doc.tests.as_deref().unwrap_or_default() {
                        let mut flat = Vec::new();
                        leaves(&case.event, "", &mut flat);
                        events.push(flat.into_iter().collect());
                    }
                }
            }
        }
        for target in [Target::Eql, Target::Lucene] {
            let Some(m) = aisigma::source::mapping(&pack, target) else {
                continue;
            };
            // Each event as the source holds it: only the fields it carries, under its names.
            let shaped: Vec<(Map<String, Value>, Map<String, Value>)> = events
                .iter()
                .filter_map(|e| {
                    let mut kept = Map::new();
                    let mut renamed = Map::new();
                    let mut clash = false;
                    for (k, v) in e {
                        if let Some(name) = m.field(k) {
                            kept.insert(k.clone(), v.clone());
                            // Two schema fields on one target field (the prompt text and the
                            // messages it is taken from): the event has no single shape there.
                            let name = name.into_owned();
                            clash |= renamed.get(&name).is_some_and(|old| old != v);
                            renamed.insert(name, v.clone());
                        }
                    }
                    if clash {
                        return None;
                    }
                    // What every event of the source holds, and the landing's filter.
                    for (k, v) in &m.constants {
                        kept.insert(k.clone(), v.clone());
                    }
                    for (k, v) in &m.filter {
                        renamed.insert(k.clone(), Value::String(v.clone()));
                    }
                    Some((kept, renamed))
                })
                .collect();
            for r in &results {
                for cd in &r.docs {
                    let Some(expr) = &cd.expr else { continue };
                    let Ok(c) = compile(&cd.doc, expr, target, &m, &schema) else {
                        continue;
                    };
                    let matcher = Matcher::new(expr).unwrap();
                    let (mut evs, mut expect) = (Vec::new(), Vec::new());
                    for (kept, renamed) in &shaped {
                        let verdict = matcher.matches(&Value::Object(kept.clone()));
                        if target == Target::Eql {
                            // eql's Python engine does not model multi-valued fields (in
                            // Elasticsearch a test on an array holds if any value passes).
                            if renamed.values().any(Value::is_array) {
                                continue;
                            }
                            let Some(nested) = nest(renamed) else {
                                continue;
                            };
                            eql_out.push_str(
                                &json!({"query": c.query, "event": nested, "verdict": verdict,
                                        "rule": format!("{} ({})", r.path, pack.name)})
                                .to_string(),
                            );
                            eql_out.push('\n');
                            eql_cases += 1;
                        } else {
                            evs.push(Value::Object(renamed.clone()));
                            expect.push(verdict);
                        }
                    }
                    if target == Target::Lucene && !evs.is_empty() {
                        lucene_cases += evs.len();
                        // The oracle's field types (others, such as date or flattened, are
                        // not read by these rules and stay keyword there).
                        let types: Map<String, Value> = m
                            .types
                            .iter()
                            .filter(|(_, v)| {
                                matches!(
                                    v.as_str(),
                                    "ip" | "long" | "integer" | "double" | "float" | "boolean"
                                )
                            })
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect();
                        lucene_out.push_str(
                            &json!({"id": format!("{} ({})", r.path, pack.name),
                                    "query": c.query, "events": evs, "expect": expect,
                                    "types": types})
                            .to_string(),
                        );
                        lucene_out.push('\n');
                    }
                }
            }
        }
    }
    eprintln!("eql cases: {eql_cases}, lucene cases: {lucene_cases}");
    assert!(
        eql_cases > 100 && lucene_cases > 100,
        "eql {eql_cases}, lucene {lucene_cases}"
    );
    if let Ok(path) = std::env::var("AISIGMA_EQL_DIFF") {
        std::fs::write(format!("{path}.sources"), eql_out).unwrap();
    }
    if let Ok(dir) = std::env::var("AISIGMA_LUCENE_DIFF") {
        std::fs::write(PathBuf::from(dir).join("sources.jsonl"), lucene_out).unwrap();
    }
}

/// Every column a pack names on Sentinel is a column of the tables it reads, and every field
/// it names on Elastic is in the integration's field list, with the type the pack declares
/// where the type changes the query (`ip`, `text`): checked against the schemas written from
/// the vendors' references (tests/conformance/kql/sentinel_tables.json,
/// tests/conformance/esql/integration_fields.json), not from the packs.
#[test]
fn landings_name_real_columns_and_fields() {
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(p)).unwrap()).unwrap()
    };
    let tables = read("tests/conformance/kql/sentinel_tables.json");
    let indices = read("tests/conformance/esql/integration_fields.json");
    let mut problems = Vec::new();
    let mut checked = 0;
    for pack in aisigma::source::all() {
        if pack.name == aisigma::source::DEFAULT {
            continue;
        }
        if let Some(m) = pack.targets.get("kql") {
            for settings in m.logsources.values() {
                let table = &settings["table"];
                let Some(cols) = tables.get(table).and_then(Value::as_object) else {
                    problems.push(format!(
                        "{}: table {table} is not in sentinel_tables.json",
                        pack.name
                    ));
                    continue;
                };
                for col in m.fields.values().chain(m.filter.keys()) {
                    checked += 1;
                    if !cols.contains_key(col) {
                        problems.push(format!("{}: {table} has no column {col}", pack.name));
                    }
                }
            }
        }
        for t in ["eql", "lucene", "esql"] {
            let Some(m) = pack.targets.get(t) else {
                continue;
            };
            for settings in m.logsources.values() {
                // A landing on several index patterns (`a,b`) has the fields of any of them.
                let mut fields = Map::new();
                let mut passthrough: Vec<String> = Vec::new();
                for index in settings["index"].split(',') {
                    let Some(listed) = indices.get(index).and_then(Value::as_object) else {
                        problems.push(format!(
                            "{}: index {index} is not in integration_fields.json",
                            pack.name
                        ));
                        continue;
                    };
                    for (k, v) in listed {
                        if v.as_str() == Some("passthrough") {
                            passthrough.push(k.trim_end_matches('*').to_string());
                        } else {
                            fields.insert(k.clone(), v.clone());
                        }
                    }
                }
                let index = &settings["index"];
                for f in m.fields.values().chain(m.filter.keys()) {
                    checked += 1;
                    let declared = m.types.get(f).map_or("keyword", String::as_str);
                    match fields.get(f).and_then(Value::as_str) {
                        None if passthrough.iter().any(|p| f.starts_with(p.as_str())) => {}
                        None => {
                            problems.push(format!("{}/{t}: {index} has no field {f}", pack.name))
                        }
                        Some(real) => {
                            let text = |x: &str| matches!(x, "text" | "match_only_text");
                            if (real == "ip") != (declared == "ip") || text(real) != text(declared)
                            {
                                problems.push(format!(
                                    "{}/{t}: {index} maps {f} as {real}, the pack says {declared}",
                                    pack.name
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked > 100, "{checked}");
}

/// A test event may be a raw record of a source (`{source, record}`): read as `scan --source`
/// reads it; an unknown source or a record of the wrong shape is an AIS701 on the case.
#[test]
fn tests_take_raw_records_of_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |cases: &str| {
        format!(
            "title: Raw\nid: 1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d\nstatus: test\nlevel: low\n\
             date: 2026-12-03\nlogsource: {{product: ai, category: ai_access_audit}}\n\
             detection:\n    sel:\n        event.action: DeleteGuardrail\n    condition: sel\n\
             tests:\n{cases}"
        )
    };
    let good = "    match:\n        - source: aws-cloudtrail\n          record: {Records: [{eventSource: bedrock.amazonaws.com, eventName: ListGuardrails}, {eventSource: bedrock.amazonaws.com, eventName: DeleteGuardrail}]}\n    no_match:\n        - source: aws-cloudtrail\n          record: {eventSource: bedrock.amazonaws.com, eventName: CreateGuardrail}\n";
    let f = dir.path().join("good.yml");
    std::fs::write(&f, rule(good)).unwrap();
    let (code, out, err) = aisigma(&["test", f.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASS"), "{out}");
    let bad = "    match:\n        - source: aws-cloudtral\n          record: {eventName: DeleteGuardrail}\n        - source: otel-genai\n          record: {eventName: DeleteGuardrail}\n";
    let f = dir.path().join("bad.yml");
    std::fs::write(&f, rule(bad)).unwrap();
    let (code, out, err) = aisigma(&["test", f.to_str().unwrap()], "");
    assert_eq!(code, 1, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("AIS701"), "{all}");
    assert!(
        all.contains("unknown source `aws-cloudtral`: did you mean `aws-cloudtrail`?"),
        "{all}"
    );
    assert!(all.contains("not a `otel-genai` record"), "{all}");
}

/// `scan --source` normalises raw lines in parallel chunks: matches come out in input order,
/// with each raw line's number, and a line not of the source's shape is reported where it is.
#[test]
fn scan_source_keeps_order_and_line_numbers_across_chunks() {
    let record = std::fs::read_to_string(
        root().join("tests/fixtures/sources/aws-bedrock-invocation/records.jsonl"),
    )
    .unwrap();
    let attack = record.lines().nth(1).unwrap().to_string();
    let benign = record.lines().next().unwrap().to_string();
    let mut input = String::new();
    for i in 1..=5000 {
        match i {
            2500 => input.push_str("{\"not\": \"json\""),
            _ if i % 1000 == 7 => input.push_str(&attack),
            _ => input.push_str(&benign),
        }
        input.push('\n');
    }
    let (code, out, err) = aisigma(
        &[
            "scan",
            "--source",
            "aws-bedrock-invocation",
            "--rules",
            "rules/llm_inference/prompt_injection_override_phrase.yml",
            "--no-summary",
        ],
        &input,
    );
    assert_eq!(code, 1, "{err}");
    let lines: Vec<u64> = out
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["line"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(lines, vec![7, 1007, 2007, 3007, 4007], "{out}");
    assert!(
        err.contains("<stdin>:2500: malformed line skipped: not a `aws-bedrock-invocation` record"),
        "{err}"
    );
}

/// A rule written with a deprecated field name compiles for a source as `scan --source` reads
/// it: the pack's constant or field under the current name counts for the old one.
#[test]
fn deprecated_names_compile_like_scan_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("alias.yml");
    std::fs::write(
        &rule,
        "title: Alias\nid: 3e2d1c0b-4a5f-4e6d-8c7b-9a0b1c2d3e4f\nstatus: test\nlevel: low\n\
         date: 2026-12-03\nlogsource: {product: ai, category: llm_inference}\ndetection:\n\
         \x20   a:\n        gen_ai.request.model: nothing-such\n\
         \x20   b:\n        gen_ai.system: aws.bedrock\n\
         \x20   c:\n        gen_ai.usage.prompt_tokens|gt: 1000\n\
         \x20   condition: a or (b and c)\n",
    )
    .unwrap();
    let (code, out, err) = aisigma(
        &[
            "compile",
            rule.to_str().unwrap(),
            "--target",
            "esql",
            "--source",
            "aws-bedrock-invocation",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    // gen_ai.system is the constant aws.bedrock; the old token name is the current one's field.
    assert!(out.contains("gen_ai.usage.prompt_tokens > 1000"), "{out}");
    assert!(!err.contains("AIS805"), "{err}");
}
