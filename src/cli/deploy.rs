//! `aisigma deploy`: compile rules to a target's artifacts and bring the SIEM in line with
//! them: `--plan` lists what would change, `--apply` changes it (`aisigma::deploy`).
//! Credentials and endpoints come from environment variables only (README, "Deploy").

use super::compile::{Built, build};
use super::{Common, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, plural, print, usage_error};
use aisigma::backend::target::Target;
use aisigma::deploy::http::{Client, HttpError};
use aisigma::deploy::{self, Action, Desired, Siem, Step};
use std::path::PathBuf;
use std::process::ExitCode;

/// The SIEM could not be read, or refused the credentials.
pub const EXIT_REMOTE: u8 = 3;

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum DeployFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Rule files or directories [default: `rules` of aisigma.toml, else .]
    paths: Vec<PathBuf>,
    /// Target: spl (Splunk), kql (Sentinel), lucene, eql or esql (Kibana), yaral (SecOps)
    /// [default: the one target of `targets` in aisigma.toml]
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// List the rules to create, update, leave unchanged or delete; change nothing
    #[arg(long, required_unless_present = "apply", conflicts_with = "apply")]
    plan: bool,
    /// Make the changes through the SIEM's REST API
    #[arg(long)]
    apply: bool,
    /// Also delete rules aisigma deployed earlier that the paths no longer hold
    #[arg(long)]
    prune: bool,
    /// The telemetry the queries run on: a source pack (`aisigma sources` lists them)
    /// [default: `source` of aisigma.toml, else aisigma]
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Field and log-source mapping file merged over the source's mapping for the target
    /// [default: `mappings.<target>` of aisigma.toml]
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Deploy the other rules when some are refused by the target or source (AIS801,
    /// AIS802, AIS804), and exit 0 if nothing else failed [default: `allow-refusals` of
    /// aisigma.toml, else off]
    #[arg(long, overrides_with = "no_allow_refusals")]
    allow_refusals: bool,
    /// Fail on refusals even when aisigma.toml sets `allow-refusals = true`
    #[arg(long)]
    no_allow_refusals: bool,
    /// Output: `human` lines, or one JSON object per rule and line
    #[arg(long, value_enum, default_value_t = DeployFormat::Human)]
    format: DeployFormat,
    #[command(flatten)]
    common: Common,
}

fn env(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(format!(
            "environment variable {name} is not set (README, \"Deploy\")"
        )),
    }
}

fn env_or(name: &str, default: &str) -> String {
    env(name).unwrap_or_else(|_| default.to_string())
}

fn client(url: &str, auth: String, headers: Vec<(String, String)>) -> Result<Client, String> {
    let mut c = Client::new(url, auth, headers)?;
    if let Ok(ms) = env("AISIGMA_DEPLOY_RETRY_MS") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| "AISIGMA_DEPLOY_RETRY_MS must be a number of milliseconds")?;
        c.backoff = std::time::Duration::from_millis(ms);
    }
    Ok(c)
}

/// The SIEM of `target`, from the environment.
fn siem(target: Target) -> Result<Box<dyn Siem>, String> {
    Ok(match target {
        Target::Spl => Box::new(deploy::splunk::Splunk {
            client: client(
                &env("AISIGMA_SPLUNK_URL")?,
                format!("Bearer {}", env("AISIGMA_SPLUNK_TOKEN")?),
                Vec::new(),
            )?,
            app: env_or("AISIGMA_SPLUNK_APP", "aisigma"),
        }),
        Target::Kql => Box::new(deploy::sentinel::Sentinel {
            client: client(
                &env_or("AISIGMA_AZURE_URL", "https://management.azure.com"),
                format!("Bearer {}", env("AISIGMA_AZURE_TOKEN")?),
                Vec::new(),
            )?,
            subscription: env("AISIGMA_SENTINEL_SUBSCRIPTION")?,
            resource_group: env("AISIGMA_SENTINEL_RESOURCE_GROUP")?,
            workspace: env("AISIGMA_SENTINEL_WORKSPACE")?,
        }),
        Target::Lucene | Target::Eql | Target::Esql => Box::new(deploy::kibana::Kibana {
            client: client(
                &env("AISIGMA_KIBANA_URL")?,
                format!("ApiKey {}", env("AISIGMA_KIBANA_API_KEY")?),
                vec![
                    ("kbn-xsrf".into(), "true".into()),
                    ("elastic-api-version".into(), "2023-10-31".into()),
                ],
            )?,
            space: match env("AISIGMA_KIBANA_SPACE") {
                Ok(s) if s != "default" => format!("/s/{}", aisigma::deploy::http::encode(&s)),
                _ => String::new(),
            },
        }),
        Target::Yaral => Box::new(deploy::secops::SecOps {
            client: client(
                &env("AISIGMA_SECOPS_URL")?,
                format!("Bearer {}", env("AISIGMA_SECOPS_TOKEN")?),
                Vec::new(),
            )?,
            parent: env("AISIGMA_SECOPS_INSTANCE")?,
        }),
    })
}

