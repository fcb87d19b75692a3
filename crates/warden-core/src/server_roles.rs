//! Console roles as the database server enforces them (DESIGN.md, "Who acts, and who
//! enforces it"): one server role per console role, a locked account that owns Warden's
//! triggers, and exactly the grants each needs. Pure: this module names the accounts and
//! writes the SQL; the store runs it (`warden migrate`) or prints it for a DBA
//! (`warden migrate --print-sql`).
//!
//! Roles are server-wide while grants are per schema, so the names carry the governed
//! database: two applications on one server never share a role.

use crate::console::ConsoleRole;
use crate::ident;

/// The longest account or role name MySQL 8 accepts (MariaDB takes 80).
pub const MAX_ACCOUNT_NAME: usize = 32;

/// Which server's SQL to write where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    MariaDb,
    MySql,
}

impl Dialect {
    /// From `SELECT VERSION()`: MariaDB says so in its version string.
    pub fn of_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            Self::MariaDb
        } else {
            Self::MySql
        }
    }
}

/// Where Warden's rows and the application's rows live (the same schema, or two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schemas {
    /// The application's schema: the directory and the access log.
    pub app: String,
    /// Warden's own tables (`governance_schema`, else the application's).
    pub gov: String,
}

/// The server-side names for one governed database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNames {
    pub officer: String,
    pub reviewer: String,
    pub auditor: String,
    /// The locked account that owns Warden's triggers (and later its views and routines):
    /// what they do, they do with its rights, never the caller's.
    pub definer: String,
}

impl ServerNames {
    /// The names for the application schema `app` (a checked identifier):
    /// `warden_<app>_officer`, …; a long name is shortened to fit MySQL 8's 32 characters,
    /// keeping a hash of the whole so two databases never meet in one name.
    pub fn for_database(app: &str) -> Self {
        let name = |suffix: &str| account_name(app, suffix);
        Self {
            officer: name("officer"),
            reviewer: name("reviewer"),
            auditor: name("auditor"),
            definer: name("definer"),
        }
    }

    pub fn role(&self, role: ConsoleRole) -> &str {
        match role {
            ConsoleRole::Officer => &self.officer,
            ConsoleRole::Reviewer => &self.reviewer,
            ConsoleRole::Auditor => &self.auditor,
        }
    }

    /// The definer as an account: it only ever runs on this server.
    pub fn definer_account(&self) -> String {
        format!("{}@'localhost'", literal(&self.definer))
    }
}

fn account_name(app: &str, suffix: &str) -> String {
    let full = format!("warden_{app}_{suffix}");
    if full.len() <= MAX_ACCOUNT_NAME {
        return full;
    }
    use sha2::{Digest, Sha256};
    let hash = hex::encode(&Sha256::digest(app.as_bytes())[..4]);
    // warden_ + head + _ + 8 hex + _ + suffix, the head as long as the longest suffix
    // allows, so that one database's four names share it.
    let longest = "reviewer".len();
    let room = MAX_ACCOUNT_NAME - "warden_".len() - 1 - hash.len() - 1 - longest;
    let head: String = app.chars().take(room).collect();
    format!("warden_{head}_{hash}_{suffix}")
}

