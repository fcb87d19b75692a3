//! Findings over time (`warden_findings`, `warden_check_runs`, `warden_finding_events`):
//! a check records what it found in one change, keyed by fingerprint, so a departure is one
//! row from the day it is first seen until it is fixed, and comes back reopened.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::UserId;
use warden_core::findings::{Finding, FindingKind, FindingStatus, Severity, Triage};

use crate::connect::Database;
use crate::error::{Error, Result};
use crate::governance::Change;

/// Rows per multi-row statement: well under the server's packet and placeholder limits.
const BATCH: usize = 500;

/// What a check run records besides its findings.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub policy_version: u32,
    pub policy_sha256: String,
    pub evaluated: u32,
    pub compliant: u32,
    pub snapshot: Vec<u8>,
}

/// What recording a check changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub run_id: u64,
    pub ran_at: NaiveDateTime,
    pub opened: u32,
    pub reopened: u32,
    pub fixed: u32,
}

fn id_list(qb: &mut QueryBuilder<'_, MySql>, ids: &[u64]) {
    qb.push(" id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
}

/// Where a finding the run saw now stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: u64,
    pub status: FindingStatus,
    pub first_seen: NaiveDateTime,
}

/// Within a change: stores `findings` as new open findings, first and last seen `at`,
/// found by run `run` (a check run, or a log scan for the detectors' kinds).
pub(crate) async fn insert_open(
    change: &mut Change<'_>,
    findings: &[&Finding],
    at: NaiveDateTime,
    run: u64,
) -> Result<()> {
    for chunk in findings.chunks(BATCH) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO warden_findings (fingerprint, kind, severity, subject, subject_id, \
             department, detail, evidence, fix, status, first_seen, last_seen, last_run) ",
        );
        qb.push_values(chunk, |mut b, f| {
            b.push_bind(&f.fingerprint)
                .push_bind(f.kind)
                .push_bind(f.severity)
                .push_bind(&f.subject)
                .push_bind(f.subject_id.0)
                .push_bind(&f.department)
                .push_bind(&f.detail)
                .push_bind(f.evidence.to_string())
                .push_bind(&f.fix)
                .push_bind(FindingStatus::Open)
                .push_bind(at)
                .push_bind(at)
                .push_bind(run);
        });
        qb.build().execute(change.conn()).await?;
    }
    Ok(())
}

/// Within a change: records a check run. Findings not seen before are opened; those seen
/// again that had been resolved are reopened; those of the `judged` kinds not seen this
/// time are resolved as fixed (last seen at the previous run). A finding seen again and
/// still unresolved is not written at all: an unresolved finding of a judged kind was, by
/// construction, seen by the latest run, which is its last-seen time (see [`list`]). Returns
/// the run, what moved, and where each finding of `findings` stands, by fingerprint.
pub async fn record_check(
    change: &mut Change<'_>,
    meta: &RunMeta,
    findings: &[Finding],
    judged: &[FindingKind],
) -> Result<(RunOutcome, HashMap<String, Recorded>)> {
    let actor = change.actor().to_string();
    let at = change.at();
    let previous_run_at = previous_run_at(change).await?;
    let run_id = insert_run(change, meta, findings.len(), &actor, at).await?;
    let existing = known_findings(change).await?;
    let Sorted {
        fresh,
        seen,
        reappeared,
        changed,
        mut states,
    } = sort_findings(&existing, findings);

    open_fresh(change, &fresh, at, run_id, &mut states).await?;
    rewrite_changed(change, &changed).await?;
    reopen(change, &reappeared, &actor, run_id, at).await?;
    let gone = vanished(&existing, &seen, judged);
    resolve_vanished(change, &gone, previous_run_at, &actor, run_id, at).await?;

    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let outcome = RunOutcome {
        run_id,
        ran_at: at,
        opened: count(fresh.len()),
        reopened: count(reappeared.len()),
        fixed: count(gone.len()),
    };
    update_run_counts(change, &outcome).await?;
    Ok((outcome, states))
}

