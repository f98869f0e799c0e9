//! The engine's regexes, compiled once per process when a command asks for it.
//!
//! `scan` checks its rules (which compiles every regex to report the ones that do not
//! compile) and then compiles the same regexes again for its matchers: with the SigmaHQ
//! corpus that second compilation was a tenth of loading. After [`keep`], a regex compiled
//! for one is handed to the other. Other commands keep nothing (no memory held for
//! regexes they no longer need).

use regex::{Regex, RegexBuilder};
use rustc_hash::FxHashMap;
use std::sync::Mutex;

use super::translate::REGEX_SIZE_LIMIT;

static KEPT: Mutex<Option<FxHashMap<String, Regex>>> = Mutex::new(None);

/// From now on, keep every regex compiled, for the next that asks for the same source.
pub fn keep() {
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(FxHashMap::default);
}

/// Stop keeping regexes, and drop those kept: the ones still wanted are held by whoever
/// asked for them (a regex that checking compiled for a source the matchers do not ask for,
/// such as a case-insensitive one under the ASCII case contract, is never reused).
pub fn forget() {
    *KEPT.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// `source` compiled with the engine's size limit: the kept regex if there is one.
pub fn regex(source: &str) -> Result<Regex, regex::Error> {
    if let Some(re) = KEPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|k| k.get(source))
    {
        return Ok(re.clone());
    }
    let re = RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()?;
    if let Some(k) = KEPT.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        k.insert(source.to_string(), re.clone());
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_regexes_are_shared_and_errors_are_not_kept() {
        let a = regex("ab+c").unwrap();
        keep();
        let b = regex("ab+c").unwrap();
        let c = regex("ab+c").unwrap();
        assert!(b.is_match("xabbcx") && c.is_match("abc") && a.is_match("abc"));
        assert!(regex("(").is_err());
        assert!(regex("(").is_err());
        assert!(
            regex(r"(?:\p{L}{1000}){100}").is_err(),
            "over the size limit"
        );
        forget();
        assert!(KEPT.lock().unwrap().is_none());
        assert!(regex("ab+c").unwrap().is_match("abc"));
        assert!(KEPT.lock().unwrap().is_none(), "nothing kept after forget");
    }
}
