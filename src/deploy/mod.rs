//! Deploy: compiled artifacts in, the SIEM's rules brought in line with them out
//! (`aisigma deploy`).
//!
//! Each SIEM ([`splunk`], [`sentinel`], [`kibana`], [`secops`]) lists the rules aisigma
//! manages there (marked by rule id; a rule aisigma did not create is never touched), turns an
//! artifact into the body its REST API takes, and creates, updates or deletes one rule. The
//! [`plan`] compares both sides by rule id; [`apply`] carries it out rule by rule, so one
//! failure does not stop the others. [`http`] sends the requests.

pub mod http;
pub mod kibana;
pub mod secops;
pub mod sentinel;
pub mod splunk;

use http::HttpError;
use serde_json::Value;

/// One rule as compiled: what the SIEM should hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// The aisigma rule id (the rule's `id`, else its derived UUID).
    pub id: String,
    pub name: String,
    /// The SIEM's representation (a REST body, or form parameters as a JSON object).
    pub body: Value,
}

/// One rule aisigma manages on the SIEM.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployed {
    pub id: String,
    pub name: String,
    /// How the SIEM names it (a saved search name, a resource name, an object id).
    pub handle: String,
    /// What the SIEM holds, for the comparison.
    pub state: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
        }
    }
}

/// One line of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub action: Action,
    pub id: String,
    pub name: String,
    /// Index into the desired rules (create, update, unchanged).
    pub desired: Option<usize>,
    /// Index into the deployed rules (update, unchanged, delete).
    pub deployed: Option<usize>,
}

/// A SIEM that aisigma deploys to.
pub trait Siem {
    /// The rules aisigma manages there.
    fn list(&self) -> Result<Vec<Deployed>, HttpError>;
    /// Whether the deployed rule already is the desired one.
    fn same(&self, desired: &Desired, deployed: &Deployed) -> bool;
    fn create(&self, desired: &Desired) -> Result<(), HttpError>;
    fn update(&self, desired: &Desired, deployed: &Deployed) -> Result<(), HttpError>;
    fn delete(&self, deployed: &Deployed) -> Result<(), HttpError>;
}

/// Compare by rule id: create what is missing, update what differs, and with `prune` delete
/// managed rules that are no longer compiled. Sorted by action, then id.
pub fn plan(siem: &dyn Siem, desired: &[Desired], deployed: &[Deployed], prune: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, d) in desired.iter().enumerate() {
        let step = match deployed.iter().position(|x| x.id == d.id) {
            None => (Action::Create, None),
            Some(j) if siem.same(d, &deployed[j]) => (Action::Unchanged, Some(j)),
            Some(j) => (Action::Update, Some(j)),
        };
        steps.push(Step {
            action: step.0,
            id: d.id.clone(),
            name: d.name.clone(),
            desired: Some(i),
            deployed: step.1,
        });
    }
    if prune {
        for (j, x) in deployed.iter().enumerate() {
            if !desired.iter().any(|d| d.id == x.id) {
                steps.push(Step {
                    action: Action::Delete,
                    id: x.id.clone(),
                    name: x.name.clone(),
                    desired: None,
                    deployed: Some(j),
                });
            }
        }
    }
    steps.sort_by(|a, b| a.action.cmp(&b.action).then_with(|| a.id.cmp(&b.id)));
    steps
}

/// Carry out the plan, one rule at a time; the outcome of each step that changes something.
pub fn apply(
    siem: &dyn Siem,
    steps: &[Step],
    desired: &[Desired],
    deployed: &[Deployed],
) -> Vec<(usize, Result<(), HttpError>)> {
    let mut out = Vec::new();
    for (k, s) in steps.iter().enumerate() {
        let r = match s.action {
            Action::Unchanged => continue,
            Action::Create => siem.create(&desired[s.desired.expect("create has a rule")]),
            Action::Update => siem.update(
                &desired[s.desired.expect("update has a rule")],
                &deployed[s.deployed.expect("update has a deployed rule")],
            ),
            Action::Delete => siem.delete(&deployed[s.deployed.expect("delete has a rule")]),
        };
        let auth = matches!(&r, Err(e) if e.is_auth());
        out.push((k, r));
        if auth {
            // Every later request would be refused the same way.
            break;
        }
    }
    out
}

/// The aisigma rule id that a rule's text carries on a line `aisigma id: ID`.
pub fn marker(text: &str) -> Option<String> {
    let i = text.rfind("aisigma id: ")?;
    let id: String = text[i + "aisigma id: ".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\\')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Whether `have` holds everything `want` says (objects: every key of `want`, recursively;
/// anything else: equal).
pub fn holds(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| holds(hv, v))),
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(a, b)| holds(a, b))
        }
        _ => have == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_and_holds() {
        assert_eq!(marker("x\n\naisigma id: ab-12\n"), Some("ab-12".into()));
        assert_eq!(marker("x aisigma id: ab-12 \\\nmore"), Some("ab-12".into()));
        assert_eq!(marker("nothing"), None);
        assert!(holds(
            &json!({"a": 1, "b": {"c": 2, "d": 3}}),
            &json!({"b": {"c": 2}})
        ));
        assert!(!holds(&json!({"a": [1, 2]}), &json!({"a": [1]})));
    }
}
