//! Where the cursor is in a rule, read from the text alone: completion and hover work while
//! the YAML is half-typed and does not parse. A rule is block YAML with a few flow
//! collections (`tags: [...]`, `logsource: {...}`), so indentation gives the enclosing keys.

/// The shape of one line: its indentation, list dashes, and key.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LineShape {
    /// Column (in characters) where the content starts, after indentation and `- ` dashes.
    pub content: usize,
    /// The line is a list item (`- ...`).
    pub item: bool,
    /// The key, unquoted, and the column where it starts.
    pub key: Option<(String, usize)>,
    /// The column where the value starts (after `key: `), when the line has a key.
    pub value: Option<usize>,
    /// Blank or a comment.
    pub blank: bool,
}

/// Split a line into indentation, dashes, key and value.
pub fn shape(line: &str) -> LineShape {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    if i == chars.len() || chars[i] == '#' {
        return LineShape {
            content: i,
            blank: true,
            ..Default::default()
        };
    }
    let mut item = false;
    while i < chars.len() && chars[i] == '-' && (i + 1 == chars.len() || chars[i + 1] == ' ') {
        item = true;
        i += 1;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
    }
    let content = i;
    let (key, value) = match key_end(&chars[content..]) {
        Some((end, value)) => {
            let raw: String = chars[content..content + end].iter().collect();
            let key = unquote(raw.trim());
            (Some((key, content)), Some(content + value))
        }
        None => (None, None),
    };
    LineShape {
        content,
        item,
        key,
        value,
        blank: false,
    }
}

/// The end of a mapping key at the start of `s` and where its value starts: a `:` followed
/// by a space or the end of the line, outside quotes and flow brackets.
fn key_end(s: &[char]) -> Option<(usize, usize)> {
    let first = *s.first()?;
    if matches!(first, '[' | '{' | '|' | '>' | '&' | '*' | '!') {
        return None;
    }
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if i == 0 && (c == '"' || c == '\'') => quote = Some(c),
            None if c == ':' && (i + 1 == s.len() || s[i + 1] == ' ') => {
                let mut v = i + 1;
                while v < s.len() && s[v] == ' ' {
                    v += 1;
                }
                return Some((i, v));
            }
            None if c == ' ' && s.get(i + 1) == Some(&'#') => return None,
            None => {}
        }
        i += 1;
    }
    None
}

fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// The lines (0-based, end exclusive) of the YAML document holding `line`.
pub fn document(lines: &[&str], line: usize) -> (usize, usize) {
    let is_sep = |l: &str| l == "---" || l.starts_with("--- ") || l == "...";
    let line = line.min(lines.len());
    let mut start = line;
    while start > 0 && !is_sep(lines[start - 1]) {
        start -= 1;
    }
    let mut end = (line + 1).min(lines.len());
    while end < lines.len() && !is_sep(lines[end]) {
        end += 1;
    }
    (start, end)
}

/// The keys of the mappings enclosing a position of indentation `col` on `line`, outermost
/// first, within the document starting at `doc_start`: each is the nearest line above with a
/// key starting left of the previous one.
pub fn parents(lines: &[&str], doc_start: usize, line: usize, col: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut col = col;
    let mut l = line;
    while l > doc_start && col > 0 {
        l -= 1;
        let s = shape(lines[l]);
        if s.blank {
            continue;
        }
        if let Some((k, kc)) = &s.key
            && *kc < col
        {
            out.push((k.clone(), l));
            col = if s.item { s.content - 2 } else { *kc };
            // A key inside a list item (`- k: v`) hangs from the list's key, left of the dash.
            continue;
        }
        if s.content < col && s.item {
            // A list item without a key: its parent is left of its dash.
            col = s.content.saturating_sub(1).min(col);
        }
    }
    out.reverse();
    out
}

/// What the cursor is on.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A mapping key being typed; `text` is the key up to the cursor.
    Key { text: String },
    /// The value of `key` (on its line, in a flow collection, or a list item under it);
    /// `text` is the value up to the cursor.
    Value { key: String, text: String },
}

/// The cursor's place, with the keys of the enclosing mappings (outermost first).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub parents: Vec<String>,
    pub place: Place,
    /// The column (characters) where the token being typed starts.
    pub token_start: usize,
}

/// Characters that end a token of a value or key being typed.
fn delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '[' | ']' | '{' | '}' | ',' | '\'' | '"' | '(' | ')')
}

