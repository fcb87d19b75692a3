//! spatie/laravel-permission's own tables (polymorphic `model_has_roles` /
//! `model_has_permissions`, guards) read through the `laravel-permission` preset: its row
//! filters give exactly the package's answer — a team that shares a user's id lends them
//! nothing, a permission of the API guard is not the web's — and `mapping check` shows what
//! the filters leave out.

use warden_core::console::ConsoleRole;
use warden_core::mapping::Mapping;
use warden_core::review::{ReviewerRule, Verdict};
use warden_service::directory::{self, AccessRequest, WhoCanRequest};
use warden_service::mapping as mapping_service;

use crate::support::*;

/// Laravel's default `users` table and the tables of spatie/laravel-permission v6's
/// published migration (`create_permission_tables.php`, teams off), as MySQL creates them.
const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, \
     email_verified_at TIMESTAMP NULL, password VARCHAR(255) NOT NULL, \
     remember_token VARCHAR(100) NULL, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL)",
    "CREATE TABLE permissions (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(255) NOT NULL, guard_name VARCHAR(255) NOT NULL, \
     created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, \
     UNIQUE KEY permissions_name_guard_name_unique (name, guard_name))",
    "CREATE TABLE roles (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(255) NOT NULL, guard_name VARCHAR(255) NOT NULL, \
     created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, \
     UNIQUE KEY roles_name_guard_name_unique (name, guard_name))",
    "CREATE TABLE model_has_permissions (permission_id BIGINT UNSIGNED NOT NULL, \
     model_type VARCHAR(255) NOT NULL, model_id BIGINT UNSIGNED NOT NULL, \
     KEY model_has_permissions_model_id_model_type_index (model_id, model_type), \
     FOREIGN KEY (permission_id) REFERENCES permissions (id) ON DELETE CASCADE, \
     PRIMARY KEY (permission_id, model_id, model_type))",
    "CREATE TABLE model_has_roles (role_id BIGINT UNSIGNED NOT NULL, \
     model_type VARCHAR(255) NOT NULL, model_id BIGINT UNSIGNED NOT NULL, \
     KEY model_has_roles_model_id_model_type_index (model_id, model_type), \
     FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE, \
     PRIMARY KEY (role_id, model_id, model_type))",
    "CREATE TABLE role_has_permissions (permission_id BIGINT UNSIGNED NOT NULL, \
     role_id BIGINT UNSIGNED NOT NULL, \
     FOREIGN KEY (permission_id) REFERENCES permissions (id) ON DELETE CASCADE, \
     FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE, \
     PRIMARY KEY (permission_id, role_id))",
    "INSERT INTO users (id, name, email, password) VALUES \
     (1, 'Ann', 'ann@example.com', 'x'), (2, 'Bob', 'bob@example.com', 'x')",
    // `support` and `admin` for the web guard; a `support` of the API guard too.
    "INSERT INTO roles (id, name, guard_name) VALUES \
     (1, 'support', 'web'), (2, 'admin', 'web'), (3, 'support', 'api')",
    // The same permission name in both guards.
    "INSERT INTO permissions (id, name, guard_name) VALUES \
     (1, 'customer.read', 'web'), (2, 'customer.read', 'api'), \
     (3, 'customer.delete', 'web'), (4, 'customer.export', 'web')",
    "INSERT INTO role_has_permissions VALUES (1, 1), (3, 2), (1, 2), (2, 3)",
    // Ann is support; team 1 (sharing Ann's id) is admin and support too; Bob holds the API
    // support role.
    "INSERT INTO model_has_roles VALUES (1, 'App\\\\Models\\\\User', 1), \
     (2, 'App\\\\Models\\\\Team', 1), (1, 'App\\\\Models\\\\Team', 1), \
     (3, 'App\\\\Models\\\\User', 2)",
    // Bob may export customers himself; team 2 (sharing Bob's id) may delete them.
    "INSERT INTO model_has_permissions VALUES (4, 'App\\\\Models\\\\User', 2), \
     (3, 'App\\\\Models\\\\Team', 2)",
];

