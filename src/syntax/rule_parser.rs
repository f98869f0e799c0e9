//! Build the rule AST from positioned YAML, reporting structural problems.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::syntax::ast::*;
use crate::syntax::condition;
use crate::syntax::modifier::Modifier;
use crate::syntax::span::{Span, Spanned};
use crate::syntax::yaml::{Kind, Node};

/// Top-level keys of a rule document that this tool understands.
pub const KNOWN_KEYS: &[&str] = &[
    "title",
    "id",
    "related",
    "name",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "detection",
    "fields",
    "falsepositives",
    "level",
    "scope",
    "tests",
    "correlation",
    "filter",
    "deploy",
    // Custom attributes used by the SigmaHQ repository.
    "regression_tests_path",
    "simulation",
];

fn string_of(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    match &node.kind {
        Kind::Str(s) => Some(Spanned::new(s.clone(), node.span)),
        // Numbers and booleans are accepted as their source text (e.g. `date: 2024-01-01` is a string already).
        Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => {
            Some(Spanned::new(node.raw.clone(), node.span))
        }
        Kind::Null => None,
        _ => {
            diags.error(
                Code::WrongType,
                node.span,
                format!("`{what}` must be a string, found a {}", node.type_name()),
            );
            None
        }
    }
}

fn string_list(node: &Node, what: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .filter_map(|i| string_of(i, what, diags))
            .collect(),
        Kind::Null => Vec::new(),
        Kind::Str(_) => string_of(node, what, diags).into_iter().collect(),
        _ => {
            diags.error(
                Code::WrongType,
                node.span,
                format!(
                    "`{what}` must be a list of strings, found a {}",
                    node.type_name()
                ),
            );
            Vec::new()
        }
    }
}

