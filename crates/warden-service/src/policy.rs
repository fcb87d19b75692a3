//! Least-privilege policies: validation, versions, rule-by-rule diffs and simulation
//! against the access log.

use serde::Serialize;
use std::collections::HashMap;
use ts_rs::TS;

use warden_core::directory::UserId;
use warden_core::policy::{Assignment, ChangeKind, Policy, Subject, Verdict};

use crate::context::Reader;
use crate::error::{Error, Result};

/// What a valid policy contains.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyValidation {
    pub ok: bool,
    pub job_functions: Vec<String>,
    pub separation_of_duties: Vec<String>,
    pub dormancy_days: Option<u32>,
    /// Legal but probably not meant: a pattern that matches no permission in the
    /// directory. Empty when validated offline.
    pub warnings: Vec<PolicyWarningView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyWarningView {
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
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
        warnings: Vec::new(),
    })
}

/// A draft as the editor sees it while it is typed: its error at its place (or none), and
/// its warnings against the directory.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyLint {
    pub errors: Vec<PolicyWarningView>,
    pub warnings: Vec<PolicyWarningView>,
    pub job_functions: Vec<String>,
}

fn view(line: Option<usize>, column: Option<usize>, message: String) -> PolicyWarningView {
    PolicyWarningView {
        line: line.and_then(|l| u32::try_from(l).ok()),
        column: column.and_then(|c| u32::try_from(c).ok()),
        message,
    }
}

/// Checks a draft for the editor: a parse or validation error is part of the answer (with
/// its line and column), not a failure.
pub async fn lint(ctx: &crate::Ctx, text: &str) -> Result<PolicyLint> {
    let r = ctx.as_reader("checking a policy against the directory")?;
    let policy = match Policy::parse(text) {
        Ok(p) => p,
        Err(e) => {
            return Ok(PolicyLint {
                errors: vec![view(e.line, e.column, e.message)],
                warnings: Vec::new(),
                job_functions: Vec::new(),
            });
        }
    };
    let permissions = warden_store::directory::permissions(r.db(), r.mapping()?).await?;
    let keys: Vec<&str> = permissions.iter().map(|p| p.key.as_str()).collect();
    Ok(PolicyLint {
        errors: Vec::new(),
        warnings: warden_core::policy::unmatched_patterns(&policy, text, &keys)
            .into_iter()
            .map(|w| view(w.line, w.column, w.message))
            .collect(),
        job_functions: policy.job_function.iter().map(|j| j.name.clone()).collect(),
    })
}

