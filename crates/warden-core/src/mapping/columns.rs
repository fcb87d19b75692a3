//! The columns a mapping refers to, each with the kind of value it must hold.

use super::*;

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

/// The columns of a mapping as they are collected, in the order the mapping declares them.
pub(super) struct Refs<'a>(pub(super) Vec<ColumnRef<'a>>);

impl<'a> Refs<'a> {
    /// Adds a column; an optional one the mapping leaves out is skipped.
    pub(super) fn add(
        &mut self,
        field: &str,
        table: &'a str,
        column: Option<&'a str>,
        kind: ColumnKind,
    ) {
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
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
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
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        out.add("roles.id", &self.table, Some(&self.id), Id);
        out.add("roles.name", &self.table, Some(&self.name), Text);
        out.add("roles.owner", &self.table, self.owner.as_deref(), Id);
        for (i, c) in self.scope.iter().enumerate() {
            out.add(&format!("roles.scope[{i}]"), &self.table, Some(c), Text);
        }
    }
}

impl RoleHierarchyMap {
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
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
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        out.add("permissions.id", &self.table, Some(&self.id), Id);
        out.add("permissions.key", &self.table, Some(&self.key), Text);
        for (i, c) in self.scope.iter().enumerate() {
            out.add(
                &format!("permissions.scope[{i}]"),
                &self.table,
                Some(c),
                Text,
            );
        }
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
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
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
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
        use ColumnKind::*;
        let t = self.table.as_str();
        out.add("user_roles.user", t, Some(&self.user), Id);
        out.add("user_roles.role", t, Some(&self.role), Id);
        out.add("user_roles.granted_at", t, self.granted_at.as_deref(), Time);
        out.add("user_roles.granted_by", t, self.granted_by.as_deref(), Id);
        out.add("user_roles.expires_at", t, self.expires_at.as_deref(), Time);
        for (i, c) in self.scope.iter().enumerate() {
            out.add(&format!("user_roles.scope[{i}]"), t, Some(c), Text);
        }
    }
}

impl UserPermissionsMap {
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
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
        for (i, c) in self.scope.iter().enumerate() {
            out.add(&format!("user_permissions.scope[{i}]"), t, Some(c), Text);
        }
    }
}

impl AccessLogMap {
    pub(super) fn columns<'a>(&'a self, out: &mut Refs<'a>) {
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
    pub(super) fn columns<'a>(&'a self, name: &str, out: &mut Refs<'a>) {
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
