//! Launching a campaign: every grant in scope becomes an item with its reviewer, the
//! context a reviewer needs and Warden's suggestion, pinned to the policy in force.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::console::ConsoleRole;
use warden_core::directory::RoleGrant;
use warden_core::policy::Policy;
use warden_core::review::{ReviewerRule, Verdict};
use warden_store::governance::Change;
use warden_store::reviews::{self as store, NewCampaign, NewItem};

use super::items::{ItemBuilder, Rules};
use crate::context::{Ctx, Officer};
use crate::directory::load_keyed;
use crate::error::{Error, Result};

/// Which grants a campaign reviews; an empty list does not narrow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct Scope {
    pub departments: Vec<String>,
    pub roles: Vec<String>,
    pub job_functions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct StartRequest {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub scope: Scope,
    pub reviewer: ReviewerRule,
    /// Reviews what the rule cannot (no manager, no owner, or the person themself).
    pub fallback: String,
    /// What undecided items become at close.
    pub undecided: Verdict,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Started {
    pub campaign: u64,
    pub items: u64,
    pub reviewers: u64,
    pub policy_version: u32,
    pub audit_seq: u64,
}

/// A launch's request, checked: what the campaign is, and the policy it is pinned to.
struct Checked {
    name: String,
    due: NaiveDate,
    rule: ReviewerRule,
    undecided: Verdict,
    fallback: String,
    policy: Policy,
    version: u32,
    /// The mapping's row filters (None: none), recorded with the launch.
    filters: Option<serde_json::Value>,
}

impl Checked {
    async fn of(o: &Officer<'_>, req: &StartRequest) -> Result<Self> {
        let name = crate::input::text_field("the campaign name", &req.name, 190)?;
        let due = NaiveDate::parse_from_str(req.due.trim(), "%Y-%m-%d")
            .map_err(|_| Error::Invalid(format!("--due `{}`: expected YYYY-MM-DD", req.due)))?;
        if due < o.clock().today() {
            return Err(Error::Invalid(format!("--due {due} is in the past")));
        }
        let fallback = crate::input::text_field("the fallback reviewer", &req.fallback, 190)?;
        match warden_store::governance::console_role(o.db(), &fallback).await? {
            Some(ConsoleRole::Officer | ConsoleRole::Reviewer) => {}
            _ => {
                return Err(Error::Invalid(format!(
                    "the fallback reviewer `{fallback}` is not a console user with the reviewer or officer role"
                )));
            }
        }
        let stored = warden_store::governance::policy_version(o.db(), None)
            .await?
            .ok_or_else(|| {
                Error::Invalid(
                    "a campaign is pinned to the policy in force: apply one first".into(),
                )
            })?;
        let policy = Policy::parse(&stored.body)
            .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", stored.version)))?;
        Ok(Self {
            name,
            due,
            rule: req.reviewer,
            undecided: req.undecided,
            fallback,
            policy,
            version: stored.version,
            filters: o.mapping().ok().and_then(|r| r.mapping().filters_json()),
        })
    }

    fn campaign(&self, scope: &Scope) -> NewCampaign {
        NewCampaign {
            name: self.name.clone(),
            scope: serde_json::to_string(scope).unwrap_or_default(),
            reviewer_rule: self.rule,
            fallback: self.fallback.clone(),
            undecided: self.undecided,
            due: self.due,
            policy_version: Some(self.version),
        }
    }
}

/// Launches a campaign: every (user, role) grant in scope becomes an item, with the
/// reviewer the rule picks (never the person themself), the context a reviewer needs, and
/// Warden's suggestion, pinned to the policy in force. One change with its audit event.
pub async fn start(ctx: &Ctx, req: StartRequest) -> Result<Started> {
    crate::retry::retried(ctx.trail_db(), || start_once(ctx, req.clone())).await
}

async fn start_once(ctx: &Ctx, req: StartRequest) -> Result<Started> {
    let o = ctx.as_officer("launching an access review")?;
    let c = Checked::of(&o, &req).await?;
    let r = crate::Reader::from(o);
    let (db, m) = (r.db(), r.mapping()?);
    let t = std::time::Instant::now();
    let now = r.clock().now_naive();
    let unused_days = c.policy.dormancy.as_ref().map_or(90, |d| d.days);
    let since = now - chrono::Duration::days(i64::from(unused_days.max(365)));
    // Each item keeps its grant row's key, as `warden migrate` recorded the table's key:
    // close removes exactly that row. (No key recorded: items keep none, and the server
    // refuses to remove their grants.)
    let key = match warden_store::server_roles::grant_target(db).await? {
        Some(t) if t.table == m.mapping().user_roles.table => t
            .key
            .as_ref()
            .and_then(|k| k.columns())
            .map(<[String]>::to_vec),
        _ => None,
    };
    let (loaded, usage) = futures_util::try_join!(load_keyed(&r, key.as_deref()), async {
        Ok(warden_store::directory::usage_since(db, m, since).await?)
    })?;
    let read_ms = t.elapsed().as_millis() as u64;
    let rules = Rules {
        policy: &c.policy,
        scope: &req.scope,
        rule: c.rule,
        fallback: &c.fallback,
        now,
        unused_days,
    };
    let effective = loaded.effective(m.mapping().semantics);
    let builder = ItemBuilder::new(&loaded, effective, usage.as_deref().unwrap_or(&[]), rules);
    let mut change = o.change().await?;
    let id = store::insert_campaign(&mut change, &c.campaign(&req.scope)).await?;
    let (written, reviewers, self_reviewed) =
        build_and_write(&mut change, id, &loaded.grants, builder).await?;
    if !self_reviewed.is_empty() {
        let named: Vec<String> = (self_reviewed.iter().take(5))
            .map(|(login, role)| format!("{login} ({role})"))
            .collect();
        return Err(Error::Invalid(format!(
            "{} grant(s) would be reviewed by the person who holds them, the fallback reviewer \
             `{}` (their {} is missing, inactive or themself): {}; choose another fallback \
             reviewer",
            self_reviewed.len(),
            c.fallback,
            match c.rule {
                ReviewerRule::Manager => "manager",
                ReviewerRule::Owner => "role's owner",
            },
            named.join(", ")
        )));
    }
    if written == 0 {
        return Err(Error::Invalid(
            "nothing is in scope: no grant matches these departments, roles and job functions"
                .into(),
        ));
    }
    tracing::info!(
        items = written,
        read_ms,
        built_and_stored_ms = t.elapsed().as_millis() as u64 - read_ms,
        "campaign launched"
    );
    let mut details = serde_json::json!({
        "campaign": id, "name": c.name, "items": written, "due": c.due.to_string(),
        "reviewer": c.rule.as_str(), "fallback": c.fallback,
        "undecided": c.undecided.as_str(), "policy_version": c.version,
    });
    // The rows a filtered mapping left out of the population, named on the trail.
    if let (Some(f), Some(d)) = (&c.filters, details.as_object_mut()) {
        d.insert("filters".into(), f.clone());
    }
    let event = change
        .commit("review.start", &format!("campaign {id}"), details)
        .await?;
    Ok(Started {
        campaign: id,
        items: written,
        reviewers,
        policy_version: c.version,
        audit_seq: event.seq,
    })
}

/// Builds the items of `grants` in batches while the previous batch is being written: the
/// database inserts on one core while Warden builds on the other. Answers how many were
/// written, by how many reviewers, and which grants only their holder could review.
async fn build_and_write(
    change: &mut Change<'_>,
    campaign: u64,
    grants: &[RoleGrant],
    mut builder: ItemBuilder<'_>,
) -> Result<(u64, u64, Vec<(String, String)>)> {
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<Vec<NewItem>>(2);
    let build = async {
        let ready = ready;
        let mut batch = Vec::with_capacity(store::ITEM_BATCH);
        for item in grants.iter().filter_map(|g| builder.item(g)) {
            batch.push(item);
            if batch.len() == store::ITEM_BATCH
                && ready.send(std::mem::take(&mut batch)).await.is_err()
            {
                break; // the writer failed: its error is the launch's
            }
        }
        if !batch.is_empty() {
            let _ = ready.send(batch).await;
        }
        builder.reviewers.len() as u64
    };
    let write = async {
        let mut written = 0;
        while let Some(batch) = arriving.recv().await {
            store::insert_items(change, campaign, &batch).await?;
            written += batch.len() as u64;
        }
        Ok::<_, Error>(written)
    };
    let (reviewers, written) = futures_util::join!(build, write);
    let written = written?;
    let self_reviewed = (builder.self_reviewed.iter())
        .map(|(login, role)| (login.to_string(), role.to_string()))
        .collect();
    Ok((written, reviewers, self_reviewed))
}

/// Launches the next campaign from an earlier one (a template): the same scope, reviewer
/// rule, fallback and default, a new due date, and a name.
pub async fn start_like(ctx: &Ctx, template: u64, name: &str, due: &str) -> Result<Started> {
    let o = ctx.as_officer("launching an access review")?;
    let c = store::campaign(o.db(), store::Scope::All, template)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {template}")))?;
    let scope: Scope = serde_json::from_str(&c.scope)
        .map_err(|e| Error::Invalid(format!("campaign {template} has an unreadable scope: {e}")))?;
    start(
        ctx,
        StartRequest {
            name: name.to_string(),
            due: due.to_string(),
            scope,
            reviewer: c.reviewer_rule,
            fallback: c.fallback,
            undecided: c.undecided,
        },
    )
    .await
}
