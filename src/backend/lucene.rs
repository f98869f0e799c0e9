//! Elasticsearch query string (Lucene syntax), for Kibana `query` rules with
//! `language: lucene`.
//!
//! Assumes keyword-mapped fields (as ECS maps the `gen_ai.*` identifiers), where a term is the
//! whole value and matching is case-sensitive:
//! - a case-sensitive plain value is a quoted term: `field:"value"`;
//! - every other string test is a Lucene regular expression, `field:/.../`, rendered from the
//!   rule's meaning ([`crate::regex_translate`]): case-insensitive letters become classes such
//!   as `[Kk\u{212A}]`, `*` becomes `.*`, `?` becomes `.` (one code point), everything else is
//!   escaped. Lucene regexes match the whole value, which is what a Sigma string value means;
//!   the rule's `re` searches are rewritten to whole-value matches.
//! - numbers are ranges (`field:[5 TO *]`, `field:{5 TO *]`), which Elasticsearch evaluates
//!   numerically on numeric fields;
//! - `cidr` is a quoted CIDR term on an `ip` field: `source.ip:"10.0.0.0/8"`;
//! - `null` / `exists` use `_exists_`;
//! - `not x` is written `(*:* AND NOT x)`, so that it never forms a purely negative clause.
//!
//! Lucene's boolean logic is two-valued: a predicate on a missing field is false, so `not` of
//! it is true, as in aisigma's semantics, without guards.
//!
//! Refused: keyword searches (their meaning would depend on the index's `default_field`
//! setting and analyzers), field references, date parts, placeholders, and regex assertions
//! that cannot be rewritten as a whole-value match.

use super::{Column, Dialect, Unsupported};
use crate::ir::{CmpOp, Pred, Test};
use crate::regex_translate::{self, Flavor};

pub struct Lucene;

/// A field name with every character that is not a letter, digit, `.`, `_` or `@` escaped.
pub fn field(name: &str) -> String {
    let mut o = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '@') {
            o.push(c);
        } else {
            o.push('\\');
            o.push(c);
        }
    }
    o
}

/// A quoted term: `"` and `\` escaped; everything else is literal inside quotes.
pub fn phrase(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The Lucene regex for a string test (whole-value match), or why it cannot be written.
pub fn string_regex(
    pattern: &crate::sigma_string::SigmaString,
    cased: bool,
) -> Result<String, String> {
    regex_translate::translate(&pattern.to_regex(!cased), Flavor::Lucene)
}

impl Dialect for Lucene {
    fn name(&self) -> &'static str {
        "lucene"
    }

    fn predicate(
        &self,
        column: Option<&Column>,
        pred: &Pred,
        _negated: bool,
    ) -> Result<String, Unsupported> {
        let Some(col) = column else {
            return Err(Unsupported::new(
                "keyword (field-less) searches",
                "an unfielded query-string term searches the index's `default_field` with each \
                 field's analyzer, which does not mean \"any value contains\"; name the field",
                pred.span,
            ));
        };
        let f = field(&col.name);
        Ok(match &pred.test {
            Test::Str { pattern, cased } => match pattern.as_plain() {
                Some(text) if *cased => format!("{f}:{}", phrase(&text)),
                _ => {
                    let re = string_regex(pattern, *cased).map_err(|why| {
                        Unsupported::new(
                            "this string value",
                            format!("it has no Lucene regex form: {why}"),
                            pred.span,
                        )
                    })?;
                    format!("{f}:/{re}/")
                }
            },
            Test::Regex { pattern, flags } => {
                let source = crate::lower::regex_source(pattern, *flags);
                let re = regex_translate::translate(&source, Flavor::Lucene).map_err(|why| {
                    Unsupported::new(
                        format!("regular expression with {why}"),
                        "Lucene regexes match the whole value and have no assertions; only \
                         `^`, `$` and `\\b` at the edges of the pattern can be rewritten",
                        pred.span,
                    )
                })?;
                format!("{f}:/{re}/")
            }
            Test::Num { op, value, .. } => {
                let v = number(*value);
                match op {
                    CmpOp::Eq => format!("{f}:[{v} TO {v}]"),
                    CmpOp::Gt => format!("{f}:{{{v} TO *]"),
                    CmpOp::Gte => format!("{f}:[{v} TO *]"),
                    CmpOp::Lt => format!("{f}:[* TO {v}}}"),
                    CmpOp::Lte => format!("{f}:[* TO {v}]"),
                }
            }
            Test::Bool(b) => format!("{f}:{b}"),
            Test::Null | Test::Exists(false) => format!("(*:* AND NOT _exists_:{f})"),
            Test::Exists(true) => format!("_exists_:{f}"),
            Test::Cidr(net) => format!("{f}:{}", phrase(&net.to_string())),
            Test::FieldRef { .. } => {
                return Err(Unsupported::new(
                    "field references (`fieldref`)",
                    "a query string cannot compare a field with another field",
                    pred.span,
                ));
            }
            Test::TimePart { .. } => {
                return Err(Unsupported::new(
                    "date-part modifiers (`hour`, `day`, ...)",
                    "a query string has no date-part functions",
                    pred.span,
                ));
            }
            Test::Placeholder { name } => {
                return Err(Unsupported::new(
                    format!("placeholder `%{name}%`"),
                    "placeholders need values before compilation",
                    pred.span,
                ));
            }
        })
    }

    fn and_op(&self) -> &'static str {
        "AND"
    }

    fn or_op(&self) -> &'static str {
        "OR"
    }

    fn not(&self, inner: &str) -> String {
        format!("(*:* AND NOT ({inner}))")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma_string::SigmaString;

    #[test]
    fn escaping() {
        assert_eq!(field("gen_ai.request.model"), "gen_ai.request.model");
        assert_eq!(field("a-b c:d"), r"a\-b\ c\:d");
        assert_eq!(phrase(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn string_regexes() {
        let s = |v: &str, cased| string_regex(&SigmaString::parse(v, false), cased).unwrap();
        assert_eq!(s("ab*c?", false), "[Aa][Bb].*[Cc].");
        assert_eq!(s("a/b\"", true), "a\\/b\\\"");
        assert_eq!(s("K", false), "[Kk\u{212A}]");
    }
}
