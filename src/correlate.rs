//! The correlation engine: Sigma correlations and aisigma's baselines, evaluated over a
//! time-ordered stream of events. The semantics, written down in `docs/semantics.md`
//! (Correlations), are what every backend must reproduce:
//!
//! - Events are processed in `@timestamp` order (ties in input order). An event without a
//!   readable `@timestamp` cannot take part in a correlation.
//! - Each correlation keeps, per group (the values of its `group-by` fields; an input that
//!   lacks one of them is left out), the inputs of the last `timespan`: a **sliding window**
//!   `[t - timespan, t]` that ends at each arriving input `t`. The condition is evaluated when
//!   an input arrives; when it holds, an alert fires at `t` and the window's inputs are used
//!   up, so the next alert of that group needs new inputs.
//! - `baseline` compares the aggregate of the current fixed window (`timespan`, aligned to
//!   the epoch) with the same group's earlier windows, as a z-score; `first_seen` fires on a
//!   value its group has not had in the last `timespan`.
//! - A correlation's alerts are the inputs of the correlations that reference it; an alert
//!   carries its group-by values as fields, and its time.

use crate::ast::{Body, CmpOp, Correlation};
use crate::check::FileResult;
use crate::engine::{Matcher, number_at, text_at};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// What a baseline aggregates per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    Sum,
    Avg,
    Max,
    Distinct,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    Sum,
    Avg,
    Percentile(f64),
    Median,
    Baseline {
        agg: Agg,
        history: usize,
        min_history: usize,
        min_value: Option<f64>,
    },
    FirstSeen {
        learning: i64,
    },
}

/// A correlation ready to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// The nodes it reads, in the order of `rules`.
    pub inputs: Vec<usize>,
    pub group_names: Vec<String>,
    /// `group_fields[i][g]`: the field of input `i` that holds group-by value `g`.
    pub group_fields: Vec<Vec<String>>,
    pub timespan: i64,
    pub bounds: Vec<(CmpOp, f64)>,
    pub field: Option<String>,
}

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
    /// The alert as an input event of another correlation.
    fn as_event(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.group {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        m.insert(
            "@timestamp".into(),
            Value::String(crate::time::format_ms(self.time)),
        );
        Value::Object(m)
    }
}

/// The id (lower-cased) and name of a document, for references.
fn keys_of(doc: &crate::ast::Doc) -> (Option<String>, Option<String>) {
    (
        doc.meta.id.as_ref().map(|i| i.value.to_lowercase()),
        doc.meta.name.as_ref().map(|n| n.value.clone()),
    )
}

/// Build the network of the correlation `root` (a document of `results`), resolving rule
/// references by id or name across all the results. `Err` says what cannot be evaluated.
pub fn build(results: &[FileResult], root: (usize, usize)) -> Result<(Network, usize), String> {
    let mut by_key: HashMap<String, (usize, usize)> = HashMap::new();
    for (fi, r) in results.iter().enumerate() {
        for (di, cd) in r.docs.iter().enumerate() {
            let (id, name) = keys_of(&cd.doc);
            for k in [id, name].into_iter().flatten() {
                by_key.entry(k).or_insert((fi, di));
            }
        }
    }
    let mut net = Network {
        nodes: Vec::new(),
        labels: Vec::new(),
        category_field: "ai.category".to_string(),
    };
    let mut done: HashMap<(usize, usize), usize> = HashMap::new();
    let mut visiting = HashSet::new();
    let top = add(results, root, &by_key, &mut net, &mut done, &mut visiting)?;
    Ok((net, top))
}