/// Parse one YAML document into a [`Doc`].
pub fn parse_doc(root: &Node, diags: &mut Diagnostics) -> Option<Doc> {
    let Some(map) = root.as_map() else {
        if matches!(root.kind, Kind::Null) {
            return None;
        }
        diags.push(Diagnostic::new(
            Code::NotAMapping,
            root.span,
            format!(
                "a rule document must be a mapping, found a {}",
                root.type_name()
            ),
        ));
        return None;
    };
    if let Some(action) = root.get("action") {
        diags.push(
            Diagnostic::new(Code::LegacyCollection, action.span, format!("legacy `action: {}` collections are not supported", action.raw))
                .with_help("split the collection into standalone rule documents (SigmaHQ converted all of its rules this way)"),
        );
        return None;
    }
    const RULE_KEYS: &[&str] = &["title", "detection", "logsource", "correlation", "filter"];
    if !map.iter().any(|(k, _)| RULE_KEYS.contains(&k.raw.as_str())) {
        // `Title:` / `Detection:`: a rule with wrongly cased keys, not a foreign document.
        if let Some((k, _)) = map
            .iter()
            .find(|(k, _)| RULE_KEYS.iter().any(|r| r.eq_ignore_ascii_case(&k.raw)))
        {
            diags.push(
                Diagnostic::new(
                    Code::NotARule,
                    k.span,
                    format!("`{}` is not a Sigma key: keys are lowercase", k.raw),
                )
                .with_severity(crate::report::diagnostic::Severity::Error)
                .with_help(format!(
                    "write `{}`; the document is skipped until then",
                    k.raw.to_lowercase()
                )),
            );
            return None;
        }
        diags.push(
            Diagnostic::new(Code::NotARule, root.span, "this YAML document is not a Sigma rule (it has no `title`, `logsource`, `detection`, `correlation` or `filter`); skipped")
                .with_help("keep non-rule YAML out of rule directories, or pass rule files explicitly"),
        );
        return None;
    }
    let mut meta = Meta::default();
    let mut body = None;
    let mut references = Vec::new();
    let mut tests_node = None;
    let mut detection_node = None;
    for (k, v) in map {
        let key = k.raw.as_str();
        match key {
            "title" => meta.title = string_of(v, key, diags),
            "id" => meta.id = string_of(v, key, diags),
            "name" => meta.name = string_of(v, key, diags),
            "taxonomy" => meta.taxonomy = string_of(v, key, diags),
            "status" => meta.status = string_of(v, key, diags),
            "description" => meta.description = string_of(v, key, diags),
            "license" => meta.license = string_of(v, key, diags),
            "author" => meta.author = string_of(v, key, diags),
            "date" => meta.date = string_of(v, key, diags),
            "modified" => meta.modified = string_of(v, key, diags),
            "level" => meta.level = string_of(v, key, diags),
            "references" => meta.references = string_list(v, key, diags),
            "tags" => meta.tags = string_list(v, key, diags),
            "falsepositives" => meta.falsepositives = string_list(v, key, diags),
            "fields" => meta.fields = string_list(v, key, diags),
            "scope" => meta.scope = string_list(v, key, diags),
            "related" => meta.related = parse_related(v, diags),
            "logsource" => meta.logsource = parse_logsource(v, diags),
            "detection" => detection_node = Some(v),
            "tests" => tests_node = Some(v),
            "correlation" => {
                body = crate::syntax::correlation::parse(v, diags, &mut references)
                    .map(|c| Body::Correlation(Box::new(c)))
            }
            "filter" => {
                body = parse_filter(v, diags).map(Body::Filter);
                if let Some(Body::Filter(f)) = &body {
                    references.clone_from(&f.rules);
                }
            }
            "deploy" => meta.deploy = crate::syntax::deploy::parse(v, diags),
            "regression_tests_path" | "simulation" => {}
            _ => {
                let sugg = suggest(key, KNOWN_KEYS.iter().copied(), 1);
                let mut d = Diagnostic::new(
                    Code::UnknownKey,
                    k.span,
                    format!("unknown top-level key `{key}` is ignored"),
                );
                if let Some(h) = did_you_mean(&sugg) {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
    if let Some(det) = detection_node {
        if body.is_some() {
            diags.error(
                Code::WrongType,
                det.span,
                "a document cannot hold both `detection` and a `correlation` or `filter`",
            );
        } else {
            body = parse_detection(det, diags).map(Body::Detection);
        }
    }
    if meta.title.is_none() {
        diags.push(Diagnostic::new(
            Code::MissingField,
            first_line(root),
            "missing required field `title`",
        ));
    }
    match &body {
        None if detection_node.is_none()
            && !map
                .iter()
                .any(|(k, _)| k.raw == "correlation" || k.raw == "filter") =>
        {
            diags.push(
                Diagnostic::new(Code::MissingField, first_line(root), "missing required field `detection`")
                    .with_help("a rule needs `detection` (or `correlation` for a correlation rule, `filter` for a meta filter)"),
            );
        }
        Some(Body::Detection(_)) | Some(Body::Filter(_)) if meta.logsource.is_none() => {
            diags.push(Diagnostic::new(
                Code::MissingField,
                first_line(root),
                "missing required field `logsource`",
            ));
        }
        _ => {}
    }
    let (mut tests, mut corr_tests) = (None, None);
    let correlation = map.iter().any(|(k, _)| k.raw == "correlation");
    match (tests_node, &body) {
        // A correlation's tests, even when its body is invalid: read as rule tests, they
        // would only add errors that fixing the body makes go away.
        (Some(t), _) if correlation => corr_tests = parse_corr_tests(t, diags),
        (Some(t), _) => tests = parse_tests(t, diags),
        (None, _) => {}
    }
    Some(Doc {
        meta,
        body,
        tests,
        corr_tests,
        references,
        span: root.span,
    })
}

fn first_line(root: &Node) -> Span {
    root.as_map()
        .and_then(|m| m.first())
        .map(|(k, _)| k.span)
        .unwrap_or(root.span)
}

fn parse_related(node: &Node, diags: &mut Diagnostics) -> Vec<Related> {
    let Some(items) = node.as_seq() else {
        diags.error(
            Code::WrongType,
            node.span,
            "`related` must be a list of `{id, type}` entries",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for it in items {
        let (Some(id), Some(kind)) = (it.get("id"), it.get("type")) else {
            diags.error(
                Code::WrongType,
                it.span,
                "each `related` entry needs `id` and `type`",
            );
            continue;
        };
        if let (Some(id), Some(kind)) = (
            string_of(id, "related.id", diags),
            string_of(kind, "related.type", diags),
        ) {
            if ![
                "derived",
                "obsolete",
                "obsoletes",
                "merged",
                "renamed",
                "similar",
                "correlation",
            ]
            .contains(&kind.value.as_str())
            {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        kind.span,
                        format!("unknown related type `{}`", kind.value),
                    )
                    .with_help("use one of derived, obsolete, merged, renamed, similar"),
                );
            }
            out.push(Related { id, kind });
        }
    }
    out
}

fn parse_logsource(node: &Node, diags: &mut Diagnostics) -> Option<Logsource> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::WrongType,
            node.span,
            format!(
                "`logsource` must be a mapping, found a {}",
                node.type_name()
            ),
        );
        return None;
    };
    let mut ls = Logsource {
        span: node.span,
        ..Default::default()
    };
    for (k, v) in map {
        let slot = match k.raw.as_str() {
            "product" => &mut ls.product,
            "category" => &mut ls.category,
            "service" => &mut ls.service,
            "definition" => &mut ls.definition,
            _ => continue, // the spec allows arbitrary further keys
        };
        *slot = string_of(v, &format!("logsource.{}", k.raw), diags);
    }
    if ls.product.is_none() && ls.category.is_none() && ls.service.is_none() {
        diags.error(
            Code::MissingField,
            node.span,
            "`logsource` needs at least one of `product`, `category` or `service`",
        );
    }
    Some(ls)
}

fn parse_tests(node: &Node, diags: &mut Diagnostics) -> Option<Vec<TestCase>> {
    let Some(map) = node.as_map() else {
        diags.push(
            Diagnostic::new(
                Code::InvalidTests,
                node.span,
                "`tests` must be a mapping with `match` and/or `no_match` lists",
            )
            .with_help("tests:\n    match: [{field: value}]\n    no_match: [{field: other}]"),
        );
        return None;
    };
    let mut cases = Vec::new();
    for (k, v) in map {
        let expect_match = match k.raw.as_str() {
            "match" => true,
            "no_match" => false,
            other => {
                diags.push(
                    Diagnostic::new(Code::InvalidTests, k.span, format!("unknown key `{other}` in `tests`"))
                        .with_help("`tests` takes `match` (events the rule must match) and `no_match` (events it must not match)"),
                );
                continue;
            }
        };
        let Some(events) = v.as_seq() else {
            diags.error(
                Code::InvalidTests,
                v.span,
                format!("`tests.{}` must be a list of events", k.raw),
            );
            continue;
        };
        for ev in events {
            if ev.as_map().is_none() {
                diags.error(
                    Code::InvalidTests,
                    ev.span,
                    format!(
                        "a test event must be a mapping of fields, found a {}",
                        ev.type_name()
                    ),
                );
                continue;
            }
            if let Some(bad) = non_finite(ev) {
                diags.push(
                    Diagnostic::new(Code::InvalidTests, bad.span, format!("`{}` is not a number JSON can carry", bad.raw))
                        .with_help("test events are JSON: use a finite number, or quote the value to test a string"),
                );
                continue;
            }
            cases.push(TestCase {
                expect_match,
                event: ev.to_json(),
                span: ev.span,
            });
        }
    }
    Some(cases)
}

/// Most events one `repeat` entry of a correlation test may produce.
const MAX_REPEAT: i64 = 100_000;

/// The tests of a correlation: a list of `{name, events, alerts}`. An entry of `events` is
/// an event, or `{repeat: N, every: 10s, event: {...}}`: N copies of the event whose
/// `@timestamp` advances by `every`.
fn parse_corr_tests(node: &Node, diags: &mut Diagnostics) -> Option<Vec<CorrTest>> {
    let help = "tests:\n    - name: burst\n      events:\n        - repeat: 20\n          every: 5s\n          event: {\"@timestamp\": \"2026-01-01T00:00:00Z\", user.id: u1}\n      alerts: 1";
    let Some(items) = node.as_seq() else {
        diags.push(
            Diagnostic::new(
                Code::InvalidTests,
                node.span,
                "the `tests` of a correlation must be a list of cases with `events` and `alerts`",
            )
            .with_help(help),
        );
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        let Some(map) = item.as_map() else {
            diags.push(
                Diagnostic::new(
                    Code::InvalidTests,
                    item.span,
                    "a correlation test must be a mapping with `events` and `alerts`",
                )
                .with_help(help),
            );
            continue;
        };
        let mut name = None;
        let mut events = Vec::new();
        let mut expect = None;
        let mut ok = true;
        for (k, v) in map {
            match k.raw.as_str() {
                "name" => name = v.as_str().map(str::to_string),
                "events" => match v.as_seq() {
                    Some(evs) => {
                        for e in evs {
                            ok &= corr_test_event(e, &mut events, diags);
                        }
                    }
                    None => {
                        diags.error(Code::InvalidTests, v.span, "`events` must be a list");
                        ok = false;
                    }
                },
                "alerts" => expect = parse_expected_alerts(v, diags),
                other => diags.push(
                    Diagnostic::new(
                        Code::InvalidTests,
                        k.span,
                        format!("unknown key `{other}` in a correlation test"),
                    )
                    .with_help("a correlation test takes `name`, `events` and `alerts`"),
                ),
            }
        }
        let Some(expect) = expect else {
            if !map.iter().any(|(k, _)| k.raw == "alerts") {
                diags.push(
                    Diagnostic::new(Code::InvalidTests, item.span, "a correlation test needs `alerts`: a number, or a list of `{timestamp, group}`")
                        .with_help(help),
                );
            }
            continue;
        };
        if ok {
            out.push(CorrTest {
                name,
                events,
                expect,
                span: item.span,
            });
        }
    }
    Some(out)
}

fn corr_test_event(
    e: &Node,
    out: &mut Vec<(serde_json::Value, Span)>,
    diags: &mut Diagnostics,
) -> bool {
    let Some(map) = e.as_map() else {
        diags.error(
            Code::InvalidTests,
            e.span,
            format!(
                "a test event must be a mapping of fields, found a {}",
                e.type_name()
            ),
        );
        return false;
    };
    if let Some(bad) = non_finite(e) {
        diags.error(
            Code::InvalidTests,
            bad.span,
            format!("`{}` is not a number JSON can carry", bad.raw),
        );
        return false;
    }
    let is_repeat = map.iter().any(|(k, _)| k.raw == "repeat")
        && map
            .iter()
            .all(|(k, _)| matches!(k.raw.as_str(), "repeat" | "every" | "event"));
    if !is_repeat {
        out.push((e.to_json(), e.span));
        return true;
    }
    let get = |key: &str| map.iter().find(|(k, _)| k.raw == key).map(|(_, v)| v);
    let count = match get("repeat").map(|v| &v.kind) {
        Some(Kind::Int(n)) if (1..=MAX_REPEAT).contains(n) => *n,
        _ => {
            diags.error(
                Code::InvalidTests,
                e.span,
                format!("`repeat` must be a whole number from 1 to {MAX_REPEAT}"),
            );
            return false;
        }
    };
    let every = match get("every") {
        None => 0,
        Some(v) => match crate::syntax::correlation::timespan_ms(&v.raw) {
            Some(ms) => ms,
            None => {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidTests,
                        v.span,
                        format!("invalid interval `{}`", v.raw),
                    )
                    .with_help("write a number followed by s, m, h or d, e.g. `10s`"),
                );
                return false;
            }
        },
    };
    let Some(event) = get("event").filter(|v| v.as_map().is_some()) else {
        diags.error(
            Code::InvalidTests,
            e.span,
            "`repeat` needs `event`: the event to repeat",
        );
        return false;
    };
    let json = event.to_json();
    let start = json
        .get("@timestamp")
        .and_then(|t| t.as_str())
        .and_then(crate::syntax::time::parse_timestamp_ms);
    let Some(start) = start else {
        diags.error(
            Code::InvalidTests,
            event.span,
            "a repeated event needs an RFC 3339 `@timestamp` to start from",
        );
        return false;
    };
    for i in 0..count {
        let mut copy = json.clone();
        copy["@timestamp"] =
            serde_json::Value::String(crate::syntax::time::format_ms(start + i * every));
        out.push((copy, event.span));
    }
    true
}

