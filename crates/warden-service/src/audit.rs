//! The audit trail's own integrity (DESIGN.md, Audit trail).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::audit::Verification;
use warden_core::witness::{Witness, WitnessCheck};

use crate::context::Ctx;
use crate::error::{Error, Result};

/// Recomputes the audit trail's hash chain from its first event and compares its end with
/// the head Warden recorded (all read in one snapshot, the events streamed): the first sequence number where the stored trail is not the
/// one Warden wrote, and why; and matches every recorded call of Warden's definer routines
/// with the event that records it (a call around Warden is reported). Officers and
/// auditors.
pub async fn verify(ctx: &Ctx) -> Result<Verification> {
    verify_against(ctx, Vec::new()).await
}

/// [`verify`], and the trail compared with `witnesses` — heads it once had, kept outside
/// the database (this client's state folder, export manifests): a trail that ends before
/// one, or has another event where one saw its own, does not verify ("restored from an
/// older backup, or rewritten"); the chain alone cannot tell, both being whole chains.
pub async fn verify_against(ctx: &Ctx, witnesses: Vec<Witness>) -> Result<Verification> {
    let r = ctx.as_reader("verifying the audit trail")?;
    let mut trail = warden_store::governance::TrailSnapshot::begin(r.db()).await?;
    let (head_seq, head_hash) = trail.head().await?;
    let calls = trail.routine_calls().await?;
    let mut chain = warden_core::audit::ChainCheck::default();
    let mut matcher = warden_core::routine_calls::Matcher::new(&calls);
    let mut witnessed = WitnessCheck::new(witnesses);
    trail
        .events(|event, previous, hash| {
            chain.push(event, previous, hash);
            matcher.observe(event);
            witnessed.observe(event.seq, hash);
        })
        .await?;
    trail.end().await?;
    let mut checked = chain.finish((head_seq, &head_hash));
    if let Some((seq, why)) = witnessed.finish()
        && checked.ok
    {
        checked.ok = false;
        checked.first_bad_seq = Some(seq);
        checked.reason = Some(why);
    }
    checked.unrecorded_calls = matcher.unrecorded();
    if let Some(first) = checked.unrecorded_calls.first()
        && checked.ok
    {
        checked.ok = false;
        checked.reason = Some(first.clone());
    }
    if !checked.ok {
        tracing::warn!(
            first_bad_seq = checked.first_bad_seq,
            reason = checked.reason.as_deref().unwrap_or_default(),
            "the audit trail does not verify"
        );
    }
    Ok(checked)
}

/// Where a client reaches Warden's tables, as its witness is kept: a profile by its name
/// (after a restore, the profile names the restored server: the same place), a URL by its
/// hosts and schema.
pub fn place(ctx: &Ctx, profile: Option<&str>) -> String {
    match profile {
        Some(name) => format!("profile {name}"),
        None => ctx.trail_db().place(),
    }
}

/// The head this client saw at `place` ([`place`]), as a witness ([`verify_against`]),
/// with the trail's first event then: none before it saw one.
pub async fn client_witness(
    ctx: &Ctx,
    file: &std::path::Path,
    place: &str,
) -> Result<Vec<Witness>> {
    ctx.as_reader("reading the audit trail")?;
    Ok((warden_store::witness::seen(file, place)?.into_iter())
        .map(|s| Witness {
            seq: s.seq,
            hash: s.hash,
            source: format!("this client (witness kept in {})", file.display()),
            first: Some(s.first),
        })
        .collect())
}

/// Keeps the trail's head as this client's witness, when the trail still holds the head
/// seen before, from the same first event (a trail behind it, beside it, or another from
/// its start leaves the witness as it was: that is what `audit verify` reports). Any
/// console role.
pub async fn remember_head(ctx: &Ctx, file: &std::path::Path, place: &str) -> Result<()> {
    let db = ctx.trail_db();
    let Some(head) = warden_store::witness::trail_head(db).await? else {
        return Ok(());
    };
    if let Some(seen) = warden_store::witness::seen(file, place)? {
        let held = warden_store::governance::event_hash(db, seen.seq).await?;
        if seen.first != head.first
            || seen.seq > head.seq
            || held.as_deref() != Some(seen.hash.as_str())
        {
            return Ok(());
        }
    }
    Ok(warden_store::witness::record(file, place, &head)?)
}

