//! Who can do what: the application's users, roles and permissions as plain data, and the
//! one-pass computation of every user's effective permissions with their provenance.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::mapping::Semantics;

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The application's id of a ", $what, ".")]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(UserId, "staff user");
id_type!(RoleId, "role");
id_type!(PermissionId, "permission");

/// A staff user of the application, as the mapping reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub manager_id: Option<UserId>,
    /// The manager's login, where the mapping has managers.
    pub manager: Option<String>,
    /// The application's status text (`active`, `suspended`…), or `active`/`inactive`.
    pub status: String,
    pub active: bool,
    pub superuser: bool,
    pub mfa: Option<bool>,
    pub last_login: Option<NaiveDateTime>,
    pub created: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub owner_id: Option<UserId>,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub id: PermissionId,
    pub key: String,
}

/// A user's membership of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub user: UserId,
    pub role: RoleId,
    pub granted_at: Option<NaiveDateTime>,
    pub granted_by: Option<UserId>,
    /// Where the grant holds (`support @ team 7`); empty: everywhere.
    #[serde(default, skip_serializing_if = "GrantScope::is_everywhere")]
    pub scope: GrantScope,
    /// The grant row's key (JSON: column -> value), read only for a campaign's launch:
    /// remediation removes exactly the row it names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Where a grant holds: the grant table's scope columns (`user_roles.scope`) with the
/// row's values, in the mapping's order (a NULL value: not scoped by that column).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GrantScope(pub Vec<(String, Option<String>)>);

impl GrantScope {
    /// A grant whose scope columns are all NULL (or that has none) holds everywhere.
    pub fn is_everywhere(&self) -> bool {
        self.0.iter().all(|(_, v)| v.is_none())
    }

    /// `team 7`, `Forum 12`, `tenant 3, team 7`: each scope column with its value. A `*_id`
    /// column goes by its stem (`team_id` 7: `team 7`); a `*_type` column followed by its
    /// `*_id` by the type and the id (`Forum` and 12: `Forum 12`; `App\Models\Project 12`;
    /// with no id, the type alone: `Forum`), the type whole so that two types never read
    /// alike; another column as `column value`. None when the grant holds everywhere.
    pub fn label(&self) -> Option<String> {
        let cols = &self.0;
        let mut parts = Vec::new();
        let mut i = 0;
        while i < cols.len() {
            let (column, value) = &cols[i];
            i += 1;
            let Some(value) = value else { continue };
            if let Some(stem) = column.strip_suffix("_type")
                && let Some((next, id)) = cols.get(i)
                && next.strip_suffix("_id") == Some(stem)
            {
                i += 1;
                parts.push(match id {
                    Some(id) => format!("{value} {id}"),
                    None => value.to_string(),
                });
                continue;
            }
            parts.push(match column.strip_suffix("_id") {
                Some(stem) if !stem.is_empty() => format!("{stem} {value}"),
                _ => format!("{column} {value}"),
            });
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// `name @ scope`, or `name` for a grant that holds everywhere.
    pub fn qualify(&self, name: &str) -> String {
        match self.label() {
            Some(scope) => format!("{name} @ {scope}"),
            None => name.to_string(),
        }
    }
}

/// A permission granted to a user directly, outside any role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectGrant {
    pub user: UserId,
    pub permission: PermissionId,
    /// Where the grant holds; empty: everywhere.
    #[serde(default, skip_serializing_if = "GrantScope::is_everywhere")]
    pub scope: GrantScope,
}

/// Where an effective permission comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A role the user holds (the permission may be inherited by that role from a parent).
    Role(RoleId),
    /// A direct grant to the user.
    Direct,
    /// The user is an active superuser, who holds everything.
    Superuser,
}

/// The role model: each role's permissions including everything it inherits.
#[derive(Debug, Clone, Default)]
pub struct RoleModel {
    closure: HashMap<RoleId, Vec<PermissionId>>,
}

