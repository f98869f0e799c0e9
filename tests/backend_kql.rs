//! The KQL backend: each construct's translation, refusals, injection-proof strings, and the
//! table schema. The rule library's KQL queries and Sentinel artifacts are snapshotted in
//! `backend_snapshots.rs`; the Kusto.Language parser checks them in
//! `tests/conformance/kql_oracle.sh`.

use aisigma::backend::kql;
use aisigma::backend::target::Target;
use aisigma::report::diagnostic::Code;
use proptest::prelude::*;

mod common;

use common::rule;

fn compile_rule(text: &str) -> Result<String, Vec<Code>> {
    common::compile_rule(Target::Kql, text)
}

#[test]
fn semantics_of_each_construct() {
    let q = |d: &str| compile_rule(&rule("{product: x}", d)).unwrap();
    let w = |cond: &str| format!("AIEvents_CL | where {cond}");
    // Case-insensitive values use Kusto's own operators (ASCII letters fold).
    assert_eq!(q("sel:\n  F: abc\ncondition: sel"), w(r#"F =~ "abc""#));
    assert_eq!(
        q("sel:\n  F: [abc, d]\ncondition: sel"),
        w(r#"F in~ ("abc", "d")"#)
    );
    assert_eq!(
        q("sel:\n  F|startswith: [abc, d]\ncondition: sel"),
        w(r#"(F startswith "abc" or F startswith "d")"#)
    );
    assert_eq!(
        q("sel:\n  F|cased: abc\ncondition: sel"),
        w(r#"F == "abc""#)
    );
    assert_eq!(
        q("sel:\n  F|contains: '10.0.'\ncondition: sel"),
        w(r#"F contains "10.0.""#)
    );
    assert_eq!(
        q("sel:\n  F|startswith|cased: Ab\ncondition: sel"),
        w(r#"F startswith_cs "Ab""#)
    );
    assert_eq!(
        q("sel:\n  F|endswith|cased: Ab\ncondition: sel"),
        w(r#"F endswith_cs "Ab""#)
    );
    // `?` is one character; a literal `*` stays literal.
    assert_eq!(
        q("sel:\n  F|cased: 'a?c\\*'\ncondition: sel"),
        w(r#"F matches regex "^a(?s:.)c\\*$""#)
    );
    // The ASCII word boundary, which RE2 and Rust spell differently, is written out.
    assert_eq!(
        q("sel:\n  F|re: '^a\\b'\ncondition: sel"),
        w(r#"F matches regex "^a(?:[^0-9A-Z_a-z]|$)""#)
    );
    // Untyped fields are compared as numbers with todouble(), and guarded under `not`.
    assert_eq!(
        q("sel:\n  F|gte: 2.5\ncondition: not sel"),
        w("not((isnotnull(todouble(F)) and todouble(F) >= 2.5))")
    );
    assert_eq!(q("sel:\n  F: null\ncondition: sel"), w("isempty(F)"));
    assert_eq!(
        q("sel:\n  F|exists: true\ncondition: sel"),
        w("isnotempty(F)")
    );
    assert!(
        q("sel:\n  F|cidr: 10.0.0.0/8\ncondition: sel")
            .contains(r#"coalesce(ipv4_is_in_range(trim(@"\s+", F), "10.0.0.0/8"), false)"#)
    );
    assert!(
        q("sel:\n  F|cidr: '2001:db8::/32'\ncondition: sel")
            .contains(r#"coalesce(ipv6_is_in_range(trim(@"\s+", F), "2001:db8::/32"), false)"#)
    );
    assert_eq!(
        q("a:\n  F|cased: x\nb:\n  G|cased: y\nc:\n  H|cased: z\ncondition: a and not (b or c)"),
        w(r#"F == "x" and not(G == "y" or H == "z")"#)
    );
}

#[test]
fn typed_columns_and_arrays() {
    let q = |d: &str| compile_rule(&rule("{product: ai, category: llm_inference}", d)).unwrap();
    assert_eq!(
        q("sel:\n  gen_ai.usage.input_tokens|gt: 5\ncondition: not sel"),
        "AIInference_CL | where not((isnotnull(gen_ai_usage_input_tokens) and gen_ai_usage_input_tokens > 5))"
    );
    // An array column: an mv-apply stage counts the matching elements.
    assert_eq!(
        q("sel:\n  user.roles|cased: admin\ncondition: not sel"),
        "AIInference_CL | mv-apply __v1 = user_roles to typeof(string) on (summarize __p1 = countif(__v1 == \"admin\")) | where not(__p1 > 0) | project-away __p1"
    );
}

#[test]
fn refusals_name_the_construct() {
    let e = |d: &str| compile_rule(&rule("{product: x}", d)).unwrap_err();
    assert_eq!(
        e("kw:\n  - abc\ncondition: kw"),
        vec![Code::UnsupportedConstruct]
    );
    assert_eq!(
        e("sel:\n  f|fieldref: g\ncondition: sel"),
        vec![Code::UnsupportedConstruct]
    );
}

#[test]
fn tables_cover_every_mapped_column_with_its_type() {
    let t = kql::tables(
        &Target::Kql.builtin_mapping(),
        &aisigma::semantics::schema::Schema::builtin(),
    )
    .unwrap();
    assert_eq!(t.len(), 11);
    let inference = &t["AIInference_CL"];
    assert_eq!(inference["TimeGenerated"], "datetime");
    assert_eq!(inference["gen_ai_usage_input_tokens"], "long");
    assert_eq!(inference["user_roles"], "dynamic");
    assert!(!inference.contains_key("@timestamp"));
    assert!(
        inference
            .keys()
            .all(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    );
}

#[test]
fn column_names_are_bracketed_unless_plain() {
    assert_eq!(kql::column("gen_ai_system"), "gen_ai_system");
    assert_eq!(kql::column("count"), "['count']");
    assert_eq!(kql::column("a'b\\"), r"['a\'b\\']");
}

/// Undo KQL string escaping; `None` if the literal is malformed or ends early.
fn unescape(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        match c {
            '"' => return None,
            '\\' => match it.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'u' => {
                    let hex: String = it.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

proptest! {
    /// Any value, however hostile, stays inside its string literal and round-trips.
    #[test]
    fn string_literals_cannot_be_escaped_from(s in "\\PC*|[\"\\\\\n\r\t\u{0}-\u{1f}\u{7f}\u{2028}a-z| ]{0,40}") {
        let lit = kql::string(&s);
        prop_assert_eq!(unescape(&lit), Some(s.clone()));
        prop_assert!(!lit.contains('\n') && !lit.contains('\r'));
    }
}

#[test]
fn long_chains_are_chunked_for_the_parser() {
    let values: Vec<String> = (0..150).map(|i| format!("'v{i}'")).collect();
    let q = compile_rule(&rule(
        "{product: x}",
        &format!(
            "sel:\n  F|contains|cased: [{}]\ncondition: sel",
            values.join(", ")
        ),
    ))
    .unwrap();
    // 150 operands: chunks of 64, 64 and 22, each parenthesised, with every value once.
    assert_eq!(q.matches(" or ").count(), 149);
    assert_eq!(q.matches("(F contains_cs ").count(), 3);
    for i in 0..150 {
        assert!(q.contains(&format!("F contains_cs \"v{i}\"")));
    }
    // A list of whole values is one `in` operator.
    let q = compile_rule(&rule(
        "{product: x}",
        &format!("sel:\n  F: [{}]\ncondition: sel", values.join(", ")),
    ))
    .unwrap();
    assert!(
        q.starts_with("AIEvents_CL | where F in~ (\"v0\", \"v1\""),
        "{q}"
    );
}

/// Every library rule's `sentinel-arm` artifact is a `Scheduled` alert rule as the stable
/// Microsoft.SecurityInsights api-version 2025-12-01 describes it (Azure/azure-rest-api-specs,
/// `specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/AlertRules.json`,
/// `ScheduledAlertRuleProperties`, and the limits of Microsoft's template validator): only
/// properties of that version, the required ones present, tactics from its `AttackTactic`
/// enum, ISO 8601 durations within [PT5M, P14D] and a period no shorter than the frequency.
#[test]
fn sentinel_arm_artifacts_follow_the_2025_12_01_alert_rule_schema() {
    use aisigma::backend::artifact;
    use aisigma::backend::compile::compile;
    use aisigma::backend::target::Target;
    use aisigma::semantics::check::check_files;
    use aisigma::semantics::schema::Schema;
    const PROPERTIES: &[&str] = &[
        "displayName",
        "description",
        "severity",
        "enabled",
        "query",
        "queryFrequency",
        "queryPeriod",
        "triggerOperator",
        "triggerThreshold",
        "suppressionDuration",
        "suppressionEnabled",
        "tactics",
        "techniques",
        "incidentConfiguration",
        "eventGroupingSettings",
        "customDetails",
        "entityMappings",
        "alertDetailsOverride",
        "alertRuleTemplateName",
        "templateVersion",
    ];
    const REQUIRED: &[&str] = &[
        "displayName",
        "enabled",
        "severity",
        "query",
        "queryFrequency",
        "queryPeriod",
        "triggerOperator",
        "triggerThreshold",
        "suppressionEnabled",
        "suppressionDuration",
    ];
    const TACTICS: &[&str] = &[
        "Reconnaissance",
        "ResourceDevelopment",
        "InitialAccess",
        "Execution",
        "Persistence",
        "PrivilegeEscalation",
        "DefenseEvasion",
        "CredentialAccess",
        "Discovery",
        "LateralMovement",
        "Collection",
        "Exfiltration",
        "CommandAndControl",
        "Impact",
        "PreAttack",
        "ImpairProcessControl",
        "InhibitResponseFunction",
    ];
    // Minutes of an ISO 8601 duration of days, hours and minutes (`P1DT1H10M`).
    fn minutes(d: &str) -> u64 {
        let re = regex::Regex::new(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$").unwrap();
        let c = re
            .captures(d)
            .unwrap_or_else(|| panic!("not a duration the schema accepts: {d}"));
        let n = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<u64>().unwrap());
        n(1) * 1440 + n(2) * 60 + n(3)
    }
    let schema = Schema::builtin();
    let mut files = aisigma::syntax::load::collect_files(&["rules".into()]).unwrap();
    files.sort();
    let results = check_files(&files, &schema, &Default::default());
    let mapping = Target::Kql.builtin_mapping();
    let format = Target::Kql.format("sentinel-arm").unwrap();
    let mut checked = 0;
    for r in &results {
        for cd in &r.docs {
            let Some(expr) = &cd.expr else { continue };
            let Ok(c) = compile(&cd.doc, expr, Target::Kql, &mapping, &schema) else {
                continue;
            };
            let ctx = artifact::RuleContext::new(&cd.doc, &r.path);
            let deploy =
                aisigma::backend::schedule::for_doc(cd, &c, Target::Kql, &mapping, &schema)
                    .unwrap();
            let body = artifact::render(
                format.template,
                format.builtin,
                &ctx,
                &c.query,
                &c.logsource,
                c.correlation.as_ref(),
                "kql",
                &deploy,
            )
            .unwrap();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let res = &v["resources"][0];
            assert_eq!(res["apiVersion"], "2025-12-01", "{}", r.path);
            assert_eq!(res["kind"], "Scheduled");
            let props = res["properties"].as_object().unwrap();
            for k in props.keys() {
                assert!(PROPERTIES.contains(&k.as_str()), "{}: property {k}", r.path);
            }
            for k in REQUIRED {
                assert!(props.contains_key(*k), "{}: no {k}", r.path);
            }
            for t in props["tactics"].as_array().unwrap() {
                assert!(
                    TACTICS.contains(&t.as_str().unwrap()),
                    "{}: tactic {t}",
                    r.path
                );
            }
            let freq = minutes(props["queryFrequency"].as_str().unwrap());
            let period = minutes(props["queryPeriod"].as_str().unwrap());
            let supp = minutes(props["suppressionDuration"].as_str().unwrap());
            assert!(
                (5..=20160).contains(&freq) && (5..=20160).contains(&period),
                "{}",
                r.path
            );
            assert!(
                period >= freq,
                "{}: period {period} < frequency {freq}",
                r.path
            );
            assert!((5..=1440).contains(&supp), "{}", r.path);
            assert!(
                props["query"].as_str().unwrap().len() <= 10_000,
                "{}",
                r.path
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}
