//! Kibana (Elastic Security): detection rules through the detection engine API
//! (`2023-10-31`, Kibana's OpenAPI bundle): `_find` lists the rules tagged `aisigma`,
//! `_import?overwrite=true` creates or replaces one rule (its NDJSON line, matched by
//! `rule_id`), `_bulk_action` deletes by object id. Non-GET requests carry `kbn-xsrf`.

use super::http::{Body, Client, HttpError};
use super::{Deployed, Desired, Siem, holds};
use serde_json::{Value, json};

pub struct Kibana {
    pub client: Client,
    /// `/s/SPACE` for a Kibana space other than the default, else empty.
    pub space: String,
}

/// The desired rules of a `kibana-ndjson` artifact, one per line.
pub fn desired(ndjson: &str) -> Result<Vec<Desired>, String> {
    ndjson
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).map_err(|e| format!("not a rule line: {e}"))?;
            let id = v["rule_id"].as_str().unwrap_or_default().to_string();
            if id.is_empty() {
                return Err("a rule line without `rule_id`".to_string());
            }
            Ok(Desired {
                id,
                name: v["name"].as_str().unwrap_or_default().to_string(),
                body: v,
            })
        })
        .collect()
}

/// A failed import of one rule: the errors of Kibana's import response.
fn import_errors(v: &Value) -> Option<HttpError> {
    let errors = v["errors"].as_array()?;
    let e = errors.first()?;
    Some(HttpError::Status {
        status: e["error"]["status_code"].as_u64().unwrap_or(400) as u16,
        message: e["error"]["message"]
            .as_str()
            .unwrap_or("import failed")
            .to_string(),
    })
}

impl Siem for Kibana {
    fn list(&self) -> Result<Vec<Deployed>, HttpError> {
        let mut out = Vec::new();
        for page in 1.. {
            let path = format!(
                "{}/api/detection_engine/rules/_find?filter=alert.attributes.tags%3A%22aisigma%22&per_page=100&page={page}&sort_field=name&sort_order=asc",
                self.space
            );
            let (_, v) = self.client.send("GET", &path, Body::None)?;
            let data = v["data"].as_array().cloned().unwrap_or_default();
            for r in &data {
                // The filter is Kibana's search; the tag itself is the mark.
                if !r["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|x| x == "aisigma"))
                {
                    continue;
                }
                out.push(Deployed {
                    id: r["rule_id"].as_str().unwrap_or_default().into(),
                    name: r["name"].as_str().unwrap_or_default().into(),
                    handle: r["id"].as_str().unwrap_or_default().into(),
                    state: r.clone(),
                });
            }
            let total = v["total"].as_u64().unwrap_or(0);
            if data.is_empty() || page * 100 >= total {
                break;
            }
        }
        Ok(out)
    }

    fn same(&self, d: &Desired, x: &Deployed) -> bool {
        holds(&x.state, &d.body)
    }

    fn create(&self, d: &Desired) -> Result<(), HttpError> {
        let line = format!("{}\n", d.body);
        let path = format!(
            "{}/api/detection_engine/rules/_import?overwrite=true",
            self.space
        );
        let (_, v) = self.client.send(
            "POST",
            &path,
            Body::File("file", "rules.ndjson", line.as_bytes()),
        )?;
        match import_errors(&v) {
            Some(e) => Err(e),
            None if v["success_count"].as_u64() == Some(1) => Ok(()),
            None => Err(HttpError::Status {
                status: 500,
                message: "Kibana imported no rule".into(),
            }),
        }
    }

    fn update(&self, d: &Desired, _: &Deployed) -> Result<(), HttpError> {
        self.create(d)
    }

    fn delete(&self, x: &Deployed) -> Result<(), HttpError> {
        let body = json!({"action": "delete", "ids": [x.handle]});
        let path = format!("{}/api/detection_engine/rules/_bulk_action", self.space);
        let (_, v) = self.client.send("POST", &path, Body::Json(&body))?;
        if v["attributes"]["summary"]["failed"].as_u64().unwrap_or(0) > 0 {
            return Err(HttpError::Status {
                status: 500,
                message: v["attributes"]["errors"][0]["message"]
                    .as_str()
                    .unwrap_or("delete failed")
                    .to_string(),
            });
        }
        Ok(())
    }
}