fn parse_expected_alerts(v: &Node, diags: &mut Diagnostics) -> Option<ExpectAlerts> {
    match &v.kind {
        Kind::Int(n) if *n >= 0 => return Some(ExpectAlerts::Count(*n as usize)),
        Kind::Seq(items) => {
            let mut out = Vec::new();
            for it in items {
                let Some(m) = it.as_map() else {
                    diags.error(
                        Code::InvalidTests,
                        it.span,
                        "an expected alert is a mapping `{timestamp, group}`",
                    );
                    return None;
                };
                let mut alert = ExpectedAlert {
                    timestamp: None,
                    group: None,
                    span: it.span,
                };
                for (k, val) in m {
                    match k.raw.as_str() {
                        "timestamp" => match val
                            .as_str()
                            .filter(|t| crate::syntax::time::parse_timestamp_ms(t).is_some())
                        {
                            Some(t) => alert.timestamp = Some(t.to_string()),
                            None => {
                                diags.error(
                                    Code::InvalidTests,
                                    val.span,
                                    "`timestamp` must be an RFC 3339 timestamp",
                                );
                                return None;
                            }
                        },
                        "group" => match val.to_json() {
                            serde_json::Value::Object(g) => alert.group = Some(g),
                            _ => {
                                diags.error(
                                    Code::InvalidTests,
                                    val.span,
                                    "`group` must map the group-by fields to their values",
                                );
                                return None;
                            }
                        },
                        other => {
                            diags.push(
                                Diagnostic::new(
                                    Code::InvalidTests,
                                    k.span,
                                    format!("unknown key `{other}` in an expected alert"),
                                )
                                .with_help("an expected alert takes `timestamp` and `group`"),
                            );
                            return None;
                        }
                    }
                }
                out.push(alert);
            }
            return Some(ExpectAlerts::List(out));
        }
        _ => {}
    }
    diags.error(
        Code::InvalidTests,
        v.span,
        "`alerts` must be a number of alerts, or a list of `{timestamp, group}`",
    );
    None
}

