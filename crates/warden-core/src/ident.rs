//! SQL identifiers. Mapping values name tables and columns; before they get anywhere near a
//! query they must look like identifiers (this module), exist in information_schema (the
//! store), and then be backtick-quoted by one function ([`quote`]).

/// The longest identifier MySQL and MariaDB accept.
pub const MAX_IDENTIFIER_LEN: usize = 64;

/// Why a string is not acceptable as an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentError {
    Empty,
    TooLong(usize),
    BadCharacter(char),
}

impl std::fmt::Display for IdentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "is empty"),
            Self::TooLong(n) => write!(f, "is {n} characters long (at most {MAX_IDENTIFIER_LEN})"),
            Self::BadCharacter(c) => write!(
                f,
                "contains {c:?}; identifiers may only use letters, digits, `_` and `$`"
            ),
        }
    }
}

/// Accepts the unquoted identifier alphabet of MySQL (ASCII letters, digits, `_`, `$`).
///
/// This is deliberately stricter than what backticks would allow: a mapping naming a table
/// `users; DROP TABLE x` is refused outright rather than quoted into something harmless.
pub fn check(name: &str) -> Result<(), IdentError> {
    if name.is_empty() {
        return Err(IdentError::Empty);
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(IdentError::TooLong(name.len()));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '$'))
    {
        Some(c) => Err(IdentError::BadCharacter(c)),
        None => Ok(()),
    }
}

/// The one function that turns an identifier into SQL text.
///
/// Callers pass names that [`check`] accepted; doubling backticks keeps even an unchecked
/// name inside its quotes.
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for ok in ["users", "auth_user", "T1", "$x", "a".repeat(64).as_str()] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_anything_that_could_leave_its_quotes() {
        let cases = [
            ("", IdentError::Empty),
            ("users`; DROP TABLE x; --", IdentError::BadCharacter('`')),
            ("users; DROP", IdentError::BadCharacter(';')),
            ("a b", IdentError::BadCharacter(' ')),
            ("db.table", IdentError::BadCharacter('.')),
            ("naïve", IdentError::BadCharacter('ï')),
            ("x'--", IdentError::BadCharacter('\'')),
        ];
        for (input, want) in cases {
            assert_eq!(check(input), Err(want), "{input}");
        }
        assert_eq!(check(&"a".repeat(65)), Err(IdentError::TooLong(65)));
    }

    #[test]
    fn quote_wraps_and_doubles_backticks() {
        assert_eq!(quote("users"), "`users`");
        assert_eq!(quote("a`b"), "`a``b`");
    }
}
