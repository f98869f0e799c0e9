//! The correlation engine: Sigma correlations and aisigma's baselines, evaluated over a
//! time-ordered stream of events. The semantics, written down in `docs/semantics.md`
//! (Correlations), are what every backend must reproduce:
//!
//! - Events are processed in `@timestamp` order (ties in input order). An event without a
//!   readable `@timestamp` cannot take part in a correlation.
//! - Each correlation keeps, per group (the values of its `group-by` fields; an input that
//!   lacks one of them is left out), the inputs of the last `timespan`: a **sliding window**
//!   `[t - timespan, t]` that ends at each arriving input `t`. The condition is evaluated when
//!   an input arrives; an alert fires at `t` when it holds and did not hold at the group's
//!   previous input (one alert when the condition starts to hold).
//! - `temporal_ordered` follows EQL's `sequence` state machine: per group and step, one
//!   partial sequence; a completed sequence is used up.
//! - `baseline` compares the aggregate of the current fixed window (`timespan`, aligned to
//!   the epoch) with the same group's earlier windows, as a z-score; `first_seen` fires on a
//!   value its group has not had in the last `timespan`.
//! - A correlation's alerts are the inputs of the correlations that reference it; an alert
//!   carries its group-by values as fields, and its time.

use crate::engine::matcher::{Matcher, number_at, text_at};
use crate::regex::casefold::CaseMode;
use crate::semantics::checked::FileResult;
use crate::semantics::correlation::{self, Agg, Kind, Plan};
use crate::syntax::ast::{Body, CmpOp};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

#[derive(Debug)]
pub enum Node {
    /// A detection rule; it applies to events of its category (and of unknown category).
    Rule {
        matcher: Box<Matcher>,
        category: Option<String>,
    },
    Correlation(Plan),
}

/// A correlation and everything it reads, in dependency order (inputs first).
#[derive(Debug)]
pub struct Network {
    pub nodes: Vec<Node>,
    /// A label per node (title or id), for messages.
    pub labels: Vec<String>,
    /// The field holding an event's category.
    pub category_field: String,
    /// The document (file, index) of each node.
    pub docs: Vec<(usize, usize)>,
}

/// An alert of a correlation.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub node: usize,
    /// Milliseconds since the epoch.
    pub time: i64,
    /// The group-by values, in `group-by` order.
    pub group: Vec<(String, String)>,
    /// The value the condition tested (count, distinct count, sum, z-score, ...), if any.
    pub value: Option<f64>,
}

impl Alert {
    /// The alert as an input event of another correlation: its group values as text fields
    /// (a number where the text is one, as for any event).
    fn as_input(&self) -> Fields {
        Fields(
            self.group
                .iter()
                .map(|(k, v)| Field {
                    path: k.as_str().into(),
                    num: v.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
                    text: Some(v.clone()),
                })
                .collect(),
        )
    }
}

/// What a correlation reads of an input event: the text and the number of each field it
/// uses (as [`text_at`] and [`number_at`] find them), so that a stream keeps only these.
/// Shared, not copied, by the nodes an event reaches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(Arc<[Field]>);

#[derive(Debug, PartialEq)]
struct Field {
    path: Arc<str>,
    text: Option<String>,
    num: Option<f64>,
}

impl Fields {
    /// The fields `paths` of `event`.
    pub fn of(event: &Value, paths: &[String]) -> Fields {
        Fields(
            paths
                .iter()
                .map(|p| Field {
                    path: p.as_str().into(),
                    text: text_at(event, p),
                    num: number_at(event, p),
                })
                .filter(|f| f.text.is_some() || f.num.is_some())
                .collect(),
        )
    }

    /// The fields of `paths[i]`, whose text and number are `found[i]`.
    pub fn from_found(
        paths: &[Arc<str>],
        found: impl IntoIterator<Item = (Option<String>, Option<f64>)>,
    ) -> Fields {
        Fields(
            paths
                .iter()
                .zip(found)
                .filter(|(_, (t, n))| t.is_some() || n.is_some())
                .map(|(p, (text, num))| Field {
                    path: p.clone(),
                    text,
                    num,
                })
                .collect(),
        )
    }