/// The first `.inf` / `.nan` in a test event (JSON has no such numbers).
fn non_finite(node: &Node) -> Option<&Node> {
    match &node.kind {
        Kind::Float(f) if !f.is_finite() => Some(node),
        Kind::Seq(items) => items.iter().find_map(non_finite),
        Kind::Map(entries) => entries.iter().find_map(|(_, v)| non_finite(v)),
        _ => None,
    }
}

fn parse_filter(node: &Node, diags: &mut Diagnostics) -> Option<Filter> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::InvalidFilter,
            node.span,
            "`filter` must be a mapping with `rules`, selections and `condition`",
        );
        return None;
    };
    let mut rules = Vec::new();
    if let Some(r) = node.get("rules") {
        if r.as_str() == Some("any") {
            // applies to every rule of the logsource
        } else {
            rules = string_list(r, "filter.rules", diags);
        }
    }
    let rest: Vec<(Node, Node)> = map
        .iter()
        .filter(|(k, _)| k.raw != "rules")
        .cloned()
        .collect();
    let det_node = Node {
        kind: Kind::Map(rest),
        ..node.clone()
    };
    let detection = parse_detection(&det_node, diags)?;
    Some(Filter {
        rules,
        detection,
        span: node.span,
    })
}

/// Parse a `detection` mapping.
pub fn parse_detection(node: &Node, diags: &mut Diagnostics) -> Option<Detection> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::WrongType,
            node.span,
            format!(
                "`detection` must be a mapping, found a {}",
                node.type_name()
            ),
        );
        return None;
    };
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    let mut saw_condition = false;
    for (k, v) in map {
        match k.raw.as_str() {
            "condition" => {
                saw_condition = true;
                let nodes: Vec<&Node> = match &v.kind {
                    Kind::Seq(items) => items.iter().collect(),
                    _ => vec![v],
                };
                if nodes.is_empty() {
                    diags.push(
                        Diagnostic::new(
                            Code::ConditionSyntax,
                            v.span,
                            "the condition list is empty",
                        )
                        .with_help("write e.g. `condition: selection`"),
                    );
                }
                for c in nodes {
                    let Kind::Str(text) = &c.kind else {
                        diags.error(
                            Code::ConditionSyntax,
                            c.span,
                            format!("a condition must be a string, found a {}", c.type_name()),
                        );
                        continue;
                    };
                    // Offsets into the text map to source columns only when the scalar is
                    // written on one line without escapes: its width is then the text's
                    // length (plus the two quotes). Otherwise diagnostics use the whole scalar.
                    let width = c.span.end.col.saturating_sub(c.span.start.col) as usize;
                    let chars = text.chars().count();
                    let single_line = c.span.start.line == c.span.end.line
                        && !text.contains('\n')
                        && width == chars + if c.quoted { 2 } else { 0 };
                    let text_offset = usize::from(c.quoted && single_line);
                    let mut src = ConditionSrc {
                        text: text.clone(),
                        span: c.span,
                        text_offset,
                        single_line,
                        parsed: None,
                    };
                    match condition::parse(text) {
                        Ok(p) => src.parsed = Some(p),
                        Err(e) => {
                            let code = if e.message.starts_with("pipe") {
                                Code::PipeAggregation
                            } else {
                                Code::ConditionSyntax
                            };
                            let mut d = Diagnostic::new(code, src.span_of(e.off, 1), e.message);
                            if let Some(h) = e.help {
                                d = d.with_help(h);
                            }
                            diags.push(d);
                        }
                    }
                    conditions.push(src);
                }
            }
            "timeframe" => diags.push(
                Diagnostic::new(
                    Code::PipeAggregation,
                    k.span,
                    "`timeframe` belongs to the removed pipe-aggregation syntax",
                )
                .with_help("use a correlation rule with `timespan`")
                .with_severity(crate::report::diagnostic::Severity::Warning),
            ),
            name => {
                if name.contains('|') {
                    // `field|modifier: value` written directly under `detection` would
                    // otherwise become a keyword search that ignores the field.
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidSearch,
                            k.span,
                            format!("`{name}` looks like a field placed directly under `detection`"),
                        )
                        .with_help(format!(
                            "put it inside a search identifier:\n    selection:\n        {name}: ...\n    condition: selection"
                        )),
                    );
                }
                // A body that fails to parse still defines the name, so the condition
                // does not also report it as undefined.
                let expr = parse_search_expr(v, diags, 0).unwrap_or(SearchExpr::Invalid(v.span));
                searches.push(Search {
                    name: Spanned::new(name.to_string(), k.span),
                    expr,
                });
            }
        }
    }
    if !saw_condition {
        diags.push(
            Diagnostic::new(
                Code::MissingField,
                node.span,
                "`detection` has no `condition`",
            )
            .with_help("add e.g. `condition: selection`"),
        );
    }
    Some(Detection {
        searches,
        conditions,
        span: node.span,
    })
}

