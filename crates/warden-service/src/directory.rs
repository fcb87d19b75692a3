//! The directory: who the staff are, which roles exist, what a person can do and through
//! what, and who can do a given thing.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use warden_core::directory::{
    Effective, Permission, PermissionId, Role, RoleId, RoleModel, User, UserId, Via,
    effective_for_all, effective_permissions,
};
use warden_store::directory::{self as store, GrantScope, UserFilter};

use crate::context::{Ctx, Reader};
use crate::error::{Error, Result};

/// Times are shown in UTC, RFC 3339.
fn utc(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UsersRequest {
    pub department: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

/// One staff user as every list shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub manager: Option<String>,
    pub status: String,
    pub active: bool,
    pub superuser: bool,
    pub mfa: Option<bool>,
    pub last_login: Option<String>,
    pub created: Option<String>,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            login: u.login.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            department: u.department.clone(),
            title: u.title.clone(),
            manager: u.manager.clone(),
            status: u.status.clone(),
            active: u.active,
            superuser: u.superuser,
            mfa: u.mfa,
            last_login: u.last_login.map(utc),
            created: u.created.map(utc),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UsersResponse {
    pub users: Vec<UserSummary>,
}

/// Staff users, filtered by department, status and free text (login, name, email).
pub async fn users(ctx: &Ctx, req: UsersRequest) -> Result<UsersResponse> {
    let r = ctx.as_reader("listing staff users")?;
    let filter = UserFilter {
        department: req.department,
        status: req.status,
        search: req.search,
        login: None,
    };
    let users = store::users(r.db(), r.mapping()?, &filter).await?;
    Ok(UsersResponse {
        users: users.iter().map(UserSummary::from).collect(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleSummary {
    pub id: i64,
    pub name: String,
    pub owner: Option<String>,
    /// Current (unexpired) holders.
    pub members: i64,
    /// Permissions including inherited ones.
    pub permissions: usize,
    /// The roles this one inherits from.
    pub inherits: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RolesResponse {
    pub roles: Vec<RoleSummary>,
}

/// Every role with its owner, member count and permission count.
pub async fn roles(ctx: &Ctx) -> Result<RolesResponse> {
    let r = ctx.as_reader("listing roles")?;
    let (db, m) = (r.db(), r.mapping()?);
    let roles = store::roles(db, m).await?;
    let parents = store::role_hierarchy(db, m).await?;
    let model = RoleModel::new(
        roles.iter().map(|r| r.id),
        &parents,
        &store::role_permissions(db, m).await?,
    );
    let members = store::role_member_counts(db, m).await?;
    let names: HashMap<RoleId, &str> = roles.iter().map(|r| (r.id, r.name.as_str())).collect();
    Ok(RolesResponse {
        roles: roles
            .iter()
            .map(|role| RoleSummary {
                id: role.id.0,
                name: role.name.clone(),
                owner: role.owner.clone(),
                members: members.get(&role.id).copied().unwrap_or(0),
                permissions: model.permissions_of(role.id).len(),
                inherits: parents
                    .iter()
                    .filter(|(child, _)| *child == role.id)
                    .filter_map(|(_, p)| names.get(p).map(|n| n.to_string()))
                    .collect(),
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccessRequest {
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldRole {
    pub name: String,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePermission {
    pub key: String,
    /// Role names, `direct`, or `superuser`.
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessResponse {
    pub user: UserSummary,
    pub roles: Vec<HeldRole>,
    pub permissions: Vec<EffectivePermission>,
}

/// Everything the role model needs, read in a few bulk queries.
struct RoleCatalog {
    roles: Vec<Role>,
    permissions: Vec<Permission>,
    model: RoleModel,
}

async fn role_catalog(r: &Reader<'_>) -> Result<RoleCatalog> {
    let (db, m) = (r.db(), r.mapping()?);
    let roles = store::roles(db, m).await?;
    let permissions = store::permissions(db, m).await?;
    let model = RoleModel::new(
        roles.iter().map(|r| r.id),
        &store::role_hierarchy(db, m).await?,
        &store::role_permissions(db, m).await?,
    );
    Ok(RoleCatalog {
        roles,
        permissions,
        model,
    })
}

fn via_names(via: &BTreeSet<Via>, role_names: &HashMap<RoleId, &str>) -> Vec<String> {
    let mut roles: Vec<String> = via
        .iter()
        .filter_map(|v| match v {
            Via::Role(id) => Some(
                role_names
                    .get(id)
                    .map_or_else(|| format!("role #{id}"), |n| n.to_string()),
            ),
            _ => None,
        })
        .collect();
    roles.sort();
    if via.contains(&Via::Direct) {
        roles.push("direct".into());
    }
    if via.contains(&Via::Superuser) {
        roles.push("superuser".into());
    }
    roles
}

/// One person's effective permissions, each with the roles (or direct grant, or superuser
/// status) it comes from, inherited roles included.
pub async fn access(ctx: &Ctx, req: AccessRequest) -> Result<AccessResponse> {
    let r = ctx.as_reader("reading a user's access")?;
    let (db, m) = (r.db(), r.mapping()?);
    let user = store::user_by_login(db, m, &req.login)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no staff user with login `{}`", req.login)))?;
    let catalog = role_catalog(&r).await?;
    let grants = store::role_grants(db, m, &GrantScope::User(user.id)).await?;
    let direct = store::direct_grants(db, m, Some(user.id)).await?;
    let effective = effective_permissions(
        &user,
        m.mapping().semantics,
        &catalog.model,
        grants.iter().map(|g| g.role),
        direct.iter().map(|d| d.permission),
        &catalog.permissions,
    );
    let role_names: HashMap<RoleId, &str> = catalog
        .roles
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let keys: HashMap<PermissionId, &str> = catalog
        .permissions
        .iter()
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let granters = granter_logins(&r, grants.iter().filter_map(|g| g.granted_by)).await?;
    let mut roles: Vec<HeldRole> = grants
        .iter()
        .map(|g| HeldRole {
            name: role_names
                .get(&g.role)
                .map_or_else(|| format!("role #{}", g.role), |n| n.to_string()),
            granted_at: g.granted_at.map(utc),
            granted_by: g.granted_by.and_then(|id| granters.get(&id).cloned()),
        })
        .collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    let mut permissions: Vec<EffectivePermission> = effective
        .iter()
        .map(|(perm, via)| EffectivePermission {
            key: keys
                .get(perm)
                .map_or_else(|| format!("permission #{perm}"), |k| k.to_string()),
            via: via_names(via, &role_names),
        })
        .collect();
    permissions.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(AccessResponse {
        user: UserSummary::from(&user),
        roles,
        permissions,
    })
}

async fn granter_logins(
    r: &Reader<'_>,
    ids: impl Iterator<Item = UserId>,
) -> Result<HashMap<UserId, String>> {
    let wanted: BTreeSet<UserId> = ids.collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    // Granters are few (managers, owners): read them by id in one query.
    let users = store::users_by_ids(
        r.db(),
        r.mapping()?,
        &wanted.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    Ok(users.into_iter().collect())
}

#[derive(Debug, Clone, Deserialize)]
pub struct WhoCanRequest {
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub login: String,
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WhoCanResponse {
    pub permission: String,
    pub users: Vec<Holding>,
}

/// Everyone who effectively holds a permission, and through what.
pub async fn who_can(ctx: &Ctx, req: WhoCanRequest) -> Result<WhoCanResponse> {
    let r = ctx.as_reader("asking who can do something")?;
    let (db, m) = (r.db(), r.mapping()?);
    let semantics = m.mapping().semantics;
    let catalog = role_catalog(&r).await?;
    let permission = catalog
        .permissions
        .iter()
        .find(|p| p.key == req.permission)
        .ok_or_else(|| {
            let hint = warden_core::suggest::closest(
                &req.permission,
                catalog.permissions.iter().map(|p| p.key.as_str()),
            )
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
            Error::NotFound(format!("no permission `{}`{hint}", req.permission))
        })?;
    let granting = catalog.model.roles_granting(permission.id);
    let role_names: HashMap<RoleId, &str> = catalog
        .roles
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    // Grants and users are read apart and joined here: a permission held by most of the
    // staff would otherwise cost a row-by-row join on the server.
    // Three independent reads, on connections of their own: the server runs them side by side.
    let (members, direct, users) = futures_util::try_join!(
        store::role_members(db, m, &granting),
        store::direct_grantees(db, m, permission.id),
        store::user_index(db, m),
    )?;
    let mut users = users;
    let index: HashMap<UserId, usize> =
        users.iter().enumerate().map(|(i, h)| (h.user, i)).collect();
    let counts = |id: &UserId| {
        index
            .get(id)
            .is_some_and(|i| users[*i].active || !semantics.inactive_users_hold_nothing)
    };
    // (user, via) pairs, sorted and grouped: no set per user, since this can be the whole staff.
    let mut pairs: Vec<(usize, Via)> = Vec::with_capacity(members.len() + direct.len());
    pairs.extend(
        members
            .iter()
            .filter(|(u, _)| counts(u))
            .filter_map(|(u, role)| index.get(u).map(|i| (*i, Via::Role(*role)))),
    );
    pairs.extend(
        direct
            .iter()
            .filter(|u| counts(u))
            .filter_map(|u| index.get(u).map(|i| (*i, Via::Direct))),
    );
    if semantics.superuser_has_all_permissions {
        pairs.extend(
            users
                .iter()
                .enumerate()
                .filter(|(_, h)| h.superuser && h.active)
                .map(|(i, _)| (i, Via::Superuser)),
        );
    }
    pairs.sort_unstable();
    pairs.dedup();
    // Most holders share one of a few provenance sets: name each set once.
    let mut named: HashMap<Vec<Via>, Vec<String>> = HashMap::new();
    let mut holdings: Vec<Holding> = Vec::new();
    for group in pairs.chunk_by(|a, b| a.0 == b.0) {
        let via: Vec<Via> = group.iter().map(|(_, v)| v.clone()).collect();
        let names = match named.get(&via) {
            Some(n) => n.clone(),
            None => {
                let n = via_names(&via.iter().cloned().collect(), &role_names);
                named.insert(via, n.clone());
                n
            }
        };
        holdings.push(Holding {
            login: std::mem::take(&mut users[group[0].0].login),
            via: names,
        });
    }
    holdings.sort_unstable_by(|a, b| a.login.cmp(&b.login));
    Ok(WhoCanResponse {
        permission: permission.key.clone(),
        users: holdings,
    })
}

/// Effective permissions of every user, computed in one pass over the whole directory
/// (a handful of bulk reads, no query per user).
pub async fn effective_for_everyone(ctx: &Ctx) -> Result<HashMap<UserId, Effective>> {
    let r = ctx.as_reader("computing everyone's access")?;
    let (db, m) = (r.db(), r.mapping()?);
    let catalog = role_catalog(&r).await?;
    let users = store::users(db, m, &UserFilter::default()).await?;
    let grants = store::role_grants(db, m, &GrantScope::All).await?;
    let direct = store::direct_grants(db, m, None).await?;
    Ok(effective_for_all(
        &users,
        m.mapping().semantics,
        &catalog.model,
        &grants,
        &direct,
        &catalog.permissions,
    ))
}
