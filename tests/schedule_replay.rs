//! Schedule replay: every library rule's artifacts, deployed, raise each alert exactly once.
//!
//! For each artifact format this reads the schedule the artifact itself states (Splunk's cron
//! and dispatch times, Sentinel's frequency, period and the query's time filter, Kibana's
//! interval, from and to, and each query's alert-window clause), replays the scheduled runs
//! over a timestamped event stream whose events arrive up to the rule's delay late, and
//! evaluates each run's window with the engine. The union of the runs' alerts must be the
//! alerts of the whole stream, each exactly once (Kibana: at least once, as Kibana
//! deduplicates alerts on the same source events). docs/deploy.md#schedules has the model.

use aisigma::engine::correlate::{build, rows};
use aisigma::engine::matcher::{Matcher, text_at};
use aisigma::semantics::check::{Options, check_files, repo_checks};
use aisigma::semantics::checked::FileResult;
use aisigma::semantics::schema::Schema;
use aisigma::syntax::ast::Body;
use aisigma::syntax::time::parse_timestamp_ms;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const MIN: i64 = 60_000;

/// What one artifact says about its runs, in milliseconds before the run time `T`.
#[derive(Debug)]
struct Plan {
    interval: i64,
    /// Events whose time is in `[T - read.0, T - read.1)` are read...
    read: (i64, i64),
    /// ...of those that arrived in `[T - arrival, T)` (index or ingestion time), or before T.
    arrival: Option<i64>,
    /// A correlation reports the alerts whose time is in `[T - alert.0, T - alert.1)`.
    alert: Option<(i64, i64)>,
    /// Kibana deduplicates alerts on the same source events across runs.
    dedup: bool,
}

fn minutes(s: &str) -> i64 {
    // `-20m@m`, `@m`.
    let s = s.trim();
    if s == "@m" {
        return 0;
    }
    let n: i64 = s
        .trim_start_matches('-')
        .trim_end_matches("m@m")
        .parse()
        .unwrap_or_else(|_| panic!("time `{s}`"));
    n * MIN
}

fn iso_ms(s: &str) -> i64 {
    let s = s.strip_prefix('P').expect("ISO duration");
    let (days, time) = match s.split_once('T') {
        Some((d, t)) => (d, t),
        None => (s, ""),
    };
    let mut ms = 0;
    if let Some(d) = days.strip_suffix('D') {
        ms += d.parse::<i64>().unwrap() * 1440 * MIN;
    }
    let mut num = String::new();
    for c in time.chars() {
        match c {
            'H' => ms += num.parse::<i64>().unwrap() * 60 * MIN,
            'M' => ms += num.parse::<i64>().unwrap() * MIN,
            c => {
                num.push(c);
                continue;
            }
        }
        num.clear();
    }
    ms
}

fn capture(re: &str, text: &str) -> Option<Vec<i64>> {
    let c = regex::Regex::new(re).unwrap().captures(text)?;
    Some(
        c.iter()
            .skip(1)
            .map(|m| m.map(|m| m.as_str().parse().unwrap()).unwrap_or(0))
            .collect(),
    )
}

fn splunk_plan(text: &str) -> Plan {
    let kv: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once(" = ")).collect();
    let cron = kv["cron_schedule"];
    let interval = if let Some(n) = cron.strip_prefix("*/") {
        n.split(' ').next().unwrap().parse::<i64>().unwrap() * MIN
    } else {
        panic!("cron {cron}")
    };
    let read = (
        minutes(kv["dispatch.earliest_time"]),
        minutes(kv["dispatch.latest_time"]),
    );
    let arrival = kv.get("dispatch.index_earliest").map(|e| {
        assert_eq!(kv["dispatch.index_latest"], "@m");
        minutes(e)
    });
    assert_eq!(kv["realtime_schedule"], "0", "continuous scheduling");
    let alert = capture(
        r"\| addinfo \| where _time >= info_max_time - (\d+) ",
        kv["search"],
    )
    .map(|v| (read.1 + v[0] * 1000, read.1));
    Plan {
        interval,
        read,
        arrival,
        alert,
        dedup: false,
    }
}

