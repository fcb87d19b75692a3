//! A reviewer's items as the server shows them (DESIGN.md, "Who acts, and who enforces
//! it"): a definer view holding only the items whose reviewer is the console user of the
//! account that connected, updatable in the decision's columns alone and `WITH CHECK
//! OPTION`, so no statement through it reads, decides or hands away another's item; and a
//! definer routine for reassignment (which moves an item out of its reviewer's view, so it
//! cannot go through the view).
//!
//! Logins compare in their identity form (`console::identity`), held in binary-collated
//! `*_key` columns.

use crate::ident;
use crate::server_roles::{
    Dialect, Schemas, ServerNames, checked, procedure_head, record_call, signal,
};

/// The view of the session's own review items.
pub const MY_ITEMS_VIEW: &str = "warden_my_review_items";

/// The routine that hands an undecided item to another reviewer.
pub const REASSIGN_ROUTINE: &str = "warden_review_item_reassign";

/// The columns a decision writes: the only ones updatable through the view.
pub const DECISION_COLUMNS: &str =
    "decision, decided_by, decided_at, comment, decision_key, version";

/// Every column of `warden_review_items` the view shows.
const COLUMNS: &str = "id, campaign_id, user_id, login, login_key, department, role_id, role, \
     reviewer, reviewer_key, granted_at, granted_by, baseline, outside, sod, last_used, \
     suggestion, reason, decision, decided_by, decided_at, comment, decision_key, version, \
     remediation";

/// The console login key of the account that connected (inside a definer view or routine
/// `CURRENT_USER()` is the definer; `SESSION_USER()` is who connected).
fn session_key(gov: &str) -> String {
    format!(
        "(SELECT login_key FROM {gov}.`warden_console_users` \
         WHERE account_user = SUBSTRING_INDEX(SESSION_USER(), '@', 1) AND locked_at IS NULL)"
    )
}

/// `CREATE OR REPLACE … VIEW warden_my_review_items`, owned by the definer.
pub fn my_items_view_sql(names: &ServerNames, schemas: &Schemas) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    Ok(format!(
        "CREATE OR REPLACE DEFINER = {} SQL SECURITY DEFINER VIEW {gov}.{} AS \
         SELECT {COLUMNS} FROM {gov}.`warden_review_items` WHERE reviewer_key = {} \
         WITH CASCADED CHECK OPTION",
        names.definer_account(),
        ident::quote(MY_ITEMS_VIEW),
        session_key(&gov)
    ))
}

/// The reassignment routine: the item must be undecided, the caller its reviewer or an
/// officer, the new reviewer an active reviewer or officer who is not the person the item
/// reviews; `p_version` guards against a change in between. On MySQL the caller drops it
/// first ([`drop_reassign_sql`]).
pub fn reassign_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    let users = format!("{gov}.`warden_console_users`");
    let head = procedure_head(
        names,
        &gov,
        dialect,
        REASSIGN_ROUTINE,
        "IN p_item BIGINT UNSIGNED, IN p_version INT UNSIGNED, IN p_to VARCHAR(190), \
         IN p_to_key VARCHAR(190)",
    );
    Ok(format!(
        "{head}BEGIN\n\
         DECLARE v_caller VARCHAR(190);\n\
         DECLARE v_role VARCHAR(16);\n\
         SET v_caller = {caller};\n\
         SET v_role = (SELECT role FROM {users} WHERE login_key = v_caller AND locked_at IS NULL);\n\
         IF v_caller IS NULL OR v_role NOT IN ('officer', 'reviewer') THEN\n{no_caller};\nEND IF;\n\
         IF NOT EXISTS (SELECT 1 FROM {users} WHERE login_key = p_to_key AND locked_at IS NULL \
         AND role IN ('officer', 'reviewer')) THEN\n{no_to};\nEND IF;\n\
         UPDATE {gov}.`warden_review_items` SET reviewer = (SELECT login FROM {users} WHERE login_key = p_to_key), \
         reviewer_key = p_to_key, version = version + 1 \
         WHERE id = p_item AND version = p_version AND decision IS NULL AND login_key <> p_to_key \
         AND (reviewer_key = v_caller OR v_role = 'officer');\n\
         IF ROW_COUNT() <> 1 THEN\n{not_moved};\nEND IF;\n\
         {record}\
         END",
        record = record_call(&gov, REASSIGN_ROUTINE, "CAST(p_item AS CHAR)"),
        caller = session_key(&gov),
        no_caller = signal("only a reviewer or an officer reassigns review items"),
        no_to = signal("the new reviewer is not an active reviewer or officer"),
        not_moved = signal(
            "the item is not yours, is decided, changed meanwhile, or would be reviewed by the person it concerns"
        ),
    ))
}

pub fn drop_reassign_sql(schemas: &Schemas) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    Ok(format!(
        "DROP PROCEDURE IF EXISTS {gov}.{}",
        ident::quote(REASSIGN_ROUTINE)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_filters_by_who_connected_and_checks_its_writes() {
        let n = ServerNames::for_database("crm");
        let s = Schemas {
            app: "crm".into(),
            gov: "crm_gov".into(),
        };
        let view = my_items_view_sql(&n, &s).unwrap();
        assert!(view.starts_with(
            "CREATE OR REPLACE DEFINER = 'warden_crm_definer'@'localhost' SQL SECURITY DEFINER VIEW `crm_gov`.`warden_my_review_items`"
        ));
        assert!(view.contains("SUBSTRING_INDEX(SESSION_USER(), '@', 1)"));
        assert!(view.ends_with("WITH CASCADED CHECK OPTION"));
        assert!(
            !view.contains("CURRENT_USER"),
            "CURRENT_USER() is the definer here"
        );
        let maria = reassign_sql(&n, &s, Dialect::MariaDb).unwrap();
        let mysql = reassign_sql(&n, &s, Dialect::MySql).unwrap();
        assert!(maria.starts_with("CREATE OR REPLACE DEFINER"));
        assert!(mysql.starts_with("CREATE DEFINER"));
        assert!(maria.contains("login_key <> p_to_key"), "no self-review");
        assert!(
            my_items_view_sql(
                &n,
                &Schemas {
                    app: "a".into(),
                    gov: "x`y".into()
                }
            )
            .is_err()
        );
    }
}