/// The desired rules of the compiled artifacts.
fn desired(target: Target, built: &Built) -> Result<Vec<Desired>, String> {
    let mut out = Vec::new();
    for (text, deploy_ctx) in &built.artifacts {
        match target {
            Target::Spl => out.extend(deploy::splunk::desired(text)),
            Target::Kql => out.push(deploy::sentinel::desired(text)?),
            Target::Lucene | Target::Eql | Target::Esql => {
                out.extend(deploy::kibana::desired(text)?)
            }
            Target::Yaral => out.push(deploy::secops::desired(text, deploy_ctx)?),
        }
    }
    let mut ids: Vec<&str> = out.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "two rules deploy under the id `{}`; give each rule its own `id`",
            w[0]
        ));
    }
    Ok(out)
}

fn line(format: DeployFormat, step: &Step, result: Option<&Result<(), HttpError>>) -> String {
    match format {
        DeployFormat::Json => {
            let mut v =
                serde_json::json!({"action": step.action.name(), "id": step.id, "name": step.name});
            if let Some(r) = result {
                v["result"] = match r {
                    Ok(()) => "ok".into(),
                    Err(e) => e.to_string().into(),
                };
            }
            v.to_string() + "\n"
        }
        DeployFormat::Human => {
            let outcome = match result {
                None => String::new(),
                Some(Ok(())) => "  ok".into(),
                Some(Err(e)) => format!("  FAILED: {e}"),
            };
            format!(
                "{:<9} {}  {}{outcome}\n",
                step.action.name(),
                step.id,
                step.name
            )
        }
    }
}

pub fn run(a: Args) -> ExitCode {
    let c = super::settings::get();
    let target = match c.targets(a.target).as_slice() {
        [t] => *t,
        [] => {
            return usage_error(
                "no target: pass --target (spl, kql, lucene, eql, esql, yaral), or list one in `targets` of aisigma.toml",
            );
        }
        many => {
            let names: Vec<&str> = many.iter().map(|t| t.name()).collect();
            return usage_error(&format!(
                "aisigma.toml names {} targets ({}): deploy goes to one SIEM at a time, pass --target",
                many.len(),
                names.join(", ")
            ));
        }
    };
    let source = c.source(a.source.as_deref());
    let mapping = c.mapping(a.mapping.as_deref(), target);
    let allow_refusals = c.allow_refusals(a.allow_refusals, a.no_allow_refusals);
    let siem = match siem(target) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let built = match build(a.paths.clone(), a.common.clone(), target, source, mapping) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    eprint!("{}", built.errors);
    let desired = match desired(target, &built) {
        Ok(d) => d,
        Err(e) => return usage_error(&e),
    };
    let deployed = match siem.list() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot list the rules on {}: {e}", target.name());
            return ExitCode::from(EXIT_REMOTE);
        }
    };
    // A rule that failed to compile may still be deployed: pruning would delete it.
    let failed = built.failed - if allow_refusals { built.refused } else { 0 };
    let prune = a.prune && built.failed == built.refused;
    if a.prune && !prune {
        eprintln!(
            "warning: not pruning: {} failed to compile, and its deployed version would be deleted",
            plural(built.failed - built.refused, "rule")
        );
    }
    let steps = deploy::plan(siem.as_ref(), &desired, &deployed, prune);
    let count = |x: Action| steps.iter().filter(|s| s.action == x).count();
    let mut text = String::new();
    let mut apply_failed = 0;
    let mut auth_failed = false;
    if a.apply {
        let results = deploy::apply(siem.as_ref(), &steps, &desired, &deployed);
        for (k, s) in steps.iter().enumerate() {
            let r = results.iter().find(|(i, _)| *i == k).map(|(_, r)| r);
            if let Some(Err(e)) = r {
                apply_failed += 1;
                auth_failed |= e.is_auth();
            }
            text.push_str(&line(a.format, s, r));
        }
    } else {
        for s in &steps {
            text.push_str(&line(a.format, s, None));
        }
    }
    if print(&text) != ExitCode::from(EXIT_OK) {
        return ExitCode::from(EXIT_USAGE);
    }
    eprintln!(
        "{} on {}: {} to create, {} to update, {} unchanged, {} to delete{}",
        if a.apply { "applied" } else { "plan" },
        target.name(),
        count(Action::Create),
        count(Action::Update),
        count(Action::Unchanged),
        count(Action::Delete),
        if apply_failed > 0 {
            format!("; {} failed", plural(apply_failed, "change"))
        } else {
            String::new()
        }
    );
    if auth_failed {
        ExitCode::from(EXIT_REMOTE)
    } else if apply_failed > 0 || failed > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}