impl RoleModel {
    /// Builds the closure of every role over the hierarchy. `parents` pairs are
    /// (role, parent): the role inherits all of the parent's permissions. Cycles in the
    /// application's hierarchy are tolerated (each role is visited once).
    pub fn new(
        roles: impl IntoIterator<Item = RoleId>,
        parents: &[(RoleId, RoleId)],
        role_permissions: &[(RoleId, PermissionId)],
    ) -> Self {
        let mut own: HashMap<RoleId, Vec<PermissionId>> = HashMap::new();
        for (role, perm) in role_permissions {
            own.entry(*role).or_default().push(*perm);
        }
        let mut up: HashMap<RoleId, Vec<RoleId>> = HashMap::new();
        for (role, parent) in parents {
            up.entry(*role).or_default().push(*parent);
        }
        let mut ids: BTreeSet<RoleId> = roles.into_iter().collect();
        ids.extend(own.keys().copied());
        ids.extend(parents.iter().flat_map(|(r, p)| [*r, *p]));
        let closure = ids
            .into_iter()
            .map(|role| {
                let mut seen = HashSet::from([role]);
                let mut stack = vec![role];
                let mut perms = BTreeSet::new();
                while let Some(r) = stack.pop() {
                    perms.extend(own.get(&r).into_iter().flatten().copied());
                    for p in up.get(&r).into_iter().flatten() {
                        if seen.insert(*p) {
                            stack.push(*p);
                        }
                    }
                }
                (role, perms.into_iter().collect())
            })
            .collect();
        Self { closure }
    }

