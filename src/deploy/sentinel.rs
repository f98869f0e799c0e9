//! Microsoft Sentinel: scheduled analytics rules through
//! `Microsoft.SecurityInsights/alertRules` at api-version 2025-12-01 (azure-rest-api-specs,
//! `stable/2025-12-01/AlertRules.json`): `PUT` creates or replaces a rule by its id (the
//! rule's GUID, so a second run changes nothing), `GET` lists them (following `nextLink`),
//! `DELETE` removes one. aisigma manages the rules whose description ends with
//! `aisigma id: ID`.

use super::http::{Body, Client, HttpError, encode};
use super::{Deployed, Desired, Siem, holds, marker};
use serde_json::{Value, json};

pub const API_VERSION: &str = "2025-12-01";

pub struct Sentinel {
    pub client: Client,
    pub subscription: String,
    pub resource_group: String,
    pub workspace: String,
}

/// An ARM template string that `arm_literal` escaped (`[[`) as the API takes it.
fn unescape(v: &mut Value) {
    match v {
        Value::String(s) if s.starts_with("[[") => {
            s.remove(0);
        }
        Value::Object(m) => m.values_mut().for_each(unescape),
        Value::Array(a) => a.iter_mut().for_each(unescape),
        _ => {}
    }
}

/// The desired rule of a `sentinel-arm` artifact: its GUID and the `PUT` body.
pub fn desired(arm: &str) -> Result<Desired, String> {
    let v: Value = serde_json::from_str(arm).map_err(|e| format!("not an ARM template: {e}"))?;
    let res = &v["resources"][0];
    let name = res["name"].as_str().unwrap_or_default();
    let guid = name
        .rsplit('/')
        .next()
        .map(|s| s.trim_end_matches("')]").to_string())
        .filter(|g| g.len() == 36)
        .ok_or_else(|| format!("no rule GUID in the resource name `{name}`"))?;
    let mut properties = res["properties"].clone();
    unescape(&mut properties);
    let id = properties["description"]
        .as_str()
        .and_then(marker)
        .ok_or("the description has no `aisigma id:` line")?;
    Ok(Desired {
        id,
        name: properties["displayName"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body: json!({"guid": guid, "kind": res["kind"], "properties": properties}),
    })
}

impl Sentinel {
    fn path(&self, rule: Option<&str>) -> String {
        let base = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}/providers/Microsoft.SecurityInsights/alertRules",
            encode(&self.subscription),
            encode(&self.resource_group),
            encode(&self.workspace)
        );
        match rule {
            Some(r) => format!("{base}/{}?api-version={API_VERSION}", encode(r)),
            None => format!("{base}?api-version={API_VERSION}"),
        }
    }
}

impl Siem for Sentinel {
    fn list(&self) -> Result<Vec<Deployed>, HttpError> {
        let mut out = Vec::new();
        let mut next = Some(self.path(None));
        while let Some(path) = next.take() {
            let (_, v) = self.client.send("GET", &path, Body::None)?;
            for r in v["value"].as_array().into_iter().flatten() {
                if r["kind"] != "Scheduled" {
                    continue;
                }
                let Some(id) = r["properties"]["description"].as_str().and_then(marker) else {
                    continue;
                };
                out.push(Deployed {
                    id,
                    name: r["properties"]["displayName"]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                    handle: r["name"].as_str().unwrap_or_default().into(),
                    state: r.clone(),
                });
            }
            next = v["nextLink"].as_str().map(str::to_string);
        }
        Ok(out)
    }

    fn same(&self, d: &Desired, x: &Deployed) -> bool {
        x.handle == d.body["guid"]
            && x.state["kind"] == d.body["kind"]
            && holds(&x.state["properties"], &d.body["properties"])
    }

    fn create(&self, d: &Desired) -> Result<(), HttpError> {
        let body = json!({"kind": d.body["kind"], "properties": d.body["properties"]});
        let guid = d.body["guid"].as_str().unwrap_or_default();
        self.client
            .send("PUT", &self.path(Some(guid)), Body::Json(&body))
            .map(|_| ())
    }

    fn update(&self, d: &Desired, x: &Deployed) -> Result<(), HttpError> {
        if x.handle != d.body["guid"] {
            // The rule's GUID changed (a new `id`): the old resource goes.
            self.create(d)?;
            return self.delete(x);
        }
        self.create(d)
    }

    fn delete(&self, x: &Deployed) -> Result<(), HttpError> {
        self.client
            .send("DELETE", &self.path(Some(&x.handle)), Body::None)
            .map(|_| ())
    }
}
