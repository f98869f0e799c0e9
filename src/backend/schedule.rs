//! When and how a deployed rule runs: its schedule, its alert window and its suppression, in
//! each SIEM's own fields.
//!
//! In: a compiled rule, its `deploy:` settings and the target. Out: the `deploy` object that
//! artifact templates read (cron and dispatch times for Splunk, ISO durations and incident
//! grouping for Sentinel, interval/from/to and `alert_suppression` for Kibana, the run
//! frequency for SecOps). The model (docs/deploy.md#schedules) is the same everywhere: a run
//! at time `T` raises the alerts whose time falls in `[T - delay - interval, T - delay)`, and
//! reads `history` more for a correlation's windows. Consecutive runs tile time, so every
//! alert is raised once; `tests/schedule_replay.rs` replays each artifact to prove it.

use crate::backend::compile::Compiled;
use crate::backend::entities;
use crate::backend::mapping::Mapping;
use crate::backend::refusal::Unsupported;
use crate::backend::target::Target;
use crate::semantics::schema::Schema;
use crate::syntax::ast::{Body, Doc};
use serde_json::{Value, json};

/// How often a rule runs unless `deploy.interval` says otherwise.
pub const DEFAULT_INTERVAL: i64 = 300;
/// How late an event may arrive (after its own time) and still be seen, per target, unless
/// `deploy.delay` says otherwise: Sentinel's and Splunk's runs take each event once by its
/// arrival (ingestion or index time) and read `delay` back in event time; Kibana's default
/// extra look-back is one minute; SecOps settles late events itself.
pub fn default_delay(target: Target) -> i64 {
    match target {
        Target::Spl | Target::Kql => 300,
        Target::Lucene | Target::Eql | Target::Esql => 60,
        Target::Yaral => 0,
    }
}

/// The intervals a schedule may have (seconds), as the `deploy:` key checks them.
pub use crate::syntax::deploy::INTERVALS;

/// The longest look-back of a Sentinel scheduled rule (`queryPeriod`): 14 days.
pub const SENTINEL_MAX_PERIOD: i64 = 14 * 86_400;

/// A rule's schedule in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub interval: i64,
    pub delay: i64,
    /// What a correlation reads before its alert window: one timespan, a baseline's history,
    /// first_seen's learning time. 0 for a rule on single events.
    pub history: i64,
    /// Suppression: seconds, and the fields (schema names) that tell alerts apart.
    pub suppress: Option<(i64, Vec<String>)>,
    pub correlation: bool,
}

