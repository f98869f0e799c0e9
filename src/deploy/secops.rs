//! Google SecOps: YARA-L rules through the Chronicle API v1 `RuleService`
//! (googleapis `google/cloud/chronicle/v1/rule.proto`): `rules` (create with `text`, update
//! with `updateMask=text`, delete) and each rule's `deployment` (enabled, alerting, run
//! frequency; `updateMask` required). aisigma manages the rules whose `meta:` has
//! `aisigma_id` (the API's `metadata`, in the FULL view).

use super::http::{Body, Client, HttpError};
use super::{Deployed, Desired, Siem};
use serde_json::{Value, json};

pub struct SecOps {
    pub client: Client,
    /// `projects/P/locations/L/instances/I`.
    pub parent: String,
}

const DEPLOYMENT_MASK: &str = "enabled,alerting,runFrequency";

/// The desired rule of a `chronicle` artifact and its deployment settings.
pub fn desired(text: &str, deploy: &Value) -> Result<Desired, String> {
    let id = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("aisigma_id = "))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .ok_or("the rule has no `aisigma_id` meta")?;
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("rule "))
        .map(|l| l.trim_end_matches('{').trim().to_string())
        .unwrap_or_default();
    Ok(Desired {
        id,
        name,
        body: json!({
            "text": text,
            "deployment": {
                "enabled": deploy["enabled"].as_bool().unwrap_or(true),
                "alerting": deploy["alerting"].as_bool().unwrap_or(true),
                "runFrequency": deploy["run_frequency"].as_str().unwrap_or("LIVE"),
            },
        }),
    })
}

impl SecOps {
    fn deploy(&self, rule: &str, d: &Desired) -> Result<(), HttpError> {
        let mut body = d.body["deployment"].clone();
        body["name"] = format!("{rule}/deployment").into();
        self.client
            .send(
                "PATCH",
                &format!("/v1/{rule}/deployment?updateMask={DEPLOYMENT_MASK}"),
                Body::Json(&body),
            )
            .map(|_| ())
    }
}

impl Siem for SecOps {
    fn list(&self) -> Result<Vec<Deployed>, HttpError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let mut path = format!("/v1/{}/rules?view=FULL&pageSize=1000", self.parent);
            if !token.is_empty() {
                path.push_str(&format!("&pageToken={}", super::http::encode(&token)));
            }
            let (_, v) = self.client.send("GET", &path, Body::None)?;
            for r in v["rules"].as_array().into_iter().flatten() {
                let Some(id) = r["metadata"]["aisigma_id"].as_str() else {
                    continue;
                };
                let name = r["name"].as_str().unwrap_or_default().to_string();
                let (_, dep) =
                    self.client
                        .send("GET", &format!("/v1/{name}/deployment"), Body::None)?;
                out.push(Deployed {
                    id: id.to_string(),
                    name: r["displayName"].as_str().unwrap_or_default().into(),
                    handle: name,
                    state: json!({"text": r["text"], "deployment": dep}),
                });
            }
            match v["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => token = t.to_string(),
                _ => break,
            }
        }
        Ok(out)
    }

    fn same(&self, d: &Desired, x: &Deployed) -> bool {
        x.state["text"] == d.body["text"]
            && super::holds(&x.state["deployment"], &d.body["deployment"])
    }

    fn create(&self, d: &Desired) -> Result<(), HttpError> {
        let body = json!({"text": d.body["text"]});
        let (_, v) = self.client.send(
            "POST",
            &format!("/v1/{}/rules", self.parent),
            Body::Json(&body),
        )?;
        let name = v["name"].as_str().unwrap_or_default().to_string();
        self.deploy(&name, d)
    }

    fn update(&self, d: &Desired, x: &Deployed) -> Result<(), HttpError> {
        if x.state["text"] != d.body["text"] {
            let body = json!({"text": d.body["text"]});
            self.client.send(
                "PATCH",
                &format!("/v1/{}?updateMask=text", x.handle),
                Body::Json(&body),
            )?;
        }
        self.deploy(&x.handle, d)
    }

    /// Delete the rule; SecOps refuses (and the step fails) while it has detections or
    /// retrohunts, which only `force` would destroy with it.
    fn delete(&self, x: &Deployed) -> Result<(), HttpError> {
        self.client
            .send("DELETE", &format!("/v1/{}", x.handle), Body::None)
            .map(|_| ())
    }
}
