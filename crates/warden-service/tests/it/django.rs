//! The `django` preset on Django's real contrib.auth tables (migrations/fixtures/django),
//! with Django's semantics: inactive users hold nothing, active superusers hold everything,
//! group and direct permissions both count, keys are `app_label.codename`.

use std::collections::BTreeMap;

use warden_core::review::{ReviewerRule, Verdict};

use warden_service::directory::{self, AccessRequest, UsersRequest, WhoCanRequest};
use warden_service::{ErrorCode, mapping as mapping_service};

use crate::support::*;

const DATA: &str = "
INSERT INTO django_content_type (id, app_label, model) VALUES
  (1, 'crm', 'customer'), (2, 'crm', 'refund'), (3, 'auth', 'user');
INSERT INTO auth_permission (id, name, content_type_id, codename) VALUES
  (1, 'Can view customer', 1, 'view_customer'),
  (2, 'Can change customer', 1, 'change_customer'),
  (3, 'Can add refund', 2, 'add_refund'),
  (4, 'Can approve refund', 2, 'approve_refund'),
  (5, 'Can view user', 3, 'view_user');
INSERT INTO auth_group (id, name) VALUES (1, 'support'), (2, 'billing'), (3, 'finance');
INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (1, 1), (2, 3), (3, 4);
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES
  (1, 'argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', '2026-11-20 10:00:00', 0, 'alice', 'Alice', 'Ng', 'alice@example.com', 1, 1, '2024-01-01'),
  (2, 'pbkdf2_sha256$870000$salt$hash', NULL, 0, 'bob', 'Bob', 'Ortiz', 'bob@example.com', 1, 1, '2024-01-01'),
  (3, 'md5$salt$hash', '2025-01-01 00:00:00', 0, 'carol', 'Carol', 'Pike', 'carol@example.com', 1, 0, '2024-01-01'),
  (4, 'argon2$x', '2026-11-25 09:00:00', 1, 'dave', 'Dave', 'Root', 'dave@example.com', 1, 1, '2024-01-01'),
  (5, 'argon2$x', '2026-01-25 09:00:00', 1, 'erin', 'Erin', 'Gone', 'erin@example.com', 1, 0, '2024-01-01'),
  (6, 'argon2$x', NULL, 0, 'frank', 'Frank', 'Free', 'frank@example.com', 0, 1, '2024-01-01');
INSERT INTO auth_user_groups (user_id, group_id) VALUES (1, 1), (2, 1), (2, 2), (3, 1), (5, 3);
INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (2, 4), (3, 5);
";

async fn django_db() -> warden_sandbox::TestDatabase {
    let (test_db, db) = fresh().await;
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/fixtures/django/schema.sql"
    ))
    .unwrap();
    sqlx::raw_sql(&schema).execute(db.app()).await.unwrap();
    sqlx::raw_sql(DATA).execute(db.app()).await.unwrap();
    migrate_with_officer_for(&db, &test_db, "django").await;
    db.close().await;
    test_db
}

/// Every user's permissions as Django's own auth computes them (tests/django/permissions.py,
/// run by the Django that `./dev setup` installs): username → sorted `app_label.codename`.
fn django_says(test_db: &warden_sandbox::TestDatabase) -> BTreeMap<String, Vec<String>> {
    let python = std::env::var_os("WARDEN_DJANGO_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/warden/django-venv/bin/python")
        });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/django/permissions.py"
    );
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(&test_db.socket)
        .arg(&test_db.name)
        .arg("root")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}. Django is needed to check the django preset: run ./dev setup",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "Django's permission check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.into_iter()
        .map(|(user, v)| {
            let perms = v["perms"].as_array().unwrap();
            let perms = perms.iter().map(|p| p.as_str().unwrap().to_string());
            (user, perms.collect())
        })
        .collect()
}