/// A name as an SQL string literal. Names here are built from checked identifiers (ASCII
/// letters, digits, `_`, `$`); doubling quotes keeps even another name inside its quotes.
pub fn literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// What a grant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Every table of the application's schema.
    AppSchema,
    /// Every table of Warden's schema.
    GovSchema,
    /// One of Warden's tables.
    Gov(&'static str),
    /// One of Warden's routines (`EXECUTE`).
    Routine(&'static str),
    /// One of Warden's definer views.
    View(&'static str),
    /// The whole server (`*.*`): only the definer's `CREATE USER`.
    Server,
    /// A table of the server's `mysql` schema, or `*` for all of it: only the definer's,
    /// to see which accounts exist and (MariaDB) to set another account's default role.
    Mysql(&'static str),
}

/// Who holds a grant: a console role, or the definer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Role(ConsoleRole),
    Definer,
}

/// One grant: privileges on an object to a holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub to: Holder,
    pub privileges: &'static str,
    pub on: On,
}

const OFFICER: Holder = Holder::Role(ConsoleRole::Officer);
const REVIEWER: Holder = Holder::Role(ConsoleRole::Reviewer);
const AUDITOR: Holder = Holder::Role(ConsoleRole::Auditor);

const fn grant(to: Holder, privileges: &'static str, on: On) -> Grant {
    Grant { to, privileges, on }
}

/// Every console role's tables that only grow: the trail is appended to (the chain
/// trigger checks, hashes and stamps each event), never rewritten.
const EVERY_ROLE: [Holder; 3] = [OFFICER, REVIEWER, AUDITOR];

/// Warden's tables an officer's use cases write, with what they do to them. Nothing here
/// is DELETE; the trail, the policy versions and the console users are not here at all.
const OFFICER_WRITES: &[(&str, &str)] = &[
    ("warden_check_runs", "INSERT, UPDATE"),
    ("warden_findings", "INSERT, UPDATE"),
    ("warden_finding_events", "INSERT"),
    ("warden_policy_versions", "INSERT"),
    ("warden_campaigns", "INSERT, UPDATE"),
    ("warden_review_items", "INSERT, UPDATE"),
    ("warden_log_scans", "INSERT, UPDATE"),
    ("warden_log_checkpoints", "INSERT, UPDATE"),
    ("warden_db_audit_files", "INSERT, UPDATE"),
    ("warden_db_audit_blocks", "INSERT"),
];

/// Exactly the grants of each console role and of the definer.
///
/// - Every role reads Warden's tables it needs to know who it is (`warden_console_users`),
///   locks and reads the chain's head, and appends to the trail. On MySQL 8 (8.0.22 on)
///   `SELECT … FOR UPDATE` also wants UPDATE, DELETE or LOCK TABLES, and LOCK TABLES is
///   granted per schema: so there, and only there, `LOCK TABLES` on Warden's schema.
/// - Officers read the application and all of Warden's tables, and write only what their
///   use cases write, never DELETE, never the trail's head.
/// - Reviewers read campaigns (their queue's context); their items come with issue 16's
///   definer view.
/// - Auditors read everything and write nothing but their own export events.
/// - The definer (locked: nobody signs in as it) runs the trail's trigger: it reads and
///   sets the new event's columns and advances the chain's head.
pub fn grants(dialect: Dialect) -> Vec<Grant> {
    let mut out = Vec::new();
    for role in EVERY_ROLE {
        out.push(grant(role, "SELECT", On::Gov("warden_console_users")));
        out.push(grant(role, "SELECT", On::Gov("warden_schema_migrations")));
        out.push(grant(role, "SELECT", On::Gov("warden_audit_head")));
        out.push(grant(
            role,
            "SELECT, INSERT",
            On::Gov("warden_audit_events"),
        ));
        if dialect == Dialect::MySql {
            out.push(grant(role, "LOCK TABLES", On::GovSchema));
        }
    }
    out.push(grant(OFFICER, "SELECT", On::AppSchema));
    out.push(grant(OFFICER, "SELECT", On::GovSchema));
    for (table, privileges) in OFFICER_WRITES {
        out.push(grant(OFFICER, privileges, On::Gov(table)));
    }
    out.push(grant(REVIEWER, "SELECT", On::Gov("warden_campaigns")));
    out.push(grant(AUDITOR, "SELECT", On::AppSchema));
    out.push(grant(AUDITOR, "SELECT", On::GovSchema));
    out.push(grant(
        Holder::Definer,
        "SELECT, UPDATE",
        On::Gov("warden_audit_head"),
    ));
    // A trigger reads NEW's columns with SELECT and sets them with UPDATE, as its definer.
    out.push(grant(
        Holder::Definer,
        "SELECT, UPDATE, TRIGGER",
        On::Gov("warden_audit_events"),
    ));
    // The console-user routines: the rows, the accounts, and who is who for the trigger.
    out.push(grant(
        Holder::Definer,
        "SELECT, INSERT, UPDATE",
        On::Gov("warden_console_users"),
    ));
    out.push(grant(
        Holder::Definer,
        "SELECT",
        On::Gov("warden_server_roles"),
    ));
    out.push(grant(
        Holder::Definer,
        "SELECT, INSERT",
        On::Gov("warden_routine_calls"),
    ));
    // Creating accounts, and ending a removed person's sessions (seeing them, killing them).
    out.push(grant(
        Holder::Definer,
        match dialect {
            Dialect::MariaDb => "CREATE USER, PROCESS, CONNECTION ADMIN",
            Dialect::MySql => "CREATE USER, PROCESS, CONNECTION_ADMIN",
        },
        On::Server,
    ));
    match dialect {
        // MariaDB: `SET DEFAULT ROLE … FOR` another account wants UPDATE on the schema.
        Dialect::MariaDb => {
            out.push(grant(Holder::Definer, "SELECT", On::Mysql("global_priv")));
            out.push(grant(Holder::Definer, "UPDATE", On::Mysql("*")));
        }
        Dialect::MySql => out.push(grant(Holder::Definer, "SELECT", On::Mysql("user"))),
    }
    for routine in crate::console_accounts::ROUTINES {
        // MariaDB checks EXECUTE for the definer of a SQL SECURITY DEFINER routine too.
        out.push(grant(Holder::Definer, "EXECUTE", On::Routine(routine)));
        out.push(grant(OFFICER, "EXECUTE", On::Routine(routine)));
    }
    // Review items: a reviewer's own, through the definer's view; decisions write only
    // the decision's columns; reassignment goes through its routine.
    out.push(grant(
        Holder::Definer,
        "SELECT, UPDATE, TRIGGER",
        On::Gov("warden_review_items"),
    ));
    // Remediation: the routines keep removed rows and mark items; nobody else writes
    // the kept rows (they are what undo puts back into the application).
    out.push(grant(
        Holder::Definer,
        "SELECT, INSERT, UPDATE",
        On::Gov("warden_remediations"),
    ));
    out.push(grant(
        Holder::Definer,
        "SELECT",
        On::Gov("warden_campaigns"),
    ));
    out.push(grant(
        Holder::Definer,
        "SELECT",
        On::Gov("warden_grant_target"),
    ));
    for routine in crate::remediation::ROUTINES {
        out.push(grant(Holder::Definer, "EXECUTE", On::Routine(routine)));
        out.push(grant(OFFICER, "EXECUTE", On::Routine(routine)));
    }
    let reassign = crate::review_access::REASSIGN_ROUTINE;
    out.push(grant(Holder::Definer, "EXECUTE", On::Routine(reassign)));
    for role in [OFFICER, REVIEWER] {
        out.push(grant(
            role,
            DECIDE,
            On::View(crate::review_access::MY_ITEMS_VIEW),
        ));
        out.push(grant(role, "EXECUTE", On::Routine(reassign)));
    }
    out
}

/// What deciding one's own items takes on the view.
const DECIDE: &str =
    "SELECT, UPDATE (decision, decided_by, decided_at, comment, decision_key, version)";

/// The name of the trigger that keeps a decision as it was made.
pub const DECIDED_TRIGGER: &str = "warden_review_items_decided";

/// A review item's decision, once made, stays as it was made: its verdict, who made it,
/// when, with what comment and key, and the reviewer it was made by. (Officers write the
/// item table for launches, defaults at close and remediation marks; none of those changes
/// a decision, and now nothing can.)
pub fn decided_trigger_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    let replace = match dialect {
        Dialect::MariaDb => "CREATE OR REPLACE",
        Dialect::MySql => "CREATE",
    };
    let changed = [
        "decision",
        "decided_by",
        "decided_at",
        "comment",
        "decision_key",
        "reviewer",
        "reviewer_key",
        "login_key",
        "user_id",
        "role_id",
        "granted_at",
        "grant_key",
        "campaign_id",
    ]
    .map(|c| format!("NOT (NEW.{c} <=> OLD.{c})"))
    .join(" OR ");
    Ok(format!(
        "{replace} DEFINER = {} TRIGGER {gov}.{} BEFORE UPDATE ON {gov}.`warden_review_items` \
         FOR EACH ROW BEGIN\n\
         IF OLD.decision IS NOT NULL AND ({changed}) THEN\n{};\nEND IF;\n\
         END",
        names.definer_account(),
        ident::quote(DECIDED_TRIGGER),
        signal("a decided review item stays as it was decided")
    ))
}

