//! Lowering: rule AST -> detection IR.
//!
//! This stage gives every Sigma construct its one meaning. It checks modifier combinations,
//! applies the value-transforming modifiers (position wildcards, encodings, windash), resolves
//! the condition against the search identifiers and validates regexes and CIDRs. Field types
//! from the schema (when the logsource has one) decide how a scalar is read: `"5"` on an int
//! field is the number 5, `5` on a string field is the text "5".

use crate::regex::pcre::pcre_only_constructs;
use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::semantics::ir::*;
use crate::semantics::schema::{BaseType, FieldType};
use crate::syntax::ast::{ConditionSrc, Detection, FieldItem, SearchExpr, Value, ValueNode};
use crate::syntax::condition::{Cond, OfTarget, Quant, pattern_matches};
use crate::syntax::modifier::Modifier;
use crate::syntax::sigma_string::SigmaString;
use crate::syntax::span::{Pos, Span};
use base64::Engine as _;
use std::collections::HashSet;

/// Longest string value accepted, in characters (longer ones make unreasonably large matchers).
pub const MAX_VALUE_CHARS: usize = 16_384;
/// Most `windash` positions in one value (each multiplies the alternatives by 5).
const MAX_WINDASH_POSITIONS: usize = 4;
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Field type lookup used during lowering (`None`: the schema does not know the field).
pub type TypeOf<'a> = &'a dyn Fn(&str) -> Option<FieldType>;

/// Lower a detection. Returns `None` if errors make the meaning unknowable.
///
/// Every search identifier is lowered once, whether the condition uses it or not, so that
/// all of its problems are reported; the condition then combines the lowered searches.
pub fn lower_detection(
    det: &Detection,
    type_of: TypeOf<'_>,
    diags: &mut Diagnostics,
) -> Option<Expr> {
    let before = diags.items.len();
    let searches: Vec<Option<Expr>> = det
        .searches
        .iter()
        .map(|s| lower_search(&s.expr, type_of, diags))
        .collect();
    let mut used = vec![false; det.searches.len()];
    let mut exprs = Vec::new();
    let mut cond_ok = true;
    for c in &det.conditions {
        let Some(parsed) = &c.parsed else {
            cond_ok = false;
            continue;
        };
        match lower_cond(parsed, c, det, &searches, &mut used, diags) {
            Some(e) => exprs.push(e),
            None => cond_ok = false,
        }
    }
    if cond_ok && !det.conditions.is_empty() {
        for (s, used) in det.searches.iter().zip(&used) {
            if !used {
                diags.push(
                    Diagnostic::new(Code::UnusedSearch, s.name.span, format!("search identifier `{}` is not used by the condition", s.name.value))
                        .with_help("use it in the condition or remove it; an unused filter usually means a missing `and not`"),
                );
            }
        }
    }
    let failed = diags.items[before..]
        .iter()
        .any(|d| d.severity == crate::report::diagnostic::Severity::Error);
    if failed || !cond_ok || exprs.is_empty() {
        return None;
    }
    Some(Expr::or(exprs))
}

/// Collect every item's result (so every problem is reported), then fail if any failed.
fn all_or_none<T>(items: impl Iterator<Item = Option<T>>) -> Option<Vec<T>> {
    let v: Vec<Option<T>> = items.collect();
    v.into_iter().collect()
}