/// Where the cursor at `col` (characters) of `line` is.
pub fn cursor(lines: &[&str], line: usize, col: usize) -> Cursor {
    let text = lines.get(line).copied().unwrap_or("");
    let before: String = text.chars().take(col).collect();
    let s = shape(&before);
    let (doc_start, _) = document(lines, line);
    let token_start = before
        .char_indices()
        .rfind(|(_, c)| delimiter(*c))
        .map_or(0, |(i, _)| before[..i].chars().count() + 1)
        .max(s.content.min(col));
    let mut parents: Vec<String> = parents(lines, doc_start, line, s.content)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let place = match (&s.key, s.value) {
        (Some((key, _)), Some(v)) if v <= col => {
            let value: String = before.chars().skip(v).collect();
            flow(&mut parents, key, &value)
        }
        _ => {
            let typed: String = before.chars().skip(s.content).collect();
            // A key being typed may be quoted: its text starts after the quote.
            let typed = typed.trim_start_matches(['"', '\'']).to_string();
            let in_selection = matches!(
                parents.as_slice(),
                [block, sel] if (block == "detection" || block == "filter") && sel != "condition"
            );
            if parents.last().is_some_and(|p| p == "condition") {
                // A block scalar condition (`condition: |`) continued on this line.
                parents.pop();
                Place::Value {
                    key: "condition".into(),
                    text: typed,
                }
            } else if s.item && !typed.contains(':') && !in_selection {
                match parents.pop() {
                    Some(key) => flow(&mut parents, &key, &typed),
                    None => Place::Key { text: typed },
                }
            } else {
                // In a selection, a list item starts a map (`- field: value`): a key.
                Place::Key { text: typed }
            }
        }
    };
    Cursor {
        parents,
        place,
        token_start,
    }
}

/// The place inside a value: in a flow mapping (`{product: ai, category: llm_`), the inner
/// key, with the outer key as a parent.
fn flow(parents: &mut Vec<String>, key: &str, value: &str) -> Place {
    if let Some(open) = value.rfind('{') {
        let inner = &value[open + 1..];
        let segment = inner.rsplit(',').next().unwrap_or(inner).trim_start();
        parents.push(key.to_string());
        return match segment.find(": ") {
            Some(i) => Place::Value {
                key: unquote(segment[..i].trim()),
                text: segment[i + 2..].to_string(),
            },
            None => Place::Key {
                text: segment.to_string(),
            },
        };
    }
    Place::Value {
        key: key.to_string(),
        text: value.to_string(),
    }
}

/// The word at `col` of `line`: its start and end columns, over characters that can form a
/// field, modifier, tag or selection name.
pub fn word_at(line: &str, col: usize) -> Option<(usize, usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let part = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | '*' | '?');
    if chars.is_empty() {
        return None;
    }
    let mut start = col.min(chars.len());
    if start == chars.len() || !part(chars[start]) {
        if start > 0 && part(chars[start - 1]) {
            start -= 1;
        } else {
            return None;
        }
    }
    while start > 0 && part(chars[start - 1]) {
        start -= 1;
    }
    let mut end = start;
    while end < chars.len() && part(chars[end]) {
        end += 1;
    }
    // A trailing `-` or `.` is punctuation, not part of the word.
    let mut word: String = chars[start..end].iter().collect();
    while word.ends_with(['.', '-']) {
        word.pop();
        end -= 1;
    }
    (!word.is_empty()).then_some((start, end, word))
}

/// The value of a top-level key of the document, or of a key inside a top-level mapping
/// (`logsource` → `category`), written as a block or in flow style.
pub fn doc_value(
    lines: &[&str],
    doc: (usize, usize),
    outer: &str,
    inner: Option<&str>,
) -> Option<String> {
    let mut l = doc.0;
    while l < doc.1 {
        let s = shape(lines[l]);
        if let (Some((k, 0)), Some(v)) = (&s.key, s.value)
            && k == outer
        {
            let value: String = lines[l].chars().skip(v).collect();
            let value = value.split(" #").next().unwrap_or("").trim().to_string();
            let Some(inner) = inner else {
                return Some(unquote(&value));
            };
            if let Some(body) = value.strip_prefix('{') {
                let body = body.trim_end_matches('}');
                return body.split(',').find_map(|kv| {
                    let (k, v) = kv.split_once(':')?;
                    (unquote(k.trim()) == inner).then(|| unquote(v.trim()))
                });
            }
            let mut m = l + 1;
            while m < doc.1 {
                let t = shape(lines[m]);
                if !t.blank && t.content == 0 {
                    break;
                }
                if let (Some((k, _)), Some(v)) = (&t.key, t.value)
                    && k == inner
                {
                    let value: String = lines[m].chars().skip(v).collect();
                    return Some(unquote(value.split(" #").next().unwrap_or("").trim()));
                }
                m += 1;
            }
            return None;
        }
        l += 1;
    }
    None
}