/// When the latest check before this one ran, if any did.
async fn previous_run_at(change: &mut Change<'_>) -> Result<Option<NaiveDateTime>> {
    Ok(
        sqlx::query_scalar("SELECT MAX(ran_at) FROM warden_check_runs")
            .fetch_one(change.conn())
            .await?,
    )
}

/// Inserts the run's row with zero counts (set by [`update_run_counts`] once known) and
/// returns its id.
async fn insert_run(
    change: &mut Change<'_>,
    meta: &RunMeta,
    found: usize,
    actor: &str,
    at: NaiveDateTime,
) -> Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO warden_check_runs (ran_at, actor, policy_version, policy_sha256, \
         evaluated, compliant, found, opened, reopened, fixed, snapshot) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
    )
    .bind(at)
    .bind(actor)
    .bind(meta.policy_version)
    .bind(&meta.policy_sha256)
    .bind(meta.evaluated)
    .bind(meta.compliant)
    .bind(u32::try_from(found).unwrap_or(u32::MAX))
    .bind(&meta.snapshot)
    .execute(change.conn())
    .await?
    .last_insert_id())
}

/// A stored finding as a run compares against it: id, fingerprint, kind, status, detail,
/// first seen.
type Existing = (u64, String, String, String, String, NaiveDateTime);

/// Every finding stored so far, of every kind and status.
async fn known_findings(change: &mut Change<'_>) -> Result<Vec<Existing>> {
    Ok(sqlx::query_as(
        "SELECT id, fingerprint, kind, status, detail, first_seen FROM warden_findings",
    )
    .fetch_all(change.conn())
    .await?)
}

/// A run's findings sorted against the stored ones.
struct Sorted<'f> {
    /// Not stored before: to be opened.
    fresh: Vec<&'f Finding>,
    /// Ids of the stored findings this run saw.
    seen: HashSet<u64>,
    /// Ids of resolved findings this run saw again: to be reopened.
    reappeared: Vec<u64>,
    /// Stored findings whose detail differs from what this run saw: to be rewritten.
    changed: Vec<(u64, &'f Finding)>,
    /// Where each stored finding this run saw now stands, by fingerprint.
    states: HashMap<String, Recorded>,
}

/// Sorts the run's findings into fresh, reappeared and changed by fingerprint; writes
/// nothing.
fn sort_findings<'f>(existing: &[Existing], findings: &'f [Finding]) -> Sorted<'f> {
    let known: HashMap<&str, &Existing> = existing.iter().map(|e| (e.1.as_str(), e)).collect();
    let resolved = FindingStatus::Resolved.as_str();
    let mut sorted = Sorted {
        fresh: Vec::new(),
        seen: HashSet::new(),
        reappeared: Vec::new(),
        changed: Vec::new(),
        states: HashMap::with_capacity(findings.len()),
    };
    for f in findings {
        let Some((id, _, _, status, detail, first_seen)) = known.get(f.fingerprint.as_str()) else {
            sorted.fresh.push(f);
            continue;
        };
        sorted.seen.insert(*id);
        let status = if status == resolved {
            sorted.reappeared.push(*id);
            FindingStatus::Open
        } else {
            FindingStatus::parse(status).unwrap_or(FindingStatus::Open)
        };
        if *detail != f.detail {
            sorted.changed.push((*id, f));
        }
        sorted.states.insert(
            f.fingerprint.clone(),
            Recorded {
                id: *id,
                status,
                first_seen: *first_seen,
            },
        );
    }
    sorted
}

/// Opens the findings seen for the first time and adds where each stands to `states`.
async fn open_fresh(
    change: &mut Change<'_>,
    fresh: &[&Finding],
    at: NaiveDateTime,
    run_id: u64,
    states: &mut HashMap<String, Recorded>,
) -> Result<()> {
    insert_open(change, fresh, at, run_id).await?;
    if fresh.is_empty() {
        return Ok(());
    }
    let ids: Vec<(u64, String)> = sqlx::query_as(
        "SELECT id, fingerprint FROM warden_findings WHERE first_seen = ? AND last_run = ?",
    )
    .bind(at)
    .bind(run_id)
    .fetch_all(change.conn())
    .await?;
    for (id, fp) in ids {
        states.insert(
            fp,
            Recorded {
                id,
                status: FindingStatus::Open,
                first_seen: at,
            },
        );
    }
    Ok(())
}