fn lower_cond(
    c: &Cond,
    src: &ConditionSrc,
    det: &Detection,
    searches: &[Option<Expr>],
    used: &mut [bool],
    diags: &mut Diagnostics,
) -> Option<Expr> {
    match c {
        Cond::Or(items) => Some(Expr::Or(all_or_none(
            items
                .iter()
                .map(|i| lower_cond(i, src, det, searches, used, diags)),
        )?)),
        Cond::And(items) => Some(Expr::And(all_or_none(
            items
                .iter()
                .map(|i| lower_cond(i, src, det, searches, used, diags)),
        )?)),
        Cond::Not(inner) => Some(Expr::Not(Box::new(lower_cond(
            inner, src, det, searches, used, diags,
        )?))),
        Cond::Ident { name, off, len } => {
            let span = src.span_of(*off, *len);
            if name.contains('*') {
                diags.push(
                    Diagnostic::new(
                        Code::ConditionSyntax,
                        span,
                        format!("`{name}` has a wildcard but no quantifier"),
                    )
                    .with_help(format!("write `1 of {name}` or `all of {name}`")),
                );
                return None;
            }
            match det.searches.iter().position(|s| s.name.value == *name) {
                Some(i) => {
                    used[i] = true;
                    searches[i].clone()
                }
                None => {
                    let sugg = suggest(name, det.searches.iter().map(|s| s.name.value.as_str()), 2);
                    let mut d = Diagnostic::new(
                        Code::UndefinedSearch,
                        span,
                        format!(
                            "the condition names `{name}`, which is not defined in `detection`"
                        ),
                    );
                    if let Some(h) = did_you_mean(&sugg) {
                        d = d.with_help(h);
                    }
                    diags.push(d);
                    None
                }
            }
        }
        Cond::Of {
            quant,
            target,
            off,
            len,
        } => {
            let span = src.span_of(*off, *len);
            let matched: Vec<usize> = (0..det.searches.len())
                .filter(|&i| {
                    let name = &det.searches[i].name.value;
                    match target {
                        OfTarget::Them => !name.starts_with('_'),
                        OfTarget::Pattern(p) => pattern_matches(p, name),
                    }
                })
                .collect();
            if matched.is_empty() {
                let what = match target {
                    OfTarget::Them => "`them` matches no search identifier".to_string(),
                    OfTarget::Pattern(p) => format!("pattern `{p}` matches no search identifier"),
                };
                let names: Vec<&str> = det.searches.iter().map(|s| s.name.value.as_str()).collect();
                diags.push(
                    Diagnostic::new(Code::PatternMatchesNothing, span, what)
                        .with_help(format!("defined: {}", names.join(", "))),
                );
                return None;
            }
            for &i in &matched {
                used[i] = true;
            }
            let items: Vec<Expr> = all_or_none(matched.iter().map(|&i| searches[i].clone()))?;
            match quant {
                Quant::Any => Some(Expr::or(items)),
                Quant::All => Some(Expr::and(items)),
                Quant::Count(n) => {
                    let n = *n as usize;
                    if n == 0 {
                        diags.push(
                            Diagnostic::new(Code::ConditionSyntax, span, "`0 of` is always true")
                                .with_help("use `1 of`, `all of` or a count of at least 1"),
                        );
                        return None;
                    }
                    if n == u32::MAX as usize {
                        diags.push(Diagnostic::new(
                            Code::ConditionSyntax,
                            span,
                            "the count of `N of` is too large",
                        ));
                        return None;
                    }
                    if n > items.len() {
                        diags.push(Diagnostic::new(
                            Code::PatternMatchesNothing,
                            span,
                            format!(
                                "`{n} of` needs at least {n} search identifiers, but only {} match",
                                items.len()
                            ),
                        ));
                        return None;
                    }
                    Some(if n == items.len() {
                        Expr::and(items)
                    } else {
                        Expr::AtLeast(n, items)
                    })
                }
            }
        }
    }
}

fn lower_search(e: &SearchExpr, type_of: TypeOf<'_>, diags: &mut Diagnostics) -> Option<Expr> {
    match e {
        SearchExpr::Map(items, _) => Some(Expr::and(all_or_none(
            items.iter().map(|it| lower_item(it, type_of, diags)),
        )?)),
        SearchExpr::List(items, _) => Some(Expr::or(all_or_none(
            items.iter().map(|i| lower_search(i, type_of, diags)),
        )?)),
        SearchExpr::Keyword(v) => keyword_pred(v, &[], diags),
        SearchExpr::Invalid(_) => None,
    }
}

fn keyword_pred(v: &ValueNode, mods: &[Modifier], diags: &mut Diagnostics) -> Option<Expr> {
    let text = match &v.value {
        Value::Null => {
            diags.error(Code::InvalidSearch, v.span, "a keyword cannot be null");
            return None;
        }
        _ => v.text(),
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        diags.error(
            Code::InvalidModifierValue,
            v.span,
            format!("keyword is longer than {MAX_VALUE_CHARS} characters"),
        );
        return None;
    }
    let cased = mods.contains(&Modifier::Cased);
    let mut pattern = SigmaString::parse(&text, false);
    pattern.prepend_any();
    pattern.append_any();
    Some(Expr::Pred(Pred {
        field: None,
        test: Test::Str { pattern, cased },
        span: v.span,
    }))
}