pub fn drop_decided_trigger_sql(schemas: &Schemas) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    Ok(format!(
        "DROP TRIGGER IF EXISTS {gov}.{}",
        ident::quote(DECIDED_TRIGGER)
    ))
}

/// The name of the trigger that keeps the trail's chain.
pub const CHAIN_TRIGGER: &str = "warden_audit_events_chain";

/// The statements that create the roles and the definer and give each exactly its grants.
/// Each may run again and then changes nothing (`IF NOT EXISTS`, a GRANT of what is held).
pub fn provision_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
    target: Option<&crate::remediation::GrantTarget>,
) -> crate::Result<Vec<String>> {
    let (app, gov) = checked(schemas)?;
    let mut out: Vec<String> = ConsoleRole::ALL
        .iter()
        .map(|r| format!("CREATE ROLE IF NOT EXISTS {}", literal(names.role(*r))))
        .collect();
    out.push(format!(
        "CREATE USER IF NOT EXISTS {} ACCOUNT LOCK",
        names.definer_account()
    ));
    // The definer grants the console roles to the accounts it creates.
    for role in ConsoleRole::ALL {
        out.push(format!(
            "GRANT {} TO {} WITH ADMIN OPTION",
            literal(names.role(role)),
            names.definer_account()
        ));
    }
    for g in grants(dialect) {
        if !late(&g) {
            out.push(grant_sql(&g, names, &app, &gov));
        }
    }
    // The application's grant table, for the remediation routines alone.
    if let Some(t) = target {
        t.check()?;
        out.push(format!(
            "GRANT SELECT, INSERT, DELETE ON {app}.{} TO {}",
            ident::quote(&t.table),
            names.definer_account()
        ));
    }
    Ok(out)
}

