//! Least-privilege policies: validation now; versions, checks and simulation follow.

use serde::Serialize;
use ts_rs::TS;
use warden_core::policy::Policy;

use crate::error::{Error, Result};

/// What a valid policy contains.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyValidation {
    pub ok: bool,
    pub job_functions: Vec<String>,
    pub separation_of_duties: Vec<String>,
    pub dormancy_days: Option<u32>,
}

/// Parses and checks a policy document. Reads no data, so it needs no console role: an
/// author can check a draft before anyone applies it. `origin` names the document (a file
/// path) in the error, which gives the line and column.
pub fn validate(text: &str, origin: &str) -> Result<PolicyValidation> {
    let policy = Policy::parse(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    Ok(PolicyValidation {
        ok: true,
        job_functions: policy.job_function.iter().map(|j| j.name.clone()).collect(),
        separation_of_duties: policy
            .separation_of_duties
            .iter()
            .map(|r| r.name.clone())
            .collect(),
        dormancy_days: policy.dormancy.map(|d| d.days),
    })
}