impl Schedule {
    pub fn of(doc: &Doc, compiled: &Compiled, target: Target) -> Schedule {
        let d = doc.meta.deploy.as_ref();
        let secs = |v: Option<&crate::syntax::span::Spanned<i64>>| v.map(|x| x.value / 1000);
        let history = compiled
            .correlation
            .as_ref()
            .and_then(|c| c.get("lookback_seconds"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        Schedule {
            interval: secs(d.and_then(|d| d.interval.as_ref())).unwrap_or(DEFAULT_INTERVAL),
            delay: secs(d.and_then(|d| d.delay.as_ref())).unwrap_or(default_delay(target)),
            history,
            suppress: d.and_then(|d| d.suppress.as_ref()).map(|s| {
                (
                    s.duration.as_ref().map(|x| x.value / 1000).unwrap_or(3600),
                    s.by.iter().map(|f| f.value.clone()).collect(),
                )
            }),
            correlation: matches!(doc.body, Some(Body::Correlation(_))),
        }
    }
}

/// The `customDetails` keys of the suppression fields (for Sentinel's incident grouping).
fn suppress_fields_keys(s: &Schedule, e: &Value) -> Vec<Value> {
    let Some((_, by)) = &s.suppress else {
        return Vec::new();
    };
    by.iter()
        .map(|f| entities::detail_key(f))
        .filter(|k| e["custom_details"].get(k).is_some())
        .map(Value::from)
        .collect()
}

/// Whole minutes, rounded up.
fn minutes_up(s: i64) -> i64 {
    (s + 59) / 60
}

/// An ISO 8601 duration of whole minutes (`PT5M`, `PT1H`, `P1D`, `P2DT1H30M`).
pub fn iso(secs: i64) -> String {
    let m = minutes_up(secs);
    let (d, h, mi) = (m / 1440, (m % 1440) / 60, m % 60);
    let mut s = String::from("P");
    if d > 0 {
        s.push_str(&format!("{d}D"));
    }
    if h > 0 || mi > 0 || d == 0 {
        s.push('T');
        if h > 0 {
            s.push_str(&format!("{h}H"));
        }
        if mi > 0 || (h == 0 && d == 0) {
            s.push_str(&format!("{mi}M"));
        }
    }
    s
}

/// A cron expression that fires every `interval` seconds, on the minute, from midnight.
pub fn cron(interval: i64) -> String {
    let m = interval / 60;
    match m {
        1..=59 => format!("*/{m} * * * *"),
        60 => "0 * * * *".into(),
        1440 => "0 0 * * *".into(),
        _ => format!("0 */{} * * *", m / 60),
    }
}

/// A refusal of a deployment setting the target cannot express, at the `deploy:` block.
fn refuse(doc: &Doc, what: &str, why: &str) -> Unsupported {
    let span = doc.meta.deploy.as_ref().map(|d| d.span).unwrap_or(doc.span);
    Unsupported::new(what, why, span)
}

/// The `deploy` object of the artifact templates of `target` (see the module comment).
///
/// `read` holds the fields the rule reads (a correlation: its group-by fields), for the
/// highlighted fields and entities of [`entities`].
pub fn context(
    doc: &Doc,
    compiled: &Compiled,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
    read: &[String],
) -> Result<Value, Unsupported> {
    let s = Schedule::of(doc, compiled, target);
    let highlights = entities::highlights(doc, read, s.correlation, schema, mapping);
    if !INTERVALS.contains(&s.interval) {
        return Err(refuse(
            doc,
            "a `deploy.interval` that does not divide an hour or a day",
            "schedules run on clock boundaries; use 5m, 10m, 15m, 20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d",
        ));
    }
    let suppress_fields: Vec<String> = match &s.suppress {
        Some((_, by)) => by
            .iter()
            .map(|f| {
                entities::output_field(f, s.correlation, mapping).ok_or_else(|| {
                    refuse(
                        doc,
                        &format!("suppression by `{f}`"),
                        "the field has no plain column name on this target",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let mut o = json!({
        "interval_seconds": s.interval,
        "delay_seconds": s.delay,
        "history_seconds": s.history,
        "suppress": s.suppress.is_some(),
        "suppress_seconds": s.suppress.as_ref().map(|x| x.0).unwrap_or(0),
        "suppress_fields": suppress_fields,
    });
    let mut extra = match target {
        Target::Spl => splunk(&s, &compiled.query),
        Target::Kql => sentinel(&s, compiled),
        Target::Lucene | Target::Eql | Target::Esql => {
            kibana(doc, &s, compiled, target, &suppress_fields)?
        }
        Target::Yaral => secops(doc, &s, &compiled.query)?,
    };
    match target {
        Target::Kql => {
            let e = entities::sentinel(&highlights);
            let suffix = e["query_suffix"].as_str().unwrap_or_default().to_string();
            extra["query"] =
                format!("{}{suffix}", extra["query"].as_str().unwrap_or_default()).into();
            extra["entity_mappings"] = e["entity_mappings"].clone();
            // Suppression by fields: Sentinel groups the alerts of the same values into one
            // incident for the duration (it does not drop alerts).
            let keys: Vec<Value> = suppress_fields_keys(&s, &e);
            extra["grouping"] = match (&s.suppress, keys.is_empty()) {
                (Some((secs, _)), false) => json!({
                    "enabled": true,
                    "reopenClosedIncident": false,
                    "lookbackDuration": iso((*secs).clamp(300, 7 * 86_400)),
                    "matchingMethod": "Selected",
                    "groupByCustomDetails": keys,
                }),
                _ => json!({
                    "enabled": false,
                    "reopenClosedIncident": false,
                    "lookbackDuration": "PT5H",
                    "matchingMethod": "AllEntities",
                }),
            };
            extra["custom_details"] = e["custom_details"].clone();
        }
        Target::Lucene | Target::Eql | Target::Esql => {
            extra["investigation_fields"] = entities::columns(&highlights).into();
        }
        Target::Spl => {
            extra["notable_fields"] = entities::columns(&highlights).join(",").into();
            let score = match doc
                .meta
                .level
                .as_ref()
                .map(|l| l.value.to_lowercase())
                .as_deref()
            {
                Some("critical") => 100,
                Some("high") => 80,
                Some("low") => 20,
                Some("informational") => 10,
                _ => 50,
            };
            extra["risk"] = entities::splunk_risk(&highlights, score).into();
        }
        Target::Yaral => {}
    }
    if let (Value::Object(o), Value::Object(e)) = (&mut o, extra) {
        o.extend(e);
    }
    Ok(o)
}

/// [`context`] for a checked document: the fields it reads (a correlation: its group-by
/// fields) and its suppression fields are highlighted; a refusal becomes an `AIS801`
/// diagnostic naming the rule, the setting and the target.
pub fn for_doc(
    cd: &crate::semantics::checked::CheckedDoc,
    c: &Compiled,
    target: Target,
    mapping: &Mapping,
    schema: &Schema,
) -> Result<Value, crate::report::diagnostic::Diagnostic> {
    let mut read = Vec::new();
    match (&cd.expr, &c.correlation) {
        (_, Some(corr)) => read.extend(
            corr["group_by"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(String::from)),
        ),
        (Some(e), None) => {
            e.fields_read(&mut read);
        }
        _ => {}
    }
    if let Some(s) = cd
        .doc
        .meta
        .deploy
        .as_ref()
        .and_then(|d| d.suppress.as_ref())
    {
        read.extend(s.by.iter().map(|f| f.value.clone()));
    }
    context(&cd.doc, c, target, mapping, schema, &read)
        .map_err(|u| u.into_diagnostic(&cd.doc.label(), target.name()))
}

/// Splunk: a cron schedule on the minute, with dispatch times snapped to the minute and
/// evaluated against the scheduled time, so a late run keeps its range; with
/// `realtime_schedule = 0` (continuous scheduling) no run is skipped. A rule on single events
/// takes each event once by index time (`index_earliest`/`index_latest` tile), reading
/// `delay` back in event time. A correlation reads `history` more and reports only the rows
/// of its newest interval: `addinfo` gives the search's latest time.
fn splunk(s: &Schedule, query: &str) -> Value {
    let m = |secs: i64| minutes_up(secs);
    let (earliest, latest, index) = if s.correlation {
        let latest = if s.delay == 0 {
            "@m".to_string()
        } else {
            format!("-{}m@m", m(s.delay))
        };
        (
            format!("-{}m@m", m(s.delay) + m(s.interval) + m(s.history)),
            latest,
            Value::Null,
        )
    } else {
        (
            format!("-{}m@m", m(s.delay) + m(s.interval)),
            "@m".to_string(),
            json!({"earliest": format!("-{}m@m", m(s.interval)), "latest": "@m"}),
        )
    };
    let query = if s.correlation {
        format!(
            "{query} | addinfo | where _time >= info_max_time - {} | fields - info_min_time, info_max_time, info_search_time, info_sid",
            m(s.interval) * 60
        )
    } else {
        query.to_string()
    };
    json!({
        "query": query,
        "cron": cron(s.interval),
        "earliest": earliest,
        "latest": latest,
        "index_time": index,
        // One alert per result when results are told apart by fields; else one per run.
        "digest_mode": if s.suppress.as_ref().is_some_and(|x| !x.1.is_empty()) { 0 } else { 1 },
        "suppress_period": format!("{}s", s.suppress.as_ref().map(|x| x.0).unwrap_or(0)),
    })
}

/// Sentinel: runs every `queryFrequency` over `queryPeriod`, and does not deduplicate
/// overlapping look-backs. A rule on single events takes each event once by ingestion time
/// (`ingestion_time() > ago(frequency)`, Microsoft's pattern for ingestion delay) over a
/// period of frequency + delay. A correlation reads `history` more (at most 14 days; a
/// period over 2 days needs a frequency of at least an hour) and reports only the rows whose
/// alert time is in the newest frequency, `delay` back.
fn sentinel(s: &Schedule, compiled: &Compiled) -> Value {
    let frequency = if s.interval + s.history + s.delay > 2 * 86_400 {
        s.interval.max(3600)
    } else {
        s.interval
    };
    let period = (frequency + s.history + s.delay).min(SENTINEL_MAX_PERIOD);
    let query = if s.correlation {
        let (col, shift) = alert_time_kql(compiled);
        let end = if s.delay > 0 {
            format!(" and {col}{shift} < ago({}m)", minutes_up(s.delay))
        } else {
            String::new()
        };
        format!(
            "{} | where {col}{shift} >= ago({}m){end}",
            compiled.query,
            minutes_up(frequency + s.delay)
        )
    } else {
        format!(
            "{} | where ingestion_time() > ago({}m)",
            compiled.query,
            minutes_up(frequency)
        )
    };
    let (enabled, duration) = match &s.suppress {
        Some((secs, by)) if by.is_empty() => (true, iso(*secs)),
        _ => (false, "PT1H".to_string()),
    };
    json!({
        "query": query,
        "frequency": iso(frequency),
        "period": iso(period),
        "frequency_seconds": frequency,
        "period_seconds": period,
        "suppression_enabled": enabled,
        "suppression_duration": duration,
    })
}

/// The column (and shift) of a KQL correlation's alert time: a fixed window is reported
/// once it is complete, at its end; other correlations at their row's time.
fn alert_time_kql(compiled: &Compiled) -> (String, String) {
    let span = timespan(compiled);
    if compiled.query.contains("aisigma_window = bin(") {
        ("aisigma_window".into(), format!(" + {span}s"))
    } else {
        ("TimeGenerated".into(), String::new())
    }
}

fn timespan(compiled: &Compiled) -> i64 {
    compiled
        .correlation
        .as_ref()
        .and_then(|c| c.get("timespan_seconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Kibana: every run searches `[from, to]` back from its start. Alerts on single events and
/// EQL sequences are deduplicated by Kibana (an alert's id hashes its source events), so
/// they look back `interval + delay`; a plain ES|QL query keeps `_id` (`METADATA _id`) for
/// that. A threshold rule counts its whole look-back: one timespan, run every timespan
/// (Kibana skips groups it already alerted on). An ES|QL correlation reports only the
/// windows that ended in the newest interval, `delay` back.
fn kibana(
    doc: &Doc,
    s: &Schedule,
    compiled: &Compiled,
    target: Target,
    fields: &[String],
) -> Result<Value, Unsupported> {
    let threshold = compiled
        .correlation
        .as_ref()
        .is_some_and(|c| c.get("threshold").is_some());
    let span = timespan(compiled);
    let (d, i) = (s.delay, s.interval);
    let (interval, lookback, query) = if threshold {
        (span, span, compiled.query.clone())
    } else if s.correlation && target == Target::Esql {
        let col = if compiled.query.contains("aisigma_window = BUCKET(") {
            format!("aisigma_window + {span} seconds")
        } else {
            "aisigma_last".to_string()
        };
        let query = format!(
            "{} | WHERE {col} >= NOW() - {} seconds AND {col} < NOW() - {d} seconds",
            compiled.query,
            d + i
        );
        (i, i + s.history + d, query)
    } else if target == Target::Esql {
        // `FROM index |` becomes `FROM index METADATA _id |`: Kibana deduplicates by `_id`.
        let query = match compiled.query.split_once(" | ") {
            Some((from, rest)) if !from.contains(" METADATA ") => {
                format!("{from} METADATA _id | {rest}")
            }
            _ => compiled.query.clone(),
        };
        (i, i + s.history + d, query)
    } else {
        (i, i + s.history + d, compiled.query.clone())
    };
    let groups: Vec<String> = compiled
        .correlation
        .as_ref()
        .and_then(|c| c["group_by"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(String::from))
        .collect();
    let suppression = match &s.suppress {
        // A correlation raises one alert per group and timespan, as the engine's alert uses
        // up its window; Kibana counts the suppressed ones on the alert.
        None if s.correlation && !threshold && (1..=3).contains(&groups.len()) && span > 0 => {
            let duration = if span % 60 == 0 {
                json!({"value": span / 60, "unit": "m"})
            } else {
                json!({"value": span, "unit": "s"})
            };
            json!({"group_by": groups, "duration": duration, "missing_fields_strategy": "suppress"})
        }
        None => Value::Null,
        Some((secs, _)) if threshold => json!({"duration": {"value": secs / 60, "unit": "m"}}),
        Some((_, by)) if by.is_empty() => {
            return Err(refuse(
                doc,
                "`deploy.suppress` without `by`",
                "Kibana suppresses alerts per group: name 1 to 3 fields in `deploy.suppress.by`",
            ));
        }
        Some((secs, _)) => json!({
            "group_by": fields,
            "duration": {"value": secs / 60, "unit": "m"},
            "missing_fields_strategy": "suppress",
        }),
    };
    let lead = if threshold { d } else { 0 };
    Ok(json!({
        "query": query,
        "interval": format!("{}m", minutes_up(interval)),
        "from": format!("now-{}s", lookback + lead),
        "to": if lead == 0 { "now".to_string() } else { format!("now-{lead}s") },
        "alert_suppression": suppression,
    }))
}

/// SecOps: single-event rules run live; multi-event rules run hourly, or daily when their
/// match window is longer than a day; SecOps evaluates each match window and settles late
/// events itself. Its `suppression_window` option has no published value syntax, so
/// `deploy.suppress` is refused rather than guessed.
fn secops(doc: &Doc, s: &Schedule, query: &str) -> Result<Value, Unsupported> {
    if s.suppress.is_some() {
        return Err(refuse(
            doc,
            "`deploy.suppress`",
            "YARA-L's `options: suppression_window` has no published value syntax; leave \
             suppression to SecOps' alert settings, or list yaral in `deploy.not-for`",
        ));
    }
    let frequency = if !s.correlation {
        "LIVE"
    } else if s.history > 86_400 {
        "DAILY"
    } else {
        "HOURLY"
    };
    Ok(json!({"query": query, "run_frequency": frequency, "enabled": true, "alerting": true}))
}
