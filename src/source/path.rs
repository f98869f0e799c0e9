//! Paths into raw JSON records (`input.inputBodyJson.messages.*.content`): segments separated
//! by `.`, `*` for any key or array element; a key may itself hold dots, so one path finds a
//! value in nested objects and in objects with dotted keys alike (docs/sources.md, "Paths").

use serde_json::Value;

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    text: String,
    segs: Vec<String>,
    /// Byte range of each segment in `text` (a run of segments is a slice of it).
    spans: Vec<(usize, usize)>,
}

impl Path {
    /// `None` for an empty path or one with an empty segment (`a..b`, `.a`).
    pub fn parse(text: &str) -> Option<Path> {
        let segs: Vec<String> = text.split('.').map(str::to_string).collect();
        if segs.iter().any(String::is_empty) {
            return None;
        }
        let mut spans = Vec::new();
        let mut at = 0;
        for seg in &segs {
            spans.push((at, at + seg.len()));
            at += seg.len() + 1;
        }
        Some(Path {
            text: text.to_string(),
            segs,
            spans,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first segment.
    pub fn first(&self) -> &str {
        &self.segs[0]
    }

    /// A value as the end of a path gives it: an array's elements (nested arrays flattened),
    /// nothing for `null`.
    pub fn leaves(v: &Value) -> Vec<&Value> {
        let mut out = Vec::new();
        leaf(v, &mut out);
        out
    }

    /// Every value the path finds in `v`, in document order. An array reached at the end
    /// gives its elements (nested arrays flattened); `null` is no value.
    pub fn values<'a>(&self, v: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        self.walk(v, 0, &mut out);
        out
    }

    /// At an object, `*` is each value, and otherwise each key that is a run of the next
    /// segments (up to a `*`) is looked up directly; at an array, `*` is each element and a
    /// number one element.
    fn walk<'a>(&self, v: &'a Value, i: usize, out: &mut Vec<&'a Value>) {
        if i == self.segs.len() {
            return leaf(v, out);
        }
        let star = self.segs[i] == "*";
        match v {
            Value::Object(map) if star => map.values().for_each(|x| self.walk(x, i + 1, out)),
            Value::Object(map) => {
                let before = out.len();
                let mut wild_ahead = false;
                for j in i..self.segs.len() {
                    if self.segs[j] == "*" {
                        wild_ahead = true;
                        break;
                    }
                    let key = &self.text[self.spans[i].0..self.spans[j].1];
                    if let Some(child) = map.get(key) {
                        self.walk(child, j + 1, out);
                    }
                }
                // Flat keys with the wildcard inside them (`gen_ai.prompt.0.content` for
                // `gen_ai.prompt.*.content`): each key's parts against the segments.
                if wild_ahead && out.len() == before {
                    // A key without a dot was looked up above.
                    for (key, child) in map.iter().filter(|(k, _)| k.contains('.')) {
                        let mut n = i;
                        let fits = key.split('.').all(|part| {
                            let ok = self.segs.get(n).is_some_and(|p| p == "*" || p == part);
                            n += 1;
                            ok
                        });
                        if fits {
                            self.walk(child, n, out);
                        }
                    }
                }
            }
            Value::Array(items) if star => items.iter().for_each(|x| self.walk(x, i + 1, out)),
            Value::Array(items) => {
                if let Some(x) = self.segs[i]
                    .parse::<usize>()
                    .ok()
                    .and_then(|k| items.get(k))
                {
                    self.walk(x, i + 1, out);
                }
            }
            _ => {}
        }
    }
}

fn leaf<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|x| leaf(x, out)),
        _ => out.push(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, v: &Value) -> Vec<Value> {
        Path::parse(path)
            .unwrap()
            .values(v)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn nested_dotted_and_wildcards() {
        let v = json!({
            "a": {"b": {"c": 1}},
            "a.b": {"c": 2},
            "m": [{"content": [{"text": "x"}, {"text": "y"}]}, {"content": "plain"}],
            "api_key.created": {"id": "k1"},
            "amazon-bedrock-guardrailAction": "NONE",
            "n": null,
            "arr": [[1, 2], 3]
        });
        assert_eq!(find("a.b.c", &v), vec![json!(1), json!(2)]);
        assert_eq!(find("m.*.content.*.text", &v), vec![json!("x"), json!("y")]);
        assert_eq!(find("m.*.content", &v).len(), 3);
        assert_eq!(find("m.1.content", &v), vec![json!("plain")]);
        assert_eq!(find("api_key.created.id", &v), vec![json!("k1")]);
        assert_eq!(
            find("amazon-bedrock-guardrailAction", &v),
            vec![json!("NONE")]
        );
        assert!(find("n", &v).is_empty());
        assert!(find("a.x", &v).is_empty());
        assert_eq!(find("arr", &v), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(find("*.c", &json!({"p": {"c": 1}, "q": {"c": 2}})).len(), 2);
        assert!(Path::parse("a..b").is_none() && Path::parse("").is_none());
    }
}
