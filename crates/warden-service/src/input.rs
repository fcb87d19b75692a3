//! Checks on free text people type: comments and names, the same everywhere.

use crate::error::{Error, Result};

/// The longest comment kept with a decision, a triage or a policy version.
pub const MAX_COMMENT: usize = 2000;

/// A comment, kept exactly as given; empty is allowed (callers that need one say so).
pub(crate) fn comment(text: &str) -> Result<&str> {
    if text.chars().count() > MAX_COMMENT {
        return Err(Error::Invalid(format!(
            "the comment is longer than {MAX_COMMENT} characters"
        )));
    }
    Ok(text)
}

/// A required one-line field (a name, a login), trimmed, at most `max` characters.
pub(crate) fn text_field(what: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::Invalid(format!("{what} is empty")));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "{what} must be at most {max} characters, without control characters"
        )));
    }
    Ok(v.to_string())
}