/// The chain's state as the Audit trail screen shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChainState {
    pub ok: bool,
    /// Events read.
    pub events: u64,
    /// Where the stored trail stops being the one Warden wrote, and why.
    pub first_bad_seq: Option<u64>,
    pub reason: Option<String>,
    /// Routine calls no audit event records.
    pub unrecorded_calls: Vec<String>,
}

/// [`verify_against`] this client's witness (kept in `witness`), for the screen; the
/// head seen then becomes the witness ([`remember_head`]).
pub async fn chain(ctx: &Ctx, witness: &std::path::Path, place: &str) -> Result<ChainState> {
    let v = verify_against(ctx, client_witness(ctx, witness, place).await?).await?;
    remember_head(ctx, witness, place).await?;
    Ok(ChainState {
        ok: v.ok,
        events: v.events,
        first_bad_seq: v.first_bad_seq,
        reason: v.reason,
        unrecorded_calls: v.unrecorded_calls,
    })
}

/// A listing of the audit trail (the Audit trail screen, `warden audit list`): filters
/// optional, times UTC as in log searches; `before` is the previous page's `next`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct EventsRequest {
    /// Actions starting with this (`review.` lists every review action).
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Targets containing this text.
    pub target: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<u32>,
    pub before: Option<u64>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EventView {
    pub seq: u64,
    pub occurred_at: String,
    pub actor: String,
    pub db_account: String,
    pub action: String,
    pub target: String,
    /// The event's details as JSON text (shown as text, never as markup).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EventsResponse {
    pub events: Vec<EventView>,
    /// The `before` of the next (older) page, or null on the last.
    pub next: Option<u64>,
    /// The chain's head as Warden recorded it.
    pub head_seq: u64,
    pub head_hash: String,
}

/// The most events a page may have.
pub const MAX_EVENTS: u32 = 500;

/// A page of the audit trail, newest first (officers and auditors).
pub async fn events(ctx: &Ctx, req: EventsRequest) -> Result<EventsResponse> {
    let r = ctx.as_reader("reading the audit trail")?;
    let db = r.db();
    let limit = req.limit.unwrap_or(100);
    if !(1..=MAX_EVENTS).contains(&limit) {
        return Err(Error::Invalid(format!(
            "--limit {limit}: expected 1 to {MAX_EVENTS}"
        )));
    }
    let text = |what: &str, v: &Option<String>| -> Result<Option<String>> {
        (v.as_deref())
            .map(|v| crate::input::text_field(what, v, 190))
            .transpose()
    };
    let time = |what: &str, v: &Option<String>| {
        (v.as_deref())
            .map(|t| crate::logs::parse_time(what, t))
            .transpose()
    };
    let search = warden_store::governance::AuditSearch {
        action: text("--action", &req.action)?,
        actor: text("--actor", &req.actor)?,
        target: text("--target", &req.target)?,
        since: time("--since", &req.since)?,
        until: time("--until", &req.until)?,
        before: req.before,
        limit,
    };
    let (found, (head_seq, head_hash)) = futures_util::try_join!(
        warden_store::governance::search_audit_events(db, &search),
        warden_store::governance::audit_head(db),
    )?;
    let next = (found.len() == limit as usize)
        .then(|| found.last().map(|(e, _, _)| e.seq))
        .flatten();
    let events = found
        .into_iter()
        .map(|(e, prev_hash, hash)| EventView {
            seq: e.seq,
            occurred_at: e
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor: e.actor,
            db_account: e.db_account,
            action: e.action,
            target: e.target,
            details: e.details.to_string(),
            prev_hash,
            hash,
        })
        .collect();
    Ok(EventsResponse {
        events,
        next,
        head_seq,
        head_hash,
    })
}
