//! Remediation as the server allows it (DESIGN.md, "Who acts, and who enforces it"): no
//! console account, officers included, holds DELETE or INSERT on the application's grant
//! table. Two definer routines do it instead:
//!
//! - `warden_grant_remove(item)` removes the grant of one review item decided `revoke` in a
//!   campaign not yet closed, keeping each removed row (as JSON, column by column) in
//!   `warden_remediations`, and marks the item remediated. The row is found by the user and
//!   role the item recorded at launch and, where the mapping names one, the time of the
//!   grant: a grant made again since launch is untouched.
//! - `warden_grant_restore(remediation)` puts one kept row back, exactly as it was.
//!
//! The grant table itself is fixed by the administrator (`warden migrate`, from the
//! mapping) in `warden_grant_target`, which no console role may write: an officer cannot
//! point the routines at another table. Names are checked again inside the routines and
//! quoted; every value is bound (`EXECUTE … USING`).

use crate::ident;
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
    /// The mapping filters the table's rows (`user_roles.where`): removing by user and role
    /// could touch a row outside the filter, so no target is recorded for it and the
    /// routines refuse (until remediation removes exactly the reviewed row by its key).
    pub filtered: bool,
}

impl GrantTarget {
    pub fn check(&self) -> crate::Result<()> {
        for name in [&self.table, &self.user, &self.role]
            .into_iter()
            .chain(self.granted_at.as_ref())
        {
            ident::check(name)
                .map_err(|e| crate::Error::Invalid(format!("grant table name {name:?} {e}")))?;
        }
        Ok(())
    }
}

/// An identifier quoted inside SQL text built by the routine.
fn qi(expr: &str) -> String {
    format!("CONCAT('`', REPLACE({expr}, '`', '``'), '`')")
}

const IDENT_RE: &str = "'^[A-Za-z0-9_$]{1,64}$'";

/// Reads and checks the recorded grant target into `v_table`, `v_user_col`, `v_role_col`.
fn target(gov: &str) -> String {
    format!(
        "SELECT table_name, user_column, role_column, granted_at_column \
         INTO v_table, v_user_col, v_role_col, v_granted_col \
         FROM {gov}.`warden_grant_target` WHERE id = 1;\n\
         IF v_table IS NULL OR v_table NOT REGEXP {IDENT_RE} OR v_user_col NOT REGEXP {IDENT_RE} \
         OR v_role_col NOT REGEXP {IDENT_RE} OR NOT (v_granted_col IS NULL OR v_granted_col REGEXP {IDENT_RE}) \
         THEN\n{};\nEND IF;\n",
        signal(
            "no grant table is recorded: an administrator runs `warden migrate` with the mapping"
        )
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
                   DECLARE v_columns TEXT;\nDECLARE v_which TEXT;\n";
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
         {officer}\
         SET SESSION group_concat_max_len = 1048576;\n\
         SELECT i.campaign_id, i.user_id, i.role_id, i.granted_at \
         INTO v_campaign, @warden_user, @warden_role, @warden_granted \
         FROM {gov}.`warden_review_items` i JOIN {gov}.`warden_campaigns` c ON c.id = i.campaign_id \
         WHERE i.id = p_item AND i.decision = 'revoke' AND i.remediation IS NULL AND c.status <> 'closed';\n\
         IF v_campaign IS NULL THEN\n{not_revocable};\nEND IF;\n\
         {target}{columns}\
         SET @warden_campaign = v_campaign, @warden_item = p_item, @warden_at = p_at;\n\
         IF v_granted_col IS NULL THEN\nSET @warden_granted = NULL;\nEND IF;\n\
         SET v_which = CONCAT(' WHERE ', {user_col}, ' = ? AND ', {role_col}, ' = ? AND ', \
         IF(v_granted_col IS NULL, '? IS NULL', CONCAT({granted_col}, ' <=> ?')));\n\
         SET @warden_sql = CONCAT('INSERT INTO {gov}.`warden_remediations` \
         (campaign_id, item_id, user_id, role_id, removed_row, removed_at) \
         SELECT ?, ?, ?, ?, CAST(JSON_OBJECT(', v_columns, ') AS CHAR), ? FROM ', {table}, \
         v_which, ' FOR UPDATE');\n\
         {exec}EXECUTE warden_stmt USING @warden_campaign, @warden_item, @warden_user, @warden_role, \
         @warden_at, @warden_user, @warden_role, @warden_granted;\n\
         SET p_kept = ROW_COUNT();\nDEALLOCATE PREPARE warden_stmt;\n\
         SET @warden_sql = CONCAT('DELETE FROM ', {table}, v_which);\n\
         {exec}EXECUTE warden_stmt USING @warden_user, @warden_role, @warden_granted;\nDEALLOCATE PREPARE warden_stmt;\n\
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
         GROUP_CONCAT(CONCAT('JSON_VALUE(@warden_row, ', QUOTE(CONCAT('$.\"', COLUMN_NAME, '\"')), ')') \
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
            filtered: false,
            table: "user_roles; DROP".into(),
            user: "u".into(),
            role: "r".into(),
            granted_at: None,
        };
        assert!(bad.check().is_err());
        let bad = GrantTarget {
            filtered: false,
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
    }
}
