//! Access review campaigns on the synthetic company: launch with context and suggestions,
//! reviewers deciding exactly once, never on their own access, everything audited.

use warden_core::console::ConsoleRole;
use warden_sandbox::seed::COMPANY_POLICY;
use warden_service::reviews::{
    self, DecideRequest, ItemView, ItemsRequest, ReassignRequest, Scope, StartRequest,
};
use warden_service::{ErrorCode, policy};

use crate::support::*;

fn due() -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string()
}

fn start_request(name: &str, departments: &[&str], roles: &[&str], reviewer: &str) -> StartRequest {
    StartRequest {
        name: name.into(),
        due: due(),
        scope: Scope {
            departments: departments.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            job_functions: Vec::new(),
        },
        reviewer: reviewer.into(),
        fallback: OFFICER.into(),
        undecided: "keep".into(),
    }
}

async fn all_items(ctx: &warden_service::Ctx, campaign: u64) -> Vec<ItemView> {
    reviews::items(
        ctx,
        ItemsRequest {
            campaign,
            reviewer: None,
            pending: false,
        },
    )
    .await
    .unwrap()
    .items
}

async fn scalar(test_db: &warden_sandbox::TestDatabase, sql: &str) -> i64 {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(db.app()).await.unwrap();
    db.close().await;
    n
}

#[tokio::test]
async fn launch_snapshots_every_grant_in_scope_with_context_and_a_suggestion() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    // Pinned to the policy in force: there must be one.
    let err = reviews::start(
        &ctx,
        start_request("Q4 support", &["support"], &[], "manager"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("apply one first"), "{err}");
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let started = reviews::start(
        &ctx,
        start_request("Q4 support", &["support"], &[], "manager"),
    )
    .await
    .unwrap();
    let grants = scalar(
        &s.test_db,
        "SELECT COUNT(*) FROM user_roles ur JOIN staff_users u ON u.id = ur.user_id \
         WHERE u.department = 'support' AND (ur.expires_at IS NULL OR ur.expires_at > UTC_TIMESTAMP())",
    )
    .await;
    assert_eq!(started.items as i64, grants);
    assert_eq!(started.policy_version, 1);
    let items = all_items(&ctx, started.campaign).await;
    assert_eq!(items.len() as i64, grants);
    assert!(
        items
            .iter()
            .all(|i| i.department.as_deref() == Some("support"))
    );
    assert!(
        items
            .iter()
            .all(|i| !i.reviewer.eq_ignore_ascii_case(&i.login)),
        "nobody reviews their own access"
    );
    let p = &s.planted;
    let item = |login: &str, role: &str| {
        items
            .iter()
            .find(|i| i.login == *login && i.role == role)
            .unwrap_or_else(|| panic!("no item {login} {role}"))
            .clone()
    };
    let excess = item(&p.excess_role, "sales_rep");
    assert_eq!(
        (excess.baseline.as_str(), excess.suggestion.as_str()),
        ("excess", "revoke")
    );
    assert!(
        excess.reason.contains("outside the baseline"),
        "{}",
        excess.reason
    );
    assert!(excess.granted_by.is_some() && excess.granted_at.is_some());
    let sod = item(&p.sod_conflict, "refund_approver");
    assert_eq!(sod.sod, "refund four-eyes");
    assert_eq!(sod.suggestion, "revoke");
    let gone = item(&p.inactive_with_roles, "support_agent");
    assert_eq!(gone.reason, "the account is terminated");
    let fine = items
        .iter()
        .find(|i| i.suggestion == "keep")
        .expect("some grant to keep");
    assert_eq!(fine.baseline, "match");
    assert!(fine.last_used.is_some(), "{fine:?}");

    // By role owner: the owner reviews, except their own grant, which goes to the fallback.
    let by_owner = reviews::start(
        &ctx,
        start_request("Leads", &[], &["support_lead"], "owner"),
    )
    .await
    .unwrap();
    let items = all_items(&ctx, by_owner.campaign).await;
    assert!(items.iter().all(|i| i.role == "support_lead"));
    assert!(
        items
            .iter()
            .all(|i| !i.reviewer.eq_ignore_ascii_case(&i.login))
    );
    assert!(
        items.iter().any(|i| i.reviewer == OFFICER),
        "the owner's own grant"
    );
    let detail = reviews::show(&ctx, by_owner.campaign).await.unwrap();
    assert_eq!(detail.campaign.items, items.len() as u64);
    assert_eq!(
        detail.by_reviewer.iter().map(|p| p.items).sum::<u64>(),
        items.len() as u64
    );

    for bad in [
        StartRequest {
            due: "2020-01-01".into(),
            ..start_request("x", &[], &[], "manager")
        },
        StartRequest {
            due: "next week".into(),
            ..start_request("x", &[], &[], "manager")
        },
        start_request("x", &[], &[], "boss"),
        StartRequest {
            fallback: "nobody".into(),
            ..start_request("x", &[], &[], "manager")
        },
        start_request("x", &["no such department"], &[], "manager"),
        start_request("  ", &[], &[], "manager"),
    ] {
        let err = reviews::start(&ctx, bad).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Input, "{err}");
    }
}