/// Grants on Warden's routines and views, which exist only once they do.
fn late(g: &Grant) -> bool {
    matches!(g.on, On::Routine(_) | On::View(_))
}

/// What needs the routines (created as compound statements before): the reviewers' view,
/// then the grants on the routines and the view.
pub fn late_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<Vec<String>> {
    let (app, gov) = checked(schemas)?;
    let mut out = vec![crate::review_access::my_items_view_sql(names, schemas)?];
    out.extend(
        grants(dialect)
            .iter()
            .filter(|g| late(g))
            .map(|g| grant_sql(g, names, &app, &gov)),
    );
    Ok(out)
}

fn grant_sql(g: &Grant, names: &ServerNames, app: &str, gov: &str) -> String {
    let object = match g.on {
        On::AppSchema => format!("{app}.*"),
        On::GovSchema => format!("{gov}.*"),
        On::Gov(table) => format!("{gov}.{}", ident::quote(table)),
        On::Routine(name) => format!("PROCEDURE {gov}.{}", ident::quote(name)),
        On::View(name) => format!("{gov}.{}", ident::quote(name)),
        On::Server => "*.*".to_string(),
        On::Mysql("*") => "`mysql`.*".to_string(),
        On::Mysql(table) => format!("`mysql`.{}", ident::quote(table)),
    };
    let holder = match g.to {
        Holder::Role(r) => literal(names.role(r)),
        Holder::Definer => names.definer_account(),
    };
    format!("GRANT {} ON {object} TO {holder}", g.privileges)
}

