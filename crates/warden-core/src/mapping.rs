//! Mappings: where an application keeps its users, roles, permissions and access log.
//!
//! Warden never assumes table names. A mapping names, for each logical entity, a table and
//! its columns. It ships as presets (`reference`, `django`) or is written in TOML. This module
//! parses it and checks that every name is shaped like an identifier; the store then checks
//! each one against information_schema before any query is built from it.

use serde::{Deserialize, Serialize};

pub use crate::error::{MappingProblem, summarize};
use crate::ident;

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
}

fn yes() -> bool {
    true
}

impl Default for Semantics {
    fn default() -> Self {
        Self {
            inactive_users_hold_nothing: true,
            superuser_has_all_permissions: true,
        }
    }
}

/// A table section's row filter: each column equal to its value, or to one of a list of
/// values. Columns are checked like every mapped column; values are always bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowFilter(pub std::collections::BTreeMap<String, FilterValue>);

impl RowFilter {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a filtered column must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    One(Scalar),
    AnyOf(Vec<Scalar>),
}

impl FilterValue {
    /// The values the column may hold (one, or the list).
    pub fn values(&self) -> &[Scalar] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::AnyOf(vs) => vs,
        }
    }
}

/// A filter's value, as TOML writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
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
}

/// What a column must hold, checked against its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An integer key.
    Id,
    /// Anything readable as text.
    Text,
    /// A date or time.
    Time,
    /// A boolean or number read as a flag.
    Flag,
}

impl ColumnKind {
    /// Whether a MySQL `DATA_TYPE` (information_schema.COLUMNS) fits this kind.
    pub fn accepts(self, data_type: &str) -> bool {
        let t = data_type.to_ascii_lowercase();
        match self {
            Self::Id => matches!(
                t.as_str(),
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
            ),
            Self::Text => true,
            Self::Time => matches!(t.as_str(), "date" | "datetime" | "timestamp"),
            Self::Flag => matches!(
                t.as_str(),
                "tinyint"
                    | "smallint"
                    | "mediumint"
                    | "int"
                    | "integer"
                    | "bigint"
                    | "bit"
                    | "boolean"
                    | "bool"
            ),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Id => "an integer id",
            Self::Text => "text",
            Self::Time => "a date or time",
            Self::Flag => "a boolean or number",
        }
    }
}

/// One column a mapping refers to, named by the mapping field that refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef<'a> {
    /// The mapping field, such as `users.last_login`.
    pub field: String,
    pub table: &'a str,
    pub column: &'a str,
    pub kind: ColumnKind,
}

/// The mapping presets that ship with Warden.
pub const PRESETS: [&str; 3] = ["reference", "django", "laravel-permission"];

impl Mapping {
    /// The grant table remediation works on: the user-role table.
    pub fn grant_target(&self) -> crate::remediation::GrantTarget {
        crate::remediation::GrantTarget {
            filtered: !self.user_roles.filter.is_empty(),
            table: self.user_roles.table.clone(),
            user: self.user_roles.user.clone(),
            role: self.user_roles.role.clone(),
            granted_at: self.user_roles.granted_at.clone(),
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        let text = match name {
            "reference" => include_str!("presets/reference.toml"),
            "django" => include_str!("presets/django.toml"),
            "laravel-permission" => include_str!("presets/laravel-permission.toml"),
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
        out.retain(|(_, _, f)| !f.is_empty());
        out
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

/// The columns of a mapping as they are collected, in the order the mapping declares them.
struct Refs<'a>(Vec<ColumnRef<'a>>);

impl<'a> Refs<'a> {
    /// Adds a column; an optional one the mapping leaves out is skipped.
    fn add(&mut self, field: &str, table: &'a str, column: Option<&'a str>, kind: ColumnKind) {
        if let Some(column) = column {
            self.0.push(ColumnRef {
                field: field.to_string(),
                table,
                column,
                kind,
            });
        }
    }
}

impl UsersMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        let t = self.table.as_str();
        out.add("users.id", t, Some(&self.id), Id);
        out.add("users.login", t, Some(&self.login), Text);
        for c in self.name.iter().flat_map(Columns::names) {
            out.add("users.name", t, Some(c), Text);
        }
        out.add("users.email", t, self.email.as_deref(), Text);
        out.add("users.department", t, self.department.as_deref(), Text);
        out.add("users.title", t, self.title.as_deref(), Text);
        out.add("users.manager", t, self.manager.as_deref(), Id);
        out.add("users.status", t, self.status.as_deref(), Text);
        out.add("users.active", t, self.active.as_deref(), Flag);
        out.add("users.last_login", t, self.last_login.as_deref(), Time);
        out.add("users.superuser", t, self.superuser.as_deref(), Flag);
        out.add("users.mfa", t, self.mfa.as_deref(), Flag);
        let hash = self.password_hash.as_deref();
        out.add("users.password_hash", t, hash, Text);
        out.add("users.created", t, self.created.as_deref(), Time);
    }
}

impl RolesMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        out.add("roles.id", &self.table, Some(&self.id), Id);
        out.add("roles.name", &self.table, Some(&self.name), Text);
        out.add("roles.owner", &self.table, self.owner.as_deref(), Id);
    }
}

