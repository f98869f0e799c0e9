//! Google SecOps (Chronicle) YARA-L 2.0: the `events` section of a single-event rule over
//! `$e`, a UDM event. The `chronicle` format wraps it into a complete rule with `meta` and
//! `condition: $e`.
//!
//! - A case-sensitive plain value is `$e.field = "value"`; every other string test is a regex
//!   literal, `$e.field = /.../`, rendered from the rule's meaning
//!   ([`crate::regex_translate`], [`Flavor::Re2`]: Chronicle's regexes are RE2 and search
//!   the value, like the engine's). Case folding is written out, so `nocase` is never used.
//! - Fields the mapping sends to `additional.fields["name"]` hold strings (YARA-L's map access
//!   returns strings only), so numbers are compared as `cast.as_int(...)` /
//!   `cast.as_float(...)`, after a regex checks that the value is a decimal number (the casts
//!   turn anything else, and a missing value, into 0). Booleans are the strings
//!   `true`/`false` in any case.
//! - `cidr`: `net.ip_in_range_cidr($e.field, "net")` (IPv4 and IPv6).
//! - UDM has no null: a missing string is `""`, so `null`/`exists` are `= ""` / `!= ""`, and an
//!   empty string counts as missing (documented in docs/backends.md).
//!
//! - Fields the schema types as arrays: `additional.fields` holds strings only, so the
//!   ingestion parser joins a list's values with U+001F ([`LIST_SEPARATOR`]), and a string or
//!   regex test searches that text with a regex confined to one value. (A repeated UDM field
//!   would not do: YARA-L evaluates it one element at a time across the whole `events`
//!   section, which is not "some element matches" per predicate.)
//!
//! Refused: keyword searches, field references, date parts, placeholders, and non-string
//! tests on array fields.

use super::{Column, Dialect, Unsupported, number};
use crate::ir::{Pred, Test};
use crate::regex_translate::{self, Flavor};
use crate::schema::BaseType;
use crate::span::Span;
use std::collections::BTreeMap;

pub struct Yaral;

/// A YARA-L double-quoted string, or `None` if the value holds a character that has no
/// documented escape (a control character other than line feed and tab).
pub fn string(s: &str) -> Option<String> {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => return None,
            c => o.push(c),
        }
    }
    o.push('"');
    Some(o)
}

