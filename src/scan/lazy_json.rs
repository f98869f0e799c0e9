//! Decoding only the parts of a JSON event that rules read.
//!
//! A [`Paths`] holds the field paths the loaded rules name. [`decode`] parses a line into a
//! `serde_json::Value` that keeps, of every object, only the keys that can lead to one of the
//! paths, with the engine's resolution of dotted names: a path `a.b.c` is reached through
//! the key `a.b.c`, through `a` then `b.c`, through `a.b` then `c`, and so on, and through
//! arrays on the way. Everything else is skipped by the parser without being allocated (a long
//! prompt in a field no rule reads costs a scan, not a copy). The syntax of the whole line is
//! still checked, so a malformed line is an error whichever fields it holds.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The field paths to keep; `None` keeps everything (keyword searches read every value).
#[derive(Clone, Debug, Default)]
pub struct Paths {
    paths: Option<Vec<String>>,
    /// The keys worth decoding at the top level (every path, and every part of one that
    /// ends before a dot), each with what remains of the paths below it (`""`: the whole
    /// value), in the sorted order of the paths.
    keys: rustc_hash::FxHashMap<String, Vec<String>>,
    /// `lengths[n]`: some key is `n` bytes long (a quick rejection before the search).
    lengths: Vec<bool>,
}

impl Paths {
    pub fn all() -> Paths {
        Paths::default()
    }

    pub fn of(mut paths: Vec<String>) -> Paths {
        paths.sort();
        paths.dedup();
        let mut keys: rustc_hash::FxHashMap<String, Vec<String>> = Default::default();
        for p in &paths {
            for (i, _) in p.match_indices('.') {
                keys.entry(p[..i].to_string())
                    .or_default()
                    .push(p[i + 1..].to_string());
            }
            keys.entry(p.clone()).or_default().push(String::new());
        }
        // Below a key, the suffixes in the order the paths' sort gives: a wanted whole value
        // (`""`) first.
        for below in keys.values_mut() {
            below.sort();
            below.dedup();
        }
        let mut lengths = vec![false; keys.keys().map(String::len).max().unwrap_or(0) + 1];
        for k in keys.keys() {
            lengths[k.len()] = true;
        }
        Paths {
            paths: Some(paths),
            keys,
            lengths,
        }
    }

    /// What remains of the paths below a top-level key; `None` when it leads to none.
    fn below(&self, key: &str) -> Option<&[String]> {
        if !self.lengths.get(key.len()).copied().unwrap_or(false) {
            return None;
        }
        self.keys.get(key).map(Vec::as_slice)
    }
}

/// Parse one line, keeping what `paths` need. Errors are `serde_json`'s (with the column).
///
/// RFC 8259 allows numbers beyond the range of `f64` (`1e400`): such a number is kept as its
/// text (a string), so the line is not malformed and the number is compared by its text.
pub fn decode(line: &[u8], paths: &Paths) -> Result<Value, serde_json::Error> {
    match decode_exact(line, paths) {
        Err(e) if e.to_string().starts_with("number out of range") => {
            match quote_huge_numbers(line) {
                Some(quoted) => decode_exact(&quoted, paths),
                None => Err(e),
            }
        }
        r => r,
    }
}