#[tokio::test]
async fn the_laravel_permission_preset_reads_exactly_the_packages_answer() {
    let (test_db, db) = fresh().await;
    for sql in SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
    // `warden migrate` records the grant table with the key that names one grant (the
    // package's primary key) and the mapping's filter.
    let done = migrate_for(&db, &test_db, clock(), "laravel-permission").await;
    assert_eq!(
        done.grant_key.as_deref(),
        Some(
            &[
                "role_id".to_string(),
                "model_id".into(),
                "model_type".into()
            ][..]
        ),
        "{done:?}"
    );
    assert_eq!(done.remediation_refused, None);
    add_console_user_by(&test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
    db.close().await;
    let mapping = Mapping::preset("laravel-permission").unwrap();
    let session = warden_store::Database::connect(&account_spec(&test_db, OFFICER))
        .await
        .unwrap();
    let ctx = warden_service::Ctx::establish(session, Some(mapping.clone()))
        .await
        .unwrap()
        .with_clock(clock());

    // Ann: her own role only (not the team's admin), each web permission once.
    let ann = directory::access(
        &ctx,
        AccessRequest {
            login: "ann@example.com".into(),
        },
    )
    .await
    .unwrap();
    let roles: Vec<&str> = ann.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["support"], "{ann:?}");
    let permissions: Vec<&str> = ann.permissions.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(permissions, ["customer.read"], "{ann:?}");

    // Bob: no web role (his is the API guard's), his own direct permission only (not the
    // team's that shares his id).
    let bob = directory::access(
        &ctx,
        AccessRequest {
            login: "bob@example.com".into(),
        },
    )
    .await
    .unwrap();
    assert!(bob.roles.is_empty(), "{bob:?}");
    let permissions: Vec<(&str, &[String])> = bob
        .permissions
        .iter()
        .map(|p| (p.key.as_str(), p.via.as_slice()))
        .collect();
    assert_eq!(
        permissions,
        [("customer.export", &["direct".to_string()][..])],
        "{bob:?}"
    );

    // Nobody deletes customers (only the teams' grants would); only Ann reads them on the
    // web; only Bob exports.
    for (permission, holders) in [
        ("customer.delete", vec![]),
        ("customer.read", vec!["ann@example.com"]),
        ("customer.export", vec!["bob@example.com"]),
    ] {
        let who = directory::who_can(
            &ctx,
            WhoCanRequest {
                permission: permission.into(),
            },
        )
        .await
        .unwrap();
        let logins: Vec<&str> = who.users.iter().map(|h| h.login.as_str()).collect();
        assert_eq!(logins, holders, "{permission}");
    }

    // The access listing's evidence says which rows its population is: the filters, as
    // they were, in the manifest.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    let done = warden_service::export::access(
        &ctx,
        &out,
        false,
        &warden_service::export::Progress::default(),
    )
    .await
    .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&done.manifest).unwrap()).unwrap();
    assert_eq!(
        manifest["parameters"]["filters"]["user_roles"]["model_type"], "App\\Models\\User",
        "{manifest}"
    );
    assert_eq!(
        manifest["parameters"]["filters"]["roles"]["guard_name"],
        "web"
    );
    assert!(
        manifest["population_query"]
            .as_str()
            .unwrap()
            .contains("only the rows its `where` keeps"),
        "{manifest}"
    );

    // The check names what the filters leave out.
    let report = mapping_service::check(&ctx, &mapping).await.unwrap();
    assert!(report.ok, "{:?}", report.problems);
    let ignored: Vec<&str> = report.ignored.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(
        ignored,
        [
            "roles: 1 row outside `where` (guard_name) is ignored",
            "permissions: 1 row outside `where` (guard_name) is ignored",
            "model_has_roles: 2 rows outside `where` (model_type) are ignored",
            "model_has_permissions: 1 row outside `where` (model_type) is ignored",
            // Bob's grant of the API guard's support role, and that role's permission.
            "model_has_roles: 1 row points at roles outside their `where` (guard_name) and is ignored",
            "role_has_permissions: 1 row points at roles outside their `where` (guard_name) and is ignored",
            "role_has_permissions: 1 row points at permissions outside their `where` (guard_name) and is ignored",
        ]
    );
}