fn err(diags: &mut Diagnostics, code: Code, span: Span, msg: impl Into<String>) -> Option<Expr> {
    diags.error(code, span, msg);
    None
}

/// Check that the combination of modifiers on one item means something.
fn check_modifiers(item: &FieldItem, diags: &mut Diagnostics) -> bool {
    let mods: Vec<Modifier> = item.modifiers.iter().map(|m| m.value).collect();
    let span_of = |m: Modifier| {
        item.modifiers
            .iter()
            .find(|x| x.value == m)
            .map(|x| x.span)
            .unwrap_or(item.key_span)
    };
    // The span of the second modifier that satisfies `pred`: where a conflict becomes one.
    let second_of = |pred: &dyn Fn(Modifier) -> bool| {
        item.modifiers
            .iter()
            .filter(|x| pred(x.value))
            .nth(1)
            .map(|x| x.span)
            .unwrap_or(item.key_span)
    };
    let mut ok = true;
    let mut conflict = |diags: &mut Diagnostics, span: Span, msg: String, help: Option<&str>| {
        let mut d = Diagnostic::new(Code::ModifierConflict, span, msg);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        diags.push(d);
        ok = false;
    };
    let mut seen = HashSet::new();
    for m in &mods {
        if !seen.insert(*m) {
            let m = *m;
            conflict(
                diags,
                second_of(&|x| x == m),
                format!("modifier `{m}` is repeated"),
                None,
            );
        }
    }
    if seen.iter().filter(|m| m.is_string_position()).count() > 1 {
        conflict(
            diags,
            second_of(&|x| x.is_string_position()),
            "`contains`, `startswith` and `endswith` exclude each other".into(),
            None,
        );
    }
    let has = |m: Modifier| mods.contains(&m);
    let is_re = has(Modifier::Re);
    if !is_re {
        for f in [Modifier::ReI, Modifier::ReM, Modifier::ReS] {
            if has(f) {
                conflict(
                    diags,
                    span_of(f),
                    format!("regex flag `{f}` without `re`"),
                    Some("write `field|re|i: ...`"),
                );
            }
        }
    }
    // Exclusive "type" modifiers: at most one, with a fixed set of companions.
    let kinds: Vec<Modifier> = mods
        .iter()
        .copied()
        .filter(|m| {
            matches!(
                m,
                Modifier::Re | Modifier::Cidr | Modifier::Exists | Modifier::Fieldref
            ) || m.is_compare()
                || m.is_time_part()
        })
        .collect();
    if kinds.len() > 1 {
        conflict(
            diags,
            span_of(kinds[1]),
            format!("`{}` cannot be combined with `{}`", kinds[1], kinds[0]),
            None,
        );
        return false;
    }
    if let Some(&k) = kinds.first() {
        let allowed: &[Modifier] = match k {
            Modifier::Re => &[
                Modifier::ReI,
                Modifier::ReM,
                Modifier::ReS,
                Modifier::All,
                Modifier::Neq,
            ],
            Modifier::Cidr => &[Modifier::Neq],
            Modifier::Exists => &[],
            Modifier::Fieldref => &[
                Modifier::Contains,
                Modifier::StartsWith,
                Modifier::EndsWith,
                Modifier::Cased,
                Modifier::Neq,
            ],
            _ => &[Modifier::Neq], // comparisons and time parts
        };
        for m in &mods {
            if *m != k && !allowed.contains(m) {
                let help = match (k, m) {
                    (Modifier::Re, Modifier::Cased) => {
                        Some("`re` is already case-sensitive; drop `cased`")
                    }
                    (Modifier::Re, Modifier::Contains) => {
                        Some("`re` matches anywhere in the value already; drop `contains`")
                    }
                    _ => None,
                };
                conflict(
                    diags,
                    span_of(*m),
                    format!("`{m}` cannot be combined with `{k}`"),
                    help,
                );
            }
        }
    }
    if has(Modifier::Neq) && has(Modifier::All) {
        conflict(
            diags,
            span_of(Modifier::All),
            "`neq` with `all` is ambiguous".into(),
            Some("use `not` in the condition instead"),
        );
    }
    // Encodings: at most one UTF-16 form and one base64 form; positions after the encoding.
    let utf16 = [
        Modifier::Wide,
        Modifier::Utf16,
        Modifier::Utf16Le,
        Modifier::Utf16Be,
    ];
    if mods.iter().filter(|m| utf16.contains(m)).count() > 1 {
        conflict(
            diags,
            second_of(&|x| utf16.contains(&x)),
            "only one UTF-16 encoding may be applied".into(),
            None,
        );
    }
    if has(Modifier::Base64) && has(Modifier::Base64Offset) {
        conflict(
            diags,
            second_of(&|x| matches!(x, Modifier::Base64 | Modifier::Base64Offset)),
            "`base64` and `base64offset` exclude each other".into(),
            None,
        );
    }
    let pos_of = |pred: &dyn Fn(Modifier) -> bool| mods.iter().position(|m| pred(*m));
    if let (Some(u), Some(b)) = (
        pos_of(&|m| utf16.contains(&m)),
        pos_of(&|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset)),
    ) && u > b
    {
        conflict(
            diags,
            span_of(mods[u]),
            format!(
                "`{}` must come before `{}`: encodings apply left to right",
                mods[u], mods[b]
            ),
            None,
        );
    }
    if let (Some(p), Some(e)) = (
        pos_of(&Modifier::is_string_position),
        pos_of(&Modifier::is_encoding),
    ) && p < e
    {
        conflict(
            diags,
            span_of(mods[p]),
            format!("`{}` before `{}` would encode wildcards", mods[p], mods[e]),
            Some("put the position modifier last, e.g. `field|base64offset|contains`"),
        );
    }
    if has(Modifier::Base64Offset) && !has(Modifier::Contains) {
        diags.push(
            Diagnostic::new(
                Code::ModifierConflict,
                span_of(Modifier::Base64Offset),
                "`base64offset` without `contains` only matches values that are exactly one of the shifted encodings",
            )
            .with_severity(crate::report::diagnostic::Severity::Warning)
            .with_help("the shifted encodings are fragments of a longer payload: write `field|base64offset|contains`"),
        );
    }
    if has(Modifier::All) && !item.is_list && item.values.len() == 1 && item.field.is_some() {
        diags.push(
            Diagnostic::new(
                Code::AllOnSingleValue,
                span_of(Modifier::All),
                "`all` on a single value has no effect",
            )
            .with_help("remove `all`, or give a list of values"),
        );
    }
    ok
}