/// The trail's chain, kept by the server: before an event is inserted, it must extend the
/// head (the next number, the head's hash as its previous hash) and its canonical body must
/// agree with every column (its time and details included: what `audit verify` recomputes
/// from) and name the account that connected; the server then stamps that
/// account, computes the hash over the previous hash and the body, and advances the head.
/// The actor must be the console user whose account connected (an active one): nobody
/// writes an event in another's name.
/// Inside a trigger `CURRENT_USER()` is the definer, so the account that connected is
/// `SESSION_USER()` (`user@client-host`). Comparisons are NULL-safe: a body without a field
/// is refused, not waved through.
pub fn chain_trigger_body(schemas: &Schemas, dialect: Dialect) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    let agrees =
        |path: &str, column: &str| format!("NOT (JSON_VALUE(NEW.body, '$.{path}') <=> {column})");
    // The details as JSON values, whatever their spelling (MariaDB keeps JSON as text).
    let same_details = match dialect {
        Dialect::MariaDb => "JSON_EQUALS(JSON_EXTRACT(NEW.body, '$.details'), NEW.details)",
        Dialect::MySql => "JSON_EXTRACT(NEW.body, '$.details') = CAST(NEW.details AS JSON)",
    };
    let disagreements = [
        agrees("seq", "NEW.seq"),
        agrees(
            "occurred_at",
            "DATE_FORMAT(NEW.occurred_at, '%Y-%m-%dT%H:%i:%s.%fZ')",
        ),
        format!("NOT ({same_details} <=> 1)"),
        agrees("db_account", "SESSION_USER()"),
        agrees("actor", "NEW.actor"),
        format!(
            "NOT (NEW.actor <=> (SELECT login FROM {gov}.`warden_console_users` \
             WHERE account_user = SUBSTRING_INDEX(SESSION_USER(), '@', 1) AND locked_at IS NULL))"
        ),
        agrees("action", "NEW.action"),
        agrees("target", "NEW.target"),
    ]
    .join("\n     OR ");
    Ok(format!(
        "BEGIN\n\
         DECLARE head_seq BIGINT UNSIGNED;\n\
         DECLARE head_hash CHAR(64);\n\
         SELECT seq, hash INTO head_seq, head_hash FROM {gov}.`warden_audit_head` WHERE id = 1 FOR UPDATE;\n\
         IF NOT (NEW.seq <=> head_seq + 1) OR NOT (NEW.prev_hash <=> head_hash) THEN\n\
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit event does not extend the chain';\n\
         END IF;\n\
         IF NEW.body IS NULL\n     OR {disagreements} THEN\n\
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit event body does not match its columns, or its actor is not the console user who connected';\n\
         END IF;\n\
         SET NEW.db_account = SESSION_USER();\n\
         SET NEW.hash = SHA2(CONCAT(NEW.prev_hash, CHAR(10), NEW.body), 256);\n\
         UPDATE {gov}.`warden_audit_head` SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;\n\
         END"
    ))
}

/// The statement that creates the chain trigger with [`chain_trigger_body`], owned by the
/// definer. MariaDB replaces an older one in place; MySQL has no `OR REPLACE` for triggers,
/// so the caller drops the old one first ([`drop_chain_trigger_sql`]).
pub fn chain_trigger_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    let replace = match dialect {
        Dialect::MariaDb => "CREATE OR REPLACE",
        Dialect::MySql => "CREATE",
    };
    Ok(format!(
        "{replace} DEFINER = {} TRIGGER {gov}.{} BEFORE INSERT ON {gov}.`warden_audit_events` \
         FOR EACH ROW {}",
        names.definer_account(),
        ident::quote(CHAIN_TRIGGER),
        chain_trigger_body(schemas, dialect)?
    ))
}

pub fn drop_chain_trigger_sql(schemas: &Schemas) -> crate::Result<String> {
    let (_, gov) = checked(schemas)?;
    Ok(format!(
        "DROP TRIGGER IF EXISTS {gov}.{}",
        ident::quote(CHAIN_TRIGGER)
    ))
}

/// The opening of a definer routine: `CREATE [OR REPLACE] DEFINER = … PROCEDURE gov.name(…)
/// SQL SECURITY DEFINER MODIFIES SQL DATA`. MySQL has no `OR REPLACE` for routines: there
/// the plan drops them first.
pub(crate) fn procedure_head(
    names: &ServerNames,
    gov: &str,
    dialect: Dialect,
    name: &str,
    params: &str,
) -> String {
    let create = match dialect {
        Dialect::MariaDb => "CREATE OR REPLACE",
        Dialect::MySql => "CREATE",
    };
    format!(
        "{create} DEFINER = {} PROCEDURE {gov}.{}({params}) SQL SECURITY DEFINER MODIFIES SQL DATA\n",
        names.definer_account(),
        ident::quote(name)
    )
}

