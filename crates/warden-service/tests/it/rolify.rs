//! Rails' rolify read through the `rolify` preset: roles of a resource are their own
//! roles (`moderator @ Forum 1`), a wider role covers the narrower ones as `has_role?`
//! does, and its key-less join table is read but remediated only once the application
//! gives it a unique key.

use warden_core::console::ConsoleRole;
use warden_core::review::{ReviewerRule, Verdict};
use warden_service::directory::{self, AccessRequest, WhoCanRequest};
use warden_service::reviews::{self, DecideRequest, ItemsRequest, Scope, StartRequest};

use crate::support::*;

/// A Devise `users` table and rolify v6's generated tables, as Rails 7 creates them on
/// MySQL (`t.references` columns are nullable BIGINTs with their own indexes).
const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
     email VARCHAR(255) NOT NULL DEFAULT '', encrypted_password VARCHAR(255) NOT NULL DEFAULT '', \
     reset_password_token VARCHAR(255) NULL, reset_password_sent_at DATETIME(6) NULL, \
     remember_created_at DATETIME(6) NULL, created_at DATETIME(6) NOT NULL, \
     updated_at DATETIME(6) NOT NULL, UNIQUE KEY index_users_on_email (email), \
     UNIQUE KEY index_users_on_reset_password_token (reset_password_token))",
    "CREATE TABLE roles (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NULL, \
     resource_type VARCHAR(255) NULL, resource_id BIGINT NULL, \
     created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL, \
     KEY index_roles_on_resource (resource_type, resource_id), KEY index_roles_on_name (name), \
     KEY index_roles_on_name_and_resource_type_and_resource_id (name, resource_type, resource_id))",
    "CREATE TABLE users_roles (user_id BIGINT NULL, role_id BIGINT NULL, \
     KEY index_users_roles_on_user_id (user_id), KEY index_users_roles_on_role_id (role_id), \
     KEY index_users_roles_on_user_id_and_role_id (user_id, role_id))",
    "INSERT INTO users (id, email, created_at, updated_at) VALUES \
     (1, 'ann@example.com', '2026-01-05', '2026-01-05'), \
     (2, 'bob@example.com', '2026-01-05', '2026-01-05'), \
     (3, 'cy@example.com', '2026-01-05', '2026-01-05')",
    // A global moderator, moderators of forums 1 and 2, an admin of every forum.
    "INSERT INTO roles (id, name, resource_type, resource_id, created_at, updated_at) VALUES \
     (1, 'moderator', NULL, NULL, '2026-01-05', '2026-01-05'), \
     (2, 'moderator', 'Forum', 1, '2026-01-05', '2026-01-05'), \
     (3, 'moderator', 'Forum', 2, '2026-01-05', '2026-01-05'), \
     (4, 'admin', 'Forum', NULL, '2026-01-05', '2026-01-05')",
    // Ann moderates forums 1 and 2; Bob moderates everywhere; Cy administers forums.
    "INSERT INTO users_roles VALUES (1, 2), (1, 3), (2, 1), (3, 4)",
];

