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
        // A scoped permission's key (`moderator @ Forum 1`, issue 21) is the key, ` @ `, and
        // where it holds: the scope may hold spaces and commas (`tenant 3, team 7`).
        let (key, scope) = match text.split_once(" @ ") {
            Some((key, scope)) => (key, Some(scope)),
            None => (text, None),
        };
        let in_key =
            |c: &char| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-' | '*' | '/');
        let in_scope = |c: &char| in_key(c) || matches!(c, ' ' | ',' | '\\');
        if let Some(c) = (key.chars().find(|c| !in_key(c)))
            .or_else(|| scope.and_then(|s| s.chars().find(|c| !in_scope(c))))
        {
            return Err(format!("{c:?} cannot appear in a permission pattern"));
        }
        if text.contains("***") {
            return Err("`***` is not a pattern: use `*` within a segment or `**` across".into());
        }
        if text.len() > MAX_PATTERN {
            return Err(format!("a pattern is at most {MAX_PATTERN} characters"));
        }
        let stars = text.split("**").count() - 1 + text.replace("**", "").matches('*').count();
        if stars > MAX_STARS {
            return Err(format!(
                "a pattern has at most {MAX_STARS} wildcards ({stars} here)"
            ));
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

    /// Whether `key` matches the whole pattern. Linear in the key: the pattern is run as
    /// an automaton over the set of its positions a prefix of the key can reach, so no
    /// pattern backtracks (`*a*a*a*a*b` against a long run of `a`s included).
    pub fn matches(&self, key: &str) -> bool {
        self.run(key).0
    }

    /// [`Glob::matches`], and how many (position, character) steps it took.
    fn run(&self, key: &str) -> (bool, usize) {
        let m = self.tokens.len();
        let mut now = vec![false; m + 1];
        let mut next = vec![false; m + 1];
        now[0] = true;
        self.close(&mut now);
        let mut steps = 0;
        for c in key.chars() {
            next.iter_mut().for_each(|s| *s = false);
            for (p, token) in self.tokens.iter().enumerate() {
                if !now[p] {
                    continue;
                }
                steps += 1;
                match token {
                    Token::Literal(l) if *l == c => next[p + 1] = true,
                    Token::Literal(_) => {}
                    Token::Star if is_separator(c) => {}
                    Token::Star | Token::DoubleStar => next[p] = true,
                }
            }
            self.close(&mut next);
            std::mem::swap(&mut now, &mut next);
            if !now.contains(&true) {
                return (false, steps);
            }
        }
        (now[m], steps)
    }

    /// Adds the positions reachable without reading: past a wildcard, which may match
    /// nothing.
    fn close(&self, states: &mut [bool]) {
        for (p, token) in self.tokens.iter().enumerate() {
            if states[p] && matches!(token, Token::Star | Token::DoubleStar) {
                states[p + 1] = true;
            }
        }
    }
}

/// The longest pattern, and the most wildcards one may hold.
const MAX_PATTERN: usize = 256;
const MAX_STARS: usize = 16;

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
    fn matching_is_linear_in_the_key_whatever_the_pattern() {
        let g = Glob::parse("*a*a*a*a*a*a*a*a*a*a*b").unwrap();
        let key = "a".repeat(20_000);
        let (matched, steps) = g.run(&key);
        assert!(!matched);
        // At most one step per pattern position per character: no backtracking.
        assert!(steps <= key.len() * g.tokens.len(), "{steps} steps");
        assert!(g.matches(&format!("{key}b")));
        assert!(
            Glob::parse(&"*a".repeat(17))
                .unwrap_err()
                .contains("at most 16 wildcards")
        );
        assert!(Glob::parse(&"a".repeat(300)).is_err());
    }

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
        assert!(Glob::parse("a @ b'c").unwrap_err().contains("'\\''"));
    }

    #[test]
    fn a_scoped_key_is_matched_with_its_scope() {
        let g = Glob::parse("moderator @ Forum *").unwrap();
        assert!(g.matches("moderator @ Forum 1"));
        assert!(!g.matches("moderator"));
        assert!(!g.matches("moderator @ Topic 1"));
        let g = Glob::parse("customer.* @ tenant 3, team *").unwrap();
        assert!(g.matches("customer.read @ tenant 3, team 7"));
        assert!(
            Glob::parse("customer.read @ team 7")
                .unwrap()
                .matches("customer.read @ team 7")
        );
    }
}