fn sentinel_plan(text: &str) -> Plan {
    let v: Value = serde_json::from_str(text).unwrap();
    let p = &v["resources"][0]["properties"];
    let interval = iso_ms(p["queryFrequency"].as_str().unwrap());
    let period = iso_ms(p["queryPeriod"].as_str().unwrap());
    let q = p["query"].as_str().unwrap();
    let arrival = capture(r"\| where ingestion_time\(\) > ago\((\d+)m\)", q).map(|v| v[0] * MIN);
    let alert = capture(
        r"\| where \S+(?: \+ \d+s)? >= ago\((\d+)m\)(?: and \S+(?: \+ \d+s)? < ago\((\d+)m\))?",
        q,
    )
    .map(|v| (v[0] * MIN, v[1] * MIN));
    assert!(arrival.is_some() != alert.is_some(), "{q}");
    Plan {
        interval,
        read: (period, 0),
        arrival,
        alert,
        dedup: false,
    }
}

/// The Azure-Sentinel repository's YAML: `queryFrequency: 5m`, `queryPeriod: 10m`, and the
/// query as a JSON string; the same model as the ARM template.
fn sentinel_yaml_plan(text: &str) -> Plan {
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let mins = |v: &str| v.trim_end_matches('m').parse::<i64>().unwrap() * MIN;
    let query: String = serde_json::from_str(get("query")).unwrap();
    let arm = json!({"resources": [{"properties": {
        "queryFrequency": format!("PT{}M", mins(get("queryFrequency")) / MIN),
        "queryPeriod": format!("PT{}M", mins(get("queryPeriod")) / MIN),
        "query": query,
    }}]});
    sentinel_plan(&arm.to_string())
}

fn kibana_plan(text: &str) -> Option<Plan> {
    let v: Value = serde_json::from_str(text).unwrap();
    if v["type"] == "threshold" {
        // Kibana keeps each threshold rule's alerted groups (its signal history) and skips
        // them in later runs; that bookkeeping is Kibana's, not the artifact's.
        return None;
    }
    let interval = capture(r"^(\d+)m$", v["interval"].as_str().unwrap()).unwrap()[0] * MIN;
    let from = capture(r"^now-(\d+)s$", v["from"].as_str().unwrap()).unwrap()[0] * 1000;
    let to = match v["to"].as_str().unwrap() {
        "now" => 0,
        t => capture(r"^now-(\d+)s$", t).unwrap()[0] * 1000,
    };
    let q = v["query"].as_str().unwrap();
    let alert = capture(
        r"\| WHERE \S+(?: \+ \d+ seconds)? >= NOW\(\) - (\d+) seconds AND \S+(?: \+ \d+ seconds)? < NOW\(\) - (\d+) seconds",
        q,
    )
    .map(|v| (v[0] * 1000, v[1] * 1000));
    Some(Plan {
        interval,
        read: (from, to),
        arrival: None,
        alert,
        dedup: alert.is_none(),
    })
}

/// A deterministic pseudo-random sequence.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// An event stream: (event time, arrival time, event), sorted by event time.
type Stream = Vec<(i64, i64, Value)>;

fn stamp(e: &Value, t: i64) -> Value {
    let mut e = e.clone();
    let secs = t.div_euclid(1000);
    let ms = t.rem_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = aisigma::syntax::time::civil_from_days(days);
    e["@timestamp"] = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
    .into();
    e
}

/// Evaluates one run's events: each alert's time and key.
type Evaluate<'a, K> = &'a dyn Fn(&[Value]) -> Vec<(i64, K)>;

/// The runs of `plan` over `stream`: every alert key each run raises.
fn replay<K: Ord + Clone>(plan: &Plan, stream: &Stream, evaluate: Evaluate<K>) -> Vec<K> {
    let first = stream.iter().map(|e| e.0).min().unwrap();
    let last = stream.iter().map(|e| e.1).max().unwrap();
    let mut t = (first - plan.read.0).div_euclid(plan.interval) * plan.interval;
    let end = last + plan.read.0 + 2 * plan.interval;
    let mut out = Vec::new();
    while t <= end {
        // Alerts happen at event times: a run whose alert window holds no event raises none.
        if let Some((a, b)) = plan.alert {
            let i = stream.partition_point(|e| e.0 < t - a);
            if stream.get(i).is_none_or(|e| e.0 >= t - b) {
                t += plan.interval;
                continue;
            }
        }
        let lo = stream.partition_point(|e| e.0 < t - plan.read.0);
        let window: Vec<Value> = stream[lo..]
            .iter()
            .take_while(|e| e.0 < t - plan.read.1)
            .filter(|e| e.1 < t && plan.arrival.is_none_or(|a| e.1 >= t - a))
            .map(|e| e.2.clone())
            .collect();
        if !window.is_empty() {
            for (time, key) in evaluate(&window) {
                if plan
                    .alert
                    .is_none_or(|(a, b)| time >= t - a && time < t - b)
                {
                    out.push(key);
                }
            }
        }
        t += plan.interval;
    }
    out
}