/// Records a call of `routine` on `subject` (an SQL expression) with the account that
/// connected and the trail's head, as the routine's last statement: `audit verify` then
/// matches it with the event that records it.
pub(crate) fn record_call(gov: &str, routine: &str, subject: &str) -> String {
    format!(
        "INSERT INTO {gov}.`warden_routine_calls` (routine, db_account, subject, head_seq, called_at) \
         VALUES ({}, SESSION_USER(), {subject}, \
         (SELECT seq FROM {gov}.`warden_audit_head` WHERE id = 1), NOW(6));\n",
        literal(routine)
    )
}

/// A routine's refusal, in its own words (error 1644 for the caller).
pub(crate) fn signal(message: &str) -> String {
    format!(
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {}",
        literal(message)
    )
}

/// Refuses, with `message`, a caller who is not an active officer: the console user of the
/// account that connected (inside a definer routine `CURRENT_USER()` is the definer).
pub(crate) fn officer_check(gov: &str, message: &str) -> String {
    format!(
        "IF NOT EXISTS (SELECT 1 FROM {gov}.`warden_console_users` \
         WHERE account_user = SUBSTRING_INDEX(SESSION_USER(), '@', 1) \
         AND role = 'officer' AND locked_at IS NULL) THEN\n{};\nEND IF;\n",
        signal(message)
    )
}

