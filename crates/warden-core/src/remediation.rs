//! Remediation as the server allows it (DESIGN.md, "Who acts, and who enforces it"): no
//! console account, officers included, holds DELETE or INSERT on the application's grant
//! table. Two definer routines do it instead:
//!
//! - `warden_grant_remove(item)` removes the grant of one review item decided `revoke` in a
//!   campaign not yet closed, keeping each removed row (as JSON, column by column) in
//!   `warden_remediations`, and marks the item remediated. The row is found by the grant
//!   table's key as the item captured it from the row at launch (its primary key; with none,
//!   every mapped and filter column, when a unique key lies among them), and also by the
//!   user and role the item recorded and, where the mapping names one, the time of the
//!   grant (a grant made again since launch is untouched); only inside the mapping's
//!   `user_roles.where`. Each key and filter value is compared as the column's own type and
//!   collation, so at most the one row the key names can match; a table with no such key is
//!   refused (reading still works).
//! - `warden_grant_restore(remediation)` puts one kept row back, exactly as it was.
//!
//! The grant table itself is fixed by the administrator (`warden migrate`, from the
//! mapping) in `warden_grant_target`, which no console role may write: an officer cannot
//! point the routines at another table. Names are checked again inside the routines and
//! quoted; every value is bound (`EXECUTE … USING`).

use crate::ident;
use crate::mapping::{RowFilter, Scalar};
use crate::server_roles::{
    Dialect, Schemas, ServerNames, checked, literal, officer_check, procedure_head, record_call,
    signal,
};

pub const REMOVE_ROUTINE: &str = "warden_grant_remove";
pub const RESTORE_ROUTINE: &str = "warden_grant_restore";
pub const ROUTINES: [&str; 2] = [REMOVE_ROUTINE, RESTORE_ROUTINE];

/// The application's grant table remediation works on, as the mapping names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTarget {
    pub table: String,
    pub user: String,
    pub role: String,
    /// When the grant was made: with it, a row is removed only if it is still the grant
    /// the campaign reviewed (a grant made again since launch is another grant).
    pub granted_at: Option<String>,
    /// The mapping's `user_roles.where`: the routines touch no row outside it.
    pub filter: RowFilter,
    /// Every column the mapping names in the table (mapped and filter columns): the key
    /// of a table without a primary key ([`grant_key`]).
    pub mapped: Vec<String>,
    /// The columns that identify one grant, as `warden migrate` found them in the table's
    /// keys ([`GrantKey`]); `None` in a target read from a mapping alone.
    pub key: Option<GrantKey>,
}

/// How one grant row is identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantKey {
    /// These columns' values name exactly one row.
    Columns(Vec<String>),
    /// No key does (why, to tell the officer): remediation is refused.
    None(String),
}

impl GrantKey {
    pub fn columns(&self) -> Option<&[String]> {
        match self {
            Self::Columns(c) => Some(c),
            Self::None(_) => None,
        }
    }
}

impl GrantTarget {
    pub fn check(&self) -> crate::Result<()> {
        let key = self.key.as_ref().and_then(GrantKey::columns).unwrap_or(&[]);
        for name in [&self.table, &self.user, &self.role]
            .into_iter()
            .chain(self.granted_at.as_ref())
            .chain(self.filter.0.keys())
            .chain(key)
        {
            ident::check(name)
                .map_err(|e| crate::Error::Invalid(format!("grant table name {name:?} {e}")))?;
        }
        Ok(())
    }

    /// The filter as the routines read it ([`filter_json`]).
    pub fn filter_json(&self) -> Option<String> {
        filter_json(&self.filter)
    }

    /// The key's columns as the routines read them (a JSON array); None when no key
    /// identifies one grant.
    pub fn key_json(&self) -> Option<String> {
        let columns = self.key.as_ref()?.columns()?;
        Some(serde_json::Value::from(columns.to_vec()).to_string())
    }
}

