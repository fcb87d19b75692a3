//! Row filters: which rows of a mapped table are the application's (`where = { … }`).

use serde::{Deserialize, Serialize};

/// A table section's row filter: each column equal to its value, or to one of a list of
/// values. Columns are checked like every mapped column; values are always bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowFilter(pub std::collections::BTreeMap<String, FilterValue>);

impl RowFilter {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a filtered column must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    One(Scalar),
    AnyOf(Vec<Scalar>),
}

impl FilterValue {
    /// The values the column may hold (one, or the list).
    pub fn values(&self) -> &[Scalar] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::AnyOf(vs) => vs,
        }
    }
}

/// A filter's value, as TOML writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
}