fn lower_item(item: &FieldItem, type_of: TypeOf<'_>, diags: &mut Diagnostics) -> Option<Expr> {
    if !check_modifiers(item, diags) {
        return None;
    }
    let mods: Vec<Modifier> = item.modifiers.iter().map(|m| m.value).collect();
    let has = |m: Modifier| mods.contains(&m);
    let Some(field) = item.field.as_ref().map(|f| f.value.clone()) else {
        // `'|all': [...]` or `'|cased': ...`: keywords
        for m in &mods {
            if !matches!(m, Modifier::All | Modifier::Cased) {
                return err(
                    diags,
                    Code::ModifierConflict,
                    item.key_span,
                    format!("keyword searches only take `all` and `cased`, not `{m}`"),
                );
            }
        }
        let preds: Vec<Expr> =
            all_or_none(item.values.iter().map(|v| keyword_pred(v, &mods, diags)))?;
        return Some(if has(Modifier::All) {
            Expr::and(preds)
        } else {
            Expr::or(preds)
        });
    };
    let ty = type_of(&field);
    let nulls = item
        .values
        .iter()
        .filter(|v| v.value == Value::Null)
        .count();
    if nulls > 0 && item.values.len() > 1 {
        diags.push(
            Diagnostic::new(
                Code::NullInList,
                item.values
                    .iter()
                    .find(|v| v.value == Value::Null)
                    .map(|v| v.span)
                    .unwrap_or(item.span),
                "`null` mixed into a value list",
            )
            .with_help(
                "Sigma treats null as its own type: put `field: null` in a separate selection",
            ),
        );
    }
    let preds: Vec<Expr> = all_or_none(
        item.values
            .iter()
            .map(|v| lower_value(&field, item, v, &mods, ty, diags)),
    )?
    .into_iter()
    .flatten()
    .collect();
    let linked = if has(Modifier::All) {
        Expr::and(preds)
    } else {
        Expr::or(preds)
    };
    Some(if has(Modifier::Neq) {
        Expr::Not(Box::new(linked))
    } else {
        linked
    })
}

