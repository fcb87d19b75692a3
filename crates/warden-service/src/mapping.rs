//! Checking a mapping against the database it is meant for.

use serde::Serialize;
use warden_core::mapping::{Mapping, MappingProblem};

use crate::context::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
pub struct MappingCheckResponse {
    pub ok: bool,
    pub problems: Vec<MappingProblem>,
}

/// Every problem of `mapping` against the connected database, all at once. Names that are
/// not identifiers are reported without any query being sent.
pub async fn check(ctx: &Ctx, mapping: &Mapping) -> Result<MappingCheckResponse> {
    let r = ctx.as_reader("checking a mapping")?;
    let problems = warden_store::schema::check(r.db(), mapping).await?;
    Ok(MappingCheckResponse {
        ok: problems.is_empty(),
        problems,
    })
}
