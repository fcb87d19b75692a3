use crate::mapping::MappingProblem;

/// Errors of the pure domain: input that cannot be accepted as it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mapping that cannot be used; every problem is listed so they can be fixed at once.
    #[error("mapping: {}", crate::mapping::summarize(.0))]
    Mapping(Vec<MappingProblem>),
    /// A document (mapping file, policy) that does not parse.
    #[error("{what}: {message}")]
    Parse { what: String, message: String },
    /// A value given by the user that is not acceptable, with what and why.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