    fn get(&self, path: &str) -> Option<&Field> {
        self.0.iter().find(|f| &*f.path == path)
    }

    fn text(&self, path: &str) -> Option<String> {
        self.get(path)?.text.clone()
    }

    fn number(&self, path: &str) -> Option<f64> {
        self.get(path)?.num
    }
}

/// Build the network of the correlation `root` (a document of `results`), resolving rule
/// references by id or name across all the results. `Err` says what cannot be evaluated.
pub fn build(results: &[FileResult], root: (usize, usize)) -> Result<(Network, usize), String> {
    build_with(results, root, CaseMode::default())
}

/// [`build`], with the rules' case-insensitive tests compared by `mode`.
pub fn build_with(
    results: &[FileResult],
    root: (usize, usize),
    mode: CaseMode,
) -> Result<(Network, usize), String> {
    let by_key = correlation::index(results);
    let mut net = Network {
        nodes: Vec::new(),
        labels: Vec::new(),
        category_field: "ai.category".to_string(),
        docs: Vec::new(),
    };
    let mut done: HashMap<(usize, usize), usize> = HashMap::new();
    let mut visiting = HashSet::new();
    let mut b = Build {
        results,
        by_key: &by_key,
        mode,
    };
    let top = add(&mut b, root, &mut net, &mut done, &mut visiting)?;
    Ok((net, top))
}

/// What building a network reads.
struct Build<'a> {
    results: &'a [FileResult],
    by_key: &'a HashMap<String, (usize, usize)>,
    mode: CaseMode,
}

fn add(
    b: &mut Build,
    at: (usize, usize),
    net: &mut Network,
    done: &mut HashMap<(usize, usize), usize>,
    visiting: &mut HashSet<(usize, usize)>,
) -> Result<usize, String> {
    if let Some(&n) = done.get(&at) {
        return Ok(n);
    }
    let results = b.results;
    let cd = &results[at.0].docs[at.1];
    let label = cd.doc.label();
    if !visiting.insert(at) {
        return Err(format!("correlation `{label}` references itself"));
    }
    let node = match &cd.doc.body {
        Some(Body::Correlation(c)) => {
            let mut inputs = Vec::new();
            let mut refs = Vec::new();
            for r in &c.rules {
                let target = correlation::resolve(b.by_key, &r.value)
                    .ok_or_else(|| format!("`{}` is no loaded rule", r.value))?;
                inputs.push(add(b, *target, net, done, visiting)?);
                refs.push(correlation::keys_of(&results[target.0].docs[target.1].doc));
            }
            Node::Correlation(correlation::plan(c, inputs, &refs, &label)?)
        }
        Some(Body::Detection(_)) => {
            let expr = cd
                .expr
                .as_ref()
                .ok_or_else(|| format!("rule `{label}` has errors"))?;
            let matcher =
                Matcher::with_mode(expr, b.mode).map_err(|e| format!("rule `{label}`: {e}"))?;
            Node::Rule {
                matcher: Box::new(matcher),
                category: cd.scope.clone(),
            }
        }
        _ => {
            return Err(format!(
                "`{label}` is a filter, which correlations cannot use"
            ));
        }
    };
    visiting.remove(&at);
    net.nodes.push(node);
    net.labels.push(label);
    net.docs.push(at);
    let n = net.nodes.len() - 1;
    done.insert(at, n);
    Ok(n)
}

/// Does `v` satisfy every bound?
fn holds(bounds: &[(CmpOp, f64)], v: f64) -> bool {
    bounds.iter().all(|&(op, b)| op.holds(v, b))
}

/// One input in a sliding window.
#[derive(Clone, Debug)]
struct Entry {
    time: i64,
    input: usize,
    text: Option<String>,
    num: Option<f64>,
}

