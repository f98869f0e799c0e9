//! Event sources for `aisigma scan`: files, directories and standard input, as JSON Lines,
//! plain or compressed. Gzip and zstd are recognised by their magic bytes, not by the file
//! name. Lines are read with a length bound, so one enormous line cannot exhaust memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest line kept; longer lines are skipped and reported.
pub const MAX_LINE: usize = 16 << 20;

/// Counts the bytes read from the underlying file (for progress: compressed bytes).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One input: its display name, a line reader, its size on disk (if a file) and a counter of
/// the bytes read from it.
pub struct Source {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    pub size: Option<u64>,
    pub read: Arc<AtomicU64>,
}

/// Wrap a raw stream, decompressing it when it starts with a gzip or zstd magic number.
fn decoded(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buf = BufReader::with_capacity(1 << 16, raw);
    let head = buf.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buf),
        ))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let z = ruzstd::decoding::StreamingDecoder::new(buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Box::new(BufReader::with_capacity(1 << 16, z))
    } else {
        Box::new(buf)
    })
}

/// Open `path` (`-` is standard input).
pub fn open(path: &Path) -> io::Result<Source> {
    let count = Arc::new(AtomicU64::new(0));
    if path == Path::new("-") {
        let raw = Counting {
            inner: io::stdin(),
            count: count.clone(),
        };
        return Ok(Source {
            name: "<stdin>".to_string(),
            reader: decoded(Box::new(raw))?,
            size: None,
            read: count,
        });
    }
    let f = File::open(path)?;
    let size = f.metadata().ok().map(|m| m.len());
    let raw = Counting {
        inner: f,
        count: count.clone(),
    };
    Ok(Source {
        name: crate::syntax::load::display_path(path),
        reader: decoded(Box::new(raw))?,
        size,
        read: count,
    })
}

/// The files to scan: each argument, or the files below a directory (sorted, hidden files and
/// directories skipped).
pub fn expand(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() != "-" && p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                })
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .collect();
            found.sort();
            out.extend(found);
        } else if p.as_os_str() != "-" && !p.exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file or directory", p.display()),
            ));
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Read the next line into `buf` (without its line break). Returns `Ok(None)` at the end,
/// `Ok(Some(true))` for a line, `Ok(Some(false))` for a line longer than [`MAX_LINE`], which
/// is consumed but not kept.
pub fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(if any { Some(!too_long) } else { None });
        }
        any = true;
        let (chunk, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], i + 1),
            None => (avail, avail.len()),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let found = done > chunk.len();
        r.consume(done);
        if found {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(!too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(data: Vec<u8>) -> Vec<String> {
        let mut r = decoded(Box::new(io::Cursor::new(data))).unwrap();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(ok) = read_line(r.as_mut(), &mut buf).unwrap() {
            assert!(ok);
            out.push(String::from_utf8(buf.clone()).unwrap());
        }
        out
    }

    #[test]
    fn plain_gzip_and_zstd_by_magic() {
        let text = b"{\"a\":1}\r\n{\"b\":2}\n\n{\"c\":3}".to_vec();
        let want = vec!["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"];
        assert_eq!(lines(text.clone()), want);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        assert_eq!(lines(gz.finish().unwrap()), want);
        // A zstd frame (compressed with `zstd -1`) of the same text.
        let zst: &[u8] = include_bytes!("../../tests/fixtures/scan/lines.jsonl.zst");
        assert_eq!(lines(zst.to_vec()), want);
    }
}
