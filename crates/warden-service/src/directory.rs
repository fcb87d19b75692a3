//! The directory: who the staff are, which roles exist, what a person can do and through
//! what, and who can do a given thing.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::directory::{
    DirectGrant, Effective, Permission, PermissionId, Role, RoleGrant, RoleId, RoleModel, User,
    UserId, Via, effective_for_all, effective_permissions,
};
use warden_store::directory::{self as store, GrantsOf, UserFilter};

use crate::context::{Ctx, Reader};
use crate::error::{Error, Result};

/// Times are shown in UTC, RFC 3339.
pub(crate) fn utc(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct UsersRequest {
    pub department: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

/// One staff user as every list shows them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
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

#[derive(Debug, Clone, Serialize, TS)]
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
        ids: None,
    };
    let users = store::users(r.db(), r.mapping()?, &filter).await?;
    Ok(UsersResponse {
        users: users.iter().map(UserSummary::from).collect(),
    })
}

#[derive(Debug, Clone, Serialize, TS)]
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

#[derive(Debug, Clone, Serialize, TS)]
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
    let members = store::role_member_counts(db, m, r.clock().now_naive()).await?;
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

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AccessRequest {
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct HeldRole {
    pub name: String,
    /// Where the grant holds (`team 7`), for a mapping with `user_roles.scope`; none:
    /// everywhere.
    pub scope: Option<String>,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct EffectivePermission {
    pub key: String,
    /// Role names, `direct`, or `superuser`.
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
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
    let grants = store::role_grants(db, m, &GrantsOf::User(user.id), r.clock().now_naive()).await?;
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
            scope: g.scope.label(),
            granted_at: g.granted_at.map(utc),
            granted_by: g.granted_by.and_then(|id| granters.get(&id).cloned()),
        })
        .collect();
    roles.sort_by(|a, b| (&a.name, &a.scope).cmp(&(&b.name, &b.scope)));
    // A scoped direct grant is shown where it holds: `direct @ team 2`.
    let mut direct_as: HashMap<PermissionId, BTreeSet<String>> = HashMap::new();
    for d in &direct {
        (direct_as.entry(d.permission).or_default()).insert(d.scope.qualify("direct"));
    }
    let mut permissions: Vec<EffectivePermission> = effective
        .iter()
        .map(|(perm, via)| {
            let mut via = via_names(via, &role_names);
            if let (Some(i), Some(scoped)) =
                (via.iter().position(|v| v == "direct"), direct_as.get(perm))
            {
                via.splice(i..=i, scoped.iter().cloned());
            }
            EffectivePermission {
                key: keys
                    .get(perm)
                    .map_or_else(|| format!("permission #{perm}"), |k| k.to_string()),
                via,
            }
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

#[derive(Debug, Clone, Deserialize, TS)]
pub struct WhoCanRequest {
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Holding {
    pub login: String,
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
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
        store::role_members(db, m, &granting, r.clock().now_naive()),
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

/// The whole directory, read in a handful of concurrent bulk queries.
pub(crate) struct Loaded {
    pub users: Vec<User>,
    pub grants: Vec<RoleGrant>,
    pub direct: Vec<DirectGrant>,
    pub roles: Vec<Role>,
    pub permissions: Vec<Permission>,
    pub model: RoleModel,
}

/// The whole directory, with the grants current at this moment of the context's clock.
pub(crate) async fn load(r: &Reader<'_>) -> Result<Loaded> {
    load_keyed(r, None).await
}

/// [`load`], each grant with its row's `key` columns when given (a campaign's launch).
pub(crate) async fn load_keyed(r: &Reader<'_>, key: Option<&[String]>) -> Result<Loaded> {
    let (db, m) = (r.db(), r.mapping()?);
    let now = r.clock().now_naive();
    let (catalog, users, grants, direct) = futures_util::try_join!(
        role_catalog(r),
        async { Ok(store::users(db, m, &UserFilter::default()).await?) },
        async {
            Ok(match key {
                Some(key) => store::role_grants_keyed(db, m, now, key).await?,
                None => store::role_grants(db, m, &GrantsOf::All, now).await?,
            })
        },
        async { Ok(store::direct_grants(db, m, None).await?) },
    )?;
    Ok(Loaded {
        users,
        grants,
        direct,
        roles: catalog.roles,
        permissions: catalog.permissions,
        model: catalog.model,
    })
}

impl Loaded {
    /// The names of the roles each person holds: what a job function's `match = { role }`
    /// is judged on. A scoped grant is held by its name and as `name @ scope`, so a policy
    /// matches `support` anywhere or `support @ team 7` there only.
    pub fn roles_by_user(&self) -> HashMap<UserId, Vec<String>> {
        let names: HashMap<RoleId, &str> =
            self.roles.iter().map(|r| (r.id, r.name.as_str())).collect();
        let mut out: HashMap<UserId, Vec<String>> = HashMap::new();
        for g in &self.grants {
            if let Some(n) = names.get(&g.role) {
                let held = out.entry(g.user).or_default();
                if !held.iter().any(|h| h == n) {
                    held.push((*n).to_string());
                }
                if !g.scope.is_everywhere() {
                    held.push(g.scope.qualify(n));
                }
            }
        }
        out
    }

    pub fn effective(
        &self,
        semantics: warden_core::mapping::Semantics,
    ) -> HashMap<UserId, Effective> {
        effective_for_all(
            &self.users,
            semantics,
            &self.model,
            &self.grants,
            &self.direct,
            &self.permissions,
        )
    }
}

/// Reads the whole directory and nothing more (users, grants, direct grants, the role
/// model): the floor under every whole-directory use case, which benchmarks print beside
/// them. Returns how many users and grants were read.
pub async fn read_directory(ctx: &Ctx) -> Result<(usize, usize)> {
    let r = ctx.as_reader("reading the directory")?;
    let loaded = load(&r).await?;
    Ok((
        loaded.users.len(),
        loaded.grants.len() + loaded.direct.len(),
    ))
}

/// Effective permissions of every user, computed in one pass over the whole directory
/// (a handful of bulk reads, no query per user).
pub async fn effective_for_everyone(ctx: &Ctx) -> Result<HashMap<UserId, Effective>> {
    let r = ctx.as_reader("computing everyone's access")?;
    let loaded = load(&r).await?;
    Ok(loaded.effective(r.mapping()?.mapping().semantics))
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DepartmentStats {
    pub department: String,
    pub staff: usize,
    pub active: usize,
    /// Distinct roles held by the department's staff.
    pub roles: usize,
    /// Current role grants to the department's staff.
    pub grants: usize,
}

/// The dashboard's headline numbers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DashboardResponse {
    pub database: String,
    pub staff: usize,
    pub active: usize,
    pub roles: usize,
    pub permissions: usize,
    pub superusers: usize,
    /// Active staff without MFA, where the mapping knows.
    pub without_mfa: Option<usize>,
    pub departments: Vec<DepartmentStats>,
}

/// Staff, roles and grants per department, and the headline counts, aggregated by the
/// database (a dashboard over 100,000 staff reads a few dozen rows, not the directory).
pub async fn dashboard(ctx: &Ctx) -> Result<DashboardResponse> {
    let r = ctx.as_reader("reading the dashboard")?;
    let (db, m) = (r.db(), r.mapping()?);
    let (departments, (superusers, without_mfa), roles, permissions) = futures_util::try_join!(
        store::department_counts(db, m, r.clock().now_naive()),
        store::headline_counts(db, m),
        store::roles(db, m),
        store::permissions(db, m),
    )?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let mut departments: Vec<DepartmentStats> = departments
        .into_iter()
        .map(|d| DepartmentStats {
            department: d.department.unwrap_or_else(|| "(none)".into()),
            staff: count(d.staff),
            active: count(d.active),
            roles: count(d.roles),
            grants: count(d.grants),
        })
        .collect();
    departments.sort_by(|a, b| a.department.cmp(&b.department));
    Ok(DashboardResponse {
        database: ctx.target().to_string(),
        staff: departments.iter().map(|d| d.staff).sum(),
        active: departments.iter().map(|d| d.active).sum(),
        roles: roles.len(),
        permissions: permissions.len(),
        superusers: count(superusers),
        without_mfa: without_mfa.map(count),
        departments,
    })
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RoleRequest {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RolePermission {
    pub key: String,
    /// The parent role it is inherited from, when not granted to this role itself.
    pub inherited_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RoleMember {
    pub login: String,
    pub name: Option<String>,
    pub department: Option<String>,
    pub status: String,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RoleDetail {
    pub id: i64,
    pub name: String,
    pub owner: Option<String>,
    pub inherits: Vec<String>,
    pub permissions: Vec<RolePermission>,
    pub members: Vec<RoleMember>,
}

/// One role: its owner, permissions (with where inherited ones come from) and members.
pub async fn role(ctx: &Ctx, req: RoleRequest) -> Result<RoleDetail> {
    let r = ctx.as_reader("reading a role")?;
    let (db, m) = (r.db(), r.mapping()?);
    let catalog = role_catalog(&r).await?;
    let role = catalog
        .roles
        .iter()
        .find(|x| x.name == req.name)
        .ok_or_else(|| Error::NotFound(format!("no role `{}`", req.name)))?;
    let parents = store::role_hierarchy(db, m).await?;
    let own = store::role_permissions(db, m).await?;
    let names: HashMap<RoleId, &str> = catalog
        .roles
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let keys: HashMap<PermissionId, &str> = catalog
        .permissions
        .iter()
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let ancestors = ancestors_nearest_first(&parents, role.id);
    let mut permissions: Vec<RolePermission> = catalog
        .model
        .permissions_of(role.id)
        .iter()
        .map(|p| {
            let granted_here = own.iter().any(|(r, q)| *r == role.id && q == p);
            let inherited_from = (!granted_here)
                .then(|| {
                    ancestors
                        .iter()
                        .find(|a| own.iter().any(|(r, q)| r == *a && q == p))
                        .and_then(|a| names.get(a).map(|n| n.to_string()))
                })
                .flatten();
            RolePermission {
                key: keys
                    .get(p)
                    .map_or_else(|| format!("permission #{p}"), |k| k.to_string()),
                inherited_from,
            }
        })
        .collect();
    permissions.sort_by(|a, b| a.key.cmp(&b.key));
    let grants = store::role_grants(
        db,
        m,
        &GrantsOf::Roles(vec![role.id]),
        r.clock().now_naive(),
    )
    .await?;
    let ids: std::collections::HashSet<UserId> = grants
        .iter()
        .flat_map(|g| [Some(g.user), g.granted_by])
        .flatten()
        .collect();
    let people: HashMap<UserId, User> = if ids.is_empty() {
        HashMap::new()
    } else {
        store::users(db, m, &UserFilter::default())
            .await?
            .into_iter()
            .filter(|u| ids.contains(&u.id))
            .map(|u| (u.id, u))
            .collect()
    };
    let mut members: Vec<RoleMember> = grants
        .iter()
        .filter_map(|g| {
            let u = people.get(&g.user)?;
            Some(RoleMember {
                login: u.login.clone(),
                name: u.name.clone(),
                department: u.department.clone(),
                status: u.status.clone(),
                granted_at: g.granted_at.map(utc),
                granted_by: g
                    .granted_by
                    .and_then(|b| people.get(&b))
                    .map(|b| b.login.clone()),
            })
        })
        .collect();
    members.sort_by(|a, b| a.login.cmp(&b.login));
    Ok(RoleDetail {
        id: role.id.0,
        name: role.name.clone(),
        owner: role.owner.clone(),
        inherits: parents
            .iter()
            .filter(|(c, _)| *c == role.id)
            .filter_map(|(_, p)| names.get(p).map(|n| n.to_string()))
            .collect(),
        permissions,
        members,
    })
}

/// The roles `role` inherits from, nearest first (breadth-first over the hierarchy).
fn ancestors_nearest_first(parents: &[(RoleId, RoleId)], role: RoleId) -> Vec<RoleId> {
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([role]);
    let mut seen = BTreeSet::from([role]);
    while let Some(r) = queue.pop_front() {
        for (_, p) in parents.iter().filter(|(c, _)| *c == r) {
            if seen.insert(*p) {
                out.push(*p);
                queue.push_back(*p);
            }
        }
    }
    out
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PermissionsResponse {
    pub permissions: Vec<String>,
}

/// Every permission key, for pickers.
pub async fn permissions(ctx: &Ctx) -> Result<PermissionsResponse> {
    let r = ctx.as_reader("listing permissions")?;
    let mut keys: Vec<String> = store::permissions(r.db(), r.mapping()?)
        .await?
        .into_iter()
        .map(|p| p.key)
        .collect();
    keys.sort();
    Ok(PermissionsResponse { permissions: keys })
}
