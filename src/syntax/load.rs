//! Loading: find rule files, read them safely, and parse them into documents.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::syntax::ast::Doc;
use crate::syntax::rule_parser;
use crate::syntax::source::SourceFile;
use crate::syntax::span::Span;
use crate::syntax::yaml;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default largest rule file read (a rule is a few KB; this leaves ample room).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// Expand the user's paths into a sorted, de-duplicated list of files. Directories are walked
/// for `*.yml` / `*.yaml` (hidden directories skipped); files given explicitly are always taken.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(p)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_str().is_some_and(|n| n.starts_with('.'))
                });
            for entry in walker {
                let entry = match entry {
                    Ok(e) => e,
                    // A dangling link or a link loop: keep the path, so that reading it
                    // reports the problem for that file (AIS001) and the rest is still checked.
                    Err(e) => {
                        out.push(e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone()));
                        continue;
                    }
                };
                let is_yaml = entry
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x == "yml" || x == "yaml");
                if entry.file_type().is_file() && is_yaml {
                    out.push(entry.into_path());
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    // The same file reached twice (`check . rules/x.yml`) is checked once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(file_identity(p)));
    Ok(out)
}

/// What makes two paths the same file: on Unix its device and inode (one `stat`, where
/// resolving the whole path reads every link on the way: a tenth of loading the SigmaHQ
/// corpus), elsewhere the resolved path. A path that cannot be read is its own identity.
#[derive(Hash, PartialEq, Eq)]
enum FileIdentity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn file_identity(p: &Path) -> FileIdentity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(p) {
            return FileIdentity::Inode(m.dev(), m.ino());
        }
    }
    FileIdentity::Path(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// Display form of a path: forward slashes, no leading `./`.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn position_of_byte(bytes: &[u8], idx: usize) -> Span {
    let before = &bytes[..idx.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Span::point(line as u32, col as u32)
}

fn too_large(size: u64, max_size: u64) -> Diagnostic {
    Diagnostic::new(
        Code::FileTooLarge,
        Span::file_start(),
        format!("file is {size} bytes, more than the {max_size}-byte limit for a rule file"),
    )
    .with_help(
        "rule files are small; if this one is genuine, raise the limit with `--max-file-size`",
    )
}

/// Read a file as UTF-8 text, refusing oversized, binary and non-UTF-8 input.
pub fn read_source(path: &Path, max_size: u64) -> Result<Arc<SourceFile>, Diagnostic> {
    let shown = display_path(path);
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::new(
            Code::IoError,
            Span::file_start(),
            format!("cannot read {shown}: {e}"),
        )
    })?;
    if !meta.is_file() {
        return Err(Diagnostic::new(
            Code::IoError,
            Span::file_start(),
            format!("cannot read {shown}: not a regular file"),
        ));
    }
    if meta.len() > max_size {
        return Err(too_large(meta.len(), max_size));
    }
    // Read at most one byte past the limit: the file may have grown since `metadata`.
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(max_size + 1).read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        return Err(Diagnostic::new(
            Code::IoError,
            Span::file_start(),
            format!("cannot read {shown}: {e}"),
        ));
    }
    if bytes.len() as u64 > max_size {
        // The file grew since `metadata`: only a limit's worth of it was read.
        return Err(Diagnostic::new(
            Code::FileTooLarge,
            Span::file_start(),
            format!("file is more than the {max_size}-byte limit for a rule file"),
        ));
    }
    source_from_bytes(shown, bytes, max_size)
}

/// A rule file's bytes already in memory (an editor's buffer), with the checks of
/// [`read_source`]: the size limit, NUL bytes, a byte-order mark, UTF-8.
pub fn source_from_bytes(
    shown: String,
    bytes: Vec<u8>,
    max_size: u64,
) -> Result<Arc<SourceFile>, Diagnostic> {
    if bytes.len() as u64 > max_size {
        return Err(too_large(bytes.len() as u64, max_size));
    }
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        return Err(Diagnostic::new(
            Code::BinaryFile,
            position_of_byte(&bytes, nul),
            "file contains a NUL byte: it is binary, not a YAML rule",
        ));
    }
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(shown, text)),
        Err(e) => {
            let idx = e.utf8_error().valid_up_to();
            Err(Diagnostic::new(
                Code::NotUtf8,
                position_of_byte(e.as_bytes(), idx),
                format!("invalid UTF-8 at byte {idx}"),
            )
            .with_help("save the file as UTF-8"))
        }
    }
}

/// Parse a source into documents (empty documents are skipped).
pub fn parse_source(src: &SourceFile, diags: &mut Diagnostics) -> Vec<Doc> {
    if src.text.trim().is_empty() {
        diags.push(Diagnostic::new(
            Code::EmptyFile,
            Span::file_start(),
            "file is empty: it holds no rule",
        ));
        return Vec::new();
    }
    let docs = match yaml::parse(&src.text) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return Vec::new();
        }
    };
    // A legacy collection (`action: global` ...) gives its documents no standalone meaning:
    // report it once and read nothing else from the file.
    if let Some(action) = docs.iter().find_map(|d| d.root.get("action")) {
        diags.push(
            Diagnostic::new(Code::LegacyCollection, action.span, format!("legacy `action: {}` collections are not supported", action.raw))
                .with_help("split the collection into standalone rule documents (SigmaHQ converted all of its rules this way)"),
        );
        return Vec::new();
    }
    let parsed: Vec<Doc> = docs
        .iter()
        .filter_map(|d| rule_parser::parse_doc(&d.root, diags))
        .collect();
    if parsed.is_empty() && diags.items.is_empty() {
        diags.push(Diagnostic::new(
            Code::EmptyFile,
            Span::file_start(),
            "file holds no YAML document with content",
        ));
    }
    parsed
}
