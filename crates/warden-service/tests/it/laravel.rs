//! A schema of spatie/laravel-permission's shape (polymorphic `model_has_roles`, guards):
//! a mapping's row filters make Warden read exactly the package's answer — the team that
//! shares a user's id lends them nothing, a permission of the API guard is not the web's,
//! and `mapping check` shows what the filters leave out.

use warden_core::mapping::Mapping;
use warden_service::directory::{self, AccessRequest, WhoCanRequest};
use warden_service::mapping as mapping_service;

use crate::support::*;

const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(255) NOT NULL, \
     email VARCHAR(255) NOT NULL)",
    "CREATE TABLE roles (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(255) NOT NULL, \
     guard_name VARCHAR(255) NOT NULL)",
    "CREATE TABLE permissions (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(255) NOT NULL, \
     guard_name VARCHAR(255) NOT NULL)",
    "CREATE TABLE role_has_permissions (permission_id BIGINT UNSIGNED NOT NULL, \
     role_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (permission_id, role_id))",
    "CREATE TABLE model_has_roles (role_id BIGINT UNSIGNED NOT NULL, \
     model_type VARCHAR(255) NOT NULL, model_id BIGINT UNSIGNED NOT NULL, \
     PRIMARY KEY (role_id, model_id, model_type))",
    "INSERT INTO users VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', 'bob@example.com')",
    // `support` and `admin` for the web guard; a `support` of the API guard too.
    "INSERT INTO roles VALUES (1, 'support', 'web'), (2, 'admin', 'web'), (3, 'support', 'api')",
    // The same permission name in both guards.
    "INSERT INTO permissions VALUES (1, 'customer.read', 'web'), (2, 'customer.read', 'api'), \
     (3, 'customer.delete', 'web')",
    "INSERT INTO role_has_permissions VALUES (1, 1), (3, 2), (1, 2), (2, 3)",
    // Ann is support; team 1 (sharing Ann's id) is admin; Bob holds the API support role.
    "INSERT INTO model_has_roles VALUES (1, 'App\\\\Models\\\\User', 1), \
     (2, 'App\\\\Models\\\\Team', 1), (3, 'App\\\\Models\\\\User', 2)",
];

const MAPPING: &str = r#"
[semantics]
superuser_has_all_permissions = false

[users]
table = "users"
id = "id"
login = "email"
name = "name"

[roles]
table = "roles"
id = "id"
name = "name"
where = { guard_name = "web" }

[permissions]
table = "permissions"
id = "id"
key = "name"
where = { guard_name = "web" }

[role_permissions]
table = "role_has_permissions"
role = "role_id"
permission = "permission_id"

[user_roles]
table = "model_has_roles"
user = "model_id"
role = "role_id"
where = { model_type = 'App\Models\User' }
"#;

#[tokio::test]
async fn row_filters_read_exactly_the_packages_answer() {
    let (test_db, db) = fresh().await;
    migrate_with_officer(&db, &test_db).await;
    for sql in SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
    db.close().await;
    let mapping = Mapping::from_toml(MAPPING).unwrap();
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

    // Nobody deletes customers (only the team's admin role would); only Ann reads them on
    // the web (Bob's support role is the API guard's).
    for (permission, holders) in [
        ("customer.delete", vec![]),
        ("customer.read", vec!["ann@example.com"]),
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

    // The check names what the filters leave out.
    let report = mapping_service::check(&ctx, &mapping).await.unwrap();
    assert!(report.ok, "{:?}", report.problems);
    let ignored: Vec<&str> = report.ignored.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(
        ignored,
        [
            "roles: 1 row outside `where` (guard_name) is ignored",
            "permissions: 1 row outside `where` (guard_name) is ignored",
            "model_has_roles: 1 row outside `where` (model_type) is ignored",
        ]
    );
}