/// Every row of the package's grant tables, byte for byte: `table:HEX(column):…`, every
/// column in the table's order.
async fn grant_rows(test_db: &warden_sandbox::TestDatabase) -> Vec<String> {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let mut rows = Vec::new();
    for table in ["model_has_roles", "model_has_permissions"] {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        )
        .bind(table)
        .fetch_all(db.app())
        .await
        .unwrap();
        let quote = warden_core::ident::quote;
        let hexed: Vec<String> = columns
            .iter()
            .map(|c| format!("HEX({})", quote(c)))
            .collect();
        let sql = format!(
            "SELECT CONCAT_WS(':', '{table}', {}) FROM {}",
            hexed.join(", "),
            quote(table)
        );
        rows.extend(
            sqlx::query_scalar::<_, String>(&sql)
                .fetch_all(db.app())
                .await
                .unwrap(),
        );
    }
    rows.sort();
    db.close().await;
    rows
}

/// The package's tables, migrated with the preset, a policy, and a campaign launched over
/// them: answers its one item (Ann's `support`).
async fn laravel_campaign() -> (
    warden_sandbox::TestDatabase,
    warden_service::Ctx,
    u64,
    warden_service::reviews::ItemView,
) {
    use warden_service::reviews::{self, ItemsRequest, Scope, StartRequest};

    let (test_db, db) = fresh().await;
    for sql in SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
    migrate_for(&db, &test_db, clock(), "laravel-permission").await;
    add_console_user_by(&test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
    db.close().await;
    let ctx = ctx_as(&test_db, OFFICER, Some("laravel-permission")).await;
    let policy = "[[job_function]]\nname = \"support\"\nmatch = { role = \"support\" }\n\
                  allow = [\"customer.read\"]\n";
    warden_service::policy::apply(&ctx, policy, "laravel.toml", "by role")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        StartRequest {
            name: "Laravel roles".into(),
            due: day(7),
            scope: Scope::default(),
            reviewer: ReviewerRule::Manager,
            fallback: OFFICER.into(),
            undecided: Verdict::Keep,
        },
    )
    .await
    .unwrap();
    let items = reviews::items(
        &ctx,
        ItemsRequest {
            campaign: started.campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items;
    // One item: Ann's support. Not the Team's grants, not Bob's role of the API guard.
    let who: Vec<(&str, &str)> = (items.iter())
        .map(|i| (i.login.as_str(), i.role.as_str()))
        .collect();
    assert_eq!(who, [("ann@example.com", "support")]);
    let item = items.into_iter().next().unwrap();
    (test_db, ctx, started.campaign, item)
}

/// A campaign on the package's tables revokes Ann's `support` while the Team that shares
/// her id holds `support` too: close removes exactly Ann's row (by the table's primary key,
/// inside the filter), undo puts it back, and every other row stays byte for byte.
#[tokio::test]
async fn a_campaign_on_laravel_permission_removes_exactly_the_reviewed_row() {
    use warden_service::reviews::{self, DecideRequest};

    let (test_db, ctx, campaign, item) = laravel_campaign().await;
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![item.id],
            decision: Verdict::Revoke,
            comment: "moved to sales".into(),
            key: "laravel-1".into(),
        },
    )
    .await
    .unwrap();
    let before = grant_rows(&test_db).await;
    let preview = reviews::close(&ctx, campaign, true).await.unwrap();
    let delete = preview
        .sql
        .iter()
        .find(|s| s.starts_with("DELETE"))
        .expect("the preview shows the DELETE");
    assert!(
        delete.contains("`role_id` <=> ?")
            && delete.contains("`model_id` <=> ?")
            && delete.contains("`model_type` <=> ?")
            && delete.contains("`model_type` IN (?)"),
        "{delete}"
    );
    assert!(delete.contains("'App\\Models\\User'"), "{delete}");

    reviews::close(&ctx, campaign, false).await.unwrap();
    let after = grant_rows(&test_db).await;
    let ann_support = format!(
        "model_has_roles:1:{}:1",
        hex::encode_upper("App\\Models\\User")
    );
    let mut expected = before.clone();
    expected.retain(|r| r != &ann_support);
    assert_eq!(before.len(), expected.len() + 1, "Ann's row was there");
    assert_eq!(after, expected, "exactly Ann's row is gone");
    let ann = directory::access(
        &ctx,
        AccessRequest {
            login: "ann@example.com".into(),
        },
    )
    .await
    .unwrap();
    assert!(ann.roles.is_empty(), "{ann:?}");

    reviews::undo_remediation(&ctx, campaign, "restored after the test")
        .await
        .unwrap();
    assert_eq!(grant_rows(&test_db).await, before, "every row as it was");
}