/// `line` with every number outside the range of `f64` written as a string of its text, or
/// `None` when there is none.
pub fn quote_huge_numbers(line: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(line.len() + 8);
    let (mut i, mut changed, mut in_string) = (0, false, false);
    while i < line.len() {
        let c = line[i];
        if in_string {
            out.push(c);
            if c == b'\\' && i + 1 < line.len() {
                out.push(line[i + 1]);
                i += 1;
            } else if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
        } else if c == b'-' || c.is_ascii_digit() {
            let end = i + line[i..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
                .count();
            let token = &line[i..end];
            let huge = std::str::from_utf8(token)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .is_some_and(|f| f.is_infinite());
            if huge {
                out.push(b'"');
                out.extend_from_slice(token);
                out.push(b'"');
                changed = true;
            } else {
                out.extend_from_slice(token);
            }
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    changed.then_some(out)
}

fn decode_exact(line: &[u8], paths: &Paths) -> Result<Value, serde_json::Error> {
    match &paths.paths {
        None => serde_json::from_slice(line),
        Some(_) => {
            let mut de = serde_json::Deserializer::from_slice(line);
            let v = Keep {
                rest: &[],
                top: Some(paths),
            }
            .deserialize(&mut de)?;
            de.end()?;
            Ok(v)
        }
    }
}

/// What remains to be matched below the current value: path suffixes. An empty suffix means
/// the whole value is wanted.
struct Keep<'a> {
    rest: &'a [&'a str],
    /// At the top level: the paths, whose table gives each key's suffixes (`rest` is unused).
    top: Option<&'a Paths>,
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // `rest` is sorted, so a wanted whole value (`""`) comes first.
        if self.top.is_none() && self.rest.first() == Some(&"") {
            return Value::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

use serde::Deserialize;

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // An event's object usually keeps a few keys: room for them without growing.
        let mut out = Map::with_capacity(if self.top.is_some() { 8 } else { 0 });
        let mut below: Vec<&str> = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            below.clear();
            if let Some(paths) = self.top {
                // The top level: one table lookup gives what remains below the key.
                match paths.below(&key) {
                    Some(b) => below.extend(b.iter().map(String::as_str)),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                }
            } else {
                // The paths that start with the key are a contiguous run of the sorted `rest`.
                let from = self.rest.partition_point(|p| *p < key.as_ref());
                for p in &self.rest[from..] {
                    let Some(r) = p.strip_prefix(key.as_ref()) else {
                        break;
                    };
                    if r.is_empty() {
                        below.push("");
                    } else if let Some(r) = r.strip_prefix('.') {
                        below.push(r);
                    }
                }
            }
            if below.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v = map.next_value_seed(Keep {
                    rest: &below,
                    top: None,
                })?;
                out.insert(key.into_owned(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The engine walks through arrays with the same remaining path.
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Keep {
            rest: self.rest,
            top: self.top,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    // Scalars below a path that continues cannot match it; keep them anyway (cheap), as the
    // engine ignores them.
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_what_paths_reach() {
        let line =
            br#"{"a":{"b":1,"c":"x"},"a.b":2,"d":[{"e":3,"f":4}],"big":"...","g.h":{"i":5}}"#;
        let p = Paths::of(vec!["a.b".into(), "d.e".into(), "g.h.i".into()]);
        assert_eq!(
            decode(line, &p).unwrap(),
            json!({"a":{"b":1},"a.b":2,"d":[{"e":3}],"g.h":{"i":5}})
        );
        assert_eq!(decode(line, &Paths::all()).unwrap()["big"], "...");
    }

    #[test]
    fn numbers_beyond_f64_are_kept_as_text() {
        let p = Paths::of(vec!["a".into(), "b".into()]);
        let v = decode(br#"{"a":1e400,"b":"x\"1e400","c":-2E+999}"#, &p).unwrap();
        assert_eq!(v, json!({"a": "1e400", "b": "x\"1e400"}));
        assert_eq!(
            decode(br#"{"a":1e400}"#, &Paths::all()).unwrap(),
            json!({"a": "1e400"})
        );
        assert!(decode(br#"{"a":1e400,}"#, &p).is_err(), "still malformed");
        assert_eq!(quote_huge_numbers(br#"{"a":1.5e3}"#), None);
    }

    #[test]
    fn the_whole_line_is_still_checked() {
        let p = Paths::of(vec!["a".into()]);
        assert!(decode(br#"{"a":1,"z":[1,}"#, &p).is_err());
        assert!(decode(br#"{"a":1} x"#, &p).is_err());
        // A prefix that is not a whole segment does not match: `ab` is not `a`.
        assert_eq!(decode(br#"{"ab":1}"#, &p).unwrap(), json!({}));
    }
}