fn pred(field: &str, test: Test, span: Span) -> Expr {
    Expr::Pred(Pred {
        field: Some(field.to_string()),
        test,
        span,
    })
}

/// Lower one value of an item to one or more alternative predicates (ORed by the caller
/// unless `all`; alternatives of one value from encodings are ORed here).
fn lower_value(
    field: &str,
    item: &FieldItem,
    v: &ValueNode,
    mods: &[Modifier],
    ty: Option<FieldType>,
    diags: &mut Diagnostics,
) -> Option<Vec<Expr>> {
    let has = |m: Modifier| mods.contains(&m);
    let one = |e: Expr| Some(vec![e]);
    if has(Modifier::Exists) {
        return match v.value {
            Value::Bool(b) => one(pred(field, Test::Exists(b), v.span)),
            _ => err(
                diags,
                Code::InvalidModifierValue,
                v.span,
                format!("`exists` takes true or false, found `{}`", v.raw),
            )
            .map(|e| vec![e]),
        };
    }
    if let Value::Float(f) = v.value
        && !f.is_finite()
    {
        return err(
            diags,
            Code::InvalidModifierValue,
            v.span,
            format!(
                "`{}` is not a finite number; no event value can equal or compare to it",
                v.raw
            ),
        )
        .map(|e| vec![e]);
    }
    if v.value == Value::Null {
        if mods
            .iter()
            .any(|m| *m != Modifier::Neq && *m != Modifier::All)
        {
            return err(
                diags,
                Code::InvalidModifierValue,
                v.span,
                "`null` cannot be combined with value modifiers",
            )
            .map(|e| vec![e]);
        }
        return one(pred(field, Test::Null, v.span));
    }
    if let Some(cmp) = mods.iter().find(|m| m.is_compare()) {
        let op = match cmp {
            Modifier::Lt => CmpOp::Lt,
            Modifier::Lte => CmpOp::Lte,
            Modifier::Gt => CmpOp::Gt,
            _ => CmpOp::Gte,
        };
        return match number_of(v) {
            Some(n) => one(pred(
                field,
                Test::Num {
                    op,
                    value: n,
                    raw: v.raw.clone(),
                },
                v.span,
            )),
            None => {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidModifierValue,
                        v.span,
                        format!("`{cmp}` needs a number, found `{}`", v.raw),
                    )
                    .with_help(format!(
                        "`{cmp}` compares numbers: write one, as in `{cmp}: 1000`; to match the text `{}`, drop `|{cmp}`",
                        v.raw
                    )),
                );
                None
            }
        };
    }
    if let Some(tp) = mods.iter().find(|m| m.is_time_part()) {
        let (part, lo, hi) = match tp {
            Modifier::Minute => (TimePart::Minute, 0, 59),
            Modifier::Hour => (TimePart::Hour, 0, 23),
            Modifier::Day => (TimePart::Day, 1, 31),
            Modifier::Week => (TimePart::Week, 1, 53),
            Modifier::Month => (TimePart::Month, 1, 12),
            _ => (TimePart::Year, i64::MIN, i64::MAX),
        };
        return match v.value {
            Value::Int(i) if (lo..=hi).contains(&i) => {
                one(pred(field, Test::TimePart { part, value: i }, v.span))
            }
            _ => err(
                diags,
                Code::InvalidModifierValue,
                v.span,
                format!(
                    "`{tp}` needs an integer between {lo} and {hi}, found `{}`",
                    v.raw
                ),
            )
            .map(|e| vec![e]),
        };
    }
    if has(Modifier::Cidr) {
        let text = v.text();
        let parsed = text
            .parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        return match parsed {
            Ok(net) => one(pred(field, Test::Cidr(canonical_net(net)), v.span)),
            Err(_) => {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidCidr,
                        v.span,
                        format!("`{text}` is not a valid IPv4 or IPv6 CIDR range"),
                    )
                    .with_help("write e.g. `10.0.0.0/8` or `fe80::/10`"),
                );
                None
            }
        };
    }
    if has(Modifier::Fieldref) {
        let Value::Str(other) = &v.value else {
            return err(
                diags,
                Code::InvalidModifierValue,
                v.span,
                "`fieldref` needs a field name",
            )
            .map(|e| vec![e]);
        };
        let position = if has(Modifier::Contains) {
            Position::Contains
        } else if has(Modifier::StartsWith) {
            Position::StartsWith
        } else if has(Modifier::EndsWith) {
            Position::EndsWith
        } else {
            Position::Exact
        };
        return one(pred(
            field,
            Test::FieldRef {
                other: other.clone(),
                position,
                cased: has(Modifier::Cased),
            },
            v.span,
        ));
    }
    if has(Modifier::Re) {
        let Value::Str(pattern) = &v.value else {
            return err(
                diags,
                Code::InvalidModifierValue,
                v.span,
                "`re` needs a string pattern",
            )
            .map(|e| vec![e]);
        };
        let flags = ReFlags {
            ignore_case: has(Modifier::ReI),
            multi_line: has(Modifier::ReM),
            dot_all: has(Modifier::ReS),
        };
        check_regex(pattern, flags, v.span, diags)?;
        return one(pred(
            field,
            Test::Regex {
                pattern: pattern.clone(),
                flags,
            },
            v.span,
        ));
    }
    // Plain equality, by type.
    let string_mods = mods.iter().any(|m| m.needs_string());
    let base = ty.map(|t| t.base);
    // An address on an `ip` field compares as an address (`10.0.0.1` also matches
    // `::ffff:10.0.0.1`), as Elasticsearch's `ip` fields do.
    if !string_mods
        && base == Some(BaseType::Ip)
        && let Ok(ip) = v.text().trim().parse::<std::net::IpAddr>()
    {
        let net = ipnet::IpNet::from(canonical_ip(ip));
        return one(pred(field, Test::Cidr(net), v.span));
    }
    if !string_mods {
        match (&v.value, base) {
            (Value::Bool(b), None | Some(BaseType::Bool)) => {
                return one(pred(field, Test::Bool(*b), v.span));
            }
            (Value::Str(s), Some(BaseType::Bool))
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                return one(pred(
                    field,
                    Test::Bool(s.eq_ignore_ascii_case("true")),
                    v.span,
                ));
            }
            // A YAML number on a numeric or unknown field, or numeric text on a numeric field.
            (Value::Int(_) | Value::Float(_), None | Some(BaseType::Int | BaseType::Float))
            | (Value::Str(_), Some(BaseType::Int | BaseType::Float))
                if number_of(v).is_some() =>
            {
                let n = number_of(v).unwrap_or(f64::NAN);
                return one(pred(
                    field,
                    Test::Num {
                        op: CmpOp::Eq,
                        value: n,
                        raw: v.raw.clone(),
                    },
                    v.span,
                ));
            }
            _ => {}
        }
    }
    if matches!(v.value, Value::Bool(_)) && string_mods {
        return err(
            diags,
            Code::InvalidModifierValue,
            v.span,
            "string modifiers cannot apply to a boolean",
        )
        .map(|e| vec![e]);
    }
    // Strings (and numbers written on string fields or with string modifiers).
    let text = v.text();
    let chars = text.chars().count();
    if chars > MAX_VALUE_CHARS {
        return err(
            diags,
            Code::InvalidModifierValue,
            v.span,
            format!("value is {chars} characters long; at most {MAX_VALUE_CHARS} are supported"),
        )
        .map(|e| vec![e]);
    }
    let base_pattern = SigmaString::parse(&text, has(Modifier::Expand));
    let mut alternatives = vec![base_pattern];
    if has(Modifier::Windash) {
        alternatives = windash(&alternatives[0], v.span, diags)?;
    }
    let utf16 = mods
        .iter()
        .find(|m| {
            matches!(
                m,
                Modifier::Wide | Modifier::Utf16 | Modifier::Utf16Le | Modifier::Utf16Be
            )
        })
        .copied();
    let b64 = mods
        .iter()
        .find(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset))
        .copied();
    if utf16.is_some() || b64.is_some() {
        let mut encoded = Vec::new();
        for alt in &alternatives {
            let Some(plain) = alt.as_plain() else {
                return err(
                    diags,
                    Code::InvalidModifierValue,
                    v.span,
                    "encoding modifiers cannot encode wildcards or placeholders",
                )
                .map(|e| vec![e]);
            };
            let bytes: Vec<u8> = match utf16 {
                Some(Modifier::Utf16Be) => {
                    plain.encode_utf16().flat_map(u16::to_be_bytes).collect()
                }
                Some(Modifier::Utf16) => [0xFF, 0xFE]
                    .into_iter()
                    .chain(plain.encode_utf16().flat_map(u16::to_le_bytes))
                    .collect(),
                Some(_) => plain.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                None => plain.into_bytes(),
            };
            match b64 {
                Some(Modifier::Base64) => encoded.push(SigmaString::literal(
                    &base64::engine::general_purpose::STANDARD.encode(&bytes),
                )),
                Some(_) => encoded.extend(
                    base64_offsets(&bytes)
                        .into_iter()
                        .map(|s| SigmaString::literal(&s)),
                ),
                None => encoded.push(SigmaString::literal(
                    &bytes.iter().map(|b| char::from(*b)).collect::<String>(),
                )),
            }
        }
        alternatives = encoded;
    }
    let cased = has(Modifier::Cased) || b64.is_some(); // base64 text is case-sensitive by nature
    let mut out = Vec::new();
    for mut pattern in alternatives {
        if has(Modifier::Contains) {
            pattern.prepend_any();
            pattern.append_any();
        } else if has(Modifier::StartsWith) {
            pattern.append_any();
        } else if has(Modifier::EndsWith) {
            pattern.prepend_any();
        }
        let placeholder = pattern.placeholders().next().map(str::to_string);
        let test = match placeholder {
            Some(name) => Test::Placeholder { name },
            None => Test::Str { pattern, cased },
        };
        out.push(pred(field, test, v.span));
    }
    let _ = item;
    Some(vec![Expr::or(out)])
}

