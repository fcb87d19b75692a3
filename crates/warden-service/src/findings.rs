//! `warden check` and the findings it keeps: judging the directory against a policy,
//! recording what was found over time, and triage.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::directory::{PermissionId, RoleId};
use warden_core::findings::{
    Columns, Evaluation, Facts, Finding, FindingKind, FindingStatus, Severity, Triage, evaluate,
};
use warden_core::policy::Policy;
use warden_core::snapshot::{Names, Snapshot, grants_outside_review};
use warden_store::findings::{self as store, FindingFilter, RunMeta, StoredFinding};

use crate::context::{Ctx, Reader};
use crate::directory::{load, utc};
use crate::error::{Error, Result};

/// Which policy a check judges against.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum PolicySource {
    /// The version in force; an officer's check records its findings.
    Current,
    /// An earlier version, judged without recording.
    Version { version: u32 },
    /// A draft document, judged without recording.
    Draft { text: String, origin: String },
}

/// A finding as the front ends show it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingView {
    /// Its number in Warden's records; null when the check did not record.
    pub id: Option<u64>,
    pub kind: FindingKind,
    pub severity: Severity,
    pub subject: String,
    pub department: Option<String>,
    pub detail: String,
    #[ts(type = "unknown")]
    pub evidence: serde_json::Value,
    pub fix: String,
    pub fingerprint: String,
    pub status: FindingStatus,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub resolved_at: Option<String>,
}

impl From<StoredFinding> for FindingView {
    fn from(f: StoredFinding) -> Self {
        Self {
            id: Some(f.id),
            kind: f.kind,
            severity: f.severity,
            subject: f.subject,
            department: f.department,
            detail: f.detail,
            evidence: f.evidence,
            fix: f.fix,
            fingerprint: f.fingerprint,
            status: f.status,
            first_seen: Some(utc(f.first_seen)),
            last_seen: Some(utc(f.last_seen)),
            resolved_at: f.resolved_at.map(utc),
        }
    }
}