/// The server, not the console, keeps remediation inside the mapping's filter and on the
/// reviewed row: an item whose key an officer rewrote (with any MySQL client) to name the
/// Team's row removes nothing, and once decided the key cannot be rewritten at all.
#[tokio::test]
async fn the_server_removes_no_row_outside_the_filter_whatever_the_item_says() {
    use warden_service::reviews::{self, DecideRequest};

    let (test_db, ctx, campaign, item) = laravel_campaign().await;
    let officer = warden_store::Database::connect(&account_spec(&test_db, OFFICER))
        .await
        .unwrap();
    let team = r#"{"role_id": 1, "model_id": 1, "model_type": "App\\Models\\Team"}"#;
    sqlx::query("UPDATE warden_review_items SET grant_key = ? WHERE id = ?")
        .bind(team)
        .bind(item.id)
        .execute(officer.gov())
        .await
        .unwrap();
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![item.id],
            decision: Verdict::Revoke,
            comment: "moved to sales".into(),
            key: "laravel-forged".into(),
        },
    )
    .await
    .unwrap();
    let decided = sqlx::query("UPDATE warden_review_items SET grant_key = NULL WHERE id = ?")
        .bind(item.id)
        .execute(officer.gov())
        .await
        .unwrap_err();
    assert!(
        decided.to_string().contains("stays as it was decided"),
        "{decided}"
    );
    let before = grant_rows(&test_db).await;
    reviews::close(&ctx, campaign, false).await.unwrap();
    assert_eq!(grant_rows(&test_db).await, before, "no row was removed");
    let remediation: Option<String> =
        sqlx::query_scalar("SELECT remediation FROM warden_review_items WHERE id = ?")
            .bind(item.id)
            .fetch_one(officer.gov())
            .await
            .unwrap();
    assert_eq!(remediation.as_deref(), Some("absent"));
    officer.close().await;
}