fn add(
    results: &[FileResult],
    at: (usize, usize),
    by_key: &HashMap<String, (usize, usize)>,
    net: &mut Network,
    done: &mut HashMap<(usize, usize), usize>,
    visiting: &mut HashSet<(usize, usize)>,
) -> Result<usize, String> {
    if let Some(&n) = done.get(&at) {
        return Ok(n);
    }
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
                let key = if by_key.contains_key(&r.value) {
                    r.value.clone()
                } else {
                    r.value.to_lowercase()
                };
                let target = by_key
                    .get(&key)
                    .ok_or_else(|| format!("`{}` is no loaded rule", r.value))?;
                inputs.push(add(results, *target, by_key, net, done, visiting)?);
                refs.push(keys_of(&results[target.0].docs[target.1].doc));
            }
            Node::Correlation(plan(c, inputs, &refs, &label)?)
        }
        Some(Body::Detection(_)) => {
            let expr = cd
                .expr
                .as_ref()
                .ok_or_else(|| format!("rule `{label}` has errors"))?;
            let matcher = Matcher::new(expr).map_err(|e| format!("rule `{label}`: {e}"))?;
            Node::Rule {
                matcher: Box::new(matcher),
                category: cd
                    .doc
                    .meta
                    .logsource
                    .as_ref()
                    .and_then(|l| l.category.as_ref())
                    .map(|c| c.value.clone()),
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
    let n = net.nodes.len() - 1;
    done.insert(at, n);
    Ok(n)
}

/// The plan of a correlation whose `rules` resolved to `inputs` (with their id and name).
pub fn plan(
    c: &Correlation,
    inputs: Vec<usize>,
    refs: &[(Option<String>, Option<String>)],
    label: &str,
) -> Result<Plan, String> {
    let timespan = c
        .timespan
        .as_ref()
        .and_then(|t| crate::correlation::timespan_ms(&t.value))
        .ok_or_else(|| format!("correlation `{label}` has no valid timespan"))?;
    let cond = c.condition.as_ref();
    if let Some(e) = cond.and_then(|c| c.expression.as_ref()) {
        return Err(format!(
            "correlation `{label}`: boolean conditions over rule names (`{}`) are not evaluated yet",
            e.value
        ));
    }
    let bounds = cond.map(|c| c.bounds.clone()).unwrap_or_default();
    let field = cond.and_then(|c| c.field.as_ref()).map(|f| f.value.clone());
    let kind = match c.kind.value.as_str() {
        "event_count" => Kind::EventCount,
        "value_count" => Kind::ValueCount,
        "temporal" => Kind::Temporal,
        "temporal_ordered" => Kind::TemporalOrdered,
        "value_sum" => Kind::Sum,
        "value_avg" => Kind::Avg,
        "value_median" => Kind::Median,
        "value_percentile" => Kind::Percentile(cond.and_then(|c| c.percentile).unwrap_or(50.0)),
        "baseline" => {
            let b = c
                .baseline
                .as_ref()
                .ok_or_else(|| format!("correlation `{label}` has no baseline"))?;
            let agg = match b.aggregate.as_ref().map(|a| a.value.as_str()) {
                Some("count") => Agg::Count,
                Some("sum") => Agg::Sum,
                Some("avg") => Agg::Avg,
                Some("max") => Agg::Max,
                Some("distinct") => Agg::Distinct,
                _ => return Err(format!("correlation `{label}` has no baseline aggregate")),
            };
            Kind::Baseline {
                agg,
                history: b.history as usize,
                min_history: (b.min_history as usize).max(1),
                min_value: b.min_value,
            }
        }
        "first_seen" => Kind::FirstSeen {
            learning: c
                .baseline
                .as_ref()
                .and_then(|b| b.learning.as_ref())
                .and_then(|l| crate::correlation::timespan_ms(&l.value))
                .unwrap_or(0),
        },
        other => return Err(format!("correlation type `{other}` is unknown")),
    };
    let field = match &kind {
        Kind::Baseline { .. } => c
            .baseline
            .as_ref()
            .and_then(|b| b.field.as_ref())
            .map(|f| f.value.clone()),
        _ => field,
    };
    let group_names: Vec<String> = c.group_by.iter().map(|g| g.value.clone()).collect();
    // An alias names, per rule, the field that holds its value.
    let group_fields = refs
        .iter()
        .map(|(id, name)| {
            group_names
                .iter()
                .map(|g| {
                    c.aliases
                        .iter()
                        .find(|a| a.name.value == *g)
                        .and_then(|a| {
                            a.fields.iter().find(|(r, _)| {
                                name.as_deref() == Some(r.value.as_str())
                                    || id.as_deref() == Some(r.value.to_lowercase().as_str())
                            })
                        })
                        .map_or_else(|| g.clone(), |(_, f)| f.value.clone())
                })
                .collect()
        })
        .collect();
    Ok(Plan {
        kind,
        inputs,
        group_names,
        group_fields,
        timespan,
        bounds,
        field,
    })
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

#[derive(Debug)]
enum State {
    None,
    Window(HashMap<Vec<String>, VecDeque<Entry>>),
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
            match text_at(e, "@timestamp").and_then(|t| crate::time::parse_timestamp_ms(&t)) {
                Some(t) => timed.push((t, i)),
                None => untimed.push(i),
            }
        }
        timed.sort_by_key(|&(t, i)| (t, i));
        let mut states: Vec<State> = self
            .nodes
            .iter()
            .map(|n| match n {
                Node::Rule { .. } => State::None,
                Node::Correlation(p) => match p.kind {
                    Kind::Baseline { .. } => State::Baseline(HashMap::new()),
                    Kind::FirstSeen { .. } => State::FirstSeen(HashMap::new()),
                    _ => State::Window(HashMap::new()),
                },
            })
            .collect();
        let mut alerts = Vec::new();
        // What fired at the current event, per node: the events that feed the next nodes.
        let mut fired: Vec<Vec<Value>> = vec![Vec::new(); self.nodes.len()];
        for (time, i) in timed {
            let event = &events[i];
            let category = text_at(event, &self.category_field);
            for f in &mut fired {
                f.clear();
            }
            for (n, node) in self.nodes.iter().enumerate() {
                match node {
                    Node::Rule {
                        matcher,
                        category: rc,
                    } => {
                        let applies = match (rc, &category) {
                            (Some(rc), Some(ec)) => rc == ec,
                            _ => true,
                        };
                        if applies && matcher.matches(event) {
                            fired[n].push(event.clone());
                        }
                    }
                    Node::Correlation(p) => {
                        let mut produced = Vec::new();
                        for (input, &src) in p.inputs.iter().enumerate() {
                            for ev in &fired[src] {
                                if let Some(a) = step(p, &mut states[n], n, input, time, ev) {
                                    produced.push(a);
                                }
                            }
                        }
                        for a in produced {
                            fired[n].push(a.as_event());
                            alerts.push(a);
                        }
                    }
                }
            }
        }
        (alerts, untimed)
    }
}