/// Rewrites the detail, evidence and fix of findings seen again with a new detail.
async fn rewrite_changed(change: &mut Change<'_>, changed: &[(u64, &Finding)]) -> Result<()> {
    for (id, f) in changed {
        sqlx::query("UPDATE warden_findings SET detail = ?, evidence = ?, fix = ? WHERE id = ?")
            .bind(&f.detail)
            .bind(f.evidence.to_string())
            .bind(&f.fix)
            .bind(id)
            .execute(change.conn())
            .await?;
    }
    Ok(())
}

/// Reopens resolved findings this run saw again, seen last by this run, each with a
/// `reappeared` event.
async fn reopen(
    change: &mut Change<'_>,
    reappeared: &[u64],
    actor: &str,
    run_id: u64,
    at: NaiveDateTime,
) -> Result<()> {
    for chunk in reappeared.chunks(BATCH) {
        let mut qb =
            QueryBuilder::<MySql>::new("UPDATE warden_findings SET resolved_at = NULL, status = ");
        qb.push_bind(FindingStatus::Open)
            .push(", last_seen = ")
            .push_bind(at)
            .push(", last_run = ")
            .push_bind(run_id)
            .push(" WHERE");
        id_list(&mut qb, chunk);
        qb.build().execute(change.conn()).await?;
        record_events(change, chunk, actor, "reappeared", run_id, at).await?;
    }
    Ok(())
}

/// Whatever of the judged kinds was unresolved and not seen this run is gone from the
/// directory.
fn vanished(existing: &[Existing], seen: &HashSet<u64>, judged: &[FindingKind]) -> Vec<u64> {
    let resolved = FindingStatus::Resolved.as_str();
    existing
        .iter()
        .filter(|(id, _, kind, status, ..)| {
            status != resolved
                && !seen.contains(id)
                && FindingKind::parse(kind).is_some_and(|k| judged.contains(&k))
        })
        .map(|(id, ..)| *id)
        .collect()
}

/// Resolves the vanished findings as fixed, each with a `fixed` event; they were last seen
/// by the previous run.
async fn resolve_vanished(
    change: &mut Change<'_>,
    gone: &[u64],
    previous_run_at: Option<NaiveDateTime>,
    actor: &str,
    run_id: u64,
    at: NaiveDateTime,
) -> Result<()> {
    for chunk in gone.chunks(BATCH) {
        let mut qb = QueryBuilder::<MySql>::new("UPDATE warden_findings SET status = ");
        qb.push_bind(FindingStatus::Resolved)
            .push(", resolved_at = ")
            .push_bind(at)
            .push(", last_seen = COALESCE(")
            .push_bind(previous_run_at)
            .push(", last_seen) WHERE");
        id_list(&mut qb, chunk);
        qb.build().execute(change.conn()).await?;
        record_events(change, chunk, actor, "fixed", run_id, at).await?;
    }
    Ok(())
}

/// Sets the run's row to what moved.
async fn update_run_counts(change: &mut Change<'_>, outcome: &RunOutcome) -> Result<()> {
    sqlx::query("UPDATE warden_check_runs SET opened = ?, reopened = ?, fixed = ? WHERE id = ?")
        .bind(outcome.opened)
        .bind(outcome.reopened)
        .bind(outcome.fixed)
        .bind(outcome.run_id)
        .execute(change.conn())
        .await?;
    Ok(())
}