/// What Warden says each of Django's users holds, in the shape of [`django_says`].
async fn warden_says(ctx: &warden_service::Ctx) -> BTreeMap<String, Vec<String>> {
    let users = directory::users(ctx, UsersRequest::default())
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for u in users.users {
        let a = directory::access(
            ctx,
            AccessRequest {
                login: u.login.clone(),
            },
        )
        .await
        .unwrap();
        out.insert(u.login, perms(&a).into_keys().collect());
    }
    out
}

fn perms(a: &directory::AccessResponse) -> BTreeMap<String, Vec<String>> {
    a.permissions
        .iter()
        .map(|p| (p.key.clone(), p.via.clone()))
        .collect()
}

#[tokio::test]
async fn django_semantics_hold() {
    let test_db = django_db().await;
    let ctx = ctx_as(&test_db, OFFICER, Some("django")).await;
    let access = |login: &str| {
        let ctx = &ctx;
        let login = login.to_string();
        async move {
            directory::access(ctx, AccessRequest { login })
                .await
                .unwrap()
        }
    };
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    assert_eq!(
        perms(&access("alice").await),
        BTreeMap::from([("crm.view_customer".into(), v(&["support"]))])
    );
    assert_eq!(
        perms(&access("bob").await),
        BTreeMap::from([
            ("crm.add_refund".into(), v(&["billing"])),
            ("crm.approve_refund".into(), v(&["direct"])),
            ("crm.view_customer".into(), v(&["support"])),
        ])
    );
    let carol = access("carol").await;
    assert!(carol.permissions.is_empty(), "inactive users hold nothing");
    assert_eq!(carol.user.status.as_str(), "inactive");
    assert_eq!(
        carol.roles.len(),
        1,
        "the group membership itself is still shown"
    );
    let dave = access("dave").await;
    assert_eq!(
        dave.permissions.len(),
        5,
        "an active superuser holds every permission"
    );
    assert!(dave.permissions.iter().all(|p| p.via == v(&["superuser"])));
    assert!(
        access("erin").await.permissions.is_empty(),
        "an inactive superuser holds nothing"
    );
    assert!(access("frank").await.permissions.is_empty());
    assert_eq!(access("alice").await.user.name.as_deref(), Some("Alice Ng"));
    // And Django itself agrees, person by person.
    assert_eq!(warden_says(&ctx).await, django_says(&test_db));

    let who = directory::who_can(
        &ctx,
        WhoCanRequest {
            permission: "crm.approve_refund".into(),
        },
    )
    .await
    .unwrap();
    let got: Vec<(&str, Vec<String>)> = who
        .users
        .iter()
        .map(|h| (h.login.as_str(), h.via.clone()))
        .collect();
    assert_eq!(
        got,
        vec![("bob", v(&["direct"])), ("dave", v(&["superuser"]))]
    );
    let who = directory::who_can(
        &ctx,
        WhoCanRequest {
            permission: "crm.view_customer".into(),
        },
    )
    .await
    .unwrap();
    let logins: Vec<&str> = who.users.iter().map(|h| h.login.as_str()).collect();
    assert_eq!(logins, ["alice", "bob", "dave"]);

    let inactive = directory::users(
        &ctx,
        UsersRequest {
            status: Some("inactive".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .users;
    assert_eq!(
        inactive
            .iter()
            .map(|u| u.login.as_str())
            .collect::<Vec<_>>(),
        ["carol", "erin"]
    );
    let err = directory::users(
        &ctx,
        UsersRequest {
            status: Some("suspended".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input);
    let err = directory::users(
        &ctx,
        UsersRequest {
            department: Some("sales".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no department column"), "{err}");

    let roles = directory::roles(&ctx).await.unwrap().roles;
    let summary: Vec<(&str, i64, usize)> = roles
        .iter()
        .map(|r| (r.name.as_str(), r.members, r.permissions))
        .collect();
    assert_eq!(
        summary,
        [("billing", 1, 1), ("finance", 1, 1), ("support", 3, 1)]
    );

    let ok = mapping_service::check(
        &ctx,
        &warden_core::mapping::Mapping::preset("django").unwrap(),
    )
    .await
    .unwrap();
    assert!(ok.ok, "{:?}", ok.problems);
    let wrong = mapping_service::check(
        &ctx,
        &warden_core::mapping::Mapping::preset("reference").unwrap(),
    )
    .await
    .unwrap();
    assert!(!wrong.ok);
}

/// `warden check` on Django: job functions match by group, inactive users hold nothing but
/// are still flagged while in groups, superusers hold everything, and the kinds Django's
/// columns cannot support (MFA, managers) are simply not judged.
#[tokio::test]
async fn check_judges_django_with_its_own_semantics() {
    use std::collections::BTreeSet;
    use warden_service::findings::{self, PolicySource};
    use warden_service::policy;

    let test_db = django_db().await;
    app_sql(
        &test_db,
        "INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) \
         VALUES (7, 'md5$salt$hash', ?, 0, 'gina', 'Gina', 'Old', 'gina@example.com', 1, 1, '2024-01-01')",
        &[&sql_now()],
    )
    .await;
    app_sql(
        &test_db,
        "INSERT INTO auth_user_groups (user_id, group_id) VALUES (7, 1)",
        &[],
    )
    .await;
    app_sql(
        &test_db,
        "UPDATE auth_user SET last_login = ? WHERE username = 'alice'",
        &[&sql_now()],
    )
    .await;
    let ctx = ctx_as(&test_db, OFFICER, Some("django")).await;
    let text = r#"
[dormancy]
days = 90

[[job_function]]
name = "support"
match = { role = "support" }
allow = ["crm.view_customer"]

[[job_function]]
name = "billing"
match = { role = "billing" }
allow = ["crm.view_customer", "crm.add_refund"]
priority = 5

[[separation_of_duties]]
name = "refund four-eyes"
conflict = ["crm.add_refund", "crm.approve_refund"]
"#;
    policy::apply(&ctx, text, "django.toml", "by group")
        .await
        .unwrap();
    let r = findings::check(&ctx, PolicySource::Current).await.unwrap();
    let got: BTreeSet<(String, String)> = r
        .findings
        .iter()
        .map(|f| (f.subject.clone(), f.kind.to_string()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("bob", "excess_permission"),
        ("bob", "sod_conflict"),
        ("bob", "dormant_account"),
        ("carol", "inactive_with_roles"),
        ("dave", "superuser"),
        ("dave", "no_job_function"),
        ("erin", "inactive_with_roles"),
        ("frank", "no_job_function"),
        ("frank", "dormant_account"),
        ("gina", "weak_password_hash"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    let excess = r
        .findings
        .iter()
        .find(|f| f.kind.as_str() == "excess_permission")
        .unwrap();
    assert_eq!(excess.evidence["permission"], "crm.approve_refund");
    assert_eq!(excess.evidence["via"], serde_json::json!(["direct grant"]));
    // Alice, in the support group and recently signed in, is compliant.
    assert!(!got.iter().any(|(who, _)| who == "alice"));
    assert_eq!((r.evaluated, r.compliant), (5, 1));
}

/// A review on Django's tables: revoking a group membership removes the
/// `auth_user_groups` row, and the permissions Warden computes the Django way agree.
#[tokio::test]
async fn a_review_revokes_a_django_group_membership() {
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, Scope, StartRequest};

    let test_db = django_db().await;
    app_sql(
        &test_db,
        "UPDATE auth_user SET last_login = ?",
        &[&sql_now()],
    )
    .await;
    let ctx = ctx_as(&test_db, OFFICER, Some("django")).await;
    let text = "[[job_function]]\nname = \"support\"\nmatch = { role = \"support\" }\nallow = [\"crm.view_customer\"]\n";
    warden_service::policy::apply(&ctx, text, "django.toml", "by group")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        StartRequest {
            name: "Django groups".into(),
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
    // No manager column in Django: the fallback reviews everything.
    assert!(items.iter().all(|i| i.reviewer == OFFICER));
    let billing = items
        .iter()
        .find(|i| i.login == "bob" && i.role == "billing")
        .expect("bob in billing");
    assert_eq!(billing.suggestion.as_str(), "revoke", "{}", billing.reason);
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![billing.id],
            decision: Verdict::Revoke,
            comment: "billing moved to finance".into(),
            key: "django-1".into(),
        },
    )
    .await
    .unwrap();
    let before = perms(
        &directory::access(
            &ctx,
            AccessRequest {
                login: "bob".into(),
            },
        )
        .await
        .unwrap(),
    );
    assert!(before.contains_key("crm.add_refund"));
    reviews::close(&ctx, started.campaign, false).await.unwrap();
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_user_groups WHERE user_id = 2 AND group_id = 2",
    )
    .fetch_one(db.app())
    .await
    .unwrap();
    assert_eq!(left, 0, "the membership row is gone");
    let after = perms(
        &directory::access(
            &ctx,
            AccessRequest {
                login: "bob".into(),
            },
        )
        .await
        .unwrap(),
    );
    assert!(!after.contains_key("crm.add_refund"), "{after:?}");
    assert_eq!(
        after.get("crm.approve_refund"),
        Some(&vec!["direct".to_string()])
    );
    // Django's own permission check agrees: bob lost crm.add_refund and kept the rest.
    let django = django_says(&test_db);
    assert_eq!(
        django["bob"],
        ["crm.approve_refund", "crm.view_customer"],
        "Django after the revoke"
    );
    assert_eq!(warden_says(&ctx).await, django);
    reviews::undo_remediation(&ctx, started.campaign, "restored after the test")
        .await
        .unwrap();
    let back: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_user_groups WHERE user_id = 2 AND group_id = 2",
    )
    .fetch_one(db.app())
    .await
    .unwrap();
    assert_eq!(back, 1);
    assert!(django_says(&test_db)["bob"].contains(&"crm.add_refund".to_string()));
    db.close().await;
}

/// Undo gives a membership back only when it is not held again: revoked, then granted
/// anew by the application (a new `auth_user_groups` row, a new id), the old row is not
/// put back beside it — the grant is held again whatever its row's key.
#[tokio::test]
async fn undo_leaves_a_membership_granted_again_with_a_new_id() {
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, Scope, StartRequest};

    let test_db = django_db().await;
    app_sql(
        &test_db,
        "UPDATE auth_user SET last_login = ?",
        &[&sql_now()],
    )
    .await;
    let ctx = ctx_as(&test_db, OFFICER, Some("django")).await;
    let text = "[[job_function]]\nname = \"support\"\nmatch = { role = \"support\" }\nallow = [\"crm.view_customer\"]\n";
    warden_service::policy::apply(&ctx, text, "django.toml", "by group")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        StartRequest {
            name: "Django groups".into(),
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
    let billing = items
        .iter()
        .find(|i| i.login == "bob" && i.role == "billing")
        .expect("bob in billing");
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![billing.id],
            decision: Verdict::Revoke,
            comment: "billing moved to finance".into(),
            key: "django-again".into(),
        },
    )
    .await
    .unwrap();
    reviews::close(&ctx, started.campaign, false).await.unwrap();
    app_sql(
        &test_db,
        "INSERT INTO auth_user_groups (user_id, group_id) VALUES (2, 2)",
        &[],
    )
    .await;
    let undone = reviews::undo_remediation(&ctx, started.campaign, "back to billing")
        .await
        .unwrap();
    assert_eq!(undone.restored_rows, 0, "{undone:?}");
    assert_eq!(undone.skipped.len(), 1, "{undone:?}");
    assert!(
        undone.skipped[0].reason.contains("again"),
        "{:?}",
        undone.skipped
    );
    let held = app_count(
        &test_db,
        "SELECT COUNT(*) FROM auth_user_groups WHERE user_id = 2 AND group_id = 2",
    )
    .await;
    assert_eq!(held, 1, "one membership, the one granted again");
}