/// Feed one input (input number `input` of the plan, at `time`) to a correlation.
fn step(
    p: &Plan,
    state: &mut State,
    node: usize,
    input: usize,
    time: i64,
    ev: &Value,
) -> Option<Alert> {
    let mut key = Vec::with_capacity(p.group_names.len());
    for f in &p.group_fields[input] {
        key.push(text_at(ev, f)?);
    }
    let group = || -> Vec<(String, String)> {
        p.group_names
            .iter()
            .cloned()
            .zip(key.iter().cloned())
            .collect()
    };
    let text = p.field.as_deref().and_then(|f| text_at(ev, f));
    let num = p.field.as_deref().and_then(|f| number_at(ev, f));
    let alert = |value: Option<f64>| Alert {
        node,
        time,
        group: group(),
        value,
    };
    match (state, &p.kind) {
        (State::Window(groups), kind) => {
            let window = groups.entry(key.clone()).or_default();
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
                    let all = present.len() == p.inputs.len();
                    // Without a condition every rule must be present; with one, the number
                    // of distinct rules present is compared.
                    let n = present.len() as f64;
                    if p.bounds.is_empty() {
                        all.then_some(n)
                    } else {
                        Some(n)
                    }
                }
                Kind::TemporalOrdered => {
                    if input + 1 != p.inputs.len() {
                        None
                    } else {
                        // The latest event of each earlier rule, going backwards: the chain
                        // ends at this event and must start inside the window.
                        let mut need = input;
                        let mut ok = true;
                        let mut pos = window.len() - 1;
                        while need > 0 {
                            need -= 1;
                            match window.range(..pos).rposition(|e| e.input == need) {
                                Some(at) => pos = at,
                                None => {
                                    ok = false;
                                    break;
                                }
                            }
                        }
                        ok.then_some(p.inputs.len() as f64)
                    }
                }
                _ => None,
            };
            let fire = match (kind, value) {
                (Kind::Temporal | Kind::TemporalOrdered, Some(v)) if p.bounds.is_empty() => v > 0.0,
                (_, Some(v)) => holds(&p.bounds, v),
                (_, None) => false,
            };
            if fire {
                window.clear();
                return Some(alert(value));
            }
            if window.is_empty() {
                groups.remove(&key);
            }
            None
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
            let sd = var.sqrt();
            let z = if sd > 0.0 {
                (v - mean) / sd
            } else if v > mean {
                f64::INFINITY
            } else if v < mean {
                f64::NEG_INFINITY
            } else {
                0.0
            };
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