/// Validates a policy against the directory: two job functions matching the same person
/// with no priority between them is an error, and a pattern that matches no permission is
/// a warning with its line and column.
pub async fn validate_against_directory(
    ctx: &crate::Ctx,
    text: &str,
    origin: &str,
) -> Result<PolicyValidation> {
    let r = ctx.as_reader("checking a policy against the directory")?;
    let mut out = validate(text, origin)?;
    refuse_ambiguous(&r, text, origin).await?;
    let policy = Policy::parse(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    let permissions = warden_store::directory::permissions(r.db(), r.mapping()?).await?;
    let keys: Vec<&str> = permissions.iter().map(|p| p.key.as_str()).collect();
    out.warnings = warden_core::policy::unmatched_patterns(&policy, text, &keys)
        .into_iter()
        .map(|w| view(w.line, w.column, w.message))
        .collect();
    Ok(out)
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
    pub warnings: Vec<PolicyWarningView>,
}

/// Stores a validated policy as the new version, in one transaction with its audit event.
/// Applying the document already in force changes nothing.
pub async fn apply(
    ctx: &crate::Ctx,
    text: &str,
    origin: &str,
    comment: &str,
) -> Result<AppliedPolicy> {
    crate::retry::retried(ctx.trail_db(), || apply_once(ctx, text, origin, comment)).await
}

async fn apply_once(
    ctx: &crate::Ctx,
    text: &str,
    origin: &str,
    comment: &str,
) -> Result<AppliedPolicy> {
    let o = ctx.as_officer("applying a policy")?;
    let checked = validate_against_directory(ctx, text, origin).await?;
    let comment = crate::input::comment(comment)?;
    let sha = warden_core::policy::sha256(text);
    let mut change = o.change().await?;
    if let Some(current) = warden_store::governance::policy_version(o.db(), None).await?
        && current.sha256 == sha
    {
        drop(change);
        return Ok(AppliedPolicy {
            version: current.version,
            sha256: sha,
            changed: false,
            audit_seq: None,
            warnings: checked.warnings,
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
        warnings: checked.warnings,
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

/// Refuses a policy under which two job functions match the same person with no priority
/// between them: which baseline applies must be written down, not guessed.
async fn refuse_ambiguous(r: &Reader<'_>, text: &str, origin: &str) -> Result<()> {
    let policy = Policy::parse(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    let loaded = crate::directory::load(r).await?;
    let roles = loaded.roles_by_user();
    let no_roles = Vec::new();
    let ambiguous: Vec<(String, Vec<String>)> = loaded
        .users
        .iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            let s = Subject {
                user: u,
                roles: roles.get(&u.id).unwrap_or(&no_roles),
            };
            match policy.assign(&s) {
                Assignment::Ambiguous(names) => Some((
                    u.login.clone(),
                    names.into_iter().map(str::to_string).collect(),
                )),
                _ => None,
            }
        })
        .collect();
    crate::findings::refuse_ambiguity(&ambiguous)
        .map_err(|e| Error::Invalid(format!("{origin}: {e}")))
}

/// One rule that differs, as shown.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RuleChangeView {
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub rule: String,
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyDiff {
    pub from: u32,
    pub to: u32,
    pub changes: Vec<RuleChangeView>,
}

/// What changed, rule by rule, from version `from` to version `to`.
pub async fn diff(ctx: &crate::Ctx, from: u32, to: u32) -> Result<PolicyDiff> {
    let a = show(ctx, Some(from)).await?;
    let b = show(ctx, Some(to)).await?;
    let parse = |v: &PolicyVersionView| {
        Policy::parse(&v.body)
            .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", v.version)))
    };
    let changes = warden_core::policy::diff(&parse(&a)?, &parse(&b)?)
        .into_iter()
        .map(|c| RuleChangeView {
            change: match c.change {
                ChangeKind::Added => "added",
                ChangeKind::Removed => "removed",
                ChangeKind::Changed => "changed",
            }
            .into(),
            rule: c.rule,
            details: c.details,
        })
        .collect();
    Ok(PolicyDiff { from, to, changes })
}

/// Accesses a draft policy would have denied.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WouldDeny {
    pub login: String,
    pub permission: String,
    pub count: u64,
    pub last_seen: String,
    /// `no_job_function`, or `not_allowed` with the job function in `job_function`.
    pub reason: String,
    pub job_function: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SimulateResponse {
    pub days: u32,
    /// Allowed accesses in the window that were replayed.
    pub replayed: u64,
    pub would_deny: Vec<WouldDeny>,
}

/// Replays the last `days` of the access log's allowed accesses against a draft policy:
/// which real accesses it would have denied, per person and permission, with how often and
/// when last. Writes nothing.
pub async fn simulate(
    ctx: &crate::Ctx,
    text: &str,
    origin: &str,
    days: u32,
) -> Result<SimulateResponse> {
    let r = ctx.as_reader("simulating a policy")?;
    let policy = Policy::parse(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
    if !(1..=3660).contains(&days) {
        return Err(Error::Invalid(format!("--days {days}: expected 1 to 3660")));
    }
    let (db, m) = (r.db(), r.mapping()?);
    let since = r.clock().now_naive() - chrono::Duration::days(i64::from(days));
    let (loaded, usage) = futures_util::try_join!(crate::directory::load(&r), async {
        Ok(warden_store::directory::usage_since(db, m, since).await?)
    },)?;
    let usage = usage.ok_or_else(|| {
        Error::Invalid("the mapping has no access log to replay ([access_log])".into())
    })?;
    let roles = loaded.roles_by_user();
    let users: HashMap<UserId, &warden_core::directory::User> =
        loaded.users.iter().map(|u| (u.id, u)).collect();
    let no_roles = Vec::new();
    let mut replayed = 0u64;
    let mut would_deny = Vec::new();
    for u in &usage {
        let count = u64::try_from(u.count).unwrap_or(0);
        replayed += count;
        let Some(user) = users.get(&u.user) else {
            continue;
        };
        let s = Subject {
            user,
            roles: roles.get(&u.user).unwrap_or(&no_roles),
        };
        let (reason, job_function) = match policy.judge_access(&s, &u.action) {
            Verdict::Allowed => continue,
            Verdict::NoJobFunction => ("no_job_function", None),
            Verdict::NotAllowed { job_function } => ("not_allowed", Some(job_function)),
            Verdict::Ambiguous(names) => {
                crate::findings::refuse_ambiguity(&[(user.login.clone(), names)])
                    .map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
                continue;
            }
        };
        would_deny.push(WouldDeny {
            login: user.login.clone(),
            permission: u.action.clone(),
            count,
            last_seen: crate::directory::utc(u.last_seen),
            reason: reason.into(),
            job_function,
        });
    }
    would_deny.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.login.cmp(&b.login))
            .then_with(|| a.permission.cmp(&b.permission))
    });
    Ok(SimulateResponse {
        days,
        replayed,
        would_deny,
    })
}