/// A row filter as the routines read it: each column with the list of its values (a
/// boolean as 1 or 0, as MySQL stores it); None when nothing is filtered.
pub fn filter_json(filter: &RowFilter) -> Option<String> {
    if filter.is_empty() {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = (filter.0.iter())
        .map(|(column, value)| {
            let values = value.values().iter().map(|v| match v {
                Scalar::Int(i) => serde_json::Value::from(*i),
                Scalar::Bool(b) => serde_json::Value::from(i64::from(*b)),
                Scalar::Text(t) => serde_json::Value::from(t.as_str()),
            });
            (column.clone(), values.collect())
        })
        .collect();
    Some(serde_json::Value::Object(map).to_string())
}

/// The columns of a grant table that identify one grant, from its indexes: the primary
/// key; without one, a unique key among the mapped and filter columns (`mapped`) whose
/// columns are NOT NULL or are the grant's user and role (`grant`: the routines compare
/// those with `=` to the item's ids, which NULL never equals). Only the unique key's own
/// columns: a grant's expiry or granter changed since launch is still the grant reviewed.
/// Each key column, and each filter column (`filtered`), must be of a type the routines
/// compare exactly (integer, decimal, text with a collation, date or time of day).
pub fn grant_key(
    table: &str,
    indexes: &[Index],
    columns: &[Column],
    mapped: &[&str],
    grant: [&str; 2],
    filtered: &[&str],
) -> GrantKey {
    let comparable = |name: &str| {
        columns
            .iter()
            .find(|c| c.name == name)
            .is_some_and(|c| c.comparable())
    };
    let key: Vec<String> = match indexes.iter().find(|i| i.name == "PRIMARY") {
        Some(pk) => pk.columns.clone(),
        None => {
            let not_null = |name: &str| {
                grant.contains(&name) || columns.iter().any(|c| c.name == name && !c.nullable)
            };
            let inside = indexes.iter().find(|i| {
                i.unique && (i.columns.iter()).all(|c| mapped.contains(&c.as_str()) && not_null(c))
            });
            let Some(unique) = inside else {
                return GrantKey::None(format!(
                    "`{table}` has no primary key, nor a unique key among the mapped columns ({}) \
                     that NULL cannot repeat: no key names exactly one grant",
                    mapped.join(", ")
                ));
            };
            unique.columns.clone()
        }
    };
    if let Some(odd) = key.iter().find(|c| !comparable(c)) {
        return GrantKey::None(format!(
            "`{table}`.`{odd}` is part of the key that names one grant, and its type is not \
             one Warden compares exactly (integer, decimal, text, date or time)"
        ));
    }
    if let Some(odd) = filtered.iter().find(|c| !comparable(c)) {
        return GrantKey::None(format!(
            "`{table}`.`{odd}` is filtered (`where`), and its type is not one Warden \
             compares exactly (integer, decimal, text, date or time)"
        ));
    }
    GrantKey::Columns(key)
}

/// An index of a table, as information_schema.STATISTICS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// In the index's order.
    pub columns: Vec<String>,
}

/// A column of a table, as information_schema.COLUMNS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// DATA_TYPE, lower case.
    pub data_type: String,
    /// Whether it has a collation (text; binary strings have none).
    pub collated: bool,
    pub nullable: bool,
}

impl Column {
    /// Whether the routines compare a value with it exactly ([`typed`]'s cases).
    pub fn comparable(&self) -> bool {
        self.collated || EXACT_TYPES.contains(&self.data_type.as_str())
    }
}

const EXACT_TYPES: [&str; 10] = [
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "decimal",
    "date",
    "datetime",
    "timestamp",
    "time",
];

/// An identifier quoted inside SQL text built by the routine.
fn qi(expr: &str) -> String {
    format!("CONCAT('`', REPLACE({expr}, '`', '``'), '`')")
}

const IDENT_RE: &str = "'^[A-Za-z0-9_$]{1,64}$'";

