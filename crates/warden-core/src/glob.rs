//! Globs over permission keys. Keys are made of segments separated by `.` and `:`
//! (`customer.contact:read`); `*` matches within one segment, `**` across segments.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `*`: any run of characters that does not cross a separator.
    Star,
    /// `**`: any run of characters, separators included.
    DoubleStar,
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Glob {
    text: String,
    #[serde(skip)]
    tokens: Vec<Token>,
}

fn is_separator(c: char) -> bool {
    c == '.' || c == ':'
}

impl Glob {
    /// Compiles a pattern; says what is wrong with one that cannot be a key pattern.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty pattern matches nothing".into());
        }
        if let Some(c) = text.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-' | '*' | '/'))
        }) {
            return Err(format!("{c:?} cannot appear in a permission pattern"));
        }
        if text.contains("***") {
            return Err("`***` is not a pattern: use `*` within a segment or `**` across".into());
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '*' {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    tokens.push(Token::DoubleStar);
                } else {
                    tokens.push(Token::Star);
                }
            } else {
                tokens.push(Token::Literal(c));
            }
        }
        Ok(Self {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `key` matches the whole pattern.
    pub fn matches(&self, key: &str) -> bool {
        let key: Vec<char> = key.chars().collect();
        matches_from(&self.tokens, &key)
    }
}

fn matches_from(tokens: &[Token], key: &[char]) -> bool {
    match tokens.split_first() {
        None => key.is_empty(),
        Some((Token::Literal(c), rest)) => key.first() == Some(c) && matches_from(rest, &key[1..]),
        Some((Token::Star, rest)) => {
            let mut i = 0;
            loop {
                if matches_from(rest, &key[i..]) {
                    return true;
                }
                match key.get(i) {
                    Some(c) if !is_separator(*c) => i += 1,
                    _ => return false,
                }
            }
        }
        Some((Token::DoubleStar, rest)) => (0..=key.len()).any(|i| matches_from(rest, &key[i..])),
    }
}

impl TryFrom<String> for Glob {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Glob> for String {
    fn from(g: Glob) -> String {
        g.text
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_within_a_segment_double_star_crosses() {
        let cases: &[(&str, &str, bool)] = &[
            ("ticket:*", "ticket:read", true),
            ("ticket:*", "ticket:read.all", false),
            ("customer.*:read", "customer.contact:read", true),
            ("customer.*:read", "customer.payment:read", true),
            ("customer.*:read", "customer.payment:write", false),
            ("customer.*", "customer.contact:read", false),
            ("customer.**", "customer.contact:read", true),
            ("**", "anything.at:all", true),
            ("**:read", "customer.contact:read", true),
            ("**:read", "customer.contact:write", false),
            ("lead:*", "lead:", true),
            ("lead:*", "leads:write", false),
            ("crm.view_*", "crm.view_customer", true),
            ("crm.view_*", "crm.change_customer", false),
            ("order:read", "order:read", true),
            ("order:read", "order:readx", false),
            ("*", "lead", true),
            ("*", "lead:write", false),
        ];
        for (pattern, key, want) in cases {
            assert_eq!(
                Glob::parse(pattern).unwrap().matches(key),
                *want,
                "{pattern} vs {key}"
            );
        }
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(Glob::parse("").unwrap_err().contains("empty"));
        assert!(Glob::parse("a b").unwrap_err().contains("' '"));
        assert!(
            Glob::parse("x'; DROP")
                .unwrap_err()
                .contains("cannot appear")
        );
        assert!(Glob::parse("a:***").unwrap_err().contains("***"));
    }
}