    /// Every permission of a role, inherited ones included.
    pub fn permissions_of(&self, role: RoleId) -> &[PermissionId] {
        self.closure.get(&role).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every role that holds `permission`, directly or by inheritance.
    pub fn roles_granting(&self, permission: PermissionId) -> Vec<RoleId> {
        let mut roles: Vec<RoleId> = self
            .closure
            .iter()
            .filter(|(_, perms)| perms.binary_search(&permission).is_ok())
            .map(|(r, _)| *r)
            .collect();
        roles.sort();
        roles
    }
}

/// A user's effective permissions: each permission with every way it is held.
pub type Effective = BTreeMap<PermissionId, BTreeSet<Via>>;

/// What a user effectively holds, given the application's semantics.
///
/// Inactive users hold nothing where the application says so; active superusers hold every
/// permission (marked `Superuser`) on top of what their grants give them.
pub fn effective_permissions(
    user: &User,
    semantics: Semantics,
    model: &RoleModel,
    roles: impl IntoIterator<Item = RoleId>,
    direct: impl IntoIterator<Item = PermissionId>,
    all_permissions: &[Permission],
) -> Effective {
    let mut out = Effective::new();
    if semantics.inactive_users_hold_nothing && !user.active {
        return out;
    }
    for role in roles {
        for perm in model.permissions_of(role) {
            out.entry(*perm).or_default().insert(Via::Role(role));
        }
    }
    for perm in direct {
        out.entry(perm).or_default().insert(Via::Direct);
    }
    if semantics.superuser_has_all_permissions && user.superuser && user.active {
        for perm in all_permissions {
            out.entry(perm.id).or_default().insert(Via::Superuser);
        }
    }
    out
}

/// Effective permissions of every user in one pass over the whole directory, without a
/// query per user.
pub fn effective_for_all(
    users: &[User],
    semantics: Semantics,
    model: &RoleModel,
    grants: &[RoleGrant],
    direct: &[DirectGrant],
    all_permissions: &[Permission],
) -> HashMap<UserId, Effective> {
    let mut roles_of: HashMap<UserId, Vec<RoleId>> = HashMap::with_capacity(users.len());
    for g in grants {
        roles_of.entry(g.user).or_default().push(g.role);
    }
    let mut direct_of: HashMap<UserId, Vec<PermissionId>> = HashMap::new();
    for d in direct {
        direct_of.entry(d.user).or_default().push(d.permission);
    }
    users
        .iter()
        .map(|u| {
            let eff = effective_permissions(
                u,
                semantics,
                model,
                roles_of.get(&u.id).into_iter().flatten().copied(),
                direct_of.get(&u.id).into_iter().flatten().copied(),
                all_permissions,
            );
            (u.id, eff)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::GrantScope;

    fn scope(pairs: &[(&str, Option<&str>)]) -> GrantScope {
        GrantScope(
            (pairs.iter())
                .map(|(c, v)| (c.to_string(), v.map(str::to_string)))
                .collect(),
        )
    }

    #[test]
    fn a_scope_reads_as_its_team_tenant_or_resource() {
        let cases = [
            (scope(&[("team_id", Some("7"))]), Some("team 7")),
            (
                scope(&[("tenant_id", Some("3")), ("team_id", Some("7"))]),
                Some("tenant 3, team 7"),
            ),
            (
                scope(&[
                    ("resource_type", Some("App\\Models\\Project")),
                    ("resource_id", Some("12")),
                ]),
                Some("App\\Models\\Project 12"),
            ),
            (
                scope(&[("resource_type", Some("Forum")), ("resource_id", None)]),
                Some("Forum"),
            ),
            (scope(&[("region", Some("eu"))]), Some("region eu")),
            (
                scope(&[("resource_type", None), ("resource_id", None)]),
                None,
            ),
            (GrantScope::default(), None),
        ];
        for (s, want) in cases {
            assert_eq!(s.label().as_deref(), want, "{s:?}");
            assert_eq!(s.is_everywhere(), want.is_none());
        }
        assert_eq!(
            scope(&[("team_id", Some("7"))]).qualify("support"),
            "support @ team 7"
        );
        assert_eq!(GrantScope::default().qualify("support"), "support");
    }

    use super::*;

    fn user(id: i64, active: bool, superuser: bool) -> User {
        User {
            id: UserId(id),
            login: format!("u{id}"),
            name: None,
            email: None,
            department: None,
            title: None,
            manager_id: None,
            manager: None,
            status: if active { "active" } else { "inactive" }.into(),
            active,
            superuser,
            mfa: None,
            last_login: None,
            created: None,
        }
    }

    fn perms(ids: &[i64]) -> Vec<Permission> {
        ids.iter()
            .map(|i| Permission {
                id: PermissionId(*i),
                key: format!("p{i}"),
            })
            .collect()
    }

    const R_AGENT: RoleId = RoleId(1);
    const R_LEAD: RoleId = RoleId(2);
    const R_BILLING: RoleId = RoleId(3);

    fn model() -> RoleModel {
        // lead inherits agent; agent: 10, 11; lead: 12; billing: 13.
        RoleModel::new(
            [R_AGENT, R_LEAD, R_BILLING],
            &[(R_LEAD, R_AGENT)],
            &[
                (R_AGENT, PermissionId(10)),
                (R_AGENT, PermissionId(11)),
                (R_LEAD, PermissionId(12)),
                (R_BILLING, PermissionId(13)),
            ],
        )
    }

    #[test]
    fn inherited_permissions_come_via_the_held_role() {
        let m = model();
        let eff = effective_permissions(
            &user(1, true, false),
            Semantics::default(),
            &m,
            [R_LEAD],
            [],
            &perms(&[10, 11, 12, 13]),
        );
        let keys: Vec<i64> = eff.keys().map(|p| p.0).collect();
        assert_eq!(keys, vec![10, 11, 12]);
        assert!(
            eff.values()
                .all(|v| v == &BTreeSet::from([Via::Role(R_LEAD)]))
        );
    }

    #[test]
    fn several_sources_are_all_listed() {
        let eff = effective_permissions(
            &user(1, true, false),
            Semantics::default(),
            &model(),
            [R_AGENT, R_LEAD],
            [PermissionId(10)],
            &perms(&[10, 11, 12, 13]),
        );
        assert_eq!(
            eff[&PermissionId(10)],
            BTreeSet::from([Via::Role(R_AGENT), Via::Role(R_LEAD), Via::Direct])
        );
    }

    #[test]
    fn inactive_users_hold_nothing_when_the_app_says_so() {
        let all = perms(&[10, 11, 12, 13]);
        let inactive = user(1, false, true);
        let eff = effective_permissions(
            &inactive,
            Semantics::default(),
            &model(),
            [R_AGENT],
            [],
            &all,
        );
        assert!(eff.is_empty());
        let lax = Semantics {
            wider_roles_cover_narrower: false,
            inactive_users_hold_nothing: false,
            superuser_has_all_permissions: true,
        };
        let eff = effective_permissions(&inactive, lax, &model(), [R_AGENT], [], &all);
        assert_eq!(
            eff.len(),
            2,
            "grants count, but an inactive superuser is not all-powerful"
        );
    }

    #[test]
    fn active_superusers_hold_everything() {
        let all = perms(&[10, 11, 12, 13]);
        let eff = effective_permissions(
            &user(1, true, true),
            Semantics::default(),
            &model(),
            [R_AGENT],
            [],
            &all,
        );
        assert_eq!(eff.len(), 4);
        assert!(eff[&PermissionId(13)].contains(&Via::Superuser));
        assert!(eff[&PermissionId(10)].contains(&Via::Role(R_AGENT)));
    }

    #[test]
    fn cycles_in_the_hierarchy_terminate() {
        let m = RoleModel::new(
            [RoleId(1), RoleId(2)],
            &[(RoleId(1), RoleId(2)), (RoleId(2), RoleId(1))],
            &[(RoleId(1), PermissionId(1)), (RoleId(2), PermissionId(2))],
        );
        assert_eq!(
            m.permissions_of(RoleId(1)),
            &[PermissionId(1), PermissionId(2)]
        );
        assert_eq!(
            m.roles_granting(PermissionId(2)),
            vec![RoleId(1), RoleId(2)]
        );
    }

    #[test]
    fn roles_granting_follows_inheritance_downwards() {
        let m = model();
        assert_eq!(m.roles_granting(PermissionId(10)), vec![R_AGENT, R_LEAD]);
        assert_eq!(m.roles_granting(PermissionId(12)), vec![R_LEAD]);
        assert!(m.roles_granting(PermissionId(99)).is_empty());
    }

    #[test]
    fn one_pass_matches_per_user_computation() {
        let users = vec![
            user(1, true, false),
            user(2, true, false),
            user(3, false, false),
        ];
        let grants = vec![
            RoleGrant {
                user: UserId(1),
                role: R_LEAD,
                granted_at: None,
                granted_by: None,
                scope: Default::default(),
                key: None,
            },
            RoleGrant {
                user: UserId(2),
                role: R_BILLING,
                granted_at: None,
                granted_by: None,
                scope: Default::default(),
                key: None,
            },
            RoleGrant {
                user: UserId(3),
                role: R_AGENT,
                granted_at: None,
                granted_by: None,
                scope: Default::default(),
                key: None,
            },
        ];
        let direct = vec![DirectGrant {
            user: UserId(2),
            permission: PermissionId(10),
            scope: Default::default(),
        }];
        let all = perms(&[10, 11, 12, 13]);
        let m = model();
        let map = effective_for_all(&users, Semantics::default(), &m, &grants, &direct, &all);
        for u in &users {
            let roles = grants.iter().filter(|g| g.user == u.id).map(|g| g.role);
            let dir = direct
                .iter()
                .filter(|d| d.user == u.id)
                .map(|d| d.permission);
            let one = effective_permissions(u, Semantics::default(), &m, roles, dir, &all);
            assert_eq!(map[&u.id], one, "user {}", u.id);
        }
        assert!(map[&UserId(3)].is_empty());
    }
}