/// Reads and checks the recorded grant target into `v_table`, `v_user_col`, `v_role_col`,
/// `v_granted_col`, `v_keys` (JSON array, or NULL) and `v_filter` (JSON object, or NULL).
fn target(gov: &str) -> String {
    format!(
        "SELECT table_name, user_column, role_column, granted_at_column, key_columns, row_filter \
         INTO v_table, v_user_col, v_role_col, v_granted_col, v_keys, v_filter \
         FROM {gov}.`warden_grant_target` WHERE id = 1;\n\
         IF v_table IS NULL OR v_table NOT REGEXP {IDENT_RE} OR v_user_col NOT REGEXP {IDENT_RE} \
         OR v_role_col NOT REGEXP {IDENT_RE} OR NOT (v_granted_col IS NULL OR v_granted_col REGEXP {IDENT_RE}) \
         OR NOT (v_keys IS NULL OR COALESCE(JSON_TYPE(v_keys) = 'ARRAY' AND JSON_LENGTH(v_keys) > 0, FALSE)) \
         OR NOT (v_filter IS NULL OR COALESCE(JSON_TYPE(v_filter) = 'OBJECT', FALSE)) \
         THEN\n{};\nEND IF;\n",
        signal(
            "no grant table is recorded: an administrator runs `warden migrate` with the mapping"
        )
    )
}

/// SQL that builds, at run time, the text of an expression reading the JSON value at `path`
/// (SQL giving the path) of the user variable `var` as text: NULL for JSON null, strings
/// unquoted, whatever their length (MySQL's JSON_VALUE stops at 512 characters).
fn json_text(var: &str, path: &str) -> String {
    format!(
        "CONCAT('(CASE WHEN JSON_TYPE(JSON_EXTRACT({var}, ', QUOTE({path}), ')) = ''NULL'' \
         THEN NULL ELSE JSON_UNQUOTE(JSON_EXTRACT({var}, ', QUOTE({path}), ')) END)')"
    )
}

/// Checks the column named by `v_col` and turns the SQL text in `v_val` (a [`json_text`])
/// into that value as the column's own type and collation: compared with the column, it
/// is equal exactly where the table's keys say two values are the same.
fn typed(app_literal: &str) -> String {
    format!(
        "IF v_col IS NULL OR v_col NOT REGEXP {IDENT_RE} THEN\n{bad_name};\nEND IF;\n\
         SET v_type = NULL, v_coltype = NULL, v_charset = NULL, v_collation = NULL;\n\
         SELECT LOWER(DATA_TYPE), LOWER(COLUMN_TYPE), CHARACTER_SET_NAME, COLLATION_NAME \
         INTO v_type, v_coltype, v_charset, v_collation FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = {app_literal} AND TABLE_NAME = v_table AND COLUMN_NAME = v_col;\n\
         SET v_val = CASE \
         WHEN v_charset REGEXP {IDENT_RE} AND v_collation REGEXP {IDENT_RE} \
         THEN CONCAT('CONVERT(', v_val, ' USING ', v_charset, ') COLLATE ', v_collation) \
         WHEN v_type IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint') \
         THEN CONCAT('CAST(', v_val, IF(v_coltype LIKE '%unsigned%', ' AS UNSIGNED)', ' AS SIGNED)')) \
         WHEN v_type = 'decimal' THEN CONCAT('CAST(', v_val, ' AS DECIMAL(65,30))') \
         WHEN v_type = 'date' THEN CONCAT('CAST(', v_val, ' AS DATE)') \
         WHEN v_type IN ('datetime', 'timestamp') THEN CONCAT('CAST(', v_val, ' AS DATETIME(6))') \
         WHEN v_type = 'time' THEN CONCAT('CAST(', v_val, ' AS TIME(6))') \
         ELSE NULL END;\n\
         IF v_val IS NULL THEN\n{odd_type};\nEND IF;\n",
        bad_name = signal("the grant table's key or filter names no column of it"),
        odd_type = signal(
            "a key or filter column of the grant table is missing or of a type not compared exactly"
        ),
    )
}