#[derive(Default, Debug)]
struct BaselineState {
    bucket: i64,
    count: u64,
    sum: f64,
    nums: u64,
    max: Option<f64>,
    distinct: HashSet<String>,
    history: VecDeque<f64>,
    fired: bool,
}

#[derive(Debug)]
struct SeenState {
    first: i64,
    seen: HashMap<String, i64>,
}

/// A group's sliding window, and whether its condition held at the group's previous input.
#[derive(Default, Debug)]
struct Window {
    entries: VecDeque<Entry>,
    held: bool,
}

#[derive(Debug)]
enum State {
    None,
    Window(HashMap<Vec<String>, Window>),
    /// `temporal_ordered`: per group, the first time of the partial sequence waiting at each
    /// stage (index 1 waits for the second rule, ...).
    Sequence(HashMap<Vec<String>, Vec<Option<i64>>>),
    Baseline(HashMap<Vec<String>, BaselineState>),
    FirstSeen(HashMap<Vec<String>, SeenState>),
}

/// The `p`-th percentile of sorted values, interpolating linearly between closest ranks (as
/// NumPy's default, DuckDB's `quantile_cont`).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

impl Network {
    /// Run every node over `events` (each with its `@timestamp`); the alerts of the
    /// correlations, in time order (then node order). Events without a readable timestamp
    /// are skipped; their indexes are returned too.
    pub fn run(&self, events: &[Value]) -> (Vec<Alert>, Vec<usize>) {
        let mut timed: Vec<(i64, usize)> = Vec::new();
        let mut untimed = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match text_at(e, "@timestamp").and_then(|t| crate::syntax::time::parse_timestamp_ms(&t))
            {
                Some(t) => timed.push((t, i)),
                None => untimed.push(i),
            }
        }
        timed.sort_by_key(|&(t, i)| (t, i));
        let mut runner = Runner::new(self);
        let mut alerts = Vec::new();
        for (time, i) in timed {
            let event = &events[i];
            let category = text_at(event, &self.category_field);
            let matches = |n: usize| match &self.nodes[n] {
                Node::Rule {
                    matcher,
                    category: rc,
                } => {
                    let applies = match (rc, &category) {
                        (Some(rc), Some(ec)) => rc == ec,
                        _ => true,
                    };
                    applies && matcher.matches(event)
                }
                Node::Correlation(_) => false,
            };
            let fields = Fields::of(event, &runner.paths);
            alerts.extend(runner.push(time, &fields, &matches));
        }
        (alerts, untimed)
    }

    /// The fields a correlation reads from its input events (group-by fields through
    /// aliases, aggregated fields), sorted: what a stream must keep of an input event.
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in &self.nodes {
            if let Node::Correlation(p) = n {
                out.extend(p.group_fields.iter().flatten().cloned());
                out.extend(p.field.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A network's state over a stream: events go in one at a time, in time order.
pub struct Runner<'a> {
    net: &'a Network,
    states: Vec<State>,
    /// What fired at the current event, per node: the inputs of the next nodes.
    fired: Vec<Vec<Fields>>,
    /// The fields the network reads ([`Network::fields`]).
    pub paths: Vec<String>,
}

impl<'a> Runner<'a> {
    pub fn new(net: &'a Network) -> Self {
        Runner {
            net,
            states: net
                .nodes
                .iter()
                .map(|n| match n {
                    Node::Rule { .. } => State::None,
                    Node::Correlation(p) => match p.kind {
                        Kind::Baseline { .. } => State::Baseline(HashMap::new()),
                        Kind::FirstSeen { .. } => State::FirstSeen(HashMap::new()),
                        Kind::TemporalOrdered => State::Sequence(HashMap::new()),
                        _ => State::Window(HashMap::new()),
                    },
                })
                .collect(),
            fired: vec![Vec::new(); net.nodes.len()],
            paths: net.fields(),
        }
    }

    /// The next event, at `time` (not before the previous one's): `matches(n)` says whether
    /// rule node `n` matches it. The alerts it raises, in node order.
    pub fn push(
        &mut self,
        time: i64,
        event: &Fields,
        matches: &dyn Fn(usize) -> bool,
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for f in &mut self.fired {
            f.clear();
        }
        for (n, node) in self.net.nodes.iter().enumerate() {
            match node {
                Node::Rule { .. } => {
                    if matches(n) {
                        self.fired[n].push(event.clone());
                    }
                }
                Node::Correlation(p) => {
                    let mut produced = Vec::new();
                    // Later stages first, so that one event cannot advance a sequence
                    // through two stages (as EQL does).
                    let order: Vec<(usize, &usize)> = if p.kind == Kind::TemporalOrdered {
                        p.inputs.iter().enumerate().rev().collect()
                    } else {
                        p.inputs.iter().enumerate().collect()
                    };
                    for (input, &src) in order {
                        for ev in &self.fired[src] {
                            if let Some(a) = step(p, &mut self.states[n], n, input, time, ev) {
                                produced.push(a);
                            }
                        }
                    }
                    for a in produced {
                        self.fired[n].push(a.as_input());
                        alerts.push(a);
                    }
                }
            }
        }
        alerts
    }

    /// Forget what can no longer change an alert once every later event is at `time` or
    /// after: window entries older than the window, groups left with nothing (and whose
    /// condition did not hold, since the next input compares with that), partial sequences
    /// that started too long ago. Baseline and first-seen state is kept.
    pub fn sweep(&mut self, time: i64) {
        for (n, st) in self.states.iter_mut().enumerate() {
            let Node::Correlation(p) = &self.net.nodes[n] else {
                continue;
            };
            let oldest = time - p.timespan;
            match st {
                State::Window(groups) => groups.retain(|_, w| {
                    while w.entries.front().is_some_and(|e| e.time < oldest) {
                        w.entries.pop_front();
                    }
                    !w.entries.is_empty() || w.held
                }),
                State::Sequence(groups) => groups.retain(|_, stages| {
                    for st in stages.iter_mut() {
                        if st.is_some_and(|first| first < oldest) {
                            *st = None;
                        }
                    }
                    stages.iter().any(Option::is_some)
                }),
                _ => {}
            }
        }
    }
}

/// Feed one input (input number `input` of the plan, at `time`) to a correlation.
fn step(
    p: &Plan,
    state: &mut State,
    node: usize,
    input: usize,
    time: i64,
    ev: &Fields,
) -> Option<Alert> {
    let mut key = Vec::with_capacity(p.group_names.len());
    for f in &p.group_fields[input] {
        key.push(ev.text(f)?);
    }
    let group = || -> Vec<(String, String)> {
        p.group_names
            .iter()
            .cloned()
            .zip(key.iter().cloned())
            .collect()
    };
    let text = p.field.as_deref().and_then(|f| ev.text(f));
    let num = p.field.as_deref().and_then(|f| ev.number(f));
    let alert = |value: Option<f64>| Alert {
        node,
        time,
        group: group(),
        value,
    };
    match (state, &p.kind) {
        (State::Sequence(groups), Kind::TemporalOrdered) => {
            let n = p.inputs.len();
            let stages = groups.entry(key.clone()).or_insert_with(|| vec![None; n]);
            // Partial sequences that started before the window are dropped.
            for st in stages.iter_mut() {
                if st.is_some_and(|first| first < time - p.timespan) {
                    *st = None;
                }
            }
            if input == 0 {
                if n == 1 {
                    return Some(alert(Some(1.0)));
                }
                stages[1] = Some(time);
            } else if let Some(first) = stages[input].take() {
                if input + 1 == n {
                    return Some(alert(Some(n as f64)));
                }
                stages[input + 1] = Some(first);
            }
            if stages.iter().all(Option::is_none) {
                groups.remove(&key);
            }
            None
        }
        (State::Window(groups), kind) => {
            let group_state = groups.entry(key.clone()).or_default();
            let window = &mut group_state.entries;
            window.push_back(Entry {
                time,
                input,
                text,
                num,
            });
            while window.front().is_some_and(|e| e.time < time - p.timespan) {
                window.pop_front();
            }
            let value = match kind {
                Kind::EventCount => Some(window.len() as f64),
                Kind::ValueCount => Some(
                    window
                        .iter()
                        .filter_map(|e| e.text.as_deref())
                        .collect::<HashSet<_>>()
                        .len() as f64,
                ),
                Kind::Sum => Some(window.iter().filter_map(|e| e.num).sum()),
                Kind::Avg => {
                    let nums: Vec<f64> = window.iter().filter_map(|e| e.num).collect();
                    (!nums.is_empty()).then(|| nums.iter().sum::<f64>() / nums.len() as f64)
                }
                Kind::Median | Kind::Percentile(_) => {
                    let mut nums: Vec<f64> = window.iter().filter_map(|e| e.num).collect();
                    nums.sort_by(f64::total_cmp);
                    let pct = if let Kind::Percentile(q) = kind {
                        *q
                    } else {
                        50.0
                    };
                    percentile(&nums, pct)
                }
                Kind::Temporal => {
                    let present: HashSet<usize> = window.iter().map(|e| e.input).collect();
                    let n = present.len() as f64;
                    // Without a condition every rule must be present; with one, the number
                    // of distinct rules present is compared.
                    if p.bounds.is_empty() {
                        (present.len() == p.inputs.len()).then_some(n)
                    } else {
                        Some(n)
                    }
                }
                _ => None,
            };
            let holds_now = match (kind, value) {
                (Kind::Temporal, Some(_)) if p.bounds.is_empty() => true,
                (_, Some(v)) => holds(&p.bounds, v),
                (_, None) => false,
            };
            // An alert when the condition starts to hold for the group.
            let fire = holds_now && !group_state.held;
            group_state.held = holds_now;
            fire.then(|| alert(value))
        }
        (
            State::Baseline(groups),
            Kind::Baseline {
                agg,
                history,
                min_history,
                min_value,
            },
        ) => {
            let bucket = time.div_euclid(p.timespan);
            let st = groups.entry(key.clone()).or_insert_with(|| BaselineState {
                bucket,
                ..BaselineState::default()
            });
            if bucket > st.bucket {
                // Close the current window and the empty ones after it.
                let closed = window_value(*agg, st);
                if let Some(v) = closed {
                    st.history.push_back(v);
                }
                let empty = (bucket - st.bucket - 1).min(*history as i64);
                if matches!(agg, Agg::Count | Agg::Sum | Agg::Distinct) {
                    for _ in 0..empty {
                        st.history.push_back(0.0);
                    }
                }
                while st.history.len() > *history {
                    st.history.pop_front();
                }
                let kept = std::mem::take(&mut st.history);
                *st = BaselineState {
                    bucket,
                    history: kept,
                    ..BaselineState::default()
                };
            }
            st.count += 1;
            if let Some(x) = num {
                st.sum += x;
                st.nums += 1;
                st.max = Some(st.max.map_or(x, |m| m.max(x)));
            }
            if let Some(t) = text {
                st.distinct.insert(t);
            }
            if st.fired || st.history.len() < *min_history {
                return None;
            }
            let v = window_value(*agg, st)?;
            if min_value.is_some_and(|m| v < m) {
                return None;
            }
            let n = st.history.len() as f64;
            let mean = st.history.iter().sum::<f64>() / n;
            let var = st.history.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / n;
            // A steady history has (almost) no spread: the deviation is at least a tenth of
            // the mean, and at least 1, so that a small rise is not an outlier.
            let sd = var.sqrt().max(mean.abs() / 10.0).max(1.0);
            let z = (v - mean) / sd;
            if holds(&p.bounds, z) {
                st.fired = true;
                return Some(alert(Some(v)));
            }
            None
        }
        (State::FirstSeen(groups), Kind::FirstSeen { learning }) => {
            let value = text?;
            let st = groups.entry(key.clone()).or_insert_with(|| SeenState {
                first: time,
                seen: HashMap::new(),
            });
            let known = st.seen.get(&value).is_some_and(|&t| time - t <= p.timespan);
            let is_first_event = st.seen.is_empty();
            st.seen.insert(value, time);
            if st.seen.len() > 4096 {
                st.seen.retain(|_, t| time - *t <= p.timespan);
            }
            (!known && !is_first_event && time - st.first >= *learning).then(|| alert(None))
        }
        _ => None,
    }
}

/// The aggregate of a baseline's current window (`None` for an average or maximum of no
/// numbers).
fn window_value(agg: Agg, st: &BaselineState) -> Option<f64> {
    match agg {
        Agg::Count => Some(st.count as f64),
        Agg::Sum => Some(st.sum),
        Agg::Avg => (st.nums > 0).then(|| st.sum / st.nums as f64),
        Agg::Max => st.max,
        Agg::Distinct => Some(st.distinct.len() as f64),
    }
}

/// The alerts of one node, in time order, as comparable rows `(time, group)`.
pub fn rows(alerts: &[Alert], node: usize) -> Vec<(i64, BTreeMap<String, String>)> {
    alerts
        .iter()
        .filter(|a| a.node == node)
        .map(|a| (a.time, a.group.iter().cloned().collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::check::check_str;
    use crate::semantics::schema::Schema;
    use serde_json::json;

    /// Alerts `(time in seconds from 0, group values)` of the first document of `yaml` (a
    /// correlation over the rule `r`, which matches events with `kind: x`).
    fn run(correlation: &str, events: &[Value]) -> Vec<(i64, Vec<String>)> {
        let text = format!(
            "title: c\nid: 6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f\nstatus: test\nlevel: low\ndate: 2026-01-01\ncorrelation:\n{}---\ntitle: r\nname: r\nlogsource: {{product: x}}\ndetection:\n    sel:\n        kind: x\n    condition: sel\n---\ntitle: s\nname: s\nid: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\nstatus: test\nlevel: low\ndate: 2026-01-01\nlogsource: {{product: x}}\ndetection:\n    sel:\n        kind: y\n    condition: sel\n",
            correlation
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let r = check_str("c.yml", &text, &Schema::builtin());
        assert!(
            r.diags
                .iter()
                .all(|d| d.severity != crate::report::diagnostic::Severity::Error),
            "{:?}",
            r.diags
        );
        let (net, node) = build(std::slice::from_ref(&r), (0, 0)).unwrap();
        let (alerts, untimed) = net.run(events);
        assert!(untimed.is_empty());
        alerts
            .iter()
            .filter(|a| a.node == node)
            .map(|a| {
                (
                    a.time / 1000,
                    a.group.iter().map(|(_, v)| v.clone()).collect(),
                )
            })
            .collect()
    }

    fn ev(t: i64, kind: &str, user: &str) -> Value {
        json!({"@timestamp": crate::syntax::time::format_ms(t * 1000), "kind": kind, "user": user, "n": t})
    }

    #[test]
    fn window_is_inclusive_and_alerts_fire_when_the_condition_starts_to_hold() {
        let c =
            "type: event_count\nrules: [r]\ngroup-by: [user]\ntimespan: 10s\ncondition: {gte: 3}\n";
        let u = || vec!["u".to_string()];
        // 0, 5, 10: three events in [0, 10] → alert at 10; it keeps holding through 13.
        let evs: Vec<Value> = [0, 5, 10, 11, 12, 13]
            .iter()
            .map(|&t| ev(t, "x", "u"))
            .collect();
        assert_eq!(run(c, &evs), vec![(10, u())]);
        // 0, 5, 11: 0 has left the window when 11 arrives.
        let evs: Vec<Value> = [0, 5, 11].iter().map(|&t| ev(t, "x", "u")).collect();
        assert!(run(c, &evs).is_empty());
        // It stops holding at 40 (one event in [30, 40]) and starts again at 42.
        let evs: Vec<Value> = [0, 1, 2, 40, 41, 42]
            .iter()
            .map(|&t| ev(t, "x", "u"))
            .collect();
        assert_eq!(run(c, &evs), vec![(2, u()), (42, u())]);
    }

    #[test]
    fn events_are_ordered_by_timestamp_and_grouped() {
        let c =
            "type: event_count\nrules: [r]\ngroup-by: [user]\ntimespan: 1m\ncondition: {gte: 2}\n";
        // Out of input order, two users, one event without the group field, one of another rule.
        let evs = vec![
            ev(30, "x", "a"),
            ev(10, "x", "b"),
            ev(20, "x", "a"),
            json!({"@timestamp": crate::syntax::time::format_ms(25_000), "kind": "x"}),
            ev(40, "y", "b"),
        ];
        assert_eq!(run(c, &evs), vec![(30, vec!["a".into()])]);
    }

    #[test]
    fn ranges_and_value_aggregates() {
        let evs: Vec<Value> = (1..=5).map(|t| ev(t, "x", "u")).collect();
        // n = 1..5: sums 1, 3, 6, 10, 15.
        let c = "type: value_sum\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n, gt: 5, lte: 6}\n";
        assert_eq!(run(c, &evs), vec![(3, vec!["u".into()])]);
        // The average of 1, 2, 3 reaches 2 at t = 3 and keeps holding.
        let c = "type: value_avg\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n, gte: 2}\n";
        let u = || vec!["u".to_string()];
        assert_eq!(run(c, &evs), vec![(3, u())]);
        let c = "type: value_percentile\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n, percentile: 75, gte: 3}\n";
        // [1,2,3,4]: rank 0.75 * 3 = 2.25 → 3.25 at t = 4.
        assert_eq!(run(c, &evs), vec![(4, u())]);
        let c = "type: value_median\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n, eq: 1.5}\n";
        assert_eq!(run(c, &evs), vec![(2, vec!["u".into()])]);
        // Two distinct values at t = 2, and more after.
        let c = "type: value_count\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n, neq: 1}\n";
        assert_eq!(run(c, &evs), vec![(2, u())]);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.5));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
    }

    #[test]
    fn temporal_and_ordered() {
        let t = "type: temporal\nrules: [r, s]\ngroup-by: [user]\ntimespan: 10s\n";
        let o = "type: temporal_ordered\nrules: [r, s]\ngroup-by: [user]\ntimespan: 10s\n";
        let forward = vec![ev(0, "x", "u"), ev(5, "y", "u")];
        let backward = vec![ev(0, "y", "u"), ev(5, "x", "u")];
        assert_eq!(run(t, &forward), vec![(5, vec!["u".into()])]);
        assert_eq!(run(t, &backward), vec![(5, vec!["u".into()])]);
        assert_eq!(run(o, &forward), vec![(5, vec!["u".into()])]);
        assert!(run(o, &backward).is_empty());
        // Too far apart.
        assert!(run(o, &[ev(0, "x", "u"), ev(11, "y", "u")]).is_empty());
        // The same timestamp: input order decides.
        assert_eq!(run(o, &[ev(3, "x", "u"), ev(3, "y", "u")]).len(), 1);
        assert!(run(o, &[ev(3, "y", "u"), ev(3, "x", "u")]).is_empty());
        // EQL's state machine: a completed sequence is used up, a newer start replaces an
        // older one, and a partial sequence survives another one's completion.
        let evs = vec![
            ev(0, "x", "u"),
            ev(1, "x", "u"),
            ev(2, "y", "u"),
            ev(3, "y", "u"),
        ];
        assert_eq!(run(o, &evs), vec![(2, vec!["u".into()])]);
        let three = "type: temporal_ordered\nrules: [r, s, r]\ngroup-by: [user]\ntimespan: 10s\n";
        // x y x: the last x completes [x, y, x] (the later stage is served first).
        assert_eq!(
            run(three, &[ev(0, "x", "u"), ev(1, "y", "u"), ev(2, "x", "u")]).len(),
            1
        );
    }

    #[test]
    fn aliases_group_different_fields() {
        let c = "type: temporal\nrules: [r, s]\ngroup-by: [who]\ntimespan: 10s\naliases:\n    who:\n        r: user\n        s: actor\n";
        let evs = vec![
            ev(0, "x", "u"),
            json!({"@timestamp": crate::syntax::time::format_ms(3000), "kind": "y", "actor": "u"}),
        ];
        assert_eq!(run(c, &evs), vec![(3, vec!["u".into()])]);
    }

    #[test]
    fn baseline_and_first_seen() {
        // Hourly counts 2, 2, 2 then 9 in the fourth hour: z = (v - 2) / max(0, 0.2, 1).
        let c = "type: baseline\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\nbaseline: {aggregate: count, history: 3, min_history: 3}\ncondition: {gt: 4}\n";
        let mut evs = Vec::new();
        for h in 0..3 {
            evs.push(ev(h * 3600, "x", "u"));
            evs.push(ev(h * 3600 + 60, "x", "u"));
        }
        for k in 0..9 {
            evs.push(ev(3 * 3600 + k, "x", "u"));
        }
        // The fifth event of the fourth hour makes 5: z = 3, not > 4; the seventh, z = 5.
        assert_eq!(run(c, &evs), vec![(3 * 3600 + 6, vec!["u".into()])]);
        // An empty hour counts as zero.
        let gap = vec![ev(0, "x", "u"), ev(7200, "x", "u")];
        let c0 = "type: baseline\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\nbaseline: {aggregate: count, history: 2, min_history: 2}\ncondition: {gte: 0.5}\n";
        assert_eq!(run(c0, &gap), vec![(7200, vec!["u".into()])]);
        let f =
            "type: first_seen\nrules: [r]\ngroup-by: [user]\ntimespan: 1h\ncondition: {field: n}\n";
        // n is new each time, but the group's first event never fires.
        let evs = vec![ev(0, "x", "u"), ev(1, "x", "u"), ev(1, "x", "v")];
        assert_eq!(run(f, &evs), vec![(1, vec!["u".into()])]);
    }

    #[test]
    fn correlations_chain() {
        let text = "title: outer\nid: 1f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f\nstatus: test\nlevel: low\ndate: 2026-01-01\ncorrelation:\n    type: event_count\n    rules: [inner]\n    group-by: [user]\n    timespan: 1h\n    condition: {gte: 2}\n---\ntitle: inner\nname: inner\ncorrelation:\n    type: event_count\n    rules: [r]\n    group-by: [user]\n    timespan: 1m\n    condition: {gte: 2}\n---\ntitle: r\nname: r\nlogsource: {product: x}\ndetection:\n    sel:\n        kind: x\n    condition: sel\n";
        let r = check_str("c.yml", text, &Schema::builtin());
        let (net, node) = build(std::slice::from_ref(&r), (0, 0)).unwrap();
        // Inner holds at 1 (two events within a minute), stops at 100, holds again at 101;
        // outer counts those two alerts at 101.
        let evs: Vec<Value> = [0, 1, 100, 101].iter().map(|&t| ev(t, "x", "u")).collect();
        let (alerts, _) = net.run(&evs);
        let group: BTreeMap<String, String> = [("user".to_string(), "u".to_string())].into();
        assert_eq!(rows(&alerts, node), vec![(101_000, group)]);
        assert_eq!(alerts.len(), 3);
    }
}
