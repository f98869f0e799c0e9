//! Splunk: saved searches in one app, through `servicesNS/nobody/{app}/saved/searches`
//! (Splunk's REST reference; parameters are the `savedsearches.conf` keys, with
//! `enableSched`, `counttype`, `relation` and `quantity` renamed as REST names them).
//! aisigma manages the searches of its app whose description ends with `aisigma id: ID`.

use super::http::{Body, Client, HttpError, encode};
use super::{Deployed, Desired, Siem, marker};
use serde_json::{Map, Value};

/// The conf keys that REST names differently.
const RENAMES: &[(&str, &str)] = &[
    ("enableSched", "is_scheduled"),
    ("counttype", "alert_type"),
    ("relation", "alert_comparator"),
    ("quantity", "alert_threshold"),
];

pub struct Splunk {
    pub client: Client,
    pub app: String,
}

/// Parse `savedsearches.conf` text into stanzas: (name, keys and values in order). A value
/// continues on the next line after a trailing backslash.
pub fn parse_conf(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.to_string(), Vec::new()));
            continue;
        }
        let Some((k, v)) = line.split_once(" = ") else {
            continue;
        };
        let mut value = v.to_string();
        while let Some(head) = value.strip_suffix('\\') {
            value = head.trim_end_matches(' ').to_string();
            value.push('\n');
            value.push_str(lines.next().unwrap_or_default());
        }
        if let Some((_, keys)) = out.last_mut() {
            keys.push((k.trim().to_string(), value));
        }
    }
    out
}

/// The REST parameters of one stanza.
pub fn params(keys: &[(String, String)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(k, v)| {
            let k = RENAMES
                .iter()
                .find(|(c, _)| c == k)
                .map(|(_, r)| r.to_string())
                .unwrap_or_else(|| k.clone());
            (k, v.clone())
        })
        .collect()
}

/// The desired saved searches of a `savedsearches` artifact.
pub fn desired(conf: &str) -> Vec<Desired> {
    parse_conf(conf)
        .into_iter()
        .filter_map(|(name, keys)| {
            let params = params(&keys);
            let id = params
                .iter()
                .find(|(k, _)| k == "description")
                .and_then(|(_, d)| marker(d))?;
            let body: Map<String, Value> = params
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Some(Desired {
                id,
                name,
                body: Value::Object(body),
            })
        })
        .collect()
}

/// Splunk's answers give flags as booleans and numbers as numbers; the conf text has `1`.
fn same_value(have: &Value, want: &str) -> bool {
    match have {
        Value::String(s) => s == want || s.trim_end() == want.trim_end(),
        Value::Bool(b) => matches!((b, want), (true, "1" | "true") | (false, "0" | "false")),
        Value::Number(n) => n.to_string() == want,
        _ => false,
    }
}

impl Splunk {
    fn path(&self, name: Option<&str>) -> String {
        let base = format!("/servicesNS/nobody/{}/saved/searches", encode(&self.app));
        match name {
            Some(n) => format!("{base}/{}", encode(n)),
            None => base,
        }
    }

    fn form(body: &Value, with_name: Option<&str>) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = Vec::new();
        if let Some(n) = with_name {
            f.push(("name".into(), n.into()));
        }
        for (k, v) in body.as_object().into_iter().flatten() {
            f.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
        }
        f.push(("output_mode".into(), "json".into()));
        f
    }
}

impl Siem for Splunk {
    fn list(&self) -> Result<Vec<Deployed>, HttpError> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            let path = format!(
                "/servicesNS/-/{}/saved/searches?output_mode=json&count=100&offset={offset}",
                encode(&self.app)
            );
            let (_, v) = self.client.send("GET", &path, Body::None)?;
            let entries = v["entry"].as_array().cloned().unwrap_or_default();
            for e in &entries {
                if e["acl"]["app"].as_str() != Some(self.app.as_str()) {
                    continue;
                }
                let Some(id) = e["content"]["description"].as_str().and_then(marker) else {
                    continue;
                };
                let name = e["name"].as_str().unwrap_or_default().to_string();
                out.push(Deployed {
                    id,
                    handle: name.clone(),
                    name,
                    state: e["content"].clone(),
                });
            }
            offset += entries.len();
            let total = v["paging"]["total"].as_u64().unwrap_or(0) as usize;
            if entries.is_empty() || offset >= total {
                break;
            }
        }
        Ok(out)
    }

    fn same(&self, d: &Desired, x: &Deployed) -> bool {
        d.name == x.handle
            && d.body.as_object().into_iter().flatten().all(|(k, v)| {
                x.state
                    .get(k)
                    .is_some_and(|have| same_value(have, v.as_str().unwrap_or_default()))
            })
    }

    fn create(&self, d: &Desired) -> Result<(), HttpError> {
        let form = Self::form(&d.body, Some(&d.name));
        self.client
            .send("POST", &self.path(None), Body::Form(&form))
            .map(|_| ())
    }

    fn update(&self, d: &Desired, x: &Deployed) -> Result<(), HttpError> {
        if d.name != x.handle {
            // A saved search's name is its key: a renamed rule is created anew, then the old
            // search is deleted.
            self.create(d)?;
            return self.delete(x);
        }
        // Updates must not send `name`: Splunk would create another search.
        let form = Self::form(&d.body, None);
        self.client
            .send("POST", &self.path(Some(&x.handle)), Body::Form(&form))
            .map(|_| ())
    }

    fn delete(&self, x: &Deployed) -> Result<(), HttpError> {
        self.client
            .send("DELETE", &self.path(Some(&x.handle)), Body::None)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_round_trip() {
        let conf = "[A rule]\ndescription = one \\\ntwo \\\n \\\naisigma id: abc\nenableSched = 1\nsearch = search x\n";
        let d = desired(conf);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "abc");
        assert_eq!(d[0].name, "A rule");
        assert_eq!(d[0].body["description"], "one\ntwo\n\naisigma id: abc");
        assert_eq!(d[0].body["is_scheduled"], "1");
        assert!(same_value(&Value::Bool(true), "1"));
    }
}