fn value_node(n: &Node) -> ValueNode {
    let value = match &n.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(*b),
        Kind::Int(i) => Value::Int(*i),
        Kind::Float(f) => Value::Float(*f),
        Kind::Str(s) => Value::Str(s.clone()),
        _ => Value::Null,
    };
    ValueNode {
        value,
        raw: n.raw.clone(),
        span: n.span,
    }
}

fn parse_search_expr(node: &Node, diags: &mut Diagnostics, depth: usize) -> Option<SearchExpr> {
    match &node.kind {
        Kind::Map(entries) => {
            if entries.is_empty() {
                diags.error(
                    Code::EmptySearch,
                    node.span,
                    "empty search identifier: it would match nothing",
                );
                return None;
            }
            let items = entries
                .iter()
                .filter_map(|(k, v)| parse_field_item(k, v, diags))
                .collect();
            Some(SearchExpr::Map(items, node.span))
        }
        Kind::Seq(items) => {
            if items.is_empty() {
                diags.error(
                    Code::EmptySearch,
                    node.span,
                    "empty search identifier: it would match nothing",
                );
                return None;
            }
            let mut out = Vec::new();
            for it in items {
                match &it.kind {
                    Kind::Seq(_) if depth > 0 => diags.error(
                        Code::InvalidSearch,
                        it.span,
                        "nested lists are not allowed in a search identifier",
                    ),
                    Kind::Seq(_) => diags.error(
                        Code::InvalidSearch,
                        it.span,
                        "a search list may hold maps or keywords, not lists",
                    ),
                    Kind::Map(_) => out.extend(parse_search_expr(it, diags, depth + 1)),
                    Kind::Null => {
                        diags.error(Code::InvalidSearch, it.span, "a keyword cannot be null")
                    }
                    _ => out.push(SearchExpr::Keyword(value_node(it))),
                }
            }
            Some(SearchExpr::List(out, node.span))
        }
        Kind::Null => {
            diags.error(
                Code::EmptySearch,
                node.span,
                "empty search identifier: it would match nothing",
            );
            None
        }
        _ => Some(SearchExpr::Keyword(value_node(node))),
    }
}

