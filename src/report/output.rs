//! Writing output files atomically: a temporary file in the same directory, then a rename,
//! so a reader never sees a partial file and a failure leaves the old file in place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary files being written now, removed if the process is interrupted.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove every temporary file being written (on SIGINT, SIGTERM or SIGHUP: see
/// [`remove_on_signal`]).
pub fn remove_in_flight() {
    let files = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    for f in files.iter() {
        let _ = std::fs::remove_file(f);
    }
}

/// Install the handler that removes temporary files when the process is interrupted or
/// terminated, then exits with 130.
pub fn remove_on_signal() {
    let _ = ctrlc::set_handler(|| {
        remove_in_flight();
        std::process::exit(130);
    });
}

/// Remove `.NAME.tmp-PID` files beside `name` in `dir` whose process is gone (a run that was
/// killed with SIGKILL, or a crash). Only where processes can be looked up (`/proc`).
fn remove_stale(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| f.write_all(contents))
}

/// Like [`write_atomic`], for output produced as a stream: `write` fills the temporary file
/// (buffered), which replaces `path` only if it succeeds.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    remove_stale(dir, &name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(tmp.clone());
    let result = (|| {
        let mut f = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|f| f != &tmp);
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn stale_temporary_files_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".out.json.tmp-999999999");
        let live = dir.path().join(".out.json.tmp-1");
        std::fs::write(&stale, b"partial").unwrap();
        std::fs::write(&live, b"being written").unwrap();
        super::write_atomic(&dir.path().join("out.json"), b"{}").unwrap();
        assert!(
            !stale.exists(),
            "a dead process's temporary file is removed"
        );
        assert!(live.exists() || !std::path::Path::new("/proc/self").exists());
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.xml");
        super::write_atomic(&p, b"one").unwrap();
        super::write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }
}
