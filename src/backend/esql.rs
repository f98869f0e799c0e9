//! Elasticsearch ES|QL: `FROM <index> METADATA _id, _index, _version | WHERE <condition>`.
//!
//! - A case-sensitive plain value is `==`; every other string test is `RLIKE` with a Lucene
//!   regular expression rendered from the rule's meaning ([`crate::regex_translate`]), which
//!   matches the whole value, as Sigma values do.
//! - Numbers, booleans: `>`, `>=`, `==`, ...; `cidr`: `CIDR_MATCH(field, "net")`;
//!   `null`/`exists`: `IS NULL` / `IS NOT NULL`.
//! - ES|QL has three-valued logic: a comparison with a missing field is `null`, and `WHERE`
//!   drops the row; `NOT null` is `null` too. Under `not`, every predicate is therefore
//!   guarded with `field IS NOT NULL AND ...`, so `not` of a predicate on a missing field is
//!   true, as in aisigma's semantics.
//! - A field that holds several values makes single-value operators return `null`. For a
//!   field the schema types as an array, a string or regex test searches its values joined by
//!   `MV_CONCAT` with U+001F, with a regex confined to one value; other tests on arrays are
//!   refused.
//!
//! Refused: keyword searches, field references, date parts, placeholders, non-string tests on
//! array fields, and regex assertions with no whole-value form.

use super::lucene::{any_of, elastic_regexes, string_regexes};
use super::{Column, Dialect, Unsupported, number};
use crate::ir::{Pred, Test};
use std::collections::BTreeMap;

pub struct Esql;

/// An ES|QL string literal. The grammar allows `\"`, `\\`, `\n`, `\r` and `\t` escapes and
/// every other character raw except a raw line break.
pub fn string(s: &str) -> String {
    super::quote(s, super::common_escape)
}

/// A field name: bare when every segment is an identifier, else in backticks.
pub fn field(name: &str) -> String {
    let plain = name.split('.').enumerate().all(|(i, seg)| {
        let mut cs = seg.chars();
        let first_ok = cs.next().is_some_and(|c| {
            c.is_ascii_alphabetic() || ((c == '_' || c == '@') && seg.len() > 1 && i == 0)
        });
        first_ok && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// The separator `MV_CONCAT` puts between the values of a multi-valued field.
const SEP: char = '\u{1f}';

/// A string or regex test on a multi-valued field: "some value matches R" is a regex over the
/// values joined with [`SEP`], `(.*SEP)?(R')(SEP.*)?`, where R' is R with `SEP` removed from
/// every class, so that its match lies inside one value. A value that itself holds `SEP` can
/// only make the test match more (it is read as two values).
fn array_predicate(f: &str, name: &str, pred: &Pred, negated: bool) -> Result<String, Unsupported> {
    let source = match &pred.test {
        Test::Str { pattern, cased } => pattern.to_regex(!cased),
        Test::Regex { pattern, flags } => crate::lower::regex_source(pattern, *flags),
        _ => {
            return Err(Unsupported::new(
                format!("a non-string test on the multi-valued field `{name}`"),
                "ES|QL operators return null on a field with several values; only string and \
                 regex tests are written for them (over MV_CONCAT of the values)",
                pred.span,
            ));
        }
    };
    let element = crate::regex_translate::exclude_char(&source, SEP).map_err(|why| {
        Unsupported::new(
            format!("a value with {why} on the multi-valued field `{name}`"),
            "the values are joined with U+001F to be searched",
            pred.span,
        )
    })?;
    let wrap = |r: &str| format!("(.*{SEP})?({r})({SEP}.*)?");
    let room = super::lucene::MAX_REGEX_LENGTH - wrap("").chars().count();
    let regexes = super::lucene::elastic_regexes_within(&element, pred.span, room)?;
    let joined = format!("MV_CONCAT({f}, {})", string(&SEP.to_string()));
    let body = any_of(
        &regexes,
        |r| format!("{joined} RLIKE {}", string(&wrap(r))),
        "OR",
    );
    Ok(if negated {
        format!("({f} IS NOT NULL AND {body})")
    } else {
        body
    })
}

impl Dialect for Esql {
    fn name(&self) -> &'static str {
        "esql"
    }

    fn keyword_search_reason(&self) -> &'static str {
        "ES|QL has no full-text search over all fields; name the field"
    }

    fn predicate(&self, col: &Column, pred: &Pred, negated: bool) -> Result<String, Unsupported> {
        let f = field(&col.name);
        if col.ty.is_some_and(|t| t.array) {
            return array_predicate(&f, &col.name, pred, negated);
        }
        let body = match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain() {
                Some(text) if *cased => format!("{f} == {}", string(&text)),
                _ => any_of(
                    &string_regexes(pattern, *cased, pred.span)?,
                    |r| format!("{f} RLIKE {}", string(r)),
                    "OR",
                ),
            },
            Test::Regex { pattern, flags } => {
                let source = crate::lower::regex_source(pattern, *flags);
                any_of(
                    &elastic_regexes(&source, pred.span)?,
                    |r| format!("{f} RLIKE {}", string(r)),
                    "OR",
                )
            }
            Test::Num { op, value, .. } => format!("{f} {} {}", op.symbol(), number(*value)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null | Test::Exists(false) => return Ok(format!("{f} IS NULL")),
            Test::Exists(true) => return Ok(format!("{f} IS NOT NULL")),
            Test::Cidr(net) => format!("CIDR_MATCH({f}, {})", string(&net.to_string())),
            Test::FieldRef { .. } | Test::TimePart { .. } | Test::Placeholder { .. } => {
                unreachable!("refused for every target by backend::render")
            }
        };
        Ok(if negated {
            format!("({f} IS NOT NULL AND {body})")
        } else {
            body
        })
    }

    fn and_op(&self) -> &'static str {
        "AND"
    }

    fn or_op(&self) -> &'static str {
        "OR"
    }

    fn not(&self, inner: &str) -> String {
        format!("NOT ({inner})")
    }

    fn query(
        &self,
        condition: &str,
        logsource: &BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        let index = logsource
            .get("index")
            .map(String::as_str)
            .unwrap_or("logs-*");
        format!("FROM {index} METADATA _id, _index, _version | WHERE {condition}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(field("gen_ai.request.model"), "gen_ai.request.model");
        assert_eq!(field("@timestamp"), "@timestamp");
        assert_eq!(field("a-b"), "`a-b`");
        assert_eq!(field("x.`y"), "`x.``y`");
    }
}
