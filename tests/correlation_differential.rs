//! Generated correlations over generated timestamped event streams, for the conformance
//! oracles: the engine's alerts must equal those of EQL's own engine running the compiled
//! `sequence` (temporal_ordered) and of DuckDB running the semantics of docs/semantics.md as
//! SQL (every other type). `cargo test` writes the cases to `$AISIGMA_CORR_DIFF` when it is
//! set; `tests/conformance/correlation_oracle.sh` then runs both oracles (CI does).
//!
//! Here the cases are built, run twice (the engine must be deterministic and independent of
//! the order events arrive in), and checked for the invariants every alert has.

use aisigma::backend::compile::compile_correlation;
use aisigma::backend::target::Target;
use aisigma::engine::correlate::{build, rows};
use aisigma::semantics::check::check_str;
use aisigma::semantics::schema::Schema;
use aisigma::syntax::correlation::TYPES;
use serde_json::{Value, json};

/// SplitMix64: a small deterministic generator (no dependency, same cases on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const BASE_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

struct Case {
    yaml: String,
    spec: Value,
    events: Vec<Value>,
}

fn generate(rng: &mut Rng, id: usize) -> Case {
    let ty = TYPES[id % TYPES.len()];
    let nrules = match ty {
        "temporal" | "temporal_ordered" => 2 + rng.below(2) as usize,
        _ => 1 + rng.below(2) as usize,
    };
    // Rules match `kind` values; two rules may match the same kind.
    let kinds: Vec<&str> = (0..nrules).map(|_| *rng.pick(&["a", "b", "c"])).collect();
    let grouped = rng.below(4) != 0;
    let timespan_s = 1 + rng.below(15);
    let counts = matches!(ty, "event_count" | "value_count" | "temporal");
    let mut cond = serde_json::Map::new();
    let no_bounds = matches!(ty, "temporal_ordered" | "first_seen" | "baseline");
    // Half the temporal correlations have no condition (all rules needed).
    let unbounded = no_bounds || (ty == "temporal" && rng.below(2) == 0);
    if !unbounded {
        let ops = ["gt", "gte", "lt", "lte", "eq", "neq"];
        let hi = if counts { 6 } else { 25 };
        let op = *rng.pick(&ops);
        cond.insert(op.into(), json!(rng.below(hi)));
        if rng.below(4) == 0 {
            let (a, b) = if rng.below(2) == 0 {
                ("gte", "lte")
            } else {
                ("gt", "lt")
            };
            cond.clear();
            let lo = rng.below(hi);
            cond.insert(a.into(), json!(lo));
            cond.insert(b.into(), json!(lo + 1 + rng.below(hi)));
        }
    }
    if ty.starts_with("value_") || ty == "first_seen" {
        cond.insert("field".into(), json!("n"));
    }
    let learning_s = (ty == "first_seen").then(|| *rng.pick(&[0, 0, 2, 10]));
    // A baseline: an aggregate per fixed window, its z-score against earlier windows.
    let baseline = (ty == "baseline").then(|| {
        let agg = *rng.pick(&["count", "sum", "avg", "max", "distinct"]);
        let history = 2 + rng.below(5);
        let min_history = 1 + rng.below(history);
        let min_value = (rng.below(3) == 0).then(|| rng.below(6));
        let z = *rng.pick(&[0.5, 1.0, 1.5, 2.0]);
        cond.insert(if rng.below(2) == 0 { "gt" } else { "gte" }.into(), json!(z));
        json!({"aggregate": agg, "history": history, "min_history": min_history, "min_value": min_value})
    });
    let percentile = (ty == "value_percentile").then(|| *rng.pick(&[10, 25, 50, 75, 90, 100]));
    if let Some(p) = percentile {
        cond.insert("percentile".into(), json!(p));
    }
    let mut yaml = format!(
        "title: generated {id}\nid: 00000000-0000-4000-8000-{id:012}\nstatus: test\nlevel: low\ndate: 2026-01-01\ncorrelation:\n    type: {ty}\n    rules: [{}]\n",
        (0..nrules)
            .map(|i| format!("r{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if grouped {
        yaml.push_str("    group-by: [user]\n");
    }
    yaml.push_str(&format!("    timespan: {timespan_s}s\n"));
    if let Some(b) = &baseline {
        yaml.push_str(&format!(
            "    baseline:\n        aggregate: {}\n        history: {}\n        min_history: {}\n",
            b["aggregate"].as_str().unwrap(),
            b["history"],
            b["min_history"]
        ));
        if b["aggregate"] != "count" {
            yaml.push_str("        field: n\n");
        }
        if !b["min_value"].is_null() {
            yaml.push_str(&format!("        min_value: {}\n", b["min_value"]));
        }
    }
    if let Some(l) = learning_s.filter(|&l| l > 0) {
        yaml.push_str(&format!("    learning: {l}s\n"));
    }
    if !cond.is_empty() {
        yaml.push_str(&format!("    condition: {}\n", Value::Object(cond.clone())));
    }
    for (i, k) in kinds.iter().enumerate() {
        yaml.push_str(&format!(
            "---\ntitle: r{i}\nname: r{i}\nlogsource: {{product: x}}\ndetection:\n    sel:\n        kind: {k}\n    condition: sel\n"
        ));
    }
    // Events: times within a minute, on a 250 ms grid so that ties occur; some lack the user
    // or the number, some numbers are strings.
    let n = 5 + rng.below(36) as usize;
    let events = (0..n)
        .map(|_| {
            let t = BASE_MS + 250 * rng.below(240) as i64;
            let mut e = serde_json::Map::new();
            e.insert(
                "@timestamp".into(),
                json!(aisigma::syntax::time::format_ms(t)),
            );
            e.insert("kind".into(), json!(rng.pick(&["a", "b", "c", "d"])));
            if rng.below(8) != 0 {
                e.insert("user".into(), json!(rng.pick(&["u1", "u2"])));
            }
            match rng.below(6) {
                0 => {}
                1 => {
                    e.insert("n".into(), json!(rng.below(10).to_string()));
                }
                _ => {
                    e.insert("n".into(), json!(rng.below(10)));
                }
            }
            Value::Object(e)
        })
        .collect();
    let spec = json!({
        "id": id,
        "type": ty,
        "kinds": kinds,
        "group_by": if grouped { json!(["user"]) } else { json!([]) },
        "timespan_ms": timespan_s * 1000,
        "condition": Value::Object(cond),
        "percentile": percentile,
        "learning_ms": learning_s.unwrap_or(0) * 1000,
        "baseline": baseline,
    });
    Case { yaml, spec, events }
}

/// The engine's alerts as `[time_ms, user or null]`, in order.
fn engine_alerts(
    results: &[aisigma::semantics::checked::FileResult],
    events: &[Value],
) -> Vec<Value> {
    let (net, node) = build(results, (0, 0)).expect("generated correlations are valid");
    let (alerts, skipped) = net.run(events);
    assert!(skipped.is_empty(), "every generated event has a timestamp");
    rows(&alerts, node)
        .into_iter()
        .map(|(t, g)| json!([t, g.get("user")]))
        .collect()
}

#[test]
fn generated_correlations_for_the_oracles() {
    let schema = Schema::builtin();
    let mut rng = Rng(0xA15_16A);
    let cases = 1000;
    let mut out = String::new();
    let mut fired = 0;
    let mut sequences = 0;
    for id in 0..cases {
        let case = generate(&mut rng, id);
        let r = check_str("generated.yml", &case.yaml, &schema);
        assert!(
            r.diags
                .iter()
                .all(|d| d.severity != aisigma::report::diagnostic::Severity::Error),
            "{}\n{:?}",
            case.yaml,
            r.diags
        );
        let results = vec![r];
        let alerts = engine_alerts(&results, &case.events);
        // The events' arrival order does not matter: they are ordered by timestamp (ties
        // keep arrival order, so only a reversal of distinct times is tried).
        let mut sorted = case.events.clone();
        sorted.sort_by_key(|e| {
            aisigma::syntax::time::parse_timestamp_ms(e["@timestamp"].as_str().unwrap())
        });
        assert_eq!(engine_alerts(&results, &sorted), alerts, "{}", case.yaml);
        // Every alert is at the time of an input event of its group, in time order.
        let mut last = i64::MIN;
        for a in &alerts {
            let t = a[0].as_i64().unwrap();
            assert!(t >= last);
            last = t;
            assert!(case.events.iter().any(|e| {
                aisigma::syntax::time::parse_timestamp_ms(e["@timestamp"].as_str().unwrap())
                    == Some(t)
                    && (a[1].is_null() || e.get("user") == Some(&a[1]))
            }));
        }
        fired += usize::from(!alerts.is_empty());
        let mut spec = case.spec.clone();
        spec["events"] = Value::Array(case.events.clone());
        spec["alerts"] = Value::Array(alerts);
        if spec["type"] == "temporal_ordered" {
            let c = compile_correlation(
                &results,
                (0, 0),
                Target::Eql,
                &Target::Eql.builtin_mapping(),
                &schema,
            )
            .expect("temporal_ordered compiles to EQL");
            assert!(c.query.starts_with("sequence"));
            assert!(c.warnings.is_empty(), "EQL sequences are exact");
            spec["eql"] = json!(c.query);
            sequences += 1;
        }
        out.push_str(&spec.to_string());
        out.push('\n');
    }
    // The generator must produce both outcomes often, or the oracles check little.
    assert!(
        fired > cases / 4 && fired < cases * 9 / 10,
        "{fired} of {cases} fire"
    );
    assert_eq!(sequences, cases / TYPES.len());
    if let Ok(path) = std::env::var("AISIGMA_CORR_DIFF") {
        aisigma::report::output::write_atomic(std::path::Path::new(&path), out.as_bytes()).unwrap();
    }
}