async fn rolify_db() -> (
    warden_sandbox::TestDatabase,
    warden_service::setup::MigrateResponse,
) {
    let (test_db, db) = fresh().await;
    for sql in SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
    let done = migrate_for(&db, &test_db, clock(), "rolify").await;
    add_console_user_by(&test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
    db.close().await;
    (test_db, done)
}

/// Every row of `users_roles`, byte for byte.
async fn grant_rows(test_db: &warden_sandbox::TestDatabase) -> Vec<String> {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let rows = sqlx::query_scalar(
        "SELECT CONCAT_WS(':', HEX(user_id), HEX(role_id)) FROM users_roles ORDER BY 1",
    )
    .fetch_all(db.app())
    .await
    .unwrap();
    db.close().await;
    rows
}

#[tokio::test]
async fn the_rolify_preset_reads_exactly_the_gems_answer() {
    let (test_db, done) = rolify_db().await;
    // The stock join table has no unique key: read, not remediated, and migrate says why.
    let why = done
        .remediation_refused
        .expect("no key in the stock migration");
    assert!(why.contains("`users_roles` has no primary key"), "{why}");
    let ctx = ctx_as(&test_db, OFFICER, Some("rolify")).await;

    let roles_of = async |login: &str| {
        let a = directory::access(
            &ctx,
            AccessRequest {
                login: login.into(),
            },
        )
        .await
        .unwrap();
        let roles: Vec<String> = a.roles.iter().map(|r| r.name.clone()).collect();
        let permissions: Vec<String> = a.permissions.iter().map(|p| p.key.clone()).collect();
        (roles, permissions)
    };
    // `ann.has_role?(:moderator, forum)` for forums 1 and 2 only; not globally.
    assert_eq!(
        roles_of("ann@example.com").await,
        (
            vec!["moderator @ Forum 1".into(), "moderator @ Forum 2".into()],
            vec!["moderator @ Forum 1".into(), "moderator @ Forum 2".into()]
        )
    );
    // Bob's global moderator covers every forum's moderator role.
    assert_eq!(
        roles_of("bob@example.com").await,
        (
            vec!["moderator".into()],
            vec![
                "moderator".into(),
                "moderator @ Forum 1".into(),
                "moderator @ Forum 2".into()
            ]
        )
    );
    // `User.with_role(:moderator, Forum.find(1))`: Ann (that forum) and Bob (global);
    // `User.with_role(:moderator)`: Bob alone; `with_role(:admin, Forum)`: Cy.
    for (permission, holders) in [
        (
            "moderator @ Forum 1",
            vec!["ann@example.com", "bob@example.com"],
        ),
        ("moderator", vec!["bob@example.com"]),
        ("admin @ Forum", vec!["cy@example.com"]),
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
}

/// A campaign revokes Ann's `moderator @ Forum 2`: refused on the stock join table (no key
/// names one row), carried out once the application adds the unique key most do, removing
/// exactly that row; undo puts it back and every row is as it was.
#[tokio::test]
async fn a_campaign_on_rolify_removes_one_scoped_role_once_the_join_table_has_a_key() {
    let (test_db, _) = rolify_db().await;
    let ctx = ctx_as(&test_db, OFFICER, Some("rolify")).await;
    let policy = "[[job_function]]\nname = \"moderation\"\n\
                  match = { role = \"moderator @ Forum 1\" }\n\
                  allow = [\"moderator @ Forum *\"]\n";
    warden_service::policy::apply(&ctx, policy, "rolify.toml", "moderators")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        StartRequest {
            name: "Moderators".into(),
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
    let mut who: Vec<(&str, &str)> = (items.iter())
        .map(|i| (i.login.as_str(), i.role.as_str()))
        .collect();
    who.sort_unstable();
    assert_eq!(
        who,
        [
            ("ann@example.com", "moderator @ Forum 1"),
            ("ann@example.com", "moderator @ Forum 2"),
            ("bob@example.com", "moderator"),
            ("cy@example.com", "admin @ Forum"),
        ]
    );
    let forum_two = items
        .iter()
        .find(|i| i.role == "moderator @ Forum 2")
        .unwrap();
    // Ann's job function (moderator of forum 1) allows every forum's moderation.
    assert_eq!(forum_two.outside, "", "{forum_two:?}");
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![forum_two.id],
            decision: Verdict::Revoke,
            comment: "no longer moderates forum 2".into(),
            key: "rolify-1".into(),
        },
    )
    .await
    .unwrap();
    let before = grant_rows(&test_db).await;
    let refused = reviews::close(&ctx, started.campaign, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("`users_roles` has no primary key")
            && refused.contains("revoke in the application"),
        "{refused}"
    );
    assert_eq!(grant_rows(&test_db).await, before);

    // The application adds the unique key; the administrator migrates again.
    let root = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    sqlx::query("ALTER TABLE users_roles ADD UNIQUE KEY users_roles_unique (user_id, role_id)")
        .execute(root.app())
        .await
        .unwrap();
    let done = migrate_for(&root, &test_db, clock(), "rolify").await;
    assert_eq!(
        done.grant_key.as_deref(),
        Some(&["user_id".to_string(), "role_id".into()][..])
    );
    root.close().await;
    reviews::close(&ctx, started.campaign, false).await.unwrap();
    let mut expected = before.clone();
    expected.retain(|r| r != "1:3");
    assert_eq!(
        grant_rows(&test_db).await,
        expected,
        "exactly Ann's forum-2 row"
    );
    reviews::undo_remediation(&ctx, started.campaign, "restored after the test")
        .await
        .unwrap();
    assert_eq!(grant_rows(&test_db).await, before, "every row as it was");
}