/// A field path of `$e`: dotted identifiers, optionally ending in a map access
/// `["key"]` (the key without `"`, `\` or control characters). `None` if the mapped name is
/// not of that form.
pub fn field(name: &str) -> Option<String> {
    let (path, key) = match name.split_once('[') {
        Some((p, rest)) => {
            let key = rest.strip_prefix('"')?.strip_suffix("\"]")?;
            if key.contains(['"', '\\']) || key.chars().any(char::is_control) {
                return None;
            }
            (p, Some(key))
        }
        None => (name, None),
    };
    let ok = path.split('.').all(|seg| {
        let mut cs = seg.chars();
        cs.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    ok.then(|| match key {
        Some(k) => format!("$e.{path}[\"{k}\"]"),
        None => format!("$e.{path}"),
    })
}

/// `$e.f = /re/` for an engine regex source.
fn regex(f: &str, source: &str, span: Span) -> Result<String, Unsupported> {
    let re = super::search_regex(source, Flavor::Re2, "Chronicle's RE2", span)?;
    Ok(format!("{f} = /{re}/"))
}

/// The separator between the values of a list kept in `additional.fields` (the ingestion
/// parser joins the values with it; a map value can only be a string).
pub const LIST_SEPARATOR: char = '\u{1f}';

/// A string or regex test on a list field: the regex searches the joined values, confined to
/// one value ([`regex_translate::list_search`]). A pattern that matches the empty string is
/// guarded with `!= ""`, since an empty list, a missing field and `[""]` all read as `""`.
fn array_predicate(f: &str, name: &str, pred: &Pred) -> Result<String, Unsupported> {
    let source = match &pred.test {
        Test::Str { pattern, cased } => pattern.to_search_regex(!cased),
        Test::Regex { pattern, flags } => crate::lower::regex_source(pattern, *flags),
        _ => {
            return Err(Unsupported::new(
                format!("a non-string test on the list field `{name}`"),
                "a list is kept in additional.fields as one string (its values joined with \
                 U+001F); only string and regex tests can search it",
                pred.span,
            ));
        }
    };
    let list = regex_translate::list_search(&source, LIST_SEPARATOR).map_err(|why| {
        Unsupported::new(
            format!("a pattern with {why} on the list field `{name}`"),
            "the values are searched joined with U+001F; only anchors at the edges of the \
             pattern can be rewritten for that",
            pred.span,
        )
    })?;
    let test = regex(f, &list, pred.span)?;
    let matches_empty = regex::Regex::new(&source).is_ok_and(|r| r.is_match(""));
    Ok(if matches_empty {
        format!("({f} != \"\" and {test})")
    } else {
        test
    })
}

/// A decimal number as text (what the casts read), with the whitespace the engine trims.
const NUMBER_RE: &str = r"^\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$";

impl Dialect for Yaral {
    fn name(&self) -> &'static str {
        "yaral"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "YARA-L has no search over all fields; name the field"
    }

    fn predicate(&self, col: &Column, pred: &Pred, _negated: bool) -> Result<String, Unsupported> {
        let Some(f) = field(&col.name) else {
            return Err(Unsupported::new(
                format!("the mapped field name `{}`", col.name),
                "a YARA-L field is a dotted UDM path, optionally ending in [\"key\"]",
                pred.span,
            ));
        };
        if col.ty.is_some_and(|t| t.array) {
            return array_predicate(&f, &col.name, pred);
        }
        let in_map = col.name.contains('[');
        let base = col.ty.map(|t| t.base);
        Ok(match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain().and_then(|t| string(&t)) {
                Some(lit) if *cased => format!("{f} = {lit}"),
                _ => regex(&f, &pattern.to_search_regex(!cased), pred.span)?,
            },
            Test::Regex { pattern, flags } => {
                regex(&f, &crate::lower::regex_source(pattern, *flags), pred.span)?
            }
            Test::Num { op, value, .. } => {
                let op = match op.symbol() {
                    "==" => "=",
                    s => s,
                };
                if *value < 0.0 {
                    return Err(Unsupported::new(
                        "a comparison with a negative number",
                        "YARA-L has no negative number literals",
                        pred.span,
                    ));
                }
                if in_map || !base.is_some_and(|b| b.is_numeric()) {
                    let cast = if base == Some(BaseType::Int) {
                        "cast.as_int"
                    } else {
                        "cast.as_float"
                    };
                    format!(
                        "({f} = /{}/ and {cast}({f}) {op} {})",
                        NUMBER_RE,
                        number(*value)
                    )
                } else {
                    format!("{f} {op} {}", number(*value))
                }
            }
            Test::Bool(b) => {
                let re: String = b
                    .to_string()
                    .chars()
                    .map(|c| format!("[{}{c}]", c.to_ascii_uppercase()))
                    .collect();
                format!("{f} = /^{re}$/")
            }
            Test::Null | Test::Exists(false) => format!("{f} = \"\""),
            Test::Exists(true) => format!("{f} != \"\""),
            Test::Cidr(net) => format!("net.ip_in_range_cidr({f}, \"{net}\")"),
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        })
    }

    /// The events section as one expression: the category's UDM selectors from the mapping
    /// (`$e.metadata.<key> = "value"`), and the condition.
    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        let mut parts: Vec<String> = logsource
            .iter()
            .filter_map(|(k, v)| {
                let f = field(&format!("metadata.{k}"))?;
                Some(format!("{f} = {}", string(v)?))
            })
            .collect();
        parts.push(format!("({condition})"));
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\nd").unwrap(), r#""a\"b\\c\nd""#);
        assert_eq!(string("a\rb"), None);
        assert_eq!(field("principal.ip").unwrap(), "$e.principal.ip");
        assert_eq!(
            field("additional.fields[\"gen_ai.system\"]").unwrap(),
            "$e.additional.fields[\"gen_ai.system\"]"
        );
        assert_eq!(field("additional.fields[\"a\\\"]\"]"), None);
        assert_eq!(field("a b"), None);
    }
}
