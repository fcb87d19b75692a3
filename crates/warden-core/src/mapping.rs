//! Mappings: where an application keeps its users, roles, permissions and access log.
//!
//! Warden never assumes table names. A mapping names, for each logical entity, a table and
//! its columns. It ships as presets (`reference`, `django`) or is written in TOML. This module
//! parses it and checks that every name is shaped like an identifier; the store then checks
//! each one against information_schema before any query is built from it.

use serde::{Deserialize, Serialize};

pub use crate::error::{MappingProblem, summarize};
use crate::ident;

mod columns;
mod filter;

use columns::Refs;
pub use columns::{ColumnKind, ColumnRef};
pub use filter::{FilterValue, RowFilter, Scalar};

/// A whole mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub semantics: Semantics,
    pub users: UsersMap,
    pub roles: RolesMap,
    #[serde(default)]
    pub role_hierarchy: Option<RoleHierarchyMap>,
    pub permissions: PermissionsMap,
    pub role_permissions: RolePermissionsMap,
    pub user_roles: UserRolesMap,
    #[serde(default)]
    pub user_permissions: Option<UserPermissionsMap>,
    #[serde(default)]
    pub access_log: Option<AccessLogMap>,
    #[serde(default)]
    pub relations: Relations,
}

/// How the application itself interprets its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Semantics {
    /// An inactive user holds no permission at all, whatever their grants say (Django).
    #[serde(default = "yes")]
    pub inactive_users_hold_nothing: bool,
    /// An active superuser holds every permission (Django's `is_superuser`).
    #[serde(default = "yes")]
    pub superuser_has_all_permissions: bool,
    /// A role of wider scope gives what the same-named roles of narrower scope give
    /// (`roles.scope`; rolify's `has_role?`): a global `moderator` moderates every forum,
    /// a `moderator @ Forum` each forum. Wider: every scope column it sets is the narrower
    /// role's, and it leaves NULL one the narrower sets.
    #[serde(default)]
    pub wider_roles_cover_narrower: bool,
}

fn yes() -> bool {
    true
}

impl Default for Semantics {
    fn default() -> Self {
        Self {
            inactive_users_hold_nothing: true,
            superuser_has_all_permissions: true,
            wider_roles_cover_narrower: false,
        }
    }
}

/// One column, or several joined with a space (Django's first and last name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Self::One(c) => vec![c.as_str()],
            Self::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersMap {
    pub table: String,
    pub id: String,
    pub login: String,
    #[serde(default)]
    pub name: Option<Columns>,
    #[serde(default)]
    pub email: Option<String>,
    /// The job-function column (department or team).
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// The manager's user id.
    #[serde(default)]
    pub manager: Option<String>,
    /// A text status column; `active_values` say which values mean active.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default = "default_active_values")]
    pub active_values: Vec<String>,
    /// A boolean "is active" column, as an alternative to `status`.
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub last_login: Option<String>,
    #[serde(default)]
    pub superuser: Option<String>,
    #[serde(default)]
    pub mfa: Option<String>,
    /// The password hash, or a column naming its algorithm; only the algorithm is ever read.
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
}

