//! spatie/laravel-permission's own tables (polymorphic `model_has_roles` /
//! `model_has_permissions`, guards) read through the `laravel-permission` preset: its row
//! filters give exactly the package's answer — a team that shares a user's id lends them
//! nothing, a permission of the API guard is not the web's — and `mapping check` shows what
//! the filters leave out.

use warden_core::mapping::Mapping;
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
    // Ann is support; team 1 (sharing Ann's id) is admin; Bob holds the API support role.
    "INSERT INTO model_has_roles VALUES (1, 'App\\\\Models\\\\User', 1), \
     (2, 'App\\\\Models\\\\Team', 1), (3, 'App\\\\Models\\\\User', 2)",
    // Bob may export customers himself; team 2 (sharing Bob's id) may delete them.
    "INSERT INTO model_has_permissions VALUES (4, 'App\\\\Models\\\\User', 2), \
     (3, 'App\\\\Models\\\\Team', 2)",
];

#[tokio::test]
async fn the_laravel_permission_preset_reads_exactly_the_packages_answer() {
    let (test_db, db) = fresh().await;
    migrate_with_officer(&db, &test_db).await;
    for sql in SCHEMA {
        sqlx::query(sql).execute(db.app()).await.unwrap();
    }
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

    // No grant table is recorded for remediation: revoking by user and role could remove
    // the Team's row, so the server's routine has nothing to remove from.
    let admin = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let target = mapping.grant_target();
    assert!(target.filtered);
    let recorded =
        warden_store::server_roles::record_grant_target(&admin, &target, clock().now().naive_utc())
            .await
            .unwrap();
    assert!(!recorded);
    assert_eq!(
        warden_store::server_roles::grant_target(&admin)
            .await
            .unwrap(),
        None
    );
    admin.close().await;

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
            "model_has_roles: 1 row outside `where` (model_type) is ignored",
            "model_has_permissions: 1 row outside `where` (model_type) is ignored",
            // Bob's grant of the API guard's support role, and that role's permission.
            "model_has_roles: 1 row points at roles outside their `where` (guard_name) and is ignored",
            "role_has_permissions: 1 row points at roles outside their `where` (guard_name) and is ignored",
            "role_has_permissions: 1 row points at permissions outside their `where` (guard_name) and is ignored",
        ]
    );
}
