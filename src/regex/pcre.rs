//! Regex constructs that only PCRE has: lookaround, backreferences, atomic groups and
//! possessive quantifiers. Splunk's PCRE runs them; RE2 (Kusto, SecOps), Lucene (Elastic) and
//! the engine's Rust regexes do not, so a rule that uses them is not portable.

/// Constructs PCRE has and the RE2-style engines of most targets lack.
pub fn pcre_only_constructs(pattern: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if let Some(&n) = b.get(i + 1)
                    && !in_class
                {
                    if n.is_ascii_digit() && n != b'0' {
                        found.push("backreference");
                    } else if n == b'k' && matches!(b.get(i + 2), Some(b'<' | b'{' | b'\'')) {
                        found.push("named backreference");
                    }
                }
                i += 2;
                continue;
            }
            b'[' => in_class = true,
            b']' => in_class = false,
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') => {
                let rest = &b[i + 2..];
                if rest.starts_with(b"=") || rest.starts_with(b"!") {
                    found.push("lookahead");
                } else if rest.starts_with(b"<=") || rest.starts_with(b"<!") {
                    found.push("lookbehind");
                } else if rest.starts_with(b">") {
                    found.push("atomic group");
                }
            }
            b'+' if !in_class
                && i > 0
                && matches!(b[i - 1], b'*' | b'+' | b'?' | b'}')
                && (i < 2 || b[i - 2] != b'\\') =>
            {
                found.push("possessive quantifier")
            }
            _ => {}
        }
        i += 1;
    }
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcre_constructs_detected() {
        assert_eq!(pcre_only_constructs(r"foo(?=bar)"), vec!["lookahead"]);
        assert_eq!(pcre_only_constructs(r"(?<!x)y"), vec!["lookbehind"]);
        assert_eq!(pcre_only_constructs(r"(a)\1"), vec!["backreference"]);
        assert!(pcre_only_constructs(r"(?i)a[\1]b(?:c)(?P<n>d)\d+").is_empty());
        assert_eq!(pcre_only_constructs(r"a++"), vec!["possessive quantifier"]);
        assert!(pcre_only_constructs(r"a\++").is_empty());
    }
}
