//! The source layout's rules (README, "Project layout"): no two modules import each other,
//! directly or through others, and `main.rs` only parses arguments and dispatches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, by module path (`semantics::check`); `lib.rs` is the root
/// (an empty path) and the binary's files are under `<bin>`.
fn modules() -> BTreeMap<Vec<String>, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(&root) {
        let e = e.expect("src is readable");
        let p = e.path();
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = p.strip_prefix(&root).expect("under src").with_extension("");
        let mut segs: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if segs.last().is_some_and(|s| s == "mod") {
            segs.pop();
        }
        match segs.first().map(String::as_str) {
            Some("lib") => segs.clear(),
            Some("main") | Some("cli") => segs.insert(0, "<bin>".into()),
            _ => {}
        }
        if segs.first().is_some_and(|s| s == "<bin>") && segs.get(1).is_some_and(|s| s == "main") {
            segs.truncate(1);
        }
        out.insert(segs, p.to_path_buf());
    }
    out
}

/// The modules a file refers to: `crate::a::b`, `aisigma::a::b`, `super::x`, and the names in
/// `use …::{x, y}` groups, each resolved to the longest module path that exists.
fn imports(
    me: &[String],
    text: &str,
    mods: &BTreeMap<Vec<String>, PathBuf>,
) -> BTreeSet<Vec<String>> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let in_bin = me.first().is_some_and(|s| s == "<bin>");
    let resolve = |path: Vec<String>| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|p| mods.contains_key(p))
    };
    let base = |kind: &str| -> Vec<String> {
        match kind {
            "super" => me[..me.len().saturating_sub(1)].to_vec(),
            "crate" if in_bin => vec!["<bin>".to_string()],
            _ => Vec::new(),
        }
    };
    let mut out = BTreeSet::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for kind in ["crate", "super", "aisigma"] {
        let pat = format!("{kind}::");
        let mut at = 0;
        while let Some(i) = code[at..].find(&pat) {
            let start = at + i;
            at = start + pat.len();
            if code[..start].chars().next_back().is_some_and(ident) {
                continue;
            }
            let rest = &code[at..];
            let mut path = base(kind);
            let mut tail = rest;
            loop {
                let name: String = tail.chars().take_while(|&c| ident(c)).collect();
                if name.is_empty() {
                    break;
                }
                path.push(name.clone());
                tail = &tail[name.len()..];
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => break,
                }
            }
            if let Some(group) = tail.strip_prefix('{') {
                for item in group.split('}').next().unwrap_or("").split(',') {
                    let name: String = item.trim().chars().take_while(|&c| ident(c)).collect();
                    if !name.is_empty() && name != "self" {
                        let mut p = path.clone();
                        p.push(name);
                        out.extend(resolve(p));
                    }
                }
            }
            out.extend(resolve(path));
        }
    }
    out.retain(|m| m.as_slice() != me && !m.is_empty() && m.as_slice() != ["<bin>"]);
    out
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mods = modules();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, p) in &mods {
        let text = std::fs::read_to_string(p).expect("readable");
        edges.insert(m.clone(), imports(m, &text, &mods));
    }
    // Any cycle, however long: a module must not reach itself.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<String>> = edges[start].iter().cloned().collect();
        while let Some(m) = stack.pop() {
            if &m == start {
                cycles.push(start.join("::"));
                break;
            }
            if seen.insert(m.clone()) {
                stack.extend(edges.get(&m).into_iter().flatten().cloned());
            }
        }
    }
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:?}");
    // The check sees imports at all (a broken scanner would pass vacuously).
    let check = vec!["semantics".to_string(), "check".to_string()];
    assert!(edges[&check].contains(&vec!["semantics".to_string(), "lower".to_string()]));
}

#[test]
fn main_only_parses_and_dispatches() {
    let main = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs"))
        .expect("readable");
    let lines = main.lines().count();
    assert!(lines < 150, "src/main.rs has {lines} lines");
}
