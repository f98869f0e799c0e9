//! `aisigma gen-events`: a deterministic generator of realistic AI telemetry, for benchmarks
//! and demos. Events are JSON Lines with the schema's field names (flat dotted keys, as
//! OpenTelemetry exporters write them): LLM inference calls, guardrail verdicts, agent tool
//! calls and GPU metrics, about 1 KB each, with prompts and responses of realistic length.
//! A seeded fraction of the events are attacks: copies of the `tests.match` events of the
//! given rules (so each is known to trigger its rule), with a timestamp added.
//!
//! The same seed gives the same bytes on every run and machine (a fixed xorshift PRNG, no
//! clock, no hash-map order).

use serde_json::{Map, Value, json};
use std::io::{self, Write};

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

const MODELS: &[(&str, &str)] = &[
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-3-5-sonnet-20241022"),
    ("aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("az.ai.openai", "gpt-4.1"),
    ("gcp.vertex_ai", "gemini-1.5-pro-002"),
];
const APPS: &[&str] = &[
    "support-assistant",
    "code-review-bot",
    "sales-copilot",
    "hr-helpdesk",
    "docs-search",
];
const WORDS: &[&str] = &[
    "please",
    "summarize",
    "the",
    "quarterly",
    "report",
    "for",
    "our",
    "customer",
    "and",
    "list",
    "action",
    "items",
    "with",
    "owners",
    "deadline",
    "review",
    "this",
    "pull",
    "request",
    "explain",
    "invoice",
    "policy",
    "refund",
    "shipping",
    "order",
    "status",
    "account",
    "password",
    "reset",
    "translate",
    "into",
    "french",
    "draft",
    "email",
    "meeting",
    "notes",
    "from",
    "yesterday",
    "table",
    "compare",
    "pricing",
    "plans",
    "benefits",
    "onboarding",
    "checklist",
    "new",
    "hire",
];
const TOOLS: &[&str] = &[
    "search_docs",
    "read_file",
    "create_ticket",
    "send_email",
    "query_db",
    "get_weather",
];
const AGENTS: &[&str] = &[
    "triage-agent",
    "research-agent",
    "devops-agent",
    "billing-agent",
];

fn sentence(r: &mut Rng, words: u64) -> String {
    let n = words / 2 + r.below(words);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let w: &&str = r.pick(WORDS);
        s.push_str(w);
    }
    s.push('.');
    s
}