/// The schemas, checked and quoted.
pub(crate) fn checked(schemas: &Schemas) -> crate::Result<(String, String)> {
    for name in [&schemas.app, &schemas.gov] {
        ident::check(name).map_err(|e| crate::Error::Invalid(format!("schema {name:?} {e}")))?;
    }
    Ok((ident::quote(&schemas.app), ident::quote(&schemas.gov)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas(app: &str, gov: &str) -> Schemas {
        Schemas {
            app: app.into(),
            gov: gov.into(),
        }
    }

    #[test]
    fn names_carry_the_database_and_fit_mysql() {
        let n = ServerNames::for_database("crm");
        assert_eq!(n.officer, "warden_crm_officer");
        assert_eq!(n.role(ConsoleRole::Reviewer), "warden_crm_reviewer");
        assert_eq!(n.definer_account(), "'warden_crm_definer'@'localhost'");
        let long = ServerNames::for_database("customer_support_and_sales_production");
        let other = ServerNames::for_database("customer_support_and_sales_production2");
        for name in [&long.officer, &long.reviewer, &long.auditor, &long.definer] {
            assert!(name.len() <= MAX_ACCOUNT_NAME, "{name}");
            assert!(name.starts_with("warden_custome_"), "{name}");
        }
        assert!(long.reviewer.ends_with("_reviewer"));
        assert_ne!(
            long.officer, other.officer,
            "a hash of the whole name tells them apart"
        );
    }

    #[test]
    fn nobody_may_rewrite_the_trail_or_touch_the_applications_rows() {
        for g in grants(Dialect::MariaDb) {
            let writes = ["UPDATE", "DELETE", "INSERT", "ALTER", "DROP"];
            match g.on {
                On::AppSchema => assert_eq!(g.privileges, "SELECT", "{g:?}"),
                On::GovSchema => assert_eq!(g.privileges, "SELECT", "{g:?}"),

                On::Gov("warden_audit_events") if g.to != Holder::Definer => {
                    assert_eq!(g.privileges, "SELECT, INSERT", "{g:?}")
                }
                On::Gov(
                    "warden_audit_head" | "warden_console_users" | "warden_policy_versions",
                ) if g.to != Holder::Definer => {
                    let p = g.privileges;
                    assert!(
                        !writes.iter().any(|w| *w != "INSERT" && p.contains(w)),
                        "{g:?}"
                    );
                    assert!(
                        !p.contains("INSERT") || g.on == On::Gov("warden_policy_versions"),
                        "{g:?}"
                    );
                }
                On::Gov(_) => assert!(!g.privileges.contains("DELETE"), "{g:?}"),
                On::Routine(_) => assert_eq!(g.privileges, "EXECUTE", "{g:?}"),
                On::View(view) => {
                    assert_eq!(view, crate::review_access::MY_ITEMS_VIEW);
                    assert_eq!(g.privileges, DECIDE, "{g:?}");
                    assert_ne!(g.to, AUDITOR);
                }
                // Account management and the server's own schema: the definer's alone.
                On::Server | On::Mysql(_) => assert_eq!(g.to, Holder::Definer, "{g:?}"),
            }
        }
        let auditor: Vec<_> = grants(Dialect::MariaDb)
            .into_iter()
            .filter(|g| g.to == Holder::Role(ConsoleRole::Auditor))
            .collect();
        assert!(
            auditor.iter().all(|g| g.privileges == "SELECT"
                || (g.on == On::Gov("warden_audit_events") && g.privileges == "SELECT, INSERT")),
            "{auditor:?}"
        );
    }

    #[test]
    fn the_plan_quotes_every_name_and_refuses_a_bad_schema() {
        let n = ServerNames::for_database("crm");
        let sql = provision_sql(&n, &schemas("crm", "crm_gov"), Dialect::MariaDb, None).unwrap();
        assert_eq!(sql[0], "CREATE ROLE IF NOT EXISTS 'warden_crm_officer'");
        assert!(sql.contains(&"GRANT SELECT ON `crm`.* TO 'warden_crm_officer'".to_string()));
        assert!(sql.contains(
            &"GRANT SELECT, UPDATE ON `crm_gov`.`warden_audit_head` TO 'warden_crm_definer'@'localhost'"
                .to_string()
        ));
        assert!(
            provision_sql(
                &n,
                &schemas("crm`; DROP DATABASE x; --", "g"),
                Dialect::MySql,
                None
            )
            .is_err()
        );
        let mysql = provision_sql(&n, &schemas("crm", "crm_gov"), Dialect::MySql, None).unwrap();
        assert!(
            mysql.contains(&"GRANT LOCK TABLES ON `crm_gov`.* TO 'warden_crm_auditor'".to_string())
        );
        assert!(!sql.iter().any(|s| s.contains("LOCK TABLES")));
        assert!(chain_trigger_sql(&n, &schemas("crm", "a b"), Dialect::MariaDb).is_err());
    }

    #[test]
    fn the_trigger_is_replaced_in_place_on_mariadb_and_dropped_first_on_mysql() {
        let n = ServerNames::for_database("crm");
        let s = schemas("crm", "crm");
        let maria = chain_trigger_sql(&n, &s, Dialect::MariaDb).unwrap();
        let mysql = chain_trigger_sql(&n, &s, Dialect::MySql).unwrap();
        assert!(maria.starts_with("CREATE OR REPLACE DEFINER = 'warden_crm_definer'@'localhost' TRIGGER `crm`.`warden_audit_events_chain`"));
        assert!(mysql.starts_with("CREATE DEFINER = "));
        assert_eq!(
            drop_chain_trigger_sql(&s).unwrap(),
            "DROP TRIGGER IF EXISTS `crm`.`warden_audit_events_chain`"
        );
        let body = chain_trigger_body(&s, Dialect::MariaDb).unwrap();
        assert!(body.contains("JSON_EQUALS(JSON_EXTRACT(NEW.body, '$.details'), NEW.details)"));
        assert!(
            chain_trigger_body(&s, Dialect::MySql)
                .unwrap()
                .contains("= CAST(NEW.details AS JSON)")
        );
        assert!(body.contains("NOT (JSON_VALUE(NEW.body, '$.db_account') <=> SESSION_USER())"));
        assert!(body.ends_with("END"));
        assert_eq!(
            Dialect::of_version("10.11.19-MariaDB-0+deb12u1"),
            Dialect::MariaDb
        );
        assert_eq!(Dialect::of_version("8.0.40"), Dialect::MySql);
    }
}
