//! What the pack is made of, all read before anything is written: the campaign, its
//! items and remediations, the directory as it is now, and the server it came from.

use std::collections::HashMap;

use warden_core::directory::{PermissionId, RoleId, RoleModel, User, UserId};
use warden_core::export::Source;
use warden_store::reviews as store;

use crate::context::{Officer, Reader};
use crate::directory::Loaded;
use crate::error::{Error, Result};

pub(super) struct Gathered {
    pub(super) id: u64,
    pub(super) campaign: store::Campaign,
    pub(super) directory: Loaded,
    pub(super) items: Vec<store::Item>,
    /// Each remediated item's remediation, by item.
    pub(super) remediations: HashMap<u64, store::Remediation>,
    pub(super) source: Source,
}

/// Reads campaign `id` and what its pack needs; the campaign must be closed.
pub(super) async fn gather(o: Officer<'_>, id: u64) -> Result<Gathered> {
    let db = o.db();
    let campaign = store::campaign(db, store::Scope::All, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    if campaign.status != warden_core::review::CampaignStatus::Closed {
        return Err(Error::Invalid(format!(
            "campaign {id} is {}: the evidence pack is signed off once the review is complete \
             (close it first: warden review close {id})",
            campaign.status
        )));
    }
    let directory = crate::directory::load(&Reader::from(o)).await?;
    let items = store::items(db, store::Scope::All, id, None, false).await?;
    let remediations = (store::remediations(db, id).await?)
        .into_iter()
        .map(|rm| (rm.item, rm))
        .collect();
    let source = warden_store::governance::server_identity(db).await?;
    Ok(Gathered {
        id,
        campaign,
        directory,
        items,
        remediations,
        source,
    })
}

/// The directory as the pack reads it: people by id, and each role's permissions.
pub(super) struct Lookup<'a> {
    users: HashMap<i64, &'a User>,
    keys: HashMap<PermissionId, &'a str>,
    role_ids: HashMap<&'a str, RoleId>,
    model: &'a RoleModel,
}

impl<'a> Lookup<'a> {
    pub(super) fn new(d: &'a Loaded) -> Self {
        Self {
            users: d.users.iter().map(|u| (u.id.0, u)).collect(),
            keys: (d.permissions.iter())
                .map(|p| (p.id, p.key.as_str()))
                .collect(),
            role_ids: (d.roles.iter()).map(|r| (r.name.as_str(), r.id)).collect(),
            model: &d.model,
        }
    }

    pub(super) fn user(&self, id: i64) -> Option<&'a User> {
        self.users.get(&id).copied()
    }

    /// The login of user `id`; empty for one no longer in the directory.
    pub(super) fn login_of(&self, id: UserId) -> String {
        self.user(id.0).map(|u| u.login.clone()).unwrap_or_default()
    }

    /// The permissions role `role` holds (by inheritance too), sorted, space-separated;
    /// empty for a role no longer in the directory.
    pub(super) fn permissions(&self, role: &str) -> String {
        let mut held: Vec<&str> = match self.role_ids.get(role) {
            Some(r) => (self.model.permissions_of(*r).iter())
                .filter_map(|p| self.keys.get(p).copied())
                .collect(),
            None => Vec::new(),
        };
        held.sort_unstable();
        held.join(" ")
    }
}