/// Adds to `v_which` the grant's key, as the item captured it (`@warden_key`), and the
/// table's filter (`@warden_filter`), each value typed by [`typed`].
fn key_and_filter(app_literal: &str) -> String {
    let typed = typed(app_literal);
    format!(
        "IF v_keys IS NULL THEN\n{no_key};\nEND IF;\n\
         IF @warden_key IS NULL THEN\n\
         SET @warden_key = JSON_OBJECT(v_user_col, @warden_user, v_role_col, @warden_role);\n\
         END IF;\n\
         IF NOT COALESCE(JSON_VALID(@warden_key) AND JSON_TYPE(@warden_key) = 'OBJECT', FALSE) THEN\n{bad_key};\nEND IF;\n\
         SET v_i = 0;\n\
         WHILE v_i < JSON_LENGTH(v_keys) DO\n\
         SET v_col = JSON_UNQUOTE(JSON_EXTRACT(v_keys, CONCAT('$[', v_i, ']')));\n\
         SET v_val = {key_value};\n\
         {typed}\
         IF NOT JSON_CONTAINS_PATH(@warden_key, 'one', CONCAT('$.\"', v_col, '\"')) THEN\n{no_value};\nEND IF;\n\
         SET v_which = CONCAT(v_which, ' AND ', {col}, ' <=> ', v_val);\n\
         SET v_i = v_i + 1;\n\
         END WHILE;\n\
         SET @warden_filter = v_filter;\n\
         SET v_i = 0;\n\
         WHILE v_i < COALESCE(JSON_LENGTH(v_filter), 0) DO\n\
         SET v_col = JSON_UNQUOTE(JSON_EXTRACT(JSON_KEYS(v_filter), CONCAT('$[', v_i, ']')));\n\
         SET v_in = NULL, v_j = 0;\n\
         WHILE v_j < COALESCE(JSON_LENGTH(v_filter, CONCAT('$.\"', v_col, '\"')), 0) DO\n\
         SET v_val = {filter_value};\n\
         {typed}\
         SET v_in = CONCAT_WS(', ', v_in, v_val);\n\
         SET v_j = v_j + 1;\n\
         END WHILE;\n\
         IF v_in IS NULL THEN\n{empty_filter};\nEND IF;\n\
         SET v_which = CONCAT(v_which, ' AND ', {col}, ' IN (', v_in, ')');\n\
         SET v_i = v_i + 1;\n\
         END WHILE;\n",
        col = qi("v_col"),
        key_value = json_text("@warden_key", "CONCAT('$.\"', v_col, '\"')"),
        filter_value = json_text("@warden_filter", "CONCAT('$.\"', v_col, '\"[', v_j, ']')"),
        no_key = signal(
            "the grant table has no key naming one grant (see `warden migrate`): revoke in the application"
        ),
        bad_key = signal("the item's grant key is not a JSON object"),
        no_value = signal(
            "the item has no value for a key column (launched before keys were kept?): revoke in the application"
        ),
        empty_filter = signal("the grant table's filter has a column with no value"),
    )
}

fn exec() -> &'static str {
    "PREPARE warden_stmt FROM @warden_sql;\n"
}