#[tokio::test]
async fn a_decision_is_recorded_once_by_its_reviewer_and_audited() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let started = reviews::start(&ctx, start_request("Q4", &["support"], &[], "manager"))
        .await
        .unwrap();
    let items = all_items(&ctx, started.campaign).await;
    // A support lead with a queue of a few items becomes a console reviewer.
    let lead = items
        .iter()
        .map(|i| i.reviewer.clone())
        .find(|r| r != OFFICER && items.iter().filter(|i| &i.reviewer == r).count() >= 4)
        .expect("a reviewer with four items");
    add_console_user(&s.test_db, &lead, ConsoleRole::Reviewer).await;
    let rctx = ctx_as(&s.test_db, &lead, Some("reference")).await;
    let mine = reviews::items(
        &rctx,
        ItemsRequest {
            campaign: started.campaign,
            reviewer: Some(OFFICER.into()),
            pending: true,
        },
    )
    .await
    .unwrap()
    .items;
    assert!(mine.len() >= 4);
    assert!(
        mine.iter().all(|i| i.reviewer == lead),
        "a reviewer sees only their own items"
    );

    let decide = |ids: Vec<u64>, decision: &str, key: &str| DecideRequest {
        items: ids,
        decision: decision.into(),
        comment: "checked with the team".into(),
        key: key.into(),
    };
    let first = mine[0].id;
    let done = reviews::decide(&rctx, decide(vec![first], "approve", "k1"))
        .await
        .unwrap();
    assert_eq!(done.decided, [first]);
    assert!(done.audit_seq.is_some());
    // The same request again (a double click): recorded once, nothing new audited.
    let again = reviews::decide(&rctx, decide(vec![first], "approve", "k1"))
        .await
        .unwrap();
    assert_eq!((again.decided, again.audit_seq), (vec![first], None));
    // Another request on a decided item: a conflict that names who decided it.
    let err = reviews::decide(&rctx, decide(vec![first], "revoke", "k2"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(
        err.to_string()
            .contains(&format!("already decided (keep) by {lead}")),
        "{err}"
    );

    // Two sessions racing on one item: one decision, one conflict.
    let other = ctx_as(&s.test_db, &lead, Some("reference")).await;
    let second = mine[1].id;
    let (a, b) = tokio::join!(
        reviews::decide(&rctx, decide(vec![second], "approve", "race-a")),
        reviews::decide(&other, decide(vec![second], "revoke", "race-b")),
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    let loser = a.err().or(b.err()).unwrap();
    assert_eq!(loser.code(), ErrorCode::Conflict);

    // Someone else's item, and an auditor: refused.
    let foreign = items
        .iter()
        .find(|i| i.reviewer != lead && i.login != lead)
        .unwrap();
    let err = reviews::decide(&rctx, decide(vec![foreign.id], "approve", "k3"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    add_console_user(&s.test_db, "adam.auditor", ConsoleRole::Auditor).await;
    let auditor = ctx_as(&s.test_db, "adam.auditor", Some("reference")).await;
    let err = reviews::decide(&auditor, decide(vec![foreign.id], "approve", "k4"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);

    // An officer hands the foreign item to the lead; never to the person it concerns.
    let err = reviews::reassign(
        &ctx,
        ReassignRequest {
            items: vec![foreign.id],
            to: foreign.login.clone(),
            comment: "x".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input, "{err}");
    if foreign.login != lead {
        reviews::reassign(
            &ctx,
            ReassignRequest {
                items: vec![foreign.id],
                to: lead.clone(),
                comment: "covering for leave".into(),
            },
        )
        .await
        .unwrap();
    }

    // Bulk: everything still pending in the lead's queue, in one request.
    let pending: Vec<u64> = reviews::items(
        &rctx,
        ItemsRequest {
            campaign: started.campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|i| i.id)
    .collect();
    assert!(pending.contains(&foreign.id));
    let bulk = reviews::decide(&rctx, decide(pending.clone(), "revoke", "bulk-1"))
        .await
        .unwrap();
    let mut sorted = pending.clone();
    sorted.sort_unstable();
    assert_eq!(bulk.decided, sorted);
    let detail = reviews::show(&ctx, started.campaign).await.unwrap();
    let progress = detail.by_reviewer.iter().find(|p| p.name == lead).unwrap();
    assert_eq!(progress.decided, progress.items);

    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let trail = warden_store::governance::audit_events(&db).await.unwrap();
    for action in ["review.start", "review.decide", "review.reassign"] {
        assert!(
            trail.iter().any(|(e, ..)| e.action == action),
            "{action} audited"
        );
    }
    let decided = trail
        .iter()
        .filter(|(e, ..)| e.action == "review.decide")
        .count();
    assert_eq!(
        decided, 3,
        "first, the race's winner, and the bulk decision"
    );
    db.close().await;
}

#[tokio::test]
async fn the_sqli_corpus_in_campaign_names_and_comments_is_only_text() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let before = scalar(&s.test_db, "SELECT COUNT(*) FROM user_roles").await;
    let payloads: Vec<String> = crate::sqli::corpus()
        .into_iter()
        .map(|(_, l)| {
            l.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(190)
                .collect::<String>()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let mut campaign = 0;
    for p in payloads.iter().step_by(97) {
        let started = reviews::start(&ctx, start_request(p, &["finance"], &[], "manager"))
            .await
            .unwrap();
        let shown = reviews::show(&ctx, started.campaign).await.unwrap();
        assert_eq!(&shown.campaign.name, p);
        campaign = started.campaign;
    }
    let items = all_items(&ctx, campaign).await;
    for (item, comment) in items
        .iter()
        .filter(|i| i.reviewer == OFFICER)
        .zip(payloads.iter())
    {
        reviews::decide(
            &ctx,
            DecideRequest {
                items: vec![item.id],
                decision: "revoke".into(),
                comment: comment.clone(),
                key: format!("sqli-{}", item.id),
            },
        )
        .await
        .unwrap();
    }
    for item in all_items(&ctx, campaign)
        .await
        .iter()
        .filter(|i| i.decision.is_some())
    {
        assert!(payloads.contains(item.comment.as_ref().unwrap()));
    }
    assert_eq!(
        scalar(&s.test_db, "SELECT COUNT(*) FROM user_roles").await,
        before
    );
}