/// spatie/laravel-permission v6's tables in teams mode (`'teams' => true`): `team_id` on
/// `roles` and in the pivots' primary keys.
const TEAMS_SCHEMA: &[&str] = &[
    "CREATE TABLE users (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, \
     email_verified_at TIMESTAMP NULL, password VARCHAR(255) NOT NULL, \
     remember_token VARCHAR(100) NULL, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL)",
    "CREATE TABLE permissions (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(255) NOT NULL, guard_name VARCHAR(255) NOT NULL, \
     created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, \
     UNIQUE KEY permissions_name_guard_name_unique (name, guard_name))",
    "CREATE TABLE roles (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
     team_id BIGINT UNSIGNED NULL, name VARCHAR(255) NOT NULL, guard_name VARCHAR(255) NOT NULL, \
     created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, KEY roles_team_foreign_key_index (team_id), \
     UNIQUE KEY roles_team_id_name_guard_name_unique (team_id, name, guard_name))",
    "CREATE TABLE model_has_permissions (permission_id BIGINT UNSIGNED NOT NULL, \
     model_type VARCHAR(255) NOT NULL, model_id BIGINT UNSIGNED NOT NULL, \
     team_id BIGINT UNSIGNED NOT NULL, \
     KEY model_has_permissions_model_id_model_type_index (model_id, model_type), \
     KEY model_has_permissions_team_foreign_key_index (team_id), \
     FOREIGN KEY (permission_id) REFERENCES permissions (id) ON DELETE CASCADE, \
     PRIMARY KEY (team_id, permission_id, model_id, model_type))",
    "CREATE TABLE model_has_roles (role_id BIGINT UNSIGNED NOT NULL, \
     model_type VARCHAR(255) NOT NULL, model_id BIGINT UNSIGNED NOT NULL, \
     team_id BIGINT UNSIGNED NOT NULL, \
     KEY model_has_roles_model_id_model_type_index (model_id, model_type), \
     KEY model_has_roles_team_foreign_key_index (team_id), \
     FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE, \
     PRIMARY KEY (team_id, role_id, model_id, model_type))",
    "CREATE TABLE role_has_permissions (permission_id BIGINT UNSIGNED NOT NULL, \
     role_id BIGINT UNSIGNED NOT NULL, \
     FOREIGN KEY (permission_id) REFERENCES permissions (id) ON DELETE CASCADE, \
     FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE, \
     PRIMARY KEY (permission_id, role_id))",
    "INSERT INTO users (id, name, email, password) VALUES \
     (1, 'Ann', 'ann@example.com', 'x'), (2, 'Bob', 'bob@example.com', 'x')",
    "INSERT INTO roles (id, team_id, name, guard_name) VALUES (1, NULL, 'support', 'web')",
    "INSERT INTO permissions (id, name, guard_name) VALUES \
     (1, 'customer.read', 'web'), (2, 'customer.export', 'web')",
    "INSERT INTO role_has_permissions VALUES (1, 1)",
    // Ann is support in teams 1 and 2; Bob in team 1; the Team model sharing Ann's id is
    // support in team 1 too.
    "INSERT INTO model_has_roles (role_id, model_type, model_id, team_id) VALUES \
     (1, 'App\\\\Models\\\\User', 1, 1), (1, 'App\\\\Models\\\\User', 1, 2), \
     (1, 'App\\\\Models\\\\User', 2, 1), (1, 'App\\\\Models\\\\Team', 1, 1)",
    // Bob exports customers in team 2.
    "INSERT INTO model_has_permissions (permission_id, model_type, model_id, team_id) VALUES \
     (2, 'App\\\\Models\\\\User', 2, 2)",
];