fn number_of(v: &ValueNode) -> Option<f64> {
    match &v.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f).filter(|f| f.is_finite()),
        Value::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// The three base64 encodings of `bytes` at offsets 0, 1 and 2 of a longer stream, with the
/// characters that depend on the unknown neighbours removed.
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let eng = &base64::engine::general_purpose::STANDARD;
    (0..3)
        .map(|i| {
            let mut data = vec![0u8; i];
            data.extend_from_slice(bytes);
            let enc = eng.encode(&data);
            let start = [0, 2, 3][i];
            let trim_end = [0, 3, 2][(bytes.len() + i) % 3];
            let end = enc.len().saturating_sub(trim_end).max(start);
            enc[start..end].to_string()
        })
        .collect()
}

/// Expand `-` / `/` at word starts into the five dash characters (each position independently).
fn windash(s: &SigmaString, span: Span, diags: &mut Diagnostics) -> Option<Vec<SigmaString>> {
    use crate::syntax::sigma_string::Part;
    // Collect positions as (part index, char index) of dashes preceded by a non-word char
    // (or the start) and followed by a word char.
    let mut positions = Vec::new();
    for (pi, p) in s.parts.iter().enumerate() {
        if let Part::Lit(l) = p {
            let chars: Vec<char> = l.chars().collect();
            for (ci, c) in chars.iter().enumerate() {
                if matches!(c, '-' | '/') {
                    let prev_word = ci
                        .checked_sub(1)
                        .map(|j| chars[j].is_alphanumeric() || chars[j] == '_')
                        .unwrap_or(false);
                    let next_word = chars
                        .get(ci + 1)
                        .is_some_and(|n| n.is_alphanumeric() || *n == '_');
                    if !prev_word && next_word {
                        positions.push((pi, ci));
                    }
                }
            }
        }
    }
    if positions.len() > MAX_WINDASH_POSITIONS {
        diags.push(
            Diagnostic::new(
                Code::InvalidModifierValue,
                span,
                format!(
                    "`windash` on {} dash positions would create more than {} variants",
                    positions.len(),
                    5usize.pow(MAX_WINDASH_POSITIONS as u32)
                ),
            )
            .with_help(format!(
                "split the value; at most {MAX_WINDASH_POSITIONS} dashes per value are expanded"
            )),
        );
        return None;
    }
    let mut out = vec![s.clone()];
    for &(pi, ci) in &positions {
        let mut next = Vec::with_capacity(out.len() * 5);
        for v in &out {
            for d in DASHES {
                let mut w = v.clone();
                if let Part::Lit(l) = &mut w.parts[pi] {
                    *l = l
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i == ci { d } else { c })
                        .collect();
                }
                next.push(w);
            }
        }
        out = next;
    }
    Some(out)
}