async fn record_events(
    change: &mut Change<'_>,
    ids: &[u64],
    actor: &str,
    action: &str,
    run_id: u64,
    at: NaiveDateTime,
) -> Result<()> {
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO warden_finding_events (finding_id, occurred_at, actor, action, comment, run_id) ",
    );
    qb.push_values(ids, |mut b, id| {
        b.push_bind(*id)
            .push_bind(at)
            .push_bind(actor)
            .push_bind(action)
            .push_bind("")
            .push_bind(run_id);
    });
    qb.build().execute(change.conn()).await?;
    Ok(())
}

/// The most recent check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub id: u64,
    pub ran_at: NaiveDateTime,
    pub actor: String,
    pub policy_version: u32,
    pub evaluated: u32,
    pub compliant: u32,
    pub found: u32,
}

pub async fn last_run(db: &Database) -> Result<Option<CheckRun>> {
    let row: Option<(u64, NaiveDateTime, String, u32, u32, u32, u32)> = sqlx::query_as(
        "SELECT id, ran_at, actor, policy_version, evaluated, compliant, found \
         FROM warden_check_runs ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.gov())
    .await?;
    Ok(row.map(
        |(id, ran_at, actor, policy_version, evaluated, compliant, found)| CheckRun {
            id,
            ran_at,
            actor,
            policy_version,
            evaluated,
            compliant,
            found,
        },
    ))
}

/// The snapshot of who-has-what the last check saw.
pub async fn last_snapshot(db: &Database) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT snapshot FROM warden_check_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(db.gov())
            .await?,
    )
}

/// Fingerprints of the findings of `kind` that are still open or acknowledged, by person.
pub async fn unresolved_fingerprints(
    db: &Database,
    kind: FindingKind,
) -> Result<HashMap<UserId, HashSet<String>>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT subject_id, fingerprint FROM warden_findings WHERE kind = ? AND status <> ?",
    )
    .bind(kind)
    .bind(FindingStatus::Resolved)
    .fetch_all(db.gov())
    .await?;
    let mut out: HashMap<UserId, HashSet<String>> = HashMap::new();
    for (user, fp) in rows {
        out.entry(UserId(user)).or_default().insert(fp);
    }
    Ok(out)
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    pub id: u64,
    pub fingerprint: String,
    pub kind: FindingKind,
    pub severity: Severity,
    pub subject: String,
    pub department: Option<String>,
    pub detail: String,
    pub evidence: serde_json::Value,
    pub fix: String,
    pub status: FindingStatus,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

/// Which findings to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub kind: Option<FindingKind>,
    pub severity: Option<Severity>,
    pub status: Option<FindingStatus>,
    pub department: Option<String>,
    pub subject: Option<String>,
}

pub const FINDING_COLUMNS: &str = "SELECT id, fingerprint, kind, severity, subject, department, \
     detail, evidence, fix, status, first_seen, last_seen, resolved_at FROM warden_findings";

