//! The `deploy:` block of a rule: how its artifacts run once deployed.
//!
//! In: the YAML node. Out: [`Deploy`], each setting with its position: how often the rule
//! runs (`interval`), how long events may take to arrive (`delay`), alert suppression
//! (`suppress`), and the targets the rule is not meant for (`not-for`). The backends turn
//! it into each SIEM's schedule and suppression fields (`crate::backend::schedule`);
//! docs/rule-format.md#deploy has the format.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::syntax::ast::{Deploy, Suppress};
use crate::syntax::correlation::timespan_ms;
use crate::syntax::span::Spanned;
use crate::syntax::yaml::{Kind, Node};

/// The compile targets a rule can name in `not-for` (the names `--target` accepts).
pub const TARGETS: &[&str] = &["spl", "kql", "lucene", "eql", "esql", "yaral"];

const KEYS: &[&str] = &["interval", "delay", "suppress", "not-for"];

/// The intervals a schedule may have, in seconds: each is a cron step that divides an hour
/// (`*/N` minutes) or a day (`*/N` hours), so runs fall on the same clock boundaries every
/// day. 45 minutes divides a day but is no cron step, so it is not one of them.
pub const INTERVALS: &[i64] = &[
    300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 28800, 43200, 86400,
];
const SUPPRESS_KEYS: &[&str] = &["for", "by"];

/// The longest `interval`, `delay` or suppression: 14 days, as far as Sentinel looks back.
const MAX_MS: i64 = 14 * 86_400_000;

fn duration(node: &Node, what: &str, min_ms: i64, diags: &mut Diagnostics) -> Option<Spanned<i64>> {
    let text = match &node.kind {
        Kind::Str(s) => s.clone(),
        Kind::Int(_) => node.raw.clone(),
        _ => String::new(),
    };
    let ms = timespan_ms(&text).or_else(|| (text == "0s" || text == "0m").then_some(0));
    match ms {
        Some(ms) if ms % 60_000 == 0 && (min_ms..=MAX_MS).contains(&ms) => {
            Some(Spanned::new(ms, node.span))
        }
        Some(ms) if ms % 60_000 != 0 => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidDeploy,
                    node.span,
                    format!("`deploy.{what}` must be whole minutes, found `{text}`"),
                )
                .with_help("schedulers run on minute boundaries: write e.g. `5m`, `1h` or `1d`"),
            );
            None
        }
        Some(_) => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidDeploy,
                    node.span,
                    format!("`deploy.{what}` `{text}` is out of range"),
                )
                .with_help(format!(
                    "write a duration from {} minute(s) to 14 days (`14d`)",
                    min_ms / 60_000
                )),
            );
            None
        }
        None => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidDeploy,
                    node.span,
                    format!("`deploy.{what}` must be a duration, found `{}`", node.raw),
                )
                .with_help("write a number and a unit: `5m`, `1h`, `1d`"),
            );
            None
        }
    }
}

fn unknown_key(k: &Node, within: &str, keys: &[&str], diags: &mut Diagnostics) {
    let mut d = Diagnostic::new(
        Code::InvalidDeploy,
        k.span,
        format!("unknown key `{}` in `{within}`", k.raw),
    );
    let sugg = suggest(&k.raw, keys.iter().copied(), 1);
    d = d.with_help(did_you_mean(&sugg).unwrap_or_else(|| {
        format!(
            "the keys are {}",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }));
    diags.push(d);
}

fn strings(node: &Node, what: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        Kind::Str(_) => vec![node],
        _ => {
            diags.error(
                Code::InvalidDeploy,
                node.span,
                format!("`deploy.{what}` must be a list of strings"),
            );
            return Vec::new();
        }
    };
    items
        .into_iter()
        .filter_map(|i| match &i.kind {
            Kind::Str(s) => Some(Spanned::new(s.clone(), i.span)),
            _ => {
                diags.error(
                    Code::InvalidDeploy,
                    i.span,
                    format!("`deploy.{what}` entries must be strings"),
                );
                None
            }
        })
        .collect()
}

