//! The crate's error, and the mapping problems it carries: these live here rather than in
//! `mapping`, which returns this error, so that neither module imports the other.

use serde::{Deserialize, Serialize};

/// Errors of the pure domain: input that cannot be accepted as it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mapping that cannot be used; every problem is listed so they can be fixed at once.
    #[error("mapping: {}", summarize(.0))]
    Mapping(Vec<MappingProblem>),
    /// A document (mapping file, policy) that does not parse.
    #[error("{what}: {message}")]
    Parse { what: String, message: String },
    /// A value given by the user that is not acceptable, with what and why.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something wrong with a mapping, said so that it can be fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingProblem {
    /// The mapping field, such as `users.last_login`.
    pub field: String,
    pub table: String,
    pub column: Option<String>,
    pub message: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

/// All problems in one line.
pub fn summarize(problems: &[MappingProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