fn compile(file: &str, target: &str, format: &str) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_aisigma"))
        .args(["compile", file, "--target", target, "--format", format])
        .output()
        .unwrap();
    (out.status.success() && !out.stdout.is_empty()).then(|| String::from_utf8(out.stdout).unwrap())
}

const FORMATS: &[(&str, &str)] = &[
    ("spl", "savedsearches"),
    ("kql", "sentinel-arm"),
    ("kql", "sentinel-rule"),
    ("lucene", "kibana-ndjson"),
    ("eql", "kibana-ndjson"),
    ("esql", "kibana-ndjson"),
];

fn plan_of(format: &str, text: &str) -> Option<Plan> {
    match format {
        "savedsearches" => Some(splunk_plan(text)),
        "sentinel-arm" => Some(sentinel_plan(text)),
        "sentinel-rule" => Some(sentinel_yaml_plan(text)),
        _ => kibana_plan(text),
    }
}

fn library() -> Vec<FileResult> {
    let files: Vec<PathBuf> = walkdir::WalkDir::new("rules")
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    let mut results = check_files(&files, &Schema::builtin(), &Options::default());
    repo_checks(&mut results);
    results
}

/// Check that `got` holds each of `want` once (or at least once, deduplicated).
fn exactly_once<K: Ord + Clone + std::fmt::Debug>(
    failures: &mut Vec<String>,
    what: &str,
    want: &[K],
    mut got: Vec<K>,
    dedup: bool,
) {
    let mut want = want.to_vec();
    want.sort();
    got.sort();
    if dedup {
        got.dedup();
        want.dedup();
    }
    if got != want {
        let missing = want.iter().filter(|w| !got.contains(w)).count();
        let extra = got.len() as i64 - (want.len() - missing) as i64;
        failures.push(format!(
            "{what}: of {} alerts, {missing} never raised, {extra} raised again",
            want.len()
        ));
    }
}