/// The two routines, owned by the definer (on MySQL, dropped first: [`drop_sql`]).
pub fn routines_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<Vec<String>> {
    let (app, gov) = checked(schemas)?;
    let app_literal = literal(&schemas.app);
    let head = |name: &str, params: &str| procedure_head(names, &gov, dialect, name, params);
    let declare = "DECLARE v_table VARCHAR(64);\nDECLARE v_user_col VARCHAR(64);\n\
                   DECLARE v_role_col VARCHAR(64);\nDECLARE v_granted_col VARCHAR(64);\n\
                   DECLARE v_columns TEXT;\nDECLARE v_which TEXT;\n\
                   DECLARE v_keys TEXT;\nDECLARE v_filter TEXT;\n\
                   DECLARE v_i INT;\nDECLARE v_j INT;\nDECLARE v_col VARCHAR(64);\n\
                   DECLARE v_val TEXT;\nDECLARE v_in TEXT;\nDECLARE v_type VARCHAR(64);\n\
                   DECLARE v_coltype TEXT;\nDECLARE v_charset VARCHAR(64);\n\
                   DECLARE v_collation VARCHAR(64);\n";
    let table = format!("CONCAT({}, '.', {})", qi(&app_literal), qi("v_table"));
    // Every column of the grant table, for JSON_OBJECT('c', `c`, …).
    let columns = format!(
        "SET v_columns = (SELECT GROUP_CONCAT(CONCAT(QUOTE(COLUMN_NAME), ', ', {}) \
         ORDER BY ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = {app_literal} AND TABLE_NAME = v_table);\n",
        qi("COLUMN_NAME")
    );
    let remove = head(
        REMOVE_ROUTINE,
        "IN p_item BIGINT UNSIGNED, IN p_at DATETIME(6), OUT p_kept INT",
    ) + &format!(
        "BEGIN\n{declare}\
         DECLARE v_campaign BIGINT UNSIGNED;\n\
         DECLARE v_deleted INT;\n\
         {officer}\
         SET SESSION group_concat_max_len = 1048576;\n\
         SELECT i.campaign_id, i.user_id, i.role_id, i.granted_at, i.grant_key \
         INTO v_campaign, @warden_user, @warden_role, @warden_granted, @warden_key \
         FROM {gov}.`warden_review_items` i JOIN {gov}.`warden_campaigns` c ON c.id = i.campaign_id \
         WHERE i.id = p_item AND i.decision = 'revoke' AND i.remediation IS NULL AND c.status <> 'closed';\n\
         IF v_campaign IS NULL THEN\n{not_revocable};\nEND IF;\n\
         {target}{columns}\
         SET @warden_campaign = v_campaign, @warden_item = p_item, @warden_at = p_at;\n\
         IF v_granted_col IS NULL THEN\nSET @warden_granted = NULL;\nEND IF;\n\
         SET v_which = CONCAT(' WHERE ', {user_col}, ' = ? AND ', {role_col}, ' = ? AND ', \
         IF(v_granted_col IS NULL, '? IS NULL', CONCAT({granted_col}, ' <=> ?')));\n\
         {key_and_filter}\
         SET @warden_sql = CONCAT('SELECT COUNT(*) INTO @warden_n FROM ', {table}, v_which, ' FOR UPDATE');\n\
         {exec}EXECUTE warden_stmt USING @warden_user, @warden_role, @warden_granted;\n\
         DEALLOCATE PREPARE warden_stmt;\n\
         IF @warden_n > 1 THEN\n{several};\nEND IF;\n\
         SET @warden_sql = CONCAT('INSERT INTO {gov}.`warden_remediations` \
         (campaign_id, item_id, user_id, role_id, removed_row, removed_at) \
         SELECT ?, ?, ?, ?, CAST(JSON_OBJECT(', v_columns, ') AS CHAR), ? FROM ', {table}, \
         v_which, ' FOR UPDATE');\n\
         {exec}EXECUTE warden_stmt USING @warden_campaign, @warden_item, @warden_user, @warden_role, \
         @warden_at, @warden_user, @warden_role, @warden_granted;\n\
         SET p_kept = ROW_COUNT();\nDEALLOCATE PREPARE warden_stmt;\n\
         SET @warden_sql = CONCAT('DELETE FROM ', {table}, v_which);\n\
         {exec}EXECUTE warden_stmt USING @warden_user, @warden_role, @warden_granted;\n\
         SET v_deleted = ROW_COUNT();\nDEALLOCATE PREPARE warden_stmt;\n\
         IF v_deleted <> p_kept THEN\n{changed};\nEND IF;\n\
         UPDATE {gov}.`warden_review_items` SET remediation = IF(p_kept > 0, 'revoked', 'absent') WHERE id = p_item;\n\
         {record}\
         END",
        record = record_call(&gov, REMOVE_ROUTINE, "CAST(p_item AS CHAR)"),
        officer = officer_check(&gov, "only an active officer remediates"),
        not_revocable = signal("that item is not a revocation still to carry out"),
        target = target(&gov),
        user_col = qi("v_user_col"),
        role_col = qi("v_role_col"),
        granted_col = qi("v_granted_col"),
        key_and_filter = key_and_filter(&app_literal),
        several = signal("the grant's key names more than one row: nothing is removed"),
        changed = signal("the grant row changed while it was being removed: nothing is removed"),
        exec = exec(),
    );
    let restore = head(
        RESTORE_ROUTINE,
        "IN p_remediation BIGINT UNSIGNED, IN p_at DATETIME(6)",
    ) + &format!(
        "BEGIN\n{declare}\
         DECLARE v_item BIGINT UNSIGNED;\n\
         DECLARE v_values TEXT;\n\
         {officer}\
         SET SESSION group_concat_max_len = 1048576;\n\
         SELECT item_id, removed_row INTO v_item, @warden_row FROM {gov}.`warden_remediations` \
         WHERE id = p_remediation AND undone_at IS NULL;\n\
         IF v_item IS NULL THEN\n{not_kept};\nEND IF;\n\
         {target}\
         SELECT GROUP_CONCAT({qcol} ORDER BY ORDINAL_POSITION SEPARATOR ', '), \
         GROUP_CONCAT({row_value} \
         ORDER BY ORDINAL_POSITION SEPARATOR ', ') INTO v_columns, v_values \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {app_literal} AND TABLE_NAME = v_table \
         AND JSON_CONTAINS_PATH(@warden_row, 'one', CONCAT('$.\"', COLUMN_NAME, '\"'));\n\
         IF v_columns IS NULL THEN\n{no_columns};\nEND IF;\n\
         SET @warden_sql = CONCAT('INSERT INTO ', {table}, ' (', v_columns, ') VALUES (', v_values, ')');\n\
         {exec}EXECUTE warden_stmt;\nDEALLOCATE PREPARE warden_stmt;\n\
         UPDATE {gov}.`warden_remediations` SET undone_at = p_at WHERE id = p_remediation;\n\
         UPDATE {gov}.`warden_review_items` SET remediation = 'restored' WHERE id = v_item;\n\
         {record}\
         END",
        record = record_call(&gov, RESTORE_ROUTINE, "CAST(v_item AS CHAR)"),
        officer = officer_check(&gov, "only an active officer remediates"),
        not_kept = signal("no removed row to put back with that number"),
        target = target(&gov),
        qcol = qi("COLUMN_NAME"),
        no_columns = signal("the kept row has no column of the grant table"),
        row_value = json_text("@warden_row", "CONCAT('$.\"', COLUMN_NAME, '\"')"),
        exec = exec(),
    );
    let _ = app;
    Ok(vec![remove, restore])
}