/// The part of a regex value's `span` where the pattern's syntax error is: the value is on one
/// line and written plain (its width is the pattern's) or quoted without escapes (two more);
/// otherwise, or when the parser gives no position, the whole value.
fn regex_error_span(pattern: &str, span: Span) -> Span {
    let Err(e) = regex_syntax::Parser::new().parse(pattern) else {
        return span;
    };
    let at = match &e {
        regex_syntax::Error::Parse(e) => *e.span(),
        regex_syntax::Error::Translate(e) => *e.span(),
        _ => return span,
    };
    if span.start.line != span.end.line {
        return span;
    }
    let chars = pattern.chars().count() as u32;
    let width = span.end.col.saturating_sub(span.start.col);
    let lead = match width.checked_sub(chars) {
        Some(0) => 0,
        Some(2) => 1,
        _ => return span,
    };
    let col = |offset: usize| {
        let offset = offset.min(pattern.len());
        span.start.col + lead + pattern[..offset].chars().count() as u32
    };
    let start = col(at.start.offset);
    let end = col(at.end.offset).max(start + 1).min(span.end.col - lead);
    if start >= end {
        return span;
    }
    Span::new(
        Pos {
            line: span.start.line,
            col: start,
        },
        Pos {
            line: span.start.line,
            col: end,
        },
    )
}

