use std::collections::{BTreeMap, BTreeSet};

use warden_core::directory::{UserId, Via};
use warden_service::directory::{self, AccessRequest, UsersRequest, WhoCanRequest};

use crate::support::*;

fn via_of<'a>(access: &'a directory::AccessResponse, key: &str) -> Option<&'a Vec<String>> {
    access
        .permissions
        .iter()
        .find(|p| p.key == key)
        .map(|p| &p.via)
}

#[tokio::test]
async fn users_filter_by_department_status_and_text() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let all = directory::users(&ctx, UsersRequest::default())
        .await
        .unwrap()
        .users;
    assert_eq!(all.len(), 300);
    let logins: Vec<&str> = all.iter().map(|u| u.login.as_str()).collect();
    let mut sorted = logins.clone();
    sorted.sort();
    assert_eq!(logins, sorted, "ordered by login");

    let sales = directory::users(
        &ctx,
        UsersRequest {
            department: Some("sales".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .users;
    assert!(!sales.is_empty());
    assert!(
        sales
            .iter()
            .all(|u| u.department.as_deref() == Some("sales"))
    );
    assert_eq!(
        sales.len(),
        all.iter()
            .filter(|u| u.department.as_deref() == Some("sales"))
            .count()
    );

    let terminated = directory::users(
        &ctx,
        UsersRequest {
            status: Some("terminated".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .users;
    assert!(
        terminated
            .iter()
            .any(|u| u.login == s.planted.inactive_with_roles)
    );
    assert!(
        terminated
            .iter()
            .all(|u| u.status == "terminated" && !u.active)
    );

    // Search is by text in login, name or email, case-insensitively.
    let target = all
        .iter()
        .find(|u| u.login == s.planted.sod_conflict)
        .unwrap();
    let last_name = target
        .name
        .as_deref()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_uppercase();
    let found = directory::users(
        &ctx,
        UsersRequest {
            search: Some(last_name.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .users;
    assert!(found.iter().any(|u| u.login == target.login));
    assert!(found.iter().all(|u| {
        let hay = format!(
            "{} {} {}",
            u.login,
            u.name.clone().unwrap_or_default(),
            u.email.clone().unwrap_or_default()
        );
        hay.to_uppercase().contains(&last_name)
    }));
    // LIKE wildcards in the text are literal.
    let none = directory::users(
        &ctx,
        UsersRequest {
            search: Some("%".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .users;
    assert!(
        none.is_empty(),
        "`%` matches no login, name or email literally"
    );

    // Managers are shown by login.
    assert!(
        all.iter()
            .filter(|u| u.department.as_deref() == Some("support"))
            .all(|u| u.manager.is_some())
    );
}

#[tokio::test]
async fn roles_count_members_and_inherited_permissions() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let roles = directory::roles(&ctx).await.unwrap().roles;
    let by_name: BTreeMap<&str, &directory::RoleSummary> =
        roles.iter().map(|r| (r.name.as_str(), r)).collect();
    let agent = by_name["support_agent"];
    let lead = by_name["support_lead"];
    assert_eq!(agent.permissions, 5);
    assert_eq!(
        lead.permissions, 8,
        "3 of its own plus 5 inherited from support_agent"
    );
    assert_eq!(lead.inherits, vec!["support_agent".to_string()]);
    assert!(agent.owner.is_some());
    // Members: compare with the raw table (current grants only).
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let raw: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
         WHERE r.name = 'support_billing' AND (ur.expires_at IS NULL OR ur.expires_at > ?)",
    )
    .bind(clock().now_naive())
    .fetch_one(db.app())
    .await
    .unwrap();
    assert_eq!(by_name["support_billing"].members, raw);
}

#[tokio::test]
async fn access_shows_every_permission_with_its_provenance() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let p = &s.planted;

    // Separation of duties: request and approve through two different roles.
    let sod = directory::access(
        &ctx,
        AccessRequest {
            login: p.sod_conflict.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        via_of(&sod, "refund:request"),
        Some(&vec!["support_billing".to_string()])
    );
    assert_eq!(
        via_of(&sod, "refund:approve"),
        Some(&vec!["refund_approver".to_string()])
    );
    assert!(
        sod.roles
            .iter()
            .all(|r| r.granted_at.is_some() && r.granted_by.is_some())
    );

    // A direct grant.
    let direct = directory::access(
        &ctx,
        AccessRequest {
            login: p.direct_grant.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        via_of(&direct, "customer.payment:read"),
        Some(&vec!["direct".to_string()])
    );

    // An expired grant gives nothing.
    let expired = directory::access(
        &ctx,
        AccessRequest {
            login: p.expired_grant.clone(),
        },
    )
    .await
    .unwrap();
    assert!(via_of(&expired, "customer.payment:read").is_none());
    assert!(expired.roles.iter().all(|r| r.name != "support_billing"));

    // Terminated users hold nothing, whatever their grants.
    let gone = directory::access(
        &ctx,
        AccessRequest {
            login: p.inactive_with_roles.clone(),
        },
    )
    .await
    .unwrap();
    assert!(gone.permissions.is_empty());
    assert!(
        !gone.roles.is_empty(),
        "the grant is still there, which is the finding"
    );

    // Superusers hold everything.
    let su = directory::access(
        &ctx,
        AccessRequest {
            login: p.superuser_outside_officers.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(su.permissions.len(), 25);
    assert!(
        su.permissions
            .iter()
            .all(|p| p.via.contains(&"superuser".to_string()))
    );
    assert!(
        via_of(&su, "system:deploy")
            .unwrap()
            .contains(&"engineer".to_string())
    );

    // Inherited permissions come via the role held.
    let all = directory::users(&ctx, UsersRequest::default())
        .await
        .unwrap()
        .users;
    let lead = all
        .iter()
        .find(|u| u.title.as_deref() == Some("Support Team Lead"))
        .unwrap();
    let lead_access = directory::access(
        &ctx,
        AccessRequest {
            login: lead.login.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        via_of(&lead_access, "ticket:write"),
        Some(&vec!["support_lead".to_string()])
    );

    // Logins match case-insensitively; unknown ones are a clear NotFound.
    let upper = directory::access(
        &ctx,
        AccessRequest {
            login: p.sod_conflict.to_uppercase(),
        },
    )
    .await
    .unwrap();
    assert_eq!(upper.user.login, p.sod_conflict);
    let err = directory::access(
        &ctx,
        AccessRequest {
            login: "nobody.here".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), warden_service::ErrorCode::NotFound);
    assert!(err.to_string().contains("nobody.here"));
}

#[tokio::test]
async fn who_can_agrees_with_everyones_effective_permissions() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let users = directory::users(&ctx, UsersRequest::default())
        .await
        .unwrap()
        .users;
    let everyone = directory::effective_for_everyone(&ctx).await.unwrap();

    // Per user: the one-pass computation and the single-user view agree.
    let mut holders_of_payment = BTreeSet::new();
    for u in &users {
        let eff = &everyone[&UserId(u.id)];
        let a = directory::access(
            &ctx,
            AccessRequest {
                login: u.login.clone(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            a.permissions.len(),
            eff.len(),
            "one-pass and per-user agree for {}",
            u.login
        );
        if a.permissions
            .iter()
            .any(|p| p.key == "customer.payment:read")
        {
            holders_of_payment.insert(u.login.clone());
        }
        if u.superuser && u.active {
            assert!(
                eff.values().all(|v| v.contains(&Via::Superuser)),
                "{}",
                u.login
            );
        }
    }

    // Per permission: who-can lists exactly the holders, each with the same provenance.
    for key in [
        "customer.payment:read",
        "refund:approve",
        "lead:write",
        "ticket:write",
        "audit:read",
    ] {
        let who = directory::who_can(
            &ctx,
            WhoCanRequest {
                permission: key.into(),
            },
        )
        .await
        .unwrap();
        assert!(!who.users.is_empty(), "{key}");
        for h in &who.users {
            let a = directory::access(
                &ctx,
                AccessRequest {
                    login: h.login.clone(),
                },
            )
            .await
            .unwrap();
            assert_eq!(via_of(&a, key), Some(&h.via), "{key} for {}", h.login);
        }
    }
    let payment = directory::who_can(
        &ctx,
        WhoCanRequest {
            permission: "customer.payment:read".into(),
        },
    )
    .await
    .unwrap();
    let got: BTreeSet<String> = payment.users.iter().map(|h| h.login.clone()).collect();
    assert_eq!(got, holders_of_payment);

    let p = &s.planted;
    let holder = |l: &str| payment.users.iter().find(|h| h.login == l);
    assert_eq!(holder(&p.direct_grant).unwrap().via, vec!["direct"]);
    assert!(
        holder(&p.expired_grant).is_none(),
        "expired grants do not count"
    );
    assert!(
        holder(&p.inactive_with_roles).is_none(),
        "terminated users hold nothing"
    );
    assert!(
        holder(&p.superuser_outside_officers)
            .unwrap()
            .via
            .contains(&"superuser".to_string())
    );

    let err = directory::who_can(
        &ctx,
        WhoCanRequest {
            permission: "customer.payment:raed".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("did you mean `customer.payment:read`"),
        "{err}"
    );
}

#[tokio::test]
async fn dashboard_role_detail_and_permission_list() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let dash = directory::dashboard(&ctx).await.unwrap();
    assert_eq!(dash.staff, 300);
    assert_eq!(dash.departments.iter().map(|d| d.staff).sum::<usize>(), 300);
    assert_eq!((dash.roles, dash.permissions), (12, 25));
    assert_eq!(
        dash.superusers, 2,
        "the head of security and the planted engineer"
    );
    let support = dash
        .departments
        .iter()
        .find(|d| d.department == "support")
        .unwrap();
    assert!(support.roles >= 3 && support.grants >= support.active);
    assert!(dash.without_mfa.is_some());

    let lead = directory::role(
        &ctx,
        directory::RoleRequest {
            name: "support_lead".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(lead.inherits, vec!["support_agent".to_string()]);
    assert_eq!(lead.permissions.len(), 8);
    let inherited: Vec<&str> = lead
        .permissions
        .iter()
        .filter(|p| p.inherited_from.as_deref() == Some("support_agent"))
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(inherited.len(), 5, "{inherited:?}");
    assert!(
        lead.permissions
            .iter()
            .any(|p| p.key == "ticket:assign" && p.inherited_from.is_none())
    );
    let summary = directory::roles(&ctx).await.unwrap().roles;
    let members = summary
        .iter()
        .find(|r| r.name == "support_lead")
        .unwrap()
        .members;
    assert_eq!(lead.members.len() as i64, members);
    assert!(
        lead.members
            .iter()
            .all(|m| m.granted_at.is_some() && m.granted_by.is_some())
    );
    let err = directory::role(
        &ctx,
        directory::RoleRequest {
            name: "no_such_role".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), warden_service::ErrorCode::NotFound);

    let keys = directory::permissions(&ctx).await.unwrap().permissions;
    assert_eq!(keys.len(), 25);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}
