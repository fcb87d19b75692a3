//! Checking a mapping against the database it is meant for.

use serde::Serialize;
use warden_core::mapping::{Mapping, MappingProblem};

use crate::context::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
pub struct MappingCheckResponse {
    pub ok: bool,
    pub problems: Vec<MappingProblem>,
    /// Rows each filtered table section leaves out (a mapping that fits only; absent when
    /// none, so the documented `{"ok", "problems"}` stays as it was for unfiltered ones).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<warden_store::schema::Ignored>,
}

/// Every problem of `mapping` against the connected database, all at once. Names that are
/// not identifiers are reported without any query being sent.
pub async fn check(ctx: &Ctx, mapping: &Mapping) -> Result<MappingCheckResponse> {
    let r = ctx.as_reader("checking a mapping")?;
    let problems = warden_store::schema::check(r.db(), mapping).await?;
    let ignored = match problems.is_empty() {
        true => {
            let resolved = warden_store::schema::resolve(r.db(), mapping.clone()).await?;
            warden_store::schema::ignored_rows(r.db(), &resolved).await?
        }
        false => Vec::new(),
    };
    Ok(MappingCheckResponse {
        ok: problems.is_empty(),
        problems,
        ignored,
    })
}