fn finding_from_row(row: &sqlx::mysql::MySqlRow) -> Result<StoredFinding> {
    let text = |name: &str| row.try_get::<String, _>(name);
    Ok(StoredFinding {
        id: row.try_get("id")?,
        fingerprint: text("fingerprint")?,
        kind: row.try_get("kind")?,
        severity: row.try_get("severity")?,
        subject: text("subject")?,
        department: row.try_get("department")?,
        detail: text("detail")?,
        evidence: serde_json::from_str(&text("evidence")?).unwrap_or(serde_json::Value::Null),
        fix: text("fix")?,
        status: row.try_get("status")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

/// An unresolved finding of a policy kind was seen by the latest check (a check resolves
/// what it does not see), so that check's time is its last-seen time; the row is written
/// only when the finding changes state.
async fn with_last_seen(
    db: &Database,
    mut found: Vec<StoredFinding>,
) -> Result<Vec<StoredFinding>> {
    let latest: Option<NaiveDateTime> =
        sqlx::query_scalar("SELECT MAX(ran_at) FROM warden_check_runs")
            .fetch_one(db.gov())
            .await?;
    if let Some(latest) = latest {
        for f in found
            .iter_mut()
            .filter(|f| f.status != FindingStatus::Resolved && f.kind.is_policy_kind())
        {
            f.last_seen = f.last_seen.max(latest);
        }
    }
    Ok(found)
}

/// Findings matching the filter: the most severe first, then by kind and person.
pub async fn list(db: &Database, filter: &FindingFilter) -> Result<Vec<StoredFinding>> {
    let mut qb = QueryBuilder::<MySql>::new(FINDING_COLUMNS);
    qb.push(" WHERE 1 = 1");
    if let Some(k) = filter.kind {
        qb.push(" AND kind = ").push_bind(k);
    }
    if let Some(s) = filter.severity {
        qb.push(" AND severity = ").push_bind(s);
    }
    if let Some(s) = filter.status {
        qb.push(" AND status = ").push_bind(s);
    }
    if let Some(d) = &filter.department {
        qb.push(" AND department = ").push_bind(d.clone());
    }
    if let Some(s) = &filter.subject {
        qb.push(" AND subject = ").push_bind(s.clone());
    }
    qb.push(" ORDER BY FIELD(severity, 'high', 'medium', 'low'), kind, subject, id");
    let rows = qb.build().fetch_all(db.gov()).await?;
    let found = rows
        .iter()
        .map(finding_from_row)
        .collect::<Result<Vec<_>>>()?;
    with_last_seen(db, found).await
}

pub async fn get(db: &Database, id: u64) -> Result<Option<StoredFinding>> {
    let mut qb = QueryBuilder::<MySql>::new(FINDING_COLUMNS);
    qb.push(" WHERE id = ").push_bind(id);
    let row = qb.build().fetch_optional(db.gov()).await?;
    let found = row.as_ref().map(finding_from_row).transpose()?;
    Ok(with_last_seen(db, found.into_iter().collect())
        .await?
        .into_iter()
        .next())
}

/// One entry of a finding's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingEvent {
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub comment: String,
}

pub async fn events(db: &Database, id: u64) -> Result<Vec<FindingEvent>> {
    let rows: Vec<(NaiveDateTime, String, String, String)> = sqlx::query_as(
        "SELECT occurred_at, actor, action, comment FROM warden_finding_events \
         WHERE finding_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.gov())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(occurred_at, actor, action, comment)| FindingEvent {
            occurred_at,
            actor,
            action,
            comment,
        })
        .collect())
}

/// Within a change: moves a finding by a triage action with the actor's comment. Says
/// why when the move makes no sense from where the finding stands.
pub async fn triage(
    change: &mut Change<'_>,
    id: u64,
    action: Triage,
    comment: &str,
) -> Result<Option<(FindingStatus, FindingStatus)>> {
    let actor = change.actor().to_string();
    let from: Option<FindingStatus> =
        sqlx::query_scalar("SELECT status FROM warden_findings WHERE id = ? FOR UPDATE")
            .bind(id)
            .fetch_optional(change.conn())
            .await?;
    let Some(from) = from else {
        return Ok(None);
    };
    let to = from.triage(action).map_err(Error::Input)?;
    let at = change.at();
    sqlx::query("UPDATE warden_findings SET status = ?, resolved_at = ? WHERE id = ?")
        .bind(to)
        .bind((to == FindingStatus::Resolved).then_some(at))
        .bind(id)
        .execute(change.conn())
        .await?;
    sqlx::query(
        "INSERT INTO warden_finding_events (finding_id, occurred_at, actor, action, comment) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(at)
    .bind(&actor)
    .bind(action.past())
    .bind(comment)
    .execute(change.conn())
    .await?;
    Ok(Some((from, to)))
}

/// How many findings there are of each kind, severity and status.
pub async fn counts(db: &Database) -> Result<Vec<(FindingKind, Severity, FindingStatus, i64)>> {
    Ok(sqlx::query_as(
        "SELECT kind, severity, status, COUNT(*) FROM warden_findings \
         GROUP BY kind, severity, status",
    )
    .fetch_all(db.gov())
    .await?)
}
