#!/usr/bin/env python3
"""Generate N detection rules for the scan benchmark, and the same rules as DuckDB SQL.

Usage: gen_rules.py N OUT_DIR [SEED]

The rules are variations of eight templates over the fields `aisigma gen-events` writes
(prompt phrase watch-lists, attack phrase watch-lists, response regexes, per-model token
thresholds, agent tool and argument-text pairs, GPU process and utilisation, guardrail risk
scores, user and service prefixes), with seeded random words, so a rule set has realistic
literals, regexes and numeric tests and some rules match some events. Each rule is written
to OUT_DIR/gen_NNNN.yml; OUT_DIR/duckdb.json lists, per rule, its id and one SQL boolean
expression with the same meaning: Sigma's case-insensitive equality and `contains` become
`lower(..)` comparisons (the values are ASCII), a missing field is NULL and counts as no
match (`coalesce(.., false)`), and the rule's log-source category is a test on `ai.category`.
Only the standard library is used.
"""

import json
import random
import sys

# The words of gen-events' benign prompts (src/gen_events.rs), so that phrases can match.
WORDS = (
    "please summarize the quarterly report for our customer and list action items with "
    "owners deadline review this pull request explain invoice policy refund shipping order "
    "status account password reset translate into french draft email meeting notes from "
    "yesterday table compare pricing plans benefits onboarding checklist new hire"
).split()
ATTACK = (
    "ignore disregard bypass override reveal exfiltrate jailbreak unrestricted uncensored "
    "developer persona hidden system secret credentials token leak dump verbatim"
).split()
MODELS = [
    "gpt-4o-2024-08-06",
    "gpt-4o-mini",
    "claude-3-5-sonnet-20241022",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "gpt-4.1",
    "gemini-1.5-pro-002",
]
TOOLS = ["search_docs", "read_file", "create_ticket", "send_email", "query_db", "get_weather"]
PROCESSES = ["python", "tritonserver", "vllm"]
SERVICES = ["support-assistant", "code-review-bot", "sales-copilot", "hr-helpdesk", "docs-search"]


def q(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def col(name):
    return '"' + name + '"'


def y(s):
    """A YAML single-quoted scalar."""
    return "'" + s.replace("'", "''") + "'"


def any_contains(field, phrases):
    return " OR ".join(f"contains(lower({col(field)}), {q(p.lower())})" for p in phrases)


def template(k, r):
    """(category or None, detection YAML lines, SQL predicate) of rule k."""
    t = k % 8
    if t == 0:
        phrases = [" ".join(r.sample(WORDS, 3)) for _ in range(3)]
        lines = ["selection:", "    ai.prompt.text|contains:"] + [f"        - {y(p)}" for p in phrases]
        return "llm_inference", lines, any_contains("ai.prompt.text", phrases)
    if t == 1:
        phrases = [f"{r.choice(ATTACK)} {r.choice(ATTACK)} {r.choice(WORDS)}" for _ in range(4)]
        lines = ["selection:", "    ai.prompt.text|contains:"] + [f"        - {y(p)}" for p in phrases]
        return "llm_inference", lines, any_contains("ai.prompt.text", phrases)
    if t == 2:
        a, b, c, d, e = r.sample(WORDS, 5)
        pattern = rf"\b({a}|{b}) ({c}|{d}) {e}\b"
        lines = ["selection:", f"    ai.response.text|re: {y(pattern)}"]
        return "llm_inference", lines, f"regexp_matches({col('ai.response.text')}, {q(pattern)})"
    if t == 3:
        model, n = r.choice(MODELS), r.randrange(450, 900)
        lines = [
            "selection:",
            f"    gen_ai.request.model: {y(model)}",
            f"    gen_ai.usage.input_tokens|gt: {n}",
        ]
        sql = f"lower({col('gen_ai.request.model')}) = {q(model.lower())} AND {col('gen_ai.usage.input_tokens')} > {n}"
        return "llm_inference", lines, sql
    if t == 4:
        tool, phrase = r.choice(TOOLS), " ".join(r.sample(WORDS, 2))
        lines = [
            "selection:",
            f"    gen_ai.tool.name: {y(tool)}",
            f"    ai.tool.args.text|contains: {y(phrase)}",
        ]
        sql = (
            f"lower({col('gen_ai.tool.name')}) = {q(tool)} AND "
            f"contains(lower({col('ai.tool.args.text')}), {q(phrase)})"
        )
        return "agent_activity", lines, sql
    if t == 5:
        proc, util, node = r.choice(PROCESSES), r.randrange(40, 70) / 100, r.randrange(10)
        lines = [
            "selection:",
            f"    ai.gpu.process.name: {y(proc)}",
            f"    ai.gpu.utilization|gte: {util}",
            f"    host.name|endswith: {y(f'-0{node}')}",
        ]
        sql = (
            f"lower({col('ai.gpu.process.name')}) = {q(proc)} AND {col('ai.gpu.utilization')} >= {util} "
            f"AND ends_with(lower({col('host.name')}), {q(f'-0{node}')})"
        )
        return "accelerator_metrics", lines, sql
    if t == 6:
        score, word = r.randrange(10, 19) / 100, r.choice(WORDS)
        lines = [
            "selection:",
            f"    gen_ai.guardrail.security.risk.score|gte: {score}",
            "    gen_ai.guardrail.target.type: input",
            f"    ai.prompt.text|contains: {y(word + ' ' + r.choice(WORDS))}",
        ]
        phrase = lines[-1].split(": ", 1)[1].strip("'")
        sql = (
            f"{col('gen_ai.guardrail.security.risk.score')} >= {score} AND "
            f"lower({col('gen_ai.guardrail.target.type')}) = 'input' AND "
            f"contains(lower({col('ai.prompt.text')}), {q(phrase)})"
        )
        return "ai_guardrail", lines, sql
    prefix, service = f"u-0{r.randrange(100):02d}", r.choice(SERVICES)
    lines = [
        "selection:",
        f"    user.id|startswith: {y(prefix)}",
        f"    service.name: {y(service)}",
    ]
    sql = (
        f"starts_with(lower({col('user.id')}), {q(prefix)}) AND "
        f"lower({col('service.name')}) = {q(service)}"
    )
    return "llm_inference", lines, sql


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    r = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    manifest = []
    for k in range(n):
        category, lines, sql = template(k, r)
        rid = f"00000000-0000-4000-8000-{k:012d}"
        logsource = "{product: ai" + (f", category: {category}" if category else "") + "}"
        det = "\n".join("    " + l for l in lines)
        text = (
            f"title: Generated benchmark rule {k}\nid: {rid}\nstatus: test\nlevel: low\n"
            f"date: 2026-11-24\ntags: [atlas.aml.t0051, owasp.llm01]\nlogsource: {logsource}\n"
            f"detection:\n{det}\n    condition: selection\n"
        )
        with open(f"{out}/gen_{k:04d}.yml", "w") as f:
            f.write(text)
        where = f"coalesce(({sql}), false)"
        if category:
            where = f"{col('ai.category')} = {q(category)} AND {where}"
        manifest.append({"id": rid, "sql": where})
    with open(f"{out}/duckdb.json", "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