/// Teams mode: a grant is shown, judged, reviewed and exported with its team; the same role
/// in two teams is two review items, and revoking one removes that team's row only.
#[tokio::test]
async fn teams_mode_grants_are_scoped_shown_judged_reviewed_and_remediated_per_team() {
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, Scope, StartRequest};

    let (test_db, db) = fresh().await;
    for sql in TEAMS_SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
    let done = migrate_for(&db, &test_db, clock(), "laravel-permission-teams").await;
    assert_eq!(
        done.grant_key.as_deref(),
        Some(
            &[
                "team_id".to_string(),
                "role_id".into(),
                "model_id".into(),
                "model_type".into()
            ][..]
        )
    );
    add_console_user_by(&test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
    db.close().await;
    let ctx = ctx_as(&test_db, OFFICER, Some("laravel-permission-teams")).await;

    // Shown with its team.
    let ann = directory::access(
        &ctx,
        AccessRequest {
            login: "ann@example.com".into(),
        },
    )
    .await
    .unwrap();
    let roles: Vec<(&str, Option<&str>)> = (ann.roles.iter())
        .map(|r| (r.name.as_str(), r.scope.as_deref()))
        .collect();
    assert_eq!(
        roles,
        [("support", Some("team 1")), ("support", Some("team 2"))]
    );
    let bob = directory::access(
        &ctx,
        AccessRequest {
            login: "bob@example.com".into(),
        },
    )
    .await
    .unwrap();
    let via: Vec<(&str, &[String])> = (bob.permissions.iter())
        .map(|p| (p.key.as_str(), p.via.as_slice()))
        .collect();
    assert_eq!(
        via,
        [
            ("customer.export", &["direct @ team 2".to_string()][..]),
            ("customer.read", &["support".to_string()][..])
        ]
    );
    // Who can read customers: Ann and Bob (support in their teams); export: Bob (team 2).
    for (permission, holders) in [
        ("customer.read", vec!["ann@example.com", "bob@example.com"]),
        ("customer.export", vec!["bob@example.com"]),
    ] {
        let who = directory::who_can(
            &ctx,
            WhoCanRequest {
                permission: permission.into(),
            },
        )
        .await
        .unwrap();
        let logins: Vec<&str> = who.users.iter().map(|h| h.login.as_str()).collect();
        assert_eq!(logins, holders, "{permission}");
    }

    // Judged: a job function that matches `support @ team 1` applies to Ann and Bob (both
    // support there); one that matches `support @ team 2` (first by priority, allowing
    // nothing) to Ann alone: her grants are outside her baseline, Bob's within his.
    let policy = "[[job_function]]\nname = \"team two\"\npriority = 2\n\
                  match = { role = \"support @ team 2\" }\nallow = []\n\
                  [[job_function]]\nname = \"team one\"\npriority = 1\n\
                  match = { role = \"support @ team 1\" }\nallow = [\"customer.read\"]\n";
    warden_service::policy::apply(&ctx, policy, "teams.toml", "by team")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        StartRequest {
            name: "Teams".into(),
            due: day(7),
            scope: Scope::default(),
            reviewer: ReviewerRule::Manager,
            fallback: OFFICER.into(),
            undecided: Verdict::Keep,
        },
    )
    .await
    .unwrap();
    let items = reviews::items(
        &ctx,
        ItemsRequest {
            campaign: started.campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items;
    // Reviewed per team: Ann's two grants are two items.
    let mut who: Vec<(&str, &str)> = (items.iter())
        .map(|i| (i.login.as_str(), i.role.as_str()))
        .collect();
    who.sort_unstable();
    assert_eq!(
        who,
        [
            ("ann@example.com", "support @ team 1"),
            ("ann@example.com", "support @ team 2"),
            ("bob@example.com", "support @ team 1"),
        ]
    );
    let team_two = items.iter().find(|i| i.role == "support @ team 2").unwrap();
    assert_eq!(team_two.outside, "customer.read", "{team_two:?}");
    let bobs = items.iter().find(|i| i.login == "bob@example.com").unwrap();
    assert_eq!(bobs.outside, "", "{bobs:?}");

    // Exported with its team.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    warden_service::export::access(
        &ctx,
        &out,
        false,
        &warden_service::export::Progress::default(),
    )
    .await
    .unwrap();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.contains(r#""role","support @ team 2","#), "{csv}");
    assert!(
        csv.contains(r#""direct @ team 2","","customer.export""#),
        "{csv}"
    );

    // Remediated per team: revoking Ann's team-2 grant removes that row only.
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![team_two.id],
            decision: Verdict::Revoke,
            comment: "left team 2".into(),
            key: "teams-1".into(),
        },
    )
    .await
    .unwrap();
    let before = grant_rows(&test_db).await;
    reviews::close(&ctx, started.campaign, false).await.unwrap();
    let mut expected = before.clone();
    let ann_team_two = format!(
        "model_has_roles:1:{}:1:2",
        hex::encode_upper("App\\Models\\User")
    );
    let i = (expected.iter())
        .position(|r| r == &ann_team_two)
        .expect("Ann's rows");
    expected.remove(i);
    assert_eq!(
        grant_rows(&test_db).await,
        expected,
        "exactly that row is gone"
    );
    let ann = directory::access(
        &ctx,
        AccessRequest {
            login: "ann@example.com".into(),
        },
    )
    .await
    .unwrap();
    let scopes: Vec<Option<&str>> = ann.roles.iter().map(|r| r.scope.as_deref()).collect();
    assert_eq!(scopes, [Some("team 1")], "only the team-2 grant is gone");
    reviews::undo_remediation(&ctx, started.campaign, "restored after the test")
        .await
        .unwrap();
    assert_eq!(grant_rows(&test_db).await, before, "every row as it was");
}
