//! access_before.csv and access_after.csv: the campaign's population at launch, and the
//! grants of that population held now, after remediation.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use warden_core::directory::RoleGrant;
use warden_core::export::Described;
use warden_core::review::Remediated;
use warden_store::reviews as store;

use super::file::{PackFile, time};
use super::gather::{Gathered, Lookup};
use crate::error::Result;

const HEADER: [&str; 7] = [
    "user_id",
    "login",
    "department",
    "role",
    "granted_at",
    "granted_by",
    "item_id",
];

/// Writes access_before.csv into `dir`: the population at launch is the items as they
/// were written then.
pub(super) fn before(dir: &Path, items: &[store::Item]) -> Result<Described> {
    let mut out = PackFile::create(dir, "access_before.csv", &HEADER)?;
    for i in items {
        out.row([
            i.user_id.to_string(),
            i.login.clone(),
            i.department.clone().unwrap_or_default(),
            i.role.clone(),
            time(i.granted_at),
            i.granted_by.clone().unwrap_or_default(),
            i.id.to_string(),
        ])?;
    }
    out.close()
}

/// A grant held now, with its role's name.
pub(super) type Held<'a> = (&'a RoleGrant, &'a str);

/// After remediation: every grant now held by a person of the population, of a role of
/// the population (a revoked grant is absent; one granted since is present, unmatched),
/// by person then role.
pub(super) fn held_now(g: &Gathered) -> Vec<Held<'_>> {
    let people: HashSet<i64> = g.items.iter().map(|i| i.user_id).collect();
    let roles: HashSet<&str> = g.items.iter().map(|i| i.role.as_str()).collect();
    let role_names: HashMap<_, _> = (g.directory.roles.iter())
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let mut now: Vec<_> = (g.directory.grants.iter())
        .filter_map(|g| Some((g, *role_names.get(&g.role)?)))
        .filter(|(g, role)| people.contains(&g.user.0) && roles.contains(role))
        .collect();
    now.sort_by_key(|(g, role)| (g.user.0, *role));
    now
}

/// How many grants revoked at the close are held again now (granted anew since):
/// counted, and so attested by the sign-off, rather than hidden.
pub(super) fn held_again(items: &[store::Item], now: &[Held<'_>]) -> u64 {
    let held: HashSet<(i64, &str)> = now.iter().map(|(g, role)| (g.user.0, *role)).collect();
    (items.iter())
        .filter(|i| i.remediation == Some(Remediated::Revoked))
        .filter(|i| held.contains(&(i.user_id, i.role.as_str())))
        .count() as u64
}

/// Writes access_after.csv into `dir`: the grants held `now`, each with its item where it
/// was one.
pub(super) fn after(
    dir: &Path,
    g: &Gathered,
    lookup: &Lookup<'_>,
    now: &[Held<'_>],
) -> Result<Described> {
    let item_of: HashMap<(i64, &str), u64> = (g.items.iter())
        .map(|i| ((i.user_id, i.role.as_str()), i.id))
        .collect();
    let mut out = PackFile::create(dir, "access_after.csv", &HEADER)?;
    for &(grant, role) in now {
        let u = lookup.user(grant.user.0);
        out.row([
            grant.user.0.to_string(),
            u.map(|u| u.login.clone()).unwrap_or_default(),
            u.and_then(|u| u.department.clone()).unwrap_or_default(),
            role.to_string(),
            time(grant.granted_at),
            (grant.granted_by)
                .map(|id| lookup.login_of(id))
                .unwrap_or_default(),
            (item_of.get(&(grant.user.0, role)))
                .map(u64::to_string)
                .unwrap_or_default(),
        ])?;
    }
    out.close()
}