/// The search identifiers of a top-level block (`detection` or `filter`): name, line and
/// column of each key, `condition` and `timeframe` left out.
pub fn selections(lines: &[&str], doc: (usize, usize), block: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut l = doc.0;
    while l < doc.1 {
        let s = shape(lines[l]);
        if matches!(&s.key, Some((k, 0)) if k == block) {
            let mut child: Option<usize> = None;
            for (m, text) in lines.iter().enumerate().take(doc.1).skip(l + 1) {
                let t = shape(text);
                if t.blank {
                    continue;
                }
                if t.content == 0 {
                    break;
                }
                let indent = text.len() - text.trim_start().len();
                let at = *child.get_or_insert(indent);
                if indent == at
                    && !t.item
                    && let Some((k, c)) = t.key
                    && k != "condition"
                    && k != "timeframe"
                {
                    out.push((k, m, c));
                }
            }
            break;
        }
        l += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: T
logsource:
    product: ai
    category: llm_inference
tags: [atlas.aml.t0051, owasp.llm01]
detection:
    selection:
        ai.prompt.text|contains:
            - ignore previous
        gen_ai.request.model: gpt-4o
    filter_x:
        - gen_ai.operation.name: chat
          ai.prompt.text: x
    condition: selection and not filter_x
level: high
";

    fn at(text: &str, line: usize, col: usize) -> Cursor {
        let lines: Vec<&str> = text.lines().collect();
        cursor(&lines, line, col)
    }

    #[test]
    fn cursor_places_in_a_rule() {
        // A field key being typed, with a modifier.
        let c = at(RULE, 7, 28);
        assert_eq!(c.parents, ["detection", "selection"]);
        assert_eq!(
            c.place,
            Place::Key {
                text: "ai.prompt.text|conta".into()
            }
        );
        // A list item under a field: that field's value.
        let c = at(RULE, 8, 22);
        assert_eq!(c.parents, ["detection", "selection"]);
        assert_eq!(
            c.place,
            Place::Value {
                key: "ai.prompt.text|contains".into(),
                text: "ignore p".into()
            }
        );
        assert_eq!(c.token_start, 21);
        // The value of a field on its line.
        let c = at(RULE, 9, 34);
        assert_eq!(
            c.place,
            Place::Value {
                key: "gen_ai.request.model".into(),
                text: "gpt-".into()
            }
        );
        // A key of a map in a list of maps.
        let c = at(RULE, 12, 14);
        assert_eq!(c.parents, ["detection", "filter_x"]);
        assert_eq!(
            c.place,
            Place::Key {
                text: "ai.p".into()
            }
        );
        // A tag in a flow list.
        let c = at(RULE, 4, 29);
        assert_eq!(c.parents, Vec::<String>::new());
        assert_eq!(
            c.place,
            Place::Value {
                key: "tags".into(),
                text: "[atlas.aml.t0051, owasp".into()
            }
        );
        assert_eq!(c.token_start, 24);
        // The condition.
        let c = at(RULE, 13, 27);
        assert_eq!(c.parents, ["detection"]);
        assert!(matches!(c.place, Place::Value { ref key, .. } if key == "condition"));
        // A top-level key.
        let c = at(RULE, 14, 3);
        assert_eq!(c.place, Place::Key { text: "lev".into() });
        assert!(c.parents.is_empty());
    }

    #[test]
    fn flow_mappings_and_block_lists() {
        let text = "logsource: {product: ai, category: llm_\ntags:\n    - atlas.aml\n";
        let c = at(text, 0, 39);
        assert_eq!(c.parents, ["logsource"]);
        assert_eq!(
            c.place,
            Place::Value {
                key: "category".into(),
                text: "llm_".into()
            }
        );
        let c = at(text, 2, 15);
        assert_eq!(
            c.place,
            Place::Value {
                key: "tags".into(),
                text: "atlas.aml".into()
            }
        );
        assert_eq!(c.token_start, 6);
    }

    #[test]
    fn document_facts() {
        let lines: Vec<&str> = RULE.lines().collect();
        let doc = document(&lines, 5);
        assert_eq!(doc, (0, lines.len()));
        assert_eq!(
            doc_value(&lines, doc, "logsource", Some("category")).as_deref(),
            Some("llm_inference")
        );
        assert_eq!(
            doc_value(&lines, doc, "level", None).as_deref(),
            Some("high")
        );
        let sels: Vec<String> = selections(&lines, doc, "detection")
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(sels, ["selection", "filter_x"]);
        let flow = ["logsource: {product: ai, category: agent_activity}"];
        assert_eq!(
            doc_value(&flow, (0, 1), "logsource", Some("category")).as_deref(),
            Some("agent_activity")
        );
        let two = ["title: a", "---", "title: b", "level: low"];
        assert_eq!(document(&two, 3), (2, 4));
        assert_eq!(document(&two, 0), (0, 1));
        assert_eq!(
            word_at("    condition: selection and not filter_x", 20),
            Some((15, 24, "selection".into()))
        );
        assert_eq!(
            word_at("        ai.prompt.text|contains:", 25),
            Some((23, 31, "contains".into()))
        );
    }
}