pub fn drop_sql(schemas: &Schemas) -> crate::Result<Vec<String>> {
    let (_, gov) = checked(schemas)?;
    Ok(ROUTINES
        .iter()
        .map(|r| format!("DROP PROCEDURE IF EXISTS {gov}.{}", ident::quote(r)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routines_bind_values_and_quote_names() {
        let n = ServerNames::for_database("crm");
        let s = Schemas {
            app: "crm".into(),
            gov: "crm".into(),
        };
        let sql = routines_sql(&n, &s, Dialect::MariaDb).unwrap().join("\n");
        assert!(sql.contains("EXECUTE warden_stmt USING @warden_user, @warden_role"));
        assert!(sql.contains("REPLACE(v_table, '`', '``')"));
        assert!(sql.contains("only an active officer remediates"));
        assert!(sql.contains("c.status <> 'closed'"));
        let mysql = routines_sql(&n, &s, Dialect::MySql).unwrap();
        assert!(mysql[0].starts_with("CREATE DEFINER"));
        assert_eq!(drop_sql(&s).unwrap().len(), 2);
        let bad = GrantTarget {
            filter: RowFilter::default(),
            mapped: Vec::new(),
            key: None,
            table: "user_roles; DROP".into(),
            user: "u".into(),
            role: "r".into(),
            granted_at: None,
        };
        assert!(bad.check().is_err());
        let bad = GrantTarget {
            filter: RowFilter::default(),
            mapped: Vec::new(),
            key: None,
            table: "user_roles".into(),
            user: "u".into(),
            role: "r".into(),
            granted_at: Some("a`b".into()),
        };
        assert!(bad.check().is_err());
        assert!(
            sql.contains("' <=> ?'"),
            "the time of the grant, when mapped"
        );
        assert!(
            sql.contains("COLLATE ', v_collation"),
            "text keys in their own collation"
        );
        assert!(sql.contains("' AS UNSIGNED)'"), "integer keys as integers");
        assert!(sql.contains("names more than one row: nothing is removed"));
    }

    fn col(name: &str, data_type: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            collated: data_type == "varchar",
            nullable,
        }
    }

    const UR: [&str; 2] = ["user_id", "role_id"];

    fn index(name: &str, unique: bool, columns: &[&str]) -> Index {
        Index {
            name: name.into(),
            unique,
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// spatie/laravel-permission's `model_has_roles`: its primary key names the grant.
    #[test]
    fn the_primary_key_names_a_grant() {
        let columns = [
            col("role_id", "bigint", false),
            col("model_type", "varchar", false),
            col("model_id", "bigint", false),
        ];
        let pk = index("PRIMARY", true, &["role_id", "model_id", "model_type"]);
        let key = grant_key(
            "model_has_roles",
            &[pk],
            &columns,
            &["model_id", "role_id"],
            ["model_id", "role_id"],
            &["model_type"],
        );
        assert_eq!(
            key.columns().unwrap(),
            ["role_id", "model_id", "model_type"]
        );
    }

    /// Without a primary key, a unique key among the mapped columns makes every mapped and
    /// filter column the key; a unique key on a nullable column, or outside them, does not.
    #[test]
    fn without_a_primary_key_a_unique_key_among_the_mapped_columns_does() {
        let columns = [
            // Rails' `t.references` leaves both nullable: as the grant's user and role they
            // are compared with `=`, so NULL repeats nothing.
            col("user_id", "int", true),
            col("role_id", "int", true),
            col("tenant", "varchar", false),
            col("note", "varchar", true),
        ];
        let mapped = ["user_id", "role_id", "tenant"];
        let unique = index("u", true, &["user_id", "role_id"]);
        let key = grant_key("ur", &[unique], &columns, &mapped, UR, &[]);
        assert_eq!(
            key.columns().unwrap(),
            ["user_id", "role_id"],
            "the unique key's own"
        );
        for odd in [
            index("u", true, &["user_id", "note"]),
            index("u", false, &["user_id", "role_id"]),
        ] {
            let why = match grant_key(
                "ur",
                &[odd],
                &columns,
                &["user_id", "role_id", "note"],
                UR,
                &[],
            ) {
                GrantKey::None(why) => why,
                k => panic!("{k:?}"),
            };
            assert!(why.contains("no primary key"), "{why}");
        }
        assert!(matches!(
            grant_key("ur", &[], &columns, &mapped, UR, &[]),
            GrantKey::None(_)
        ));
    }

    #[test]
    fn a_key_column_compared_inexactly_is_refused() {
        let columns = [col("id", "binary", false), col("f", "double", false)];
        for name in ["id", "f"] {
            let pk = index("PRIMARY", true, &[name]);
            match grant_key("ur", &[pk], &columns, &["id"], UR, &[]) {
                GrantKey::None(why) => assert!(why.contains(&format!("`{name}`")), "{why}"),
                k => panic!("{k:?}"),
            }
        }
        let columns = [col("id", "int", false), col("flags", "bit", false)];
        let pk = index("PRIMARY", true, &["id"]);
        match grant_key("ur", &[pk], &columns, &["id"], UR, &["flags"]) {
            GrantKey::None(why) => assert!(why.contains("`flags` is filtered"), "{why}"),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn the_filter_is_written_as_lists_of_values() {
        let m = crate::mapping::Mapping::from_toml(
            &include_str!("presets/reference.toml").replace(
                "[user_roles]\n",
                "[user_roles]\nwhere = { model_type = 'App\\Models\\User', active = true, team = [1, 2] }\n",
            ),
        )
        .unwrap();
        let target = m.grant_target();
        assert_eq!(
            target.filter_json().unwrap(),
            r#"{"active":[1],"model_type":["App\\Models\\User"],"team":[1,2]}"#
        );
        assert_eq!(target.key_json(), None, "a mapping alone knows no key");
        let keyed = GrantTarget {
            key: Some(GrantKey::Columns(vec!["a".into(), "b".into()])),
            ..target
        };
        assert_eq!(keyed.key_json().unwrap(), r#"["a","b"]"#);
    }
}
