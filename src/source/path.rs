//! Paths into raw JSON records (`input.inputBodyJson.messages.*.content`): segments separated
//! by `.`, `*` for any key or array element; a key may itself hold dots, so one path finds a
//! value in nested objects and in objects with dotted keys alike (docs/sources.md, "Paths").

use serde_json::Value;

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    text: String,
    segs: Vec<String>,
}

impl Path {
    /// `None` for an empty path or one with an empty segment (`a..b`, `.a`).
    pub fn parse(text: &str) -> Option<Path> {
        let segs: Vec<String> = text.split('.').map(str::to_string).collect();
        if segs.iter().any(String::is_empty) {
            return None;
        }
        Some(Path {
            text: text.to_string(),
            segs,
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

    /// Every value the path finds in `v`, in document order. An array reached at the end
    /// gives its elements (nested arrays flattened); `null` is no value.
    pub fn values<'a>(&self, v: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        walk(v, &self.segs, &mut out);
        out
    }
}

fn leaf<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|x| leaf(x, out)),
        _ => out.push(v),
    }
}

fn walk<'a>(v: &'a Value, segs: &[String], out: &mut Vec<&'a Value>) {
    let Some(first) = segs.first() else {
        return leaf(v, out);
    };
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                // The key's own segments must match the path's next ones.
                let mut n = 0;
                let mut ok = true;
                for part in key.split('.') {
                    match segs.get(n) {
                        Some(p) if p == "*" || p == part => n += 1,
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    walk(child, &segs[n..], out);
                }
            }
        }
        Value::Array(items) => {
            if first == "*" {
                items.iter().for_each(|x| walk(x, &segs[1..], out));
            } else if let Some(x) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                walk(x, &segs[1..], out);
            }
        }
        _ => {}
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
