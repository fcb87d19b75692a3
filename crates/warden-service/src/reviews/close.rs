//! Closing a campaign: its revocations applied to the application, one change per
//! person, and undone when needed.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;
use warden_core::review::{CampaignStatus, Verdict};
use warden_store::reviews::{self as store};

use crate::context::{Ctx, Officer};
use crate::error::{Error, Result};
use crate::retry::retried;

#[derive(Debug, Clone, Serialize, TS)]
pub struct RevocationView {
    pub item: u64,
    pub login: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CloseResponse {
    pub campaign: u64,
    pub dry_run: bool,
    /// Undecided items given the campaign's default (would be, in a dry run).
    pub defaulted: u64,
    pub default: Verdict,
    pub revocations: Vec<RevocationView>,
    /// The statements, per user, that remediation runs (in a dry run) or ran.
    pub sql: Vec<String>,
    /// Users whose grants were revoked by this run.
    pub remediated_users: u64,
    pub closed: bool,
    /// SHA-256 of the revocation set (item, user, role, time of grant): a close given a
    /// preview's digest applies exactly that set, or nothing.
    pub digest: String,
}

/// Closes a campaign: undecided items take the campaign's default, then every revocation
/// is applied to the application's user-role table, one transaction per user with its
/// audit event, keeping each removed row for undo. A dry run changes nothing and returns
/// the exact statements. Re-running after a failure finishes what is left: a user is
/// either wholly remediated or untouched.
pub async fn close(ctx: &Ctx, id: u64, dry_run: bool) -> Result<CloseResponse> {
    close_inner(ctx, id, dry_run, None).await
}

/// [`close`] of exactly the revocations a preview showed: refused, nothing changed, when the
/// set is no longer the one whose `digest` the preview carried (a decision made, changed or
/// reassigned since).
pub async fn close_as_previewed(ctx: &Ctx, id: u64, digest: &str) -> Result<CloseResponse> {
    close_inner(ctx, id, false, Some(digest)).await
}

/// The revocation set's fingerprint: sorted by item, each item with its user, role, time
/// of grant and the grant row's key.
fn digest_of(revocations: &[store::Revocation]) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = revocations
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}:{}:{}\n",
                r.item,
                r.user_id,
                r.role_id,
                r.granted_at.map(|t| t.to_string()).unwrap_or_default(),
                r.grant_key.as_deref().unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    hex::encode(Sha256::digest(lines.concat().as_bytes()))
}

/// What a close would revoke now: the revocations decided, and the undecided items too when
/// the campaign's default is to revoke.
async fn would_revoke(
    db: &warden_store::Database,
    id: u64,
    default: Verdict,
) -> Result<Vec<store::Revocation>> {
    let mut pending = store::pending_revocations(db, id).await?;
    if default == Verdict::Revoke {
        pending.extend(store::undecided_as_revocations(db, id).await?);
    }
    Ok(pending)
}

fn changed_since_preview(id: u64) -> Error {
    Error::Store(warden_store::Error::Conflict(format!(
        "campaign {id}'s revocations changed since the preview (a decision made, changed or \
         reassigned): nothing was revoked; preview again and close what it shows"
    )))
}

