//! Go to definition: from a name in a `condition` to the search identifiers it names (a
//! pattern such as `sel*` names several).

use super::context::{self, Place};

/// The (line, start column, end column) of each search identifier the word at (`line`,
/// `col`) names, when the cursor is in a condition.
pub fn definition(lines: &[&str], line: usize, col: usize) -> Vec<(usize, usize, usize)> {
    let Some(text) = lines.get(line) else {
        return Vec::new();
    };
    let Some((_, end, word)) = context::word_at(text, col) else {
        return Vec::new();
    };
    let cur = context::cursor(lines, line, end);
    let block = match (&cur.place, cur.parents.as_slice()) {
        (Place::Value { key, .. }, [block]) if key == "condition" => block.clone(),
        _ => return Vec::new(),
    };
    let doc = context::document(lines, line);
    context::selections(lines, doc, &block)
        .into_iter()
        .filter(|(name, _, _)| matches_pattern(&word, name))
        .map(|(name, l, c)| (l, c, c + name.chars().count()))
        .collect()
}

/// A condition's name or `*` pattern against a search identifier.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            name.starts_with(prefix) && {
                let tail = &name[prefix.len()..];
                rest.is_empty() || matches_pattern_tail(rest, tail)
            }
        }
    }
}

fn matches_pattern_tail(pattern: &str, tail: &str) -> bool {
    (0..=tail.len())
        .filter(|i| tail.is_char_boundary(*i))
        .any(|i| matches_pattern(pattern, &tail[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_names_lead_to_their_selections() {
        let text = "title: T\ndetection:\n    sel_a: {x: 1}\n    sel_b:\n        y: 2\n    other: z\n    condition: 1 of sel_* and not other\n";
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(definition(&lines, 6, 22), [(2, 4, 9), (3, 4, 9)]);
        assert_eq!(definition(&lines, 6, 36), [(5, 4, 9)]);
        // Not in a condition: nothing.
        assert!(definition(&lines, 4, 8).is_empty());
        assert!(
            matches_pattern("*", "x")
                && matches_pattern("a*c", "abc")
                && !matches_pattern("a*c", "abd")
        );
    }
}