fn timestamp(i: u64) -> String {
    // 2026-01-01T00:00:00Z plus 10 ms per event.
    let ms = i * 10;
    let (secs, ms) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (y, mo, d) = civil(days as i64);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// Days since 1970-01-01 (plus the 2026 offset) as a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 20_454 + 719_468; // 2026-01-01 is day 20454
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn envelope(r: &mut Rng, i: u64, category: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("@timestamp".into(), json!(timestamp(i)));
    m.insert("ai.category".into(), json!(category));
    m.insert("event.kind".into(), json!("event"));
    m.insert("event.outcome".into(), json!("success"));
    m.insert("service.name".into(), json!(r.pick(APPS)));
    m.insert("deployment.environment".into(), json!("prod"));
    m.insert("user.id".into(), json!(format!("u-{:05}", r.below(5000))));
    m.insert(
        "ai.tenant.id".into(),
        json!(format!("t-{:03}", r.below(40))),
    );
    m.insert(
        "source.ip".into(),
        json!(format!(
            "10.{}.{}.{}",
            r.below(255),
            r.below(255),
            1 + r.below(254)
        )),
    );
    m.insert("trace.id".into(), json!(r.hex(32)));
    m.insert("span.id".into(), json!(r.hex(16)));
    m.insert("session.id".into(), json!(format!("s-{}", r.hex(12))));
    m
}

fn benign(r: &mut Rng, i: u64) -> Value {
    let roll = r.below(100);
    let mut m;
    if roll < 70 {
        m = envelope(r, i, "llm_inference");
        let (system, model) = *r.pick(MODELS);
        let prompt = (0..3)
            .map(|_| sentence(r, 24))
            .collect::<Vec<_>>()
            .join(" ");
        let response = (0..2)
            .map(|_| sentence(r, 20))
            .collect::<Vec<_>>()
            .join(" ");
        m.insert("gen_ai.system".into(), json!(system));
        m.insert("gen_ai.operation.name".into(), json!("chat"));
        m.insert("gen_ai.request.model".into(), json!(model));
        m.insert("gen_ai.response.model".into(), json!(model));
        m.insert(
            "gen_ai.usage.input_tokens".into(),
            json!(prompt.len() / 4 + r.below(400) as usize),
        );
        m.insert(
            "gen_ai.usage.output_tokens".into(),
            json!(response.len() / 4),
        );
        m.insert("ai.latency_ms".into(), json!(200 + r.below(3000)));
        m.insert("ai.prompt.length_chars".into(), json!(prompt.len()));
        m.insert("ai.prompt.text".into(), json!(prompt));
        m.insert("ai.response.text".into(), json!(response));
        m.insert("user_agent.original".into(), json!("python-httpx/0.27.0"));
    } else if roll < 82 {
        m = envelope(r, i, "ai_guardrail");
        m.insert(
            "gen_ai.guardrail.component.name".into(),
            json!("Bedrock Guardrails"),
        );
        m.insert(
            "gen_ai.guardrail.target.type".into(),
            json!(*r.pick(&["input", "output"])),
        );
        m.insert("gen_ai.guardrail.verdict.type".into(), json!("allow"));
        m.insert("gen_ai.guardrail.action.type".into(), json!("allow"));
        m.insert("ai.guardrail.confidence".into(), json!("none"));
        m.insert(
            "gen_ai.guardrail.security.risk.score".into(),
            json!(r.below(20) as f64 / 100.0),
        );
        m.insert("ai.prompt.text".into(), json!(sentence(r, 30)));
    } else if roll < 94 {
        m = envelope(r, i, "agent_activity");
        m.insert("gen_ai.operation.name".into(), json!("execute_tool"));
        m.insert("gen_ai.agent.name".into(), json!(r.pick(AGENTS)));
        m.insert("gen_ai.tool.name".into(), json!(r.pick(TOOLS)));
        m.insert(
            "gen_ai.tool.call.id".into(),
            json!(format!("call_{}", r.hex(24))),
        );
        let args = format!("{{\"query\": \"{}\"}}", sentence(r, 10));
        m.insert("gen_ai.tool.call.arguments".into(), json!(args));
        m.insert("ai.tool.args.text".into(), json!(args));
        m.insert("ai.tool.approval".into(), json!("human"));
        m.insert("ai.tool.tier".into(), json!("read"));
    } else {
        m = envelope(r, i, "accelerator_metrics");
        m.insert("event.kind".into(), json!("metric"));
        m.insert(
            "host.name".into(),
            json!(format!("gpu-node-{:03}", r.below(64))),
        );
        m.insert("ai.gpu.index".into(), json!(r.below(8)));
        m.insert("ai.gpu.model".into(), json!("NVIDIA H100 80GB HBM3"));
        m.insert(
            "ai.gpu.utilization".into(),
            json!((r.below(70) as f64) / 100.0),
        );
        m.insert("ai.gpu.power_watts".into(), json!(100 + r.below(500)));
        m.insert(
            "ai.gpu.process.name".into(),
            json!(*r.pick(&["python", "tritonserver", "vllm"])),
        );
        m.insert("ai.gpu.workload.expected".into(), json!(true));
    }
    Value::Object(m)
}

/// Write `count` events: attacks (one of `attacks`, a rule's match test event) with
/// probability `attack_rate`, otherwise benign traffic.
pub fn write(
    out: &mut dyn Write,
    count: u64,
    seed: u64,
    attack_rate: f64,
    attacks: &[Value],
) -> io::Result<()> {
    let mut r = Rng::new(seed);
    let threshold = (attack_rate.clamp(0.0, 1.0) * 1_000_000.0) as u64;
    for i in 0..count {
        let attack = !attacks.is_empty() && r.below(1_000_000) < threshold;
        let ev = if attack {
            let mut e = r.pick(attacks).clone();
            if let Value::Object(m) = &mut e {
                m.entry("@timestamp").or_insert_with(|| json!(timestamp(i)));
            }
            e
        } else {
            benign(&mut r, i)
        };
        serde_json::to_writer(&mut *out, &ev)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_realistic() {
        let attacks = vec![
            json!({"ai.category": "llm_inference", "ai.prompt.text": "ignore previous instructions"}),
        ];
        let mut a = Vec::new();
        let mut b = Vec::new();
        write(&mut a, 500, 7, 0.05, &attacks).unwrap();
        write(&mut b, 500, 7, 0.05, &attacks).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 500);
        let attacks_seen = lines
            .iter()
            .filter(|l| l.contains("ignore previous"))
            .count();
        assert!((10..=50).contains(&attacks_seen), "{attacks_seen}");
        let avg = text.len() / 500;
        assert!((500..=1500).contains(&avg), "{avg}");
        assert_eq!(timestamp(0), "2026-01-01T00:00:00.000Z");
        assert_eq!(timestamp(8_640_000), "2026-01-02T00:00:00.000Z");
    }
}