fn parse_suppress(node: &Node, diags: &mut Diagnostics) -> Option<Suppress> {
    if let Some(map) = node.as_map() {
        let mut out = Suppress {
            duration: None,
            by: Vec::new(),
            span: node.span,
        };
        for (k, v) in map {
            match k.raw.as_str() {
                "for" => out.duration = duration(v, "suppress.for", 60_000, diags),
                "by" => out.by = strings(v, "suppress.by", diags),
                _ => unknown_key(k, "deploy.suppress", SUPPRESS_KEYS, diags),
            }
        }
        if out.duration.is_none() && map.iter().all(|(k, _)| k.raw != "for") {
            diags.push(
                Diagnostic::new(
                    Code::InvalidDeploy,
                    node.span,
                    "`deploy.suppress` needs `for`, how long to hold back repeated alerts",
                )
                .with_help("write e.g. `suppress: {for: 1h, by: [user.id]}`"),
            );
        }
        if out.by.len() > 3 {
            diags.push(
                Diagnostic::new(
                    Code::InvalidDeploy,
                    out.by[3].span,
                    "`deploy.suppress.by` names at most 3 fields",
                )
                .with_help("Kibana's alert suppression groups by at most 3 fields"),
            );
        }
        return Some(out);
    }
    // `suppress: 1h`: hold back every repeated alert of the rule for that long.
    duration(node, "suppress", 60_000, diags).map(|d| Suppress {
        duration: Some(d),
        by: Vec::new(),
        span: node.span,
    })
}

/// Parse a `deploy:` block.
pub fn parse(node: &Node, diags: &mut Diagnostics) -> Option<Deploy> {
    let Some(map) = node.as_map() else {
        diags.error(
            Code::InvalidDeploy,
            node.span,
            format!("`deploy` must be a mapping, found a {}", node.type_name()),
        );
        return None;
    };
    let mut out = Deploy {
        span: node.span,
        ..Deploy::default()
    };
    for (k, v) in map {
        match k.raw.as_str() {
            "interval" => {
                out.interval = duration(v, "interval", 5 * 60_000, diags);
                if let Some(i) = &out.interval
                    && !(i.value % 1000 == 0 && INTERVALS.contains(&(i.value / 1000)))
                {
                    diags.push(
                        Diagnostic::new(
                            Code::InvalidDeploy,
                            i.span,
                            "`deploy.interval` must be a clock step: a number of minutes that divides an hour, or of hours that divides a day",
                        )
                        .with_help(
                            "schedules run on clock boundaries: 5m, 10m, 15m, 20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d",
                        ),
                    );
                    out.interval = None;
                }
            }
            "delay" => out.delay = duration(v, "delay", 0, diags),
            "suppress" => out.suppress = parse_suppress(v, diags),
            "not-for" => {
                out.not_for = strings(v, "not-for", diags);
                for t in &out.not_for {
                    if !TARGETS.contains(&t.value.as_str()) {
                        let sugg = suggest(&t.value, TARGETS.iter().copied(), 1);
                        diags.push(
                            Diagnostic::new(
                                Code::InvalidDeploy,
                                t.span,
                                format!("`{}` is not a target", t.value),
                            )
                            .with_help(
                                did_you_mean(&sugg).unwrap_or_else(|| {
                                    format!("the targets are {}", TARGETS.join(", "))
                                }),
                            ),
                        );
                    }
                }
            }
            _ => unknown_key(k, "deploy", KEYS, diags),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> (Option<Deploy>, Vec<String>) {
        let docs = crate::syntax::yaml::parse(src).expect("yaml");
        let mut d = Diagnostics::default();
        let node = docs[0].root.get("deploy").expect("deploy");
        let out = parse(node, &mut d);
        (out, d.items.iter().map(|x| x.message.clone()).collect())
    }

    #[test]
    fn parses_every_key() {
        let (d, errs) = run(
            "deploy: {interval: 10m, delay: 2m, suppress: {for: 1h, by: [user.id]}, not-for: [lucene]}",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let d = d.unwrap();
        assert_eq!(d.interval.unwrap().value, 600_000);
        assert_eq!(d.delay.unwrap().value, 120_000);
        let s = d.suppress.unwrap();
        assert_eq!(s.duration.unwrap().value, 3_600_000);
        assert_eq!(s.by[0].value, "user.id");
        assert_eq!(d.not_for[0].value, "lucene");
    }

    #[test]
    fn rejects_bad_values_with_help() {
        let (_, errs) = run("deploy: {interval: 90s, delay: soon, not-for: [splunk], every: 5m}");
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("whole minutes"));
        assert!(errs[1].contains("must be a duration"));
        assert!(errs[2].contains("`splunk` is not a target"));
        assert!(errs[3].contains("unknown key `every`"));
        // 45 minutes and 90 minutes divide a day, but are no cron step.
        for bad in ["45m", "90m", "7m"] {
            let (_, errs) = run(&format!("deploy: {{interval: {bad}}}"));
            assert!(
                errs.iter().any(|e| e.contains("clock step")),
                "{bad}: {errs:?}"
            );
        }
        let (_, errs) = run("deploy: {interval: 1m}");
        assert!(errs[0].contains("out of range"), "{errs:?}");
    }
}
