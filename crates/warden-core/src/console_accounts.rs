//! Console users as database accounts (DESIGN.md, "Who acts, and who enforces it"): how a
//! login becomes an account name, which hosts and passwords are acceptable, and the two
//! definer routines through which officers manage them without holding `CREATE USER`:
//!
//! - `warden_console_user_put` writes the console user's row (inside the change that
//!   records it on the trail): add, change role, or remove (the row stays, locked);
//! - `warden_console_account_apply` then makes the server agree with the row: creates the
//!   account with an initial password that is already expired (or resets it), grants the
//!   row's server role and makes it the default, or locks the account and revokes the
//!   roles, and ends the sessions of a removed or re-roled person (a session keeps a role
//!   it had active until it reconnects). Account statements commit on their own, so they
//!   run after the change: the
//!   trail records a grant before the server gives it, and re-running finishes one that
//!   was cut short.
//!
//! Only officers hold EXECUTE on them. The put routine also refuses a caller that is not
//! an active officer, whatever privileges it holds; the apply routine only makes the server
//! agree with rows an officer wrote (so an officer who just stepped down can finish it), and
//! sets a password only on an account it creates or on a removed user brought back. The
//! account of the administrator who became the first officer is recorded, never altered.

use crate::console::{ConsoleRole, identity};
use crate::ident;
use crate::server_roles::{
    Dialect, Schemas, ServerNames, checked, literal, officer_check, procedure_head, record_call,
    signal,
};

pub const PUT_ROUTINE: &str = "warden_console_user_put";
pub const APPLY_ROUTINE: &str = "warden_console_account_apply";
pub const ROUTINES: [&str; 2] = [PUT_ROUTINE, APPLY_ROUTINE];

/// The length of the initial passwords Warden generates (letters and digits).
pub const INITIAL_PASSWORD_LEN: usize = 24;

/// The shortest password a person may choose.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hosts that mean "this machine": accounts there need no TLS.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The characters of a Warden-made account name (after the optional prefix):
/// what every MySQL client, shell and keyring handles without quoting.
fn account_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// The account user name for `login`: the prefix, then the login in its identity form.
/// Refused when that form has characters an account name should not (the officer picks
/// another login) or is longer than the server takes (32 on MySQL, 80 on MariaDB).
pub fn account_user(prefix: &str, login: &str, dialect: Dialect) -> crate::Result<String> {
    let name = format!("{prefix}{}", identity(login));
    let bad = |why: String| crate::Error::Invalid(format!("console login {login:?}: {why}"));
    if let Some(c) = name.chars().find(|c| !account_char(*c)) {
        return Err(bad(format!(
            "{c:?} cannot be part of a database account name; use ASCII letters, digits, `.`, `_` or `-`"
        )));
    }
    if name.starts_with(['.', '-']) {
        return Err(bad(
            "an account name starts with a letter, digit or `_`".into()
        ));
    }
    let max = match dialect {
        Dialect::MySql => crate::server_roles::MAX_ACCOUNT_NAME,
        Dialect::MariaDb => 80,
    };
    if name.len() > max {
        return Err(bad(format!(
            "its account name {name} is {} characters; the server takes {max}",
            name.len()
        )));
    }
    Ok(name)
}

/// Checks an account-name prefix (`warden migrate --account-prefix`).
pub fn check_prefix(prefix: &str) -> crate::Result<()> {
    if prefix.len() > 24 || !prefix.chars().all(account_char) || prefix.starts_with(['.', '-']) {
        return Err(crate::Error::Invalid(format!(
            "account prefix {prefix:?}: at most 24 lowercase ASCII letters, digits, `.`, `_` or `-`"
        )));
    }
    Ok(())
}

/// Checks the host part of a new account: a name, an address, or a pattern with `%`/`_`
/// or a netmask, as `CREATE USER` takes it.
pub fn check_host(host: &str) -> crate::Result<()> {
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '%' | '_' | ':' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(crate::Error::Invalid(format!(
            "account host {host:?}: a host name, an address, or a pattern such as 10.0.% or %"
        )))
    }
}

/// Whether an account at `host` must use TLS (every host but this machine).
pub fn requires_tls(host: &str) -> bool {
    !LOOPBACK.contains(&host)
}