#[test]
fn every_artifact_alerts_exactly_once() {
    let results = library();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let base = 1_796_000_000_000i64; // 2026-11-30
    let hidden = aisigma::semantics::correlation::hidden_inputs(&results);
    for (fi, r) in results.iter().enumerate() {
        // A file compiles to one artifact per document it shows (a correlation's inputs
        // are compiled with it): replay files that show one.
        let shown = (0..r.docs.len())
            .filter(|di| !hidden.contains(&(fi, *di)))
            .count();
        if shown != 1 {
            continue;
        }
        for (di, cd) in r.docs.iter().enumerate() {
            if hidden.contains(&(fi, di)) {
                continue;
            }
            let delay_for = |target: &str| -> i64 {
                cd.doc
                    .meta
                    .deploy
                    .as_ref()
                    .and_then(|d| d.delay.as_ref())
                    .map(|d| d.value)
                    .unwrap_or(match target {
                        "spl" | "kql" => 5 * MIN,
                        _ => MIN,
                    })
            };
            match &cd.doc.body {
                Some(Body::Detection(_)) => {
                    let Some(expr) = &cd.expr else { continue };
                    let tests = cd.doc.tests.as_deref().unwrap_or_default();
                    let events: Vec<&Value> = tests
                        .iter()
                        .filter(|t| !aisigma::engine::ruletest::is_raw_record(&t.event))
                        .map(|t| &t.event)
                        .collect();
                    if events.is_empty() {
                        continue;
                    }
                    let category = cd.doc.category().map(str::to_string);
                    let matcher = Matcher::new(expr).unwrap();
                    for (target, format) in FORMATS {
                        let Some(text) = compile(&r.path, target, format) else {
                            continue;
                        };
                        let Some(plan) = plan_of(format, &text) else {
                            continue;
                        };
                        let delay = delay_for(target);
                        // Each test event 20 times over 6 hours, up to `delay` late.
                        let mut stream: Stream = Vec::new();
                        for k in 0..20 {
                            for (i, e) in events.iter().enumerate() {
                                let t = base
                                    + (rng.below(6 * 60) as i64) * MIN
                                    + rng.below(60_000) as i64;
                                let mut e = stamp(e, t);
                                e["aisigma_replay_id"] = format!("{k}-{i}").into();
                                stream.push((t, t + rng.below(delay as u64 + 1) as i64, e));
                            }
                        }
                        stream.sort_by_key(|e| e.0);
                        let evaluate = |w: &[Value]| -> Vec<(i64, String)> {
                            w.iter()
                                .filter(|e| {
                                    let ec = text_at(e, "ai.category");
                                    (category.is_none() || ec.is_none() || ec == category)
                                        && matcher.matches(e)
                                })
                                .map(|e| (0, e["aisigma_replay_id"].as_str().unwrap().to_string()))
                                .collect()
                        };
                        let all: Vec<Value> = stream.iter().map(|e| e.2.clone()).collect();
                        let want: Vec<String> = evaluate(&all).into_iter().map(|x| x.1).collect();
                        let got = replay(&plan, &stream, &evaluate);
                        exactly_once(
                            &mut failures,
                            &format!("{} on {format} ({target})", r.path),
                            &want,
                            got,
                            plan.dedup,
                        );
                        checked += 1;
                    }
                }
                Some(Body::Correlation(c)) => {
                    let (net, node) = build(&results, (fi, di)).unwrap();
                    let groups: Vec<&str> = c.group_by.iter().map(|g| g.value.as_str()).collect();
                    let cases: Vec<&Vec<(Value, _)>> = cd
                        .doc
                        .corr_tests
                        .iter()
                        .flatten()
                        .map(|t| &t.events)
                        .collect();
                    for (target, format) in FORMATS {
                        let Some(text) = compile(&r.path, target, format) else {
                            continue;
                        };
                        let Some(plan) = plan_of(format, &text) else {
                            continue;
                        };
                        let delay = delay_for(target);
                        let history = plan.read.0;
                        // Each test case 3 times, far enough apart not to meet, at a random
                        // phase against the runs.
                        let mut stream: Stream = Vec::new();
                        for (ci, events) in cases.iter().enumerate() {
                            let times: Vec<i64> = events
                                .iter()
                                .filter_map(|(e, _)| parse_timestamp_ms(&text_at(e, "@timestamp")?))
                                .collect();
                            let Some(&t0) = times.iter().min() else {
                                continue;
                            };
                            for k in 0..3i64 {
                                let shift = base - t0
                                    + (ci as i64 * 3 + k) * (2 * history + 86_400_000)
                                    + rng.below(3_600_000) as i64;
                                for (e, _) in events.iter() {
                                    let Some(t) = text_at(e, "@timestamp")
                                        .and_then(|t| parse_timestamp_ms(&t))
                                    else {
                                        continue;
                                    };
                                    let t = t + shift;
                                    let late = rng.below(delay as u64 + 1) as i64;
                                    // Each copy has groups of its own, so no copy's
                                    // history (a baseline's, first_seen's) reaches another.
                                    let mut e = stamp(e, t);
                                    for g in &groups {
                                        if let Some(v) = e.get(*g).and_then(Value::as_str) {
                                            e[*g] = format!("{v}#{ci}-{k}").into();
                                        }
                                    }
                                    stream.push((t, t + late, e));
                                }
                            }
                        }
                        if stream.is_empty() {
                            continue;
                        }
                        stream.sort_by_key(|e| e.0);
                        let evaluate = |w: &[Value]| -> Vec<(i64, (i64, String))> {
                            let (alerts, _) = net.run(w);
                            rows(&alerts, node)
                                .into_iter()
                                .map(|(t, g)| (t, (t, format!("{g:?}"))))
                                .collect()
                        };
                        let all: Vec<Value> = stream.iter().map(|e| e.2.clone()).collect();
                        let want: Vec<(i64, String)> =
                            evaluate(&all).into_iter().map(|x| x.1).collect();
                        assert!(
                            !want.is_empty() || cases.is_empty(),
                            "{}: the replayed tests raise alerts",
                            r.path
                        );
                        let got = replay(&plan, &stream, &evaluate);
                        exactly_once(
                            &mut failures,
                            &format!("{} on {format} ({target})", r.path),
                            &want,
                            got,
                            plan.dedup,
                        );
                        checked += 1;
                    }
                }
                _ => {}
            }
        }
    }
    // Known and warned (AIS803): a Sentinel rule looks back at most 14 days, less than a
    // 30-day first_seen needs, so its groups learn again inside the 14 days.
    let known = [
        "rules/correlations/first_seen_model_per_credential.yml on sentinel-",
        "rules/correlations/first_seen_country_per_credential.yml on sentinel-",
    ];
    failures.retain(|f| !known.iter().any(|k| f.starts_with(k)));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("replayed {checked} artifacts, each alert exactly once");
    assert!(checked > 150, "replayed {checked} artifacts");
}