impl RoleHierarchyMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        out.add(
            "role_hierarchy.role",
            &self.table,
            Some(&self.role),
            ColumnKind::Id,
        );
        out.add(
            "role_hierarchy.parent",
            &self.table,
            Some(&self.parent),
            ColumnKind::Id,
        );
    }
}

impl PermissionsMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        out.add("permissions.id", &self.table, Some(&self.id), Id);
        out.add("permissions.key", &self.table, Some(&self.key), Text);
        if let Some(k) = &self.key_prefix {
            let fk = Some(k.foreign_key.as_str());
            out.add("permissions.key_prefix.foreign_key", &self.table, fk, Id);
            out.add("permissions.key_prefix.id", &k.table, Some(&k.id), Id);
            out.add(
                "permissions.key_prefix.column",
                &k.table,
                Some(&k.column),
                Text,
            );
        }
    }
}

impl RolePermissionsMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        let t = self.table.as_str();
        out.add("role_permissions.role", t, Some(&self.role), ColumnKind::Id);
        out.add(
            "role_permissions.permission",
            t,
            Some(&self.permission),
            ColumnKind::Id,
        );
    }
}

impl UserRolesMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        let t = self.table.as_str();
        out.add("user_roles.user", t, Some(&self.user), Id);
        out.add("user_roles.role", t, Some(&self.role), Id);
        out.add("user_roles.granted_at", t, self.granted_at.as_deref(), Time);
        out.add("user_roles.granted_by", t, self.granted_by.as_deref(), Id);
        out.add("user_roles.expires_at", t, self.expires_at.as_deref(), Time);
    }
}

impl UserPermissionsMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        let t = self.table.as_str();
        out.add("user_permissions.user", t, Some(&self.user), Id);
        out.add("user_permissions.permission", t, Some(&self.permission), Id);
        out.add(
            "user_permissions.granted_at",
            t,
            self.granted_at.as_deref(),
            Time,
        );
        out.add(
            "user_permissions.granted_by",
            t,
            self.granted_by.as_deref(),
            Id,
        );
    }
}

impl AccessLogMap {
    fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        let t = self.table.as_str();
        out.add("access_log.id", t, Some(&self.id), Id);
        out.add("access_log.time", t, Some(&self.time), Time);
        out.add("access_log.user", t, Some(&self.user), Id);
        out.add("access_log.action", t, Some(&self.action), Text);
        out.add(
            "access_log.resource_type",
            t,
            self.resource_type.as_deref(),
            Text,
        );
        out.add(
            "access_log.resource_id",
            t,
            self.resource_id.as_deref(),
            Text,
        );
        out.add("access_log.outcome", t, self.outcome.as_deref(), Text);
        out.add(
            "access_log.client_address",
            t,
            self.client_address.as_deref(),
            Text,
        );
        out.add("access_log.user_agent", t, self.user_agent.as_deref(), Text);
    }
}

impl RelationMap {
    /// `name` is the relation's key under `[relations]` (`tickets`, `accounts`).
    fn columns<'a>(&'a self, name: &str, out: &mut Refs<'a>) {
        let (t, id) = (self.table.as_str(), ColumnKind::Id);
        out.add(
            &format!("relations.{name}.customer"),
            t,
            Some(&self.customer),
            id,
        );
        out.add(&format!("relations.{name}.user"), t, Some(&self.user), id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_are_well_shaped() {
        for name in PRESETS {
            let m = Mapping::preset(name).unwrap_or_else(|| panic!("preset {name}"));
            assert_eq!(m.check_shape(), vec![], "{name}");
            assert!(
                m.columns()
                    .iter()
                    .all(|c| !c.table.is_empty() && !c.column.is_empty())
            );
        }
        assert!(Mapping::preset("nope").is_none());
    }

    #[test]
    fn django_preset_keys_permissions_by_app_label() {
        let m = Mapping::preset("django").unwrap();
        let prefix = m.permissions.key_prefix.unwrap();
        assert_eq!(prefix.table, "django_content_type");
        assert_eq!(prefix.column, "app_label");
        assert_eq!(prefix.separator, ".");
        assert_eq!(m.users.active.as_deref(), Some("is_active"));
        assert!(m.semantics.superuser_has_all_permissions);
    }

    #[test]
    fn injection_in_identifiers_is_a_shape_problem() {
        let mut m = Mapping::preset("reference").unwrap();
        m.users.table = "staff_users`; DROP TABLE roles; --".into();
        m.users.last_login = Some("last_login) OR 1=1 --".into());
        let problems = m.check_shape();
        assert!(
            problems
                .iter()
                .any(|p| p.field == "users.id" && p.column.is_none())
        );
        assert!(problems.iter().any(|p| p.field == "users.last_login"));
    }

    #[test]
    fn parse_errors_name_line_and_column() {
        let err = Mapping::from_toml("[users]\ntable = \"u\"\nid = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let mut text = include_str!("presets/reference.toml").to_string();
        text.push_str("\n[colour]\nred = 1\n");
        let err = Mapping::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn column_kinds_match_mysql_types() {
        assert!(ColumnKind::Id.accepts("bigint"));
        assert!(!ColumnKind::Id.accepts("varchar"));
        assert!(ColumnKind::Time.accepts("TIMESTAMP"));
        assert!(ColumnKind::Flag.accepts("tinyint"));
        assert!(ColumnKind::Text.accepts("json"));
    }
}