fn default_active_values() -> Vec<String> {
    vec!["active".to_string()]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesMap {
    pub table: String,
    pub id: String,
    pub name: String,
    /// The owning user's id (reviewer of the role in access reviews).
    #[serde(default)]
    pub owner: Option<String>,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
    /// Where a role holds, for roles that carry their own resource (Rails' rolify:
    /// `["resource_type", "resource_id"]`): the role reads as `moderator @ Forum 1`, a role
    /// of the same name elsewhere (or everywhere, its scope NULL) is another role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

/// `role` inherits every permission of `parent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleHierarchyMap {
    pub table: String,
    pub role: String,
    pub parent: String,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionsMap {
    pub table: String,
    pub id: String,
    /// The column holding the permission's key (Django: `codename`).
    pub key: String,
    /// A prefix taken from a joined table (Django: `django_content_type.app_label` + `.`).
    #[serde(default)]
    pub key_prefix: Option<KeyPrefix>,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
    /// Where a permission holds, as `roles.scope`: its key reads as `key @ scope`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPrefix {
    pub table: String,
    /// The joined table's id column.
    pub id: String,
    /// The permissions table's column referring to `id`.
    pub foreign_key: String,
    /// The joined table's column holding the prefix.
    pub column: String,
    #[serde(default = "default_separator")]
    pub separator: String,
}

fn default_separator() -> String {
    ".".to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePermissionsMap {
    pub table: String,
    pub role: String,
    pub permission: String,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRolesMap {
    pub table: String,
    pub user: String,
    pub role: String,
    #[serde(default)]
    pub granted_at: Option<String>,
    /// The granting user's id.
    #[serde(default)]
    pub granted_by: Option<String>,
    /// A grant past this time no longer counts.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
    /// Where a grant holds (`scope = ["team_id"]`, `["resource_type", "resource_id"]`): the
    /// same role in two scopes is two grants, shown, judged, reviewed and exported as
    /// `support @ team 7`. A row whose scope columns are all NULL holds everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

impl UserRolesMap {
    /// Every column the section names, mapped and filter columns, each once.
    pub fn named_columns(&self) -> impl Iterator<Item = &str> {
        let mut seen = std::collections::BTreeSet::new();
        [&self.user, &self.role]
            .into_iter()
            .chain(&self.granted_at)
            .chain(&self.granted_by)
            .chain(&self.expires_at)
            .chain(&self.scope)
            .chain(self.filter.0.keys())
            .map(String::as_str)
            .filter(move |c| seen.insert(*c))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPermissionsMap {
    pub table: String,
    pub user: String,
    pub permission: String,
    #[serde(default)]
    pub granted_at: Option<String>,
    #[serde(default)]
    pub granted_by: Option<String>,
    /// Which rows of the table count (`where = { column = value, other = [a, b] }`): the
    /// rest are not the application's users/grants of this kind (another model type, another
    /// guard, another tenant) and are never read, judged or touched.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
    /// Where a direct grant holds, as `user_roles.scope`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogMap {
    pub table: String,
    pub id: String,
    pub time: String,
    pub user: String,
    pub action: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    /// Values of `outcome` that mean the access was allowed.
    #[serde(default = "default_allowed_values")]
    pub allowed_values: Vec<String>,
    #[serde(default)]
    pub client_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Which rows of the log are this application's accesses (a log shared with another
    /// service, a tenant's): the rest are never read, scanned or exported.
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
}

fn default_allowed_values() -> Vec<String> {
    vec!["allowed".to_string()]
}

/// Business relations that justify access to a customer (need-to-know).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relations {
    /// Support tickets: ticket -> customer and assigned agent.
    #[serde(default)]
    pub tickets: Option<RelationMap>,
    /// Customer accounts: account -> customer and owning sales rep.
    #[serde(default)]
    pub accounts: Option<RelationMap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationMap {
    pub table: String,
    pub customer: String,
    /// The user the relation entitles (ticket assignee, account owner).
    pub user: String,
    /// Which rows entitle (open tickets only: `where = { status = ["open", "pending"] }`).
    #[serde(default, rename = "where", skip_serializing_if = "RowFilter::is_empty")]
    pub filter: RowFilter,
}

/// A grant's scope names at most this many columns (a tenant, a team, a resource's type
/// and id).
pub const MAX_SCOPE_COLUMNS: usize = 4;

/// The mapping presets that ship with Warden.
pub const PRESETS: [&str; 5] = [
    "reference",
    "django",
    "laravel-permission",
    "laravel-permission-teams",
    "rolify",
];

impl Mapping {
    /// The grant table remediation works on: the user-role table.
    pub fn grant_target(&self) -> crate::remediation::GrantTarget {
        crate::remediation::GrantTarget {
            table: self.user_roles.table.clone(),
            user: self.user_roles.user.clone(),
            role: self.user_roles.role.clone(),
            granted_at: self.user_roles.granted_at.clone(),
            filter: self.user_roles.filter.clone(),
            mapped: self
                .user_roles
                .named_columns()
                .map(str::to_string)
                .collect(),
            key: None,
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        let text = match name {
            "reference" => include_str!("presets/reference.toml"),
            "django" => include_str!("presets/django.toml"),
            "laravel-permission" => include_str!("presets/laravel-permission.toml"),
            // The package's teams mode: the same tables, each pivot row scoped by `team_id`.
            "laravel-permission-teams" => {
                let mut m = Self::preset("laravel-permission")?;
                m.user_roles.scope = vec!["team_id".into()];
                if let Some(up) = &mut m.user_permissions {
                    up.scope = vec!["team_id".into()];
                }
                return Some(m);
            }
            "rolify" => include_str!("presets/rolify.toml"),
            _ => return None,
        };
        Self::from_toml(text).ok()
    }

    /// Parses a TOML mapping; the error says the line and column.
    pub fn from_toml(text: &str) -> crate::Result<Self> {
        toml::from_str(text).map_err(|e| crate::Error::Parse {
            what: "mapping".into(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }

    /// Every table section with a row filter: (section, table, filter).
    pub fn filters(&self) -> Vec<(&'static str, &str, &RowFilter)> {
        let mut out = vec![
            ("users", self.users.table.as_str(), &self.users.filter),
            ("roles", self.roles.table.as_str(), &self.roles.filter),
            (
                "permissions",
                self.permissions.table.as_str(),
                &self.permissions.filter,
            ),
            (
                "role_permissions",
                self.role_permissions.table.as_str(),
                &self.role_permissions.filter,
            ),
            (
                "user_roles",
                self.user_roles.table.as_str(),
                &self.user_roles.filter,
            ),
        ];
        if let Some(h) = &self.role_hierarchy {
            out.push(("role_hierarchy", h.table.as_str(), &h.filter));
        }
        if let Some(up) = &self.user_permissions {
            out.push(("user_permissions", up.table.as_str(), &up.filter));
        }
        if let Some(log) = &self.access_log {
            out.push(("access_log", log.table.as_str(), &log.filter));
        }
        for (section, relation) in [
            ("relations.tickets", &self.relations.tickets),
            ("relations.accounts", &self.relations.accounts),
        ] {
            if let Some(rel) = relation {
                out.push((section, rel.table.as_str(), &rel.filter));
            }
        }
        out.retain(|(_, _, f)| !f.is_empty());
        out
    }

    /// Whether `section` (of [`Mapping::filters`]) holds grants or the directory: what
    /// `mapping check` counts the ignored rows of (an access log's are not counted: it is
    /// large, and a filter there is about other services' accesses, not forgotten grants).
    pub fn is_directory_section(section: &str) -> bool {
        section != "access_log" && !section.starts_with("relations.")
    }

    /// Each filtered section's `where`, as evidence records it (`{"user_roles":
    /// {"model_type": "App\\Models\\User"}}`); None when nothing is filtered.
    pub fn filters_json(&self) -> Option<serde_json::Value> {
        let filters = self.filters();
        if filters.is_empty() {
            return None;
        }
        let map: serde_json::Map<String, serde_json::Value> = filters
            .into_iter()
            .map(|(section, _, f)| {
                let value = serde_json::to_value(f).unwrap_or(serde_json::Value::Null);
                (section.to_string(), value)
            })
            .collect();
        Some(serde_json::Value::Object(map))
    }

    /// Every column the mapping refers to, with the kind it must have.
    pub fn columns(&self) -> Vec<ColumnRef<'_>> {
        let mut out = Refs(Vec::new());
        for (section, table, filter) in self.filters() {
            for column in filter.0.keys() {
                out.0.push(ColumnRef {
                    field: format!("{section}.where.{column}"),
                    table,
                    column,
                    kind: ColumnKind::Text,
                });
            }
        }
        self.users.columns(&mut out);
        self.roles.columns(&mut out);
        if let Some(h) = &self.role_hierarchy {
            h.columns(&mut out);
        }
        self.permissions.columns(&mut out);
        self.role_permissions.columns(&mut out);
        self.user_roles.columns(&mut out);
        if let Some(up) = &self.user_permissions {
            up.columns(&mut out);
        }
        if let Some(l) = &self.access_log {
            l.columns(&mut out);
        }
        for (name, rel) in [
            ("tickets", &self.relations.tickets),
            ("accounts", &self.relations.accounts),
        ] {
            if let Some(rel) = rel {
                rel.columns(name, &mut out);
            }
        }
        out.0
    }

    /// Problems that can be seen without a database: names that are not identifiers, and
    /// combinations that make no sense. Nothing reaches a query unless this is empty.
    pub fn check_shape(&self) -> Vec<MappingProblem> {
        let mut problems = Vec::new();
        let mut seen_tables = std::collections::BTreeSet::new();
        for c in self.columns() {
            if seen_tables.insert(c.table)
                && let Err(e) = ident::check(c.table)
            {
                problems.push(MappingProblem {
                    field: c.field.clone(),
                    table: c.table.to_string(),
                    column: None,
                    message: format!("table name {:?} {e}", c.table),
                    suggestion: None,
                });
            }
            if let Err(e) = ident::check(c.column) {
                problems.push(MappingProblem {
                    field: c.field.clone(),
                    table: c.table.to_string(),
                    column: Some(c.column.to_string()),
                    message: format!("column name {:?} {e}", c.column),
                    suggestion: None,
                });
            }
        }
        let u = &self.users;
        if u.status.is_some() && u.active.is_some() {
            problems.push(MappingProblem {
                field: "users".into(),
                table: u.table.clone(),
                column: None,
                message: "set either `status` (with `active_values`) or `active`, not both".into(),
                suggestion: None,
            });
        }
        for (section, table, filter) in self.filters() {
            for (column, value) in &filter.0 {
                if value.values().is_empty() {
                    problems.push(MappingProblem {
                        field: format!("{section}.where.{column}"),
                        table: table.to_string(),
                        column: Some(column.clone()),
                        message: "an empty list matches no row: give at least one value".into(),
                        suggestion: None,
                    });
                }
            }
        }
        let scopes = [
            (
                "roles",
                &self.roles.table,
                &self.roles.scope,
                [&self.roles.id, &self.roles.name],
            ),
            (
                "permissions",
                &self.permissions.table,
                &self.permissions.scope,
                [&self.permissions.id, &self.permissions.key],
            ),
            (
                "user_roles",
                &self.user_roles.table,
                &self.user_roles.scope,
                [&self.user_roles.user, &self.user_roles.role],
            ),
        ]
        .into_iter()
        .chain(self.user_permissions.as_ref().map(|up| {
            (
                "user_permissions",
                &up.table,
                &up.scope,
                [&up.user, &up.permission],
            )
        }));
        for (section, table, scope, grant) in scopes {
            for (i, column) in scope.iter().enumerate() {
                let why = if grant.contains(&column) {
                    Some("is the grant's own user or role column, not where it holds")
                } else if scope[..i].contains(column) {
                    Some("is named twice")
                } else if i >= MAX_SCOPE_COLUMNS {
                    Some("is one scope column too many (four at most)")
                } else {
                    None
                };
                if let Some(why) = why {
                    problems.push(MappingProblem {
                        field: format!("{section}.scope[{i}]"),
                        table: table.clone(),
                        column: Some(column.clone()),
                        message: format!("`{column}` {why}"),
                        suggestion: None,
                    });
                }
            }
        }
        if u.status.is_some() && u.active_values.is_empty() {
            problems.push(MappingProblem {
                field: "users.active_values".into(),
                table: u.table.clone(),
                column: None,
                message: "at least one status value must mean active".into(),
                suggestion: None,
            });
        }
        problems
    }
}

#[cfg(test)]
mod tests;
