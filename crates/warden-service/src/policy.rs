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

/// A policy version as shown.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyVersionView {
    pub version: u32,
    pub sha256: String,
    pub author: String,
    pub comment: String,
    pub applied_at: String,
    /// The document (empty in the history list).
    pub body: String,
}

impl From<warden_store::governance::PolicyVersion> for PolicyVersionView {
    fn from(v: warden_store::governance::PolicyVersion) -> Self {
        Self {
            version: v.version,
            sha256: v.sha256,
            author: v.author,
            comment: v.comment,
            applied_at: v.applied_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            body: v.body,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppliedPolicy {
    pub version: u32,
    pub sha256: String,
    /// False when the document is the version already in force (nothing was stored).
    pub changed: bool,
    pub audit_seq: Option<u64>,
}

/// Stores a validated policy as the new version, in one transaction with its audit event.
/// Applying the document already in force changes nothing.
pub async fn apply(
    ctx: &crate::Ctx,
    text: &str,
    origin: &str,
    comment: &str,
) -> Result<AppliedPolicy> {
    let o = ctx.as_officer("applying a policy")?;
    validate(text, origin)?;
    if comment.chars().count() > 2000 {
        return Err(Error::Invalid(
            "the comment is longer than 2000 characters".into(),
        ));
    }
    let sha = warden_core::policy::sha256(text);
    let mut change = warden_store::governance::Change::begin(o.db(), &o.actor().login).await?;
    if let Some(current) = warden_store::governance::policy_version(o.db(), None).await?
        && current.sha256 == sha
    {
        drop(change);
        return Ok(AppliedPolicy {
            version: current.version,
            sha256: sha,
            changed: false,
            audit_seq: None,
        });
    }
    let version =
        warden_store::governance::insert_policy_version(&mut change, text, &sha, comment).await?;
    let event = change
        .commit(
            "policy.apply",
            &format!("policy v{version}"),
            serde_json::json!({ "version": version, "sha256": sha, "comment": comment }),
        )
        .await?;
    Ok(AppliedPolicy {
        version,
        sha256: sha,
        changed: true,
        audit_seq: Some(event.seq),
    })
}

/// One version with its document (the one in force when `version` is None).
pub async fn show(ctx: &crate::Ctx, version: Option<u32>) -> Result<PolicyVersionView> {
    let r = ctx.as_reader("reading policies")?;
    warden_store::governance::policy_version(r.db(), version)
        .await?
        .map(PolicyVersionView::from)
        .ok_or_else(|| {
            Error::NotFound(match version {
                Some(v) => format!("no policy version {v}"),
                None => "no policy has been applied yet: `warden policy apply FILE`".into(),
            })
        })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyHistory {
    pub versions: Vec<PolicyVersionView>,
}

/// Every version, newest first.
pub async fn history(ctx: &crate::Ctx) -> Result<PolicyHistory> {
    let r = ctx.as_reader("reading policies")?;
    Ok(PolicyHistory {
        versions: warden_store::governance::policy_history(r.db())
            .await?
            .into_iter()
            .map(PolicyVersionView::from)
            .collect(),
    })
}