async fn close_inner(
    ctx: &Ctx,
    id: u64,
    dry_run: bool,
    expect: Option<&str>,
) -> Result<CloseResponse> {
    let o = ctx.as_officer("closing an access review")?;
    let campaign = store::campaign(o.db(), store::Scope::All, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    let default = campaign.undecided;
    let undecided = u64::try_from(campaign.items - campaign.decided).unwrap_or(0);
    let r = crate::Reader::from(o);
    let grants = store::GrantTable::of(r.db(), r.mapping()?).await?;
    let grants = recorded_target_is(o.db(), grants).await?;
    // Without a key that names one grant row, revocations are not carried out (a campaign
    // of only `keep` decisions closes as usual); the server's routine refuses them too.
    let unkeyed = grants.key_columns().err();
    if let Some(why) = &unkeyed
        && !dry_run
        && !would_revoke(o.db(), id, default).await?.is_empty()
    {
        return Err(not_remediable(why));
    }

    if let Some(expected) = expect
        && digest_of(&would_revoke(o.db(), id, default).await?) != expected
    {
        return Err(changed_since_preview(id));
    }
    if !dry_run && undecided > 0 {
        retried(o.db(), || give_default(o, id, default)).await?;
    }
    // In a dry run, undecided items the default would revoke are shown too; in a close,
    // the default has just been given and they are among the decided.
    let pending = match dry_run {
        true => would_revoke(o.db(), id, default).await?,
        false => store::pending_revocations(o.db(), id).await?,
    };
    let digest = digest_of(&pending);
    if let Some(expected) = expect
        && digest != expected
    {
        // Changed between the check and the default: the default is given (as a preview
        // would show it), nothing is revoked.
        return Err(changed_since_preview(id));
    }
    let mut by_user: BTreeMap<(i64, String), Vec<store::Revocation>> = BTreeMap::new();
    for rv in &pending {
        by_user
            .entry((rv.user_id, rv.login.clone()))
            .or_default()
            .push(rv.clone());
    }
    let mut sql = Vec::new();
    let mut remediated_users = 0;
    for ((_, login), revs) in &by_user {
        // Without a key no statement is carried out: the preview says so instead.
        match &unkeyed {
            None => sql.extend(grants.preview(login, revs)),
            Some(why) => sql.push(format!(
                "-- {login}: {} revocation(s) to carry out in the application ({why})",
                revs.len(),
            )),
        }
        if dry_run {
            continue;
        }
        retried(o.db(), || remediate_user(o, id, login, revs)).await?;
        remediated_users += 1;
    }
    let closed = !dry_run;
    if closed && campaign.status != CampaignStatus::Closed {
        retried(o.db(), || {
            mark_campaign_closed(o, id, pending.len(), by_user.len())
        })
        .await?;
    }
    Ok(CloseResponse {
        campaign: id,
        dry_run,
        defaulted: undecided,
        default,
        revocations: pending
            .iter()
            .map(|r| RevocationView {
                item: r.item,
                login: r.login.clone(),
                role: r.role.clone(),
            })
            .collect(),
        sql,
        remediated_users,
        closed,
        digest,
    })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UndoResponse {
    pub campaign: u64,
    pub restored_rows: u64,
    pub users: u64,
    /// Rows not put back, each with why (the grant exists again, or the user is no longer
    /// active or no longer there): the rest are restored.
    pub skipped: Vec<SkippedRow>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SkippedRow {
    pub item: u64,
    pub reason: String,
}

/// Puts back every row a campaign's remediation removed, exactly as it was, one
/// transaction per user with its audit event, which carries the officer's reason. Refused
/// once the campaign's evidence pack is signed off: the pack attests the revocations, and
/// an undo after it would make the signed evidence untrue.
pub async fn undo_remediation(ctx: &Ctx, id: u64, comment: &str) -> Result<UndoResponse> {
    let o = ctx.as_officer("undoing a remediation")?;
    let comment = crate::input::comment(comment.trim())?;
    if comment.is_empty() {
        return Err(Error::Invalid(
            "an undo needs a comment that says why (--comment)".into(),
        ));
    }
    store::campaign(o.db(), store::Scope::All, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    if let Some(seq) = store::signed_off(o.db(), id).await? {
        return Err(Error::Invalid(format!(
            "campaign {id}'s evidence pack was signed off (audit event {seq}): its revocations \
             are attested, so they are not undone; grant access again through the application \
             if it is needed"
        )));
    }
    let r = crate::Reader::from(o);
    let resolved = r.mapping()?;
    let grants = store::GrantTable::of(r.db(), resolved).await?;
    let grants = recorded_target_is(o.db(), grants).await?;
    if let Err(why) = grants.key_columns() {
        return Err(not_remediable(&why));
    }
    let removed = store::removed_rows(o.db(), id).await?;
    let mut by_user: BTreeMap<i64, Vec<store::Removed>> = BTreeMap::new();
    for rm in removed {
        by_user.entry(rm.user_id).or_default().push(rm);
    }
    let mut restored = 0;
    let mut skipped = Vec::new();
    for (user, all) in &by_user {
        // Access goes back only to someone still active, and never over a grant made
        // again since the close: each row left out is reported with why.
        let now = store::user_now(o.db(), resolved.mapping(), *user).await?;
        let mut rows = Vec::new();
        for rm in all {
            let why = match now {
                store::UserNow::Gone => Some(format!(
                    "user {user} is no longer in the application: nothing is given back"
                )),
                store::UserNow::Inactive => Some(format!(
                    "user {user} is no longer active: access is not given back to an \
                     inactive account"
                )),
                store::UserNow::Active => {
                    store::grant_held(o.db(), &grants, rm).await?.then(|| {
                        format!(
                            "user {} holds role {} again: the grant made since is left as it is",
                            rm.user_id, rm.role_id
                        )
                    })
                }
            };
            match why {
                Some(reason) => skipped.push(SkippedRow {
                    item: rm.item,
                    reason,
                }),
                None => rows.push(rm),
            }
        }
        if rows.is_empty() {
            continue;
        }
        retried(o.db(), || restore_user(o, id, *user, &rows, comment)).await?;
        restored += rows.len() as u64;
    }
    Ok(UndoResponse {
        campaign: id,
        restored_rows: restored,
        users: by_user.len() as u64,
        skipped,
    })
}

/// Remediation removes a grant by the key of its row: a table with no key that names
/// exactly one row is refused before anything is done (the server's routine refuses too).
fn not_remediable(why: &str) -> Error {
    Error::Invalid(format!(
        "{why}: Warden removes a grant only by a key that names exactly that row, so this \
         grant table is not remediated; preview the close (--dry-run) and revoke in the \
         application"
    ))
}

/// The server's routines remediate the grant table the administrator recorded at
/// `warden migrate`, inside its filter, by its key; a session whose mapping names another
/// table or filter would be shown one thing and do another, so it is refused before
/// anything happens. Answers `grants` with the recorded key.
async fn recorded_target_is(
    db: &warden_store::Database,
    grants: store::GrantTable,
) -> Result<store::GrantTable> {
    let recorded = warden_store::server_roles::grant_target(db).await?;
    let filter = warden_core::remediation::filter_json;
    let same = recorded.as_ref().is_some_and(|t| {
        t.table == grants.table
            && t.user == grants.user
            && t.role == grants.role
            && t.granted_at == grants.granted_at
            && filter(&t.filter) == filter(&grants.filter)
    });
    if same {
        let key = recorded.and_then(|t| t.key);
        return Ok(grants.keyed(key));
    }
    Err(Error::Invalid(match recorded {
        None => "no grant table is recorded for remediation: an administrator runs \
                 `warden migrate` with this mapping"
            .to_string(),
        Some(t) => format!(
            "remediation works on `{}` ({} = user, {} = role{}), as recorded at `warden \
             migrate`; this session's mapping names `{}`{}: use the same mapping, or have an \
             administrator migrate with this one",
            t.table,
            t.user,
            t.role,
            filter(&t.filter).map_or(String::new(), |f| format!(", where {f}")),
            grants.table,
            filter(&grants.filter).map_or(String::new(), |f| format!(" where {f}")),
        ),
    }))
}

// Each step of a close or an undo is one change with its event, made again whole when a
// concurrent change wins (`retry`): nothing of it was kept, and the routines act only on
// what is still to do.

async fn give_default(o: Officer<'_>, id: u64, default: Verdict) -> Result<()> {
    let mut change = o.change().await?;
    let n = store::apply_default(&mut change, id, default).await?;
    change
        .commit(
            "review.default",
            &format!("campaign {id}"),
            serde_json::json!({ "campaign": id, "items": n, "decision": default.as_str() }),
        )
        .await?;
    Ok(())
}

async fn remediate_user(
    o: Officer<'_>,
    id: u64,
    login: &str,
    revs: &[store::Revocation],
) -> Result<()> {
    let mut change = o.change().await?;
    let mut removed = 0;
    for rv in revs {
        removed += u32::from(store::remediate(&mut change, rv).await?);
    }
    change
        .commit(
            "review.remediate",
            &format!("user {login}"),
            serde_json::json!({
                "campaign": id,
                "items": revs.iter().map(|r| r.item).collect::<Vec<_>>(),
                "roles": revs.iter().map(|r| r.role.clone()).collect::<Vec<_>>(),
                "rows_removed": removed,
            }),
        )
        .await?;
    Ok(())
}

async fn mark_campaign_closed(o: Officer<'_>, id: u64, revoked: usize, users: usize) -> Result<()> {
    let mut change = o.change().await?;
    store::mark_closed(&mut change, id).await?;
    change
        .commit(
            "review.close",
            &format!("campaign {id}"),
            serde_json::json!({ "campaign": id, "revoked": revoked, "users": users }),
        )
        .await?;
    Ok(())
}

async fn restore_user(
    o: Officer<'_>,
    id: u64,
    user: i64,
    rows: &[&store::Removed],
    comment: &str,
) -> Result<()> {
    let mut change = o.change().await?;
    for rm in rows {
        store::restore(&mut change, rm).await?;
    }
    change
        .commit(
            "review.undo",
            &format!("user {user}"),
            serde_json::json!({
                "campaign": id,
                "items": rows.iter().map(|r| r.item).collect::<Vec<_>>(),
                "comment": comment,
            }),
        )
        .await?;
    Ok(())
}