impl From<Finding> for FindingView {
    fn from(f: Finding) -> Self {
        Self {
            id: None,
            kind: f.kind,
            severity: f.severity,
            subject: f.subject,
            department: f.department,
            detail: f.detail,
            evidence: f.evidence,
            fix: f.fix,
            fingerprint: f.fingerprint,
            status: FindingStatus::Open,
            first_seen: None,
            last_seen: None,
            resolved_at: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CheckResponse {
    /// Whether the findings were recorded (a check of the version in force, by an officer).
    pub stored: bool,
    pub run: Option<u64>,
    pub policy_version: Option<u32>,
    /// Active staff judged, and how many of them have no finding.
    pub evaluated: u32,
    pub compliant: u32,
    pub opened: u32,
    pub reopened: u32,
    pub fixed: u32,
    pub findings: Vec<FindingView>,
}

impl CheckResponse {
    /// Whether a finding still awaiting attention is at least `level`: what `--fail-on`
    /// fails on. Acknowledged and resolved findings do not count.
    pub fn fails_at(&self, level: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == FindingStatus::Open && f.severity >= level)
    }
}

/// The policy text and version a source names.
async fn policy_of(r: &Reader<'_>, source: &PolicySource) -> Result<(Policy, String, Option<u32>)> {
    let version = match source {
        PolicySource::Draft { text, origin } => {
            let policy =
                Policy::parse(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
            return Ok((policy, warden_core::policy::sha256(text), None));
        }
        PolicySource::Current => None,
        PolicySource::Version { version } => Some(*version),
    };
    let stored = warden_store::governance::policy_version(r.db(), version)
        .await?
        .ok_or_else(|| {
            Error::NotFound(match version {
                Some(v) => format!("no policy version {v}"),
                None => "no policy has been applied yet: `warden policy apply FILE`".into(),
            })
        })?;
    let policy = Policy::parse(&stored.body)
        .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", stored.version)))?;
    Ok((policy, stored.sha256, Some(stored.version)))
}

/// People two job functions match without a priority: the policy must decide.
pub(crate) fn refuse_ambiguity(ambiguous: &[(String, Vec<String>)]) -> Result<()> {
    let Some((login, names)) = ambiguous.first() else {
        return Ok(());
    };
    Err(Error::Invalid(format!(
        "policy: job functions {} all match {login}{}: give one of them a `priority`",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" and "),
        match ambiguous.len() {
            1 => String::new(),
            n => format!(" (and {} more people)", n - 1),
        }
    )))
}

/// What a check judged, before it is recorded.
struct Judged {
    evaluation: Evaluation,
    snapshot: Snapshot,
}

async fn judge(r: &Reader<'_>, policy: &Policy, now: NaiveDateTime) -> Result<Judged> {
    let (db, m) = (r.db(), r.mapping()?);
    let mapping = m.mapping();
    let since = policy
        .dormancy
        .as_ref()
        .map(|d| now - Duration::days(i64::from(d.days)));
    let t = std::time::Instant::now();
    let (loaded, schemes, active_in_log, previous, open) = futures_util::try_join!(
        load(r),
        async { Ok(warden_store::directory::password_schemes(db, m).await?) },
        async {
            Ok(match since {
                Some(since) => warden_store::directory::active_since(db, m, since).await?,
                None => None,
            })
        },
        async { Ok(store::last_snapshot(db).await?) },
        async { Ok(store::unresolved_fingerprints(db, FindingKind::GrantOutsideReview).await?) },
    )?;
    let read_in = t.elapsed();
    let effective = loaded.effective(mapping.semantics);
    let role_names: HashMap<RoleId, String> = loaded
        .roles
        .iter()
        .map(|r| (r.id, r.name.clone()))
        .collect();
    let permission_keys: HashMap<PermissionId, String> = loaded
        .permissions
        .iter()
        .map(|p| (p.id, p.key.clone()))
        .collect();
    let u = &mapping.users;
    let mut evaluation = evaluate(
        policy,
        Facts {
            users: &loaded.users,
            role_names: &role_names,
            permission_keys: &permission_keys,
            grants: &loaded.grants,
            direct: &loaded.direct,
            effective: &effective,
            columns: Columns {
                managers: u.manager.is_some(),
                mfa: u.mfa.is_some(),
                last_login: u.last_login.is_some(),
                password_hash: u.password_hash.is_some(),
            },
            password_schemes: &schemes,
            active_in_log: active_in_log.as_ref(),
            now,
        },
    );
    refuse_ambiguity(&evaluation.ambiguous)?;
    tracing::info!(
        staff = loaded.users.len(),
        read_ms = read_in.as_millis() as u64,
        evaluated_ms = (t.elapsed() - read_in).as_millis() as u64,
        "directory judged"
    );
    let t2 = std::time::Instant::now();
    let snapshot = Snapshot::of(&loaded.grants, &loaded.direct);
    if let Some(previous) = previous {
        let previous = Snapshot::decode(&previous)
            .map_err(|e| Error::Invalid(format!("the last check's snapshot: {e}")))?;
        let names = Names {
            users: &loaded.users,
            role_names: &role_names,
            permission_keys: &permission_keys,
            grants: &loaded.grants,
        };
        // Reviews and access requests come with the review campaigns; until then every
        // grant made between two checks is outside a review.
        let outside = grants_outside_review(&previous, &snapshot, &open, names, |_| false);
        let judged: std::collections::HashSet<_> =
            evaluation.findings.iter().map(|f| f.subject_id).collect();
        let newly: std::collections::HashSet<_> = outside
            .iter()
            .map(|f| f.subject_id)
            .filter(|u| !judged.contains(u))
            .collect();
        let active_newly = loaded
            .users
            .iter()
            .filter(|u| u.active && newly.contains(&u.id))
            .count();
        evaluation.compliant = evaluation.compliant.saturating_sub(active_newly);
        evaluation.findings.extend(outside);
    }
    tracing::debug!(
        snapshot_ms = t2.elapsed().as_millis() as u64,
        "grants compared"
    );
    Ok(Judged {
        evaluation,
        snapshot,
    })
}

/// Judges the directory against a policy. A check of the version in force by an officer
/// records its findings (new ones opened, returning ones reopened, vanished ones resolved)
/// in one change with its audit event; any other check only reports.
pub async fn check(ctx: &Ctx, source: PolicySource) -> Result<CheckResponse> {
    crate::retry::retried(ctx.trail_db(), || check_once(ctx, source.clone())).await
}

async fn check_once(ctx: &Ctx, source: PolicySource) -> Result<CheckResponse> {
    let r = ctx.as_reader("checking the directory against a policy")?;
    let started = std::time::Instant::now();
    let (policy, sha256, version) = policy_of(&r, &source).await?;
    let now = r.clock().now_naive();
    let Judged {
        evaluation,
        snapshot,
    } = judge(&r, &policy, now).await?;
    let judged_in = started.elapsed();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let record = matches!(source, PolicySource::Current)
        .then(|| ctx.as_officer("recording findings").ok())
        .flatten();
    let (Some(officer), Some(version)) = (record, version) else {
        return Ok(CheckResponse {
            stored: false,
            run: None,
            policy_version: version,
            evaluated: count(evaluation.evaluated),
            compliant: count(evaluation.compliant),
            opened: 0,
            reopened: 0,
            fixed: 0,
            findings: evaluation
                .findings
                .into_iter()
                .map(FindingView::from)
                .collect(),
        });
    };
    let mut change = officer.change().await?;
    let judged: Vec<FindingKind> = FindingKind::ALL
        .iter()
        .copied()
        .filter(|k| k.is_policy_kind())
        .collect();
    let (outcome, mut states) = store::record_check(
        &mut change,
        &RunMeta {
            policy_version: version,
            policy_sha256: sha256,
            evaluated: count(evaluation.evaluated),
            compliant: count(evaluation.compliant),
            snapshot: snapshot.encode(),
        },
        &evaluation.findings,
        &judged,
    )
    .await?;
    change
        .commit(
            "check.run",
            &format!("check run {}", outcome.run_id),
            serde_json::json!({
                "run": outcome.run_id,
                "policy_version": version,
                "found": evaluation.findings.len(),
                "opened": outcome.opened,
                "reopened": outcome.reopened,
                "fixed": outcome.fixed,
            }),
        )
        .await?;
    let findings = evaluation
        .findings
        .into_iter()
        .map(|f| {
            let state = states.remove(&f.fingerprint);
            let mut view = FindingView::from(f);
            if let Some(state) = state {
                view.id = Some(state.id);
                view.status = state.status;
                view.first_seen = Some(utc(state.first_seen));
                view.last_seen = Some(utc(outcome.ran_at));
            }
            view
        })
        .collect();
    tracing::info!(
        run = outcome.run_id,
        judged_ms = judged_in.as_millis() as u64,
        recorded_ms = started
            .elapsed()
            .as_millis()
            .saturating_sub(judged_in.as_millis()) as u64,
        "check recorded"
    );
    Ok(CheckResponse {
        stored: true,
        run: Some(outcome.run_id),
        policy_version: Some(version),
        evaluated: count(evaluation.evaluated),
        compliant: count(evaluation.compliant),
        opened: outcome.opened,
        reopened: outcome.reopened,
        fixed: outcome.fixed,
        findings,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct FindingsRequest {
    pub kind: Option<FindingKind>,
    pub severity: Option<Severity>,
    pub status: Option<FindingStatus>,
    pub department: Option<String>,
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingsResponse {
    pub findings: Vec<FindingView>,
}

/// Recorded findings, filtered.
pub async fn findings(ctx: &Ctx, req: FindingsRequest) -> Result<FindingsResponse> {
    let r = ctx.as_reader("reading findings")?;
    let filter = FindingFilter {
        kind: req.kind,
        severity: req.severity,
        status: req.status,
        department: req.department.filter(|d| !d.is_empty()),
        subject: req.subject.filter(|s| !s.is_empty()),
    };
    Ok(FindingsResponse {
        findings: store::list(r.db(), &filter)
            .await?
            .into_iter()
            .map(FindingView::from)
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingEventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingDetail {
    pub finding: FindingView,
    pub history: Vec<FindingEventView>,
}

/// One finding with its history of triage and of checks that fixed or reopened it.
pub async fn finding(ctx: &Ctx, id: u64) -> Result<FindingDetail> {
    let r = ctx.as_reader("reading findings")?;
    let finding = store::get(r.db(), id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no finding {id}")))?;
    let history = store::events(r.db(), id)
        .await?
        .into_iter()
        .map(|e| FindingEventView {
            at: utc(e.occurred_at),
            actor: e.actor,
            action: e.action,
            comment: e.comment,
        })
        .collect();
    Ok(FindingDetail {
        finding: finding.into(),
        history,
    })
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct TriageRequest {
    pub id: u64,
    pub action: Triage,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TriageResponse {
    pub id: u64,
    pub from: FindingStatus,
    pub to: FindingStatus,
    pub audit_seq: u64,
}

/// Acknowledges, resolves or reopens a finding with a comment, in one change with its
/// audit event (made again, whole, when a concurrent change wins: `retry`).
pub async fn triage(ctx: &Ctx, req: TriageRequest) -> Result<TriageResponse> {
    crate::retry::retried(ctx.trail_db(), || triage_once(ctx, &req)).await
}

async fn triage_once(ctx: &Ctx, req: &TriageRequest) -> Result<TriageResponse> {
    let o = ctx.as_officer("triaging findings")?;
    let action = req.action;
    let comment = crate::input::comment(req.comment.trim())?;
    if comment.is_empty() {
        return Err(Error::Invalid(
            "a triage needs a comment that says why (--comment)".into(),
        ));
    }
    let mut change = o.change().await?;
    let (from, to) = store::triage(&mut change, req.id, action, comment)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no finding {}", req.id)))?;
    let event = change
        .commit(
            "finding.triage",
            &format!("finding {}", req.id),
            serde_json::json!({
                "finding": req.id,
                "action": action.past(),
                "from": from.as_str(),
                "to": to.as_str(),
                "comment": comment,
            }),
        )
        .await?;
    Ok(TriageResponse {
        id: req.id,
        from,
        to,
        audit_seq: event.seq,
    })
}

/// How many findings of each kind, severity and status: the Findings screen's chart.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingCount {
    pub kind: FindingKind,
    pub severity: Severity,
    pub status: FindingStatus,
    pub count: u64,
}

/// The compliance headline: the last check, and what is open now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ComplianceSummary {
    pub checked_at: Option<String>,
    pub policy_version: Option<u32>,
    pub evaluated: u32,
    pub compliant: u32,
    pub open_high: u64,
    pub open_medium: u64,
    pub open_low: u64,
    pub counts: Vec<FindingCount>,
}

pub async fn summary(ctx: &Ctx) -> Result<ComplianceSummary> {
    let r = ctx.as_reader("reading findings")?;
    let (run, counts) = futures_util::try_join!(store::last_run(r.db()), store::counts(r.db()))?;
    let open = |s: Severity| {
        counts
            .iter()
            .filter(|(_, sev, st, _)| *sev == s && *st == FindingStatus::Open)
            .map(|(.., n)| u64::try_from(*n).unwrap_or(0))
            .sum()
    };
    Ok(ComplianceSummary {
        checked_at: run.as_ref().map(|r| utc(r.ran_at)),
        policy_version: run.as_ref().map(|r| r.policy_version),
        evaluated: run.as_ref().map_or(0, |r| r.evaluated),
        compliant: run.as_ref().map_or(0, |r| r.compliant),
        open_high: open(Severity::High),
        open_medium: open(Severity::Medium),
        open_low: open(Severity::Low),
        counts: counts
            .iter()
            .map(|(k, s, st, n)| FindingCount {
                kind: *k,
                severity: *s,
                status: *st,
                count: u64::try_from(*n).unwrap_or(0),
            })
            .collect(),
    })
}