fn check_regex(pattern: &str, flags: ReFlags, span: Span, diags: &mut Diagnostics) -> Option<()> {
    let pcre = pcre_only_constructs(pattern);
    if !pcre.is_empty() {
        diags.push(
            Diagnostic::new(Code::RegexPortability, span, format!("regex uses {}, which only PCRE targets can express", pcre.join(" and ")))
                .with_help("Splunk SPL supports it; Sentinel KQL, Elastic (Lucene, EQL, ES|QL), Chronicle YARA-L and aisigma's own engine do not. Rewrite without it to keep the rule portable"),
        );
        return Some(());
    }
    match crate::regex::compiled::regex(&regex_source(pattern, flags)) {
        Ok(_) => Some(()),
        Err(e) => {
            let msg = e.to_string();
            let short = msg
                .lines()
                .last()
                .unwrap_or(&msg)
                .trim()
                .trim_start_matches("error: ")
                .to_string();
            diags.push(Diagnostic::new(
                Code::InvalidRegex,
                regex_error_span(pattern, span),
                format!("regex does not compile: {short}"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_offsets_match_known_values() {
        // Classic example: "/bin/sh" appears base64-encoded at three alignments.
        let v = base64_offsets(b"http://");
        assert_eq!(v, vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        for (i, frag) in v.iter().enumerate() {
            let mut data = b"xyz"[..i].to_vec();
            data.extend_from_slice(b"http://abc");
            let enc = base64::engine::general_purpose::STANDARD.encode(&data);
            assert!(
                enc.contains(frag.as_str()),
                "offset {i}: {enc} lacks {frag}"
            );
        }
    }
}