/// Checks a password a person chose. Quotes are escaped when it is sent; a backslash is
/// refused because its meaning in a string depends on the session's SQL mode, which a
/// session with an expired password cannot read.
pub fn check_new_password(password: &str) -> crate::Result<()> {
    let bad = |why: &str| crate::Error::Invalid(format!("the new password {why}"));
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(bad(&format!(
            "must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(bad("must not contain control characters"));
    }
    if password.contains('\\') {
        return Err(bad("must not contain a backslash"));
    }
    Ok(())
}

/// The statements that set the session account's own password, to try in order: MariaDB's
/// (`SET PASSWORD = PASSWORD(…)`, the one statement it runs while the password is
/// expired), then MySQL 8's (which has no `PASSWORD()`). The password must have passed
/// [`check_new_password`].
pub fn set_password_sql(password: &str) -> [String; 2] {
    let quoted = format!("'{}'", password.replace('\'', "''"));
    [
        format!("SET PASSWORD = PASSWORD({quoted})"),
        format!("ALTER USER USER() IDENTIFIED BY {quoted}"),
    ]
}

/// The two routines, owned by the definer. On MySQL (no `CREATE OR REPLACE PROCEDURE`)
/// the caller drops them first ([`drop_routines_sql`]).
pub fn routines_sql(
    names: &ServerNames,
    schemas: &Schemas,
    dialect: Dialect,
) -> crate::Result<Vec<String>> {
    let (_, gov) = checked(schemas)?;
    let head = |name: &str, params: &str| procedure_head(names, &gov, dialect, name, params);
    Ok(vec![
        head(
            PUT_ROUTINE,
            "IN p_login VARCHAR(190), IN p_key VARCHAR(190), IN p_user VARCHAR(80), \
             IN p_host VARCHAR(255), IN p_role VARCHAR(16), IN p_remove BOOLEAN, IN p_at DATETIME(6)",
        ) + &put_body(&gov, dialect),
        head(
            APPLY_ROUTINE,
            "IN p_key VARCHAR(190), IN p_password VARCHAR(64), OUT p_used BOOLEAN",
        ) + &apply_body(names, &gov, dialect),
    ])
}

pub fn drop_routines_sql(schemas: &Schemas) -> crate::Result<Vec<String>> {
    let (_, gov) = checked(schemas)?;
    Ok(ROUTINES
        .iter()
        .map(|r| format!("DROP PROCEDURE IF EXISTS {gov}.{}", ident::quote(r)))
        .collect())
}

/// Which server table lists the accounts.
fn accounts_table(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MariaDb => "`mysql`.`global_priv`",
        Dialect::MySql => "`mysql`.`user`",
    }
}

fn put_body(gov: &str, dialect: Dialect) -> String {
    let users = format!("{gov}.`warden_console_users`");
    let accounts = accounts_table(dialect);
    let roles = ConsoleRole::ALL.map(|r| literal(r.as_str())).join(", ");
    format!(
        "BEGIN\n\
         DECLARE v_caller VARCHAR(190);\n\
         DECLARE v_role VARCHAR(16);\n\
         {officer}\
         SET v_caller = (SELECT login FROM {users} WHERE account_user = SUBSTRING_INDEX(SESSION_USER(), '@', 1));\n\
         IF p_role IS NULL OR p_role NOT IN ({roles}) THEN\n{bad_role};\nEND IF;\n\
         IF p_key IS NULL OR p_key NOT REGEXP '^[a-z0-9_][a-z0-9._-]*$' \
         OR NOT (p_key <=> LOWER(TRIM(p_login))) THEN\n{bad_login};\nEND IF;\n\
         SET v_role = (SELECT role FROM {users} WHERE login_key = p_key AND locked_at IS NULL);\n\
         IF v_role = 'officer' AND (p_remove OR p_role <> 'officer') AND \
         (SELECT COUNT(*) FROM {users} WHERE role = 'officer' AND locked_at IS NULL) <= 1 THEN\n{last};\nEND IF;\n\
         IF p_remove THEN\n\
         UPDATE {users} SET locked_at = p_at, account_end_sessions = TRUE \
         WHERE login_key = p_key AND locked_at IS NULL;\n\
         IF ROW_COUNT() = 0 THEN\n{no_user};\nEND IF;\n\
         ELSEIF EXISTS (SELECT 1 FROM {users} WHERE login_key = p_key AND account_user IS NOT NULL) THEN\n\
         UPDATE {users} SET account_end_sessions = (locked_at IS NULL AND role <> p_role), \
         role = p_role, account_reset = (locked_at IS NOT NULL), locked_at = NULL \
         WHERE login_key = p_key;\n\
         ELSE\n\
         IF p_user IS NULL OR NOT (p_user <=> CONCAT(COALESCE((SELECT account_prefix FROM \
         {gov}.`warden_server_roles` WHERE id = 1), ''), p_key)) OR p_host IS NULL \
         OR p_host NOT REGEXP '^[A-Za-z0-9.%_:/-]+$' THEN\n{bad_account};\nEND IF;\n\
         IF EXISTS (SELECT 1 FROM {accounts} WHERE User = p_user) \
         OR EXISTS (SELECT 1 FROM {users} WHERE account_user = p_user) THEN\n{taken};\nEND IF;\n\
         IF EXISTS (SELECT 1 FROM {users} WHERE login_key = p_key) THEN\n\
         UPDATE {users} SET role = p_role, account_user = p_user, account_host = p_host, \
         account_managed = TRUE, locked_at = NULL WHERE login_key = p_key AND account_user IS NULL;\n\
         ELSE\n\
         INSERT INTO {users} (login, login_key, role, account_user, account_host, created_at, created_by) \
         VALUES (p_login, p_key, p_role, p_user, p_host, p_at, v_caller);\n\
         END IF;\n\
         END IF;\n\
         {record}\
         END",
        record = record_call(gov, PUT_ROUTINE, "p_key"),
        officer = officer_check(gov, "only an active officer manages console users"),
        bad_role = signal("a console role is officer, reviewer or auditor"),
        bad_login = signal(
            "a console login with an account is its account name: lowercase ASCII letters, digits, . _ -"
        ),
        last = signal("that is the last officer; add another officer first"),
        no_user = signal("no active console user has that login"),
        bad_account = signal("not the account name or a host Warden creates for that login"),
        taken = signal("an account with that name already exists on the server"),
    )
}

/// Runs the statement built by the SQL expression `sql` (names inside it are `QUOTE`d).
fn exec(sql: &str) -> String {
    format!(
        "SET @warden_sql = {sql};\nPREPARE warden_stmt FROM @warden_sql;\nEXECUTE warden_stmt;\nDEALLOCATE PREPARE warden_stmt;\n"
    )
}

/// Ends the sessions the account has open (but the caller's own): a session keeps the
/// privileges of a role it had active when the role was revoked, until it reconnects; a
/// removed or re-roled person's open sessions must not.
fn end_sessions() -> String {
    "BEGIN\n\
     DECLARE v_id BIGINT UNSIGNED;\n\
     DECLARE v_done BOOLEAN DEFAULT FALSE;\n\
     DECLARE v_sessions CURSOR FOR SELECT ID FROM information_schema.PROCESSLIST \
     WHERE USER = v_user AND ID <> CONNECTION_ID();\n\
     DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;\n\
     OPEN v_sessions;\n\
     warden_end: LOOP\n\
     FETCH v_sessions INTO v_id;\n\
     IF v_done THEN\nLEAVE warden_end;\nEND IF;\n\
     BEGIN\n\
     DECLARE CONTINUE HANDLER FOR 1094 BEGIN END;\n\
     KILL CONNECTION v_id;\n\
     END;\n\
     END LOOP;\n\
     CLOSE v_sessions;\n\
     END;\n"
        .to_string()
}

fn apply_body(names: &ServerNames, gov: &str, dialect: Dialect) -> String {
    let users = format!("{gov}.`warden_console_users`");
    let accounts = accounts_table(dialect);
    let revoke = |role: &str| match dialect {
        // MariaDB refuses to revoke a role that is not granted (error 1962): fine here.
        Dialect::MariaDb => format!(
            "BEGIN\nDECLARE CONTINUE HANDLER FOR 1962 BEGIN END;\n{}END;\n",
            exec(&format!(
                "CONCAT('REVOKE ', {}, ' FROM ', v_account)",
                literal(&literal(role))
            ))
        ),
        Dialect::MySql => exec(&format!(
            "CONCAT('REVOKE IF EXISTS ', {}, ' FROM ', v_account)",
            literal(&literal(role))
        )),
    };
    let revoke_all: String = ConsoleRole::ALL
        .iter()
        .map(|r| {
            format!(
                "IF v_role_name IS NULL OR v_role_name <> {} THEN\n{}END IF;\n",
                literal(names.role(*r)),
                revoke(names.role(*r))
            )
        })
        .collect();
    let role_name = ConsoleRole::ALL
        .iter()
        .map(|r| {
            format!(
                "WHEN {} THEN {}",
                literal(r.as_str()),
                literal(names.role(*r))
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let default_role = match dialect {
        Dialect::MariaDb => "CONCAT('SET DEFAULT ROLE ', QUOTE(v_role_name), ' FOR ', v_account)",
        Dialect::MySql => "CONCAT('SET DEFAULT ROLE ', QUOTE(v_role_name), ' TO ', v_account)",
    };
    let loopback = LOOPBACK.map(literal).join(", ");
    format!(
        "warden_apply: BEGIN\n\
         DECLARE v_user VARCHAR(80);\n\
         DECLARE v_host VARCHAR(255);\n\
         DECLARE v_role VARCHAR(16);\n\
         DECLARE v_locked DATETIME(6);\n\
         DECLARE v_managed BOOLEAN;\n\
         DECLARE v_reset BOOLEAN;\n\
         DECLARE v_end_sessions BOOLEAN;\n\
         DECLARE v_role_name VARCHAR(80);\n\
         DECLARE v_account VARCHAR(400);\n\
         DECLARE v_exists INT;\n\
         SET p_used = FALSE;\n\
         IF NOT EXISTS (SELECT 1 FROM {users} WHERE login_key = p_key AND account_user IS NOT NULL) THEN\n{no_user};\nEND IF;\n\
         SELECT account_user, account_host, role, locked_at, account_managed, account_reset, \
         account_end_sessions INTO v_user, v_host, v_role, v_locked, v_managed, v_reset, v_end_sessions \
         FROM {users} WHERE login_key = p_key;\n\
         IF NOT v_managed THEN\nLEAVE warden_apply;\nEND IF;\n\
         IF v_user NOT REGEXP '^[a-z0-9_][a-z0-9._-]*$' OR v_host NOT REGEXP '^[A-Za-z0-9.%_:/-]+$' THEN\n{bad_account};\nEND IF;\n\
         IF p_password IS NOT NULL AND p_password NOT REGEXP '^[A-Za-z0-9]{{20,64}}$' THEN\n{bad_password};\nEND IF;\n\
         SET v_account = CONCAT(QUOTE(v_user), '@', QUOTE(v_host));\n\
         SET v_exists = (SELECT COUNT(*) FROM {accounts} WHERE User = v_user AND Host = v_host);\n\
         IF v_locked IS NOT NULL THEN\n\
         SET v_role_name = NULL;\n\
         IF v_exists > 0 THEN\n{lock}END IF;\n\
         IF v_exists > 0 THEN\n{revoke_all}END IF;\n\
         ELSE\n\
         SET v_role_name = CASE v_role {role_name} END;\n\
         IF v_exists = 0 OR v_reset THEN\n\
         IF p_password IS NULL THEN\n{needs_password};\nEND IF;\n\
         SET p_used = TRUE;\n\
         END IF;\n\
         IF v_exists = 0 THEN\n{create}\
         ELSEIF v_reset THEN\n{reset}\
         UPDATE {users} SET account_reset = FALSE WHERE login_key = p_key;\n\
         END IF;\n\
         {revoke_all}\
         {grant}\
         {default}\
         END IF;\n\
         IF v_end_sessions THEN\n{end_sessions}\
         UPDATE {users} SET account_end_sessions = FALSE WHERE login_key = p_key;\n\
         END IF;\n\
         {record}\
         END warden_apply",
        record = record_call(gov, APPLY_ROUTINE, "p_key"),
        end_sessions = end_sessions(),
        no_user = signal("no console user with that login has an account"),
        bad_account = signal("not an account name or host Warden creates"),
        bad_password = signal("an initial password is 20 to 64 letters and digits"),
        needs_password = signal("a new account needs its initial password"),
        lock = exec("CONCAT('ALTER USER ', v_account, ' ACCOUNT LOCK')"),
        create = exec(&format!(
            "CONCAT('CREATE USER ', v_account, ' IDENTIFIED BY ', QUOTE(p_password), \
             IF(v_host IN ({loopback}), '', ' REQUIRE SSL'), ' PASSWORD EXPIRE')"
        )),
        reset = exec(
            "CONCAT('ALTER USER ', v_account, ' IDENTIFIED BY ', QUOTE(p_password), ' PASSWORD EXPIRE ACCOUNT UNLOCK')"
        ),
        grant = exec("CONCAT('GRANT ', QUOTE(v_role_name), ' TO ', v_account)"),
        default = exec(default_role),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_name_is_the_prefix_and_the_logins_identity() {
        assert_eq!(
            account_user("", "Rita.Reviewer", Dialect::MariaDb).unwrap(),
            "rita.reviewer"
        );
        assert_eq!(
            account_user("crm_", "ＲＩＴＡ", Dialect::MySql).unwrap(),
            "crm_rita"
        );
        let err = account_user("", "rita'@'%", Dialect::MariaDb).unwrap_err();
        assert!(err.to_string().contains("'\\''"), "{err}");
        assert!(account_user("", "élodie", Dialect::MariaDb).is_err());
        assert!(account_user("", "-x", Dialect::MariaDb).is_err());
        let long = "a".repeat(33);
        assert!(account_user("", &long, Dialect::MySql).is_err());
        assert!(account_user("", &long, Dialect::MariaDb).is_ok());
        assert!(check_prefix("t1_").is_ok());
        assert!(check_prefix("T1").is_err());
    }

    #[test]
    fn hosts_and_passwords_are_checked() {
        assert!(check_host("%").is_ok());
        assert!(check_host("10.0.0.0/255.255.255.0").is_ok());
        assert!(check_host("a' IDENTIFIED BY 'x").is_err());
        assert!(!requires_tls("localhost"));
        assert!(requires_tls("%"));
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("with\\backslash!!").is_err());
        assert!(check_new_password("a fine pass'phrase").is_ok());
        let [maria, mysql] = set_password_sql("it's long enough");
        assert_eq!(maria, "SET PASSWORD = PASSWORD('it''s long enough')");
        assert_eq!(mysql, "ALTER USER USER() IDENTIFIED BY 'it''s long enough'");
    }

    #[test]
    fn the_routines_differ_where_the_servers_do() {
        let n = ServerNames::for_database("crm");
        let s = Schemas {
            app: "crm".into(),
            gov: "crm".into(),
        };
        let maria = routines_sql(&n, &s, Dialect::MariaDb).unwrap().join("\n");
        let mysql = routines_sql(&n, &s, Dialect::MySql).unwrap().join("\n");
        assert!(maria.starts_with(
            "CREATE OR REPLACE DEFINER = 'warden_crm_definer'@'localhost' PROCEDURE `crm`.`warden_console_user_put`"
        ));
        assert!(maria.contains("' FOR ', v_account"));
        assert!(maria.contains("DECLARE CONTINUE HANDLER FOR 1962"));
        assert!(maria.contains("`mysql`.`global_priv`"));
        assert!(mysql.starts_with("CREATE DEFINER"));
        assert!(mysql.contains("' TO ', v_account"));
        assert!(mysql.contains("REVOKE IF EXISTS "));
        assert!(mysql.contains("`mysql`.`user`"));
        assert!(!mysql.contains("global_priv"));
        for sql in [&maria, &mysql] {
            assert!(sql.contains("only an active officer manages console users"));
            assert!(sql.contains("' REQUIRE SSL'"));
            assert!(sql.contains("' PASSWORD EXPIRE'"));
            assert!(
                sql.contains("KILL CONNECTION v_id"),
                "removed users' sessions end"
            );
        }
        assert_eq!(drop_routines_sql(&s).unwrap().len(), 2);
    }
}