fn parse_field_item(k: &Node, v: &Node, diags: &mut Diagnostics) -> Option<FieldItem> {
    let key = &k.raw;
    let mut pieces = key.split('|');
    let field_name = pieces.next().unwrap_or_default();
    let key_quoted_offset = usize::from(k.quoted);
    let mut modifiers = Vec::new();
    let mut offset = field_name.chars().count() + 1;
    let mut ok = true;
    for piece in pieces {
        let len = piece.chars().count();
        let span = k.span.sub(key_quoted_offset + offset, len.max(1));
        match Modifier::parse(piece) {
            Some(m) => modifiers.push(Spanned::new(m, span)),
            None => {
                ok = false;
                let sugg = suggest(piece, Modifier::ALL_NAMES.iter().copied(), 2);
                let msg = if piece.is_empty() {
                    "empty modifier (`||`)".to_string()
                } else {
                    format!("unknown modifier `{piece}`")
                };
                let mut d = Diagnostic::new(Code::UnknownModifier, span, msg);
                d = d.with_help(did_you_mean(&sugg).unwrap_or_else(|| {
                    format!("known modifiers: {}", Modifier::ALL_NAMES.join(", "))
                }));
                diags.push(d);
            }
        }
        offset += len + 1;
    }
    if !ok {
        return None;
    }
    let field = if field_name.is_empty() {
        None
    } else {
        Some(Spanned::new(
            field_name.to_string(),
            k.span.sub(key_quoted_offset, field_name.chars().count()),
        ))
    };
    let (values, is_list) = match &v.kind {
        Kind::Seq(items) => {
            if items.is_empty() {
                diags.error(
                    Code::EmptySearch,
                    v.span,
                    "empty value list: this item would never match",
                );
                return None;
            }
            let mut vals = Vec::new();
            for it in items {
                if matches!(it.kind, Kind::Seq(_) | Kind::Map(_)) {
                    diags.error(
                        Code::InvalidSearch,
                        it.span,
                        format!("a field value must be a scalar, found a {}", it.type_name()),
                    );
                    return None;
                }
                vals.push(value_node(it));
            }
            (vals, true)
        }
        Kind::Map(_) => {
            diags.error(
                Code::InvalidSearch,
                v.span,
                "a field value must be a scalar or a list of scalars, found a mapping",
            );
            return None;
        }
        _ => (vec![value_node(v)], false),
    };
    let span = Span::new(k.span.start, v.span.end.max(k.span.end));
    Some(FieldItem {
        field,
        modifiers,
        values,
        is_list,
        key_span: k.span,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(src: &str) -> (Option<Doc>, Diagnostics) {
        let mut d = Diagnostics::default();
        let docs = crate::syntax::yaml::parse(src).unwrap();
        let out = parse_doc(&docs[0].root, &mut d);
        (out, d)
    }

    #[test]
    fn modifier_span_points_at_the_modifier() {
        let (_, d) = doc(
            "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    field|contians: a\n  condition: sel\n",
        );
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].code, Code::UnknownModifier);
        assert_eq!(
            (d.items[0].span.start.line, d.items[0].span.start.col),
            (5, 11)
        );
        assert!(d.items[0].help.as_deref().unwrap().contains("contains"));
    }

    #[test]
    fn detection_shapes() {
        let (doc, d) = doc(
            "title: t\nlogsource: {product: x}\ndetection:\n  a: {f: 1}\n  b: [{f: 1}, {g: 2}]\n  k: [foo, bar]\n  kall:\n    '|all': [x, y]\n  condition: a\n",
        );
        assert!(d.items.is_empty(), "{:?}", d.items);
        let det = doc.unwrap().detection().cloned().unwrap();
        assert!(matches!(det.searches[0].expr, SearchExpr::Map(..)));
        assert!(matches!(&det.searches[1].expr, SearchExpr::List(v, _) if v.len() == 2));
        assert!(
            matches!(&det.searches[2].expr, SearchExpr::List(v, _) if matches!(v[0], SearchExpr::Keyword(_)))
        );
        let SearchExpr::Map(items, _) = &det.searches[3].expr else {
            panic!()
        };
        assert!(items[0].field.is_none() && items[0].has(Modifier::All));
    }

    #[test]
    fn legacy_collection_rejected() {
        let (doc, d) = doc("action: global\ntitle: t\n");
        assert!(doc.is_none());
        assert_eq!(d.items[0].code, Code::LegacyCollection);
    }
}
