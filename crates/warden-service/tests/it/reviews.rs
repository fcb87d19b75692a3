//! Access review campaigns on the synthetic company: launch with context and suggestions,
//! reviewers deciding exactly once, never on their own access, everything audited.

use warden_core::console::ConsoleRole;
use warden_core::review::{CampaignStatus, ReviewerRule, Verdict};
use warden_sandbox::seed::COMPANY_POLICY;
use warden_service::reviews::{
    self, DecideRequest, ItemView, ItemsRequest, ReassignRequest, Scope, StartRequest,
};
use warden_service::{ErrorCode, policy};

use crate::support::*;

fn due() -> String {
    day(30)
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
        reviewer: ReviewerRule::parse(reviewer).unwrap(),
        fallback: OFFICER.into(),
        undecided: Verdict::Keep,
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

async fn scalar(test_db: &warden_sandbox::TestDatabase, sql: &str, binds: &[&str]) -> i64 {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let mut q = sqlx::query_scalar(sql);
    for b in binds {
        q = q.bind(*b);
    }
    let n: i64 = q.fetch_one(db.app()).await.unwrap();
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
         WHERE u.department = 'support' AND (ur.expires_at IS NULL OR ur.expires_at > ?)",
        &[&sql_now()],
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
    assert_eq!(sod.suggestion.as_str(), "revoke");
    let gone = item(&p.inactive_with_roles, "support_agent");
    assert_eq!(gone.reason, "the account is terminated");
    let fine = items
        .iter()
        .find(|i| i.suggestion.as_str() == "keep")
        .expect("some grant to keep");
    assert_eq!(fine.baseline.as_str(), "match");
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
    // The owner as the fallback: their own grant would be theirs to review. Refused,
    // naming them, and nothing is stored.
    let owner = &items.iter().find(|i| i.reviewer == OFFICER).unwrap().login;
    add_console_user(&s.test_db, owner, ConsoleRole::Reviewer).await;
    let campaigns = reviews::list(&ctx).await.unwrap().campaigns.len();
    let err = reviews::start(
        &ctx,
        StartRequest {
            fallback: owner.clone(),
            ..start_request("Leads", &[], &["support_lead"], "owner")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{owner} (support_lead); choose another fallback")),
        "{err}"
    );
    assert_eq!(
        reviews::list(&ctx).await.unwrap().campaigns.len(),
        campaigns
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
    // The reviewer rule is a closed set: an unknown one is refused where the request is
    // read (the desktop app's JSON; the CLI's flag goes through the same names).
    let mut raw = serde_json::json!({
        "name": "x", "due": due(), "fallback": OFFICER, "undecided": "keep", "reviewer": "boss",
        "scope": { "departments": [], "roles": [], "job_functions": [] },
    });
    let err = serde_json::from_value::<StartRequest>(raw.clone()).unwrap_err();
    assert!(err.to_string().contains("unknown variant `boss`"), "{err}");
    raw["reviewer"] = "manager".into();
    assert!(serde_json::from_value::<StartRequest>(raw).is_ok());
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
        decision: Verdict::parse(decision).unwrap(),
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
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
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
    // Nor to the same person under another spelling of their login (fullwidth letters, a
    // console user of their own): one identity rule, NFKC and case folded.
    let disguised: String = foreign
        .login
        .chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            other => other,
        })
        .collect();
    add_console_user(&s.test_db, &disguised, ConsoleRole::Reviewer).await;
    let err = reviews::reassign(
        &ctx,
        ReassignRequest {
            items: vec![foreign.id],
            to: disguised.clone(),
            comment: "x".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("own access"), "{disguised}: {err}");
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
    let before = scalar(&s.test_db, "SELECT COUNT(*) FROM user_roles", &[]).await;
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
                decision: Verdict::Revoke,
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
        scalar(&s.test_db, "SELECT COUNT(*) FROM user_roles", &[]).await,
        before
    );
}

type GrantRow = (
    i64,
    i64,
    Option<chrono::NaiveDateTime>,
    Option<i64>,
    Option<chrono::NaiveDateTime>,
);

async fn grant_rows(test_db: &warden_sandbox::TestDatabase) -> Vec<GrantRow> {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let rows = sqlx::query_as(
        "SELECT CAST(user_id AS SIGNED), CAST(role_id AS SIGNED), granted_at, \
         CAST(granted_by AS SIGNED), expires_at FROM user_roles ORDER BY user_id, role_id",
    )
    .fetch_all(db.app())
    .await
    .unwrap();
    db.close().await;
    rows
}

#[tokio::test]
async fn close_previews_then_remediates_per_user_and_undo_restores_exactly() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let req = StartRequest {
        undecided: Verdict::Revoke,
        ..start_request("Q4 finance", &["finance"], &[], "manager")
    };
    let started = reviews::start(&ctx, req).await.unwrap();
    let items = all_items(&ctx, started.campaign).await;
    assert!(items.len() >= 4, "{} items", items.len());
    let ids: Vec<u64> = items.iter().map(|i| i.id).collect();
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: ids.clone(),
            to: OFFICER.into(),
            comment: "the officer reviews finance".into(),
        },
    )
    .await
    .unwrap();
    // Approve the first half, revoke one, leave the rest to the default (revoke).
    let half = ids.len() / 2;
    let decide = |ids: &[u64], d: &str, key: &str| DecideRequest {
        items: ids.to_vec(),
        decision: Verdict::parse(d).unwrap(),
        comment: String::new(),
        key: key.into(),
    };
    reviews::decide(&ctx, decide(&ids[..half], "approve", "keep-half"))
        .await
        .unwrap();
    reviews::decide(&ctx, decide(&ids[half..=half], "revoke", "revoke-one"))
        .await
        .unwrap();
    let revoked: Vec<&ItemView> = items[half..].iter().collect();

    let before = grant_rows(&s.test_db).await;
    let preview = reviews::close(&ctx, started.campaign, true).await.unwrap();
    assert!(preview.dry_run && !preview.closed);
    assert_eq!(preview.revocations.len(), revoked.len());
    let delete = preview
        .sql
        .iter()
        .find(|l| l.starts_with("DELETE FROM "))
        .expect("a DELETE in the preview");
    assert!(
        delete.contains(
            ".`user_roles` WHERE `user_id` = ? AND `role_id` = ? AND `granted_at` <=> ? \
             AND `user_id` <=> ? AND `role_id` <=> ?; -- bound: "
        ),
        "{delete}"
    );
    assert_eq!(
        preview
            .sql
            .iter()
            .filter(|l| *l == "START TRANSACTION;")
            .count(),
        {
            let mut users: Vec<&str> = revoked.iter().map(|i| i.login.as_str()).collect();
            users.sort_unstable();
            users.dedup();
            users.len()
        }
    );
    assert_eq!(
        grant_rows(&s.test_db).await,
        before,
        "a dry run changes nothing"
    );
    assert_eq!(
        reviews::show(&ctx, started.campaign)
            .await
            .unwrap()
            .campaign
            .status,
        CampaignStatus::Open
    );

    let closed = reviews::close(&ctx, started.campaign, false).await.unwrap();
    assert!(closed.closed);
    assert_eq!(closed.revocations.len(), revoked.len());
    let after = grant_rows(&s.test_db).await;
    assert_eq!(after.len(), before.len() - revoked.len());
    let rows = all_items(&ctx, started.campaign).await;
    for item in &rows {
        let kept = item.decision.map(Verdict::as_str) == Some("keep");
        assert_eq!(kept, ids[..half].contains(&item.id), "item {}", item.id);
    }
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let trail = warden_store::governance::audit_events(&db).await.unwrap();
    let per_user = trail
        .iter()
        .filter(|(e, ..)| e.action == "review.remediate")
        .count();
    assert_eq!(per_user as u64, closed.remediated_users);
    assert!(trail.iter().any(|(e, ..)| e.action == "review.close"));
    assert!(trail.iter().any(|(e, ..)| e.action == "review.default"));
    db.close().await;
    // Closing again finds nothing left to do.
    let again = reviews::close(&ctx, started.campaign, false).await.unwrap();
    assert_eq!((again.remediated_users, again.revocations.len()), (0, 0));

    let why = reviews::undo_remediation(&ctx, started.campaign, "  ")
        .await
        .unwrap_err();
    assert_eq!(why.code(), ErrorCode::Input, "an undo says why: {why}");
    assert_eq!(grant_rows(&s.test_db).await, after, "nothing restored");
    // One revoked grant is made again by the application meanwhile: the undo leaves it,
    // reports its row, and puts back the rest.
    app_sql(
        &s.test_db,
        "INSERT INTO user_roles (user_id, role_id, granted_at) \
         SELECT user_id, role_id, ? FROM warden_remediations ORDER BY id LIMIT 1",
        &[&sql_now()],
    )
    .await;
    // Another revoked user has left since: their rows are reported and not given back (as
    // are those of anyone the campaign revoked who was already suspended).
    app_sql(
        &s.test_db,
        "UPDATE staff_users SET status = 'terminated' WHERE id = (SELECT user_id FROM \
         warden_remediations WHERE user_id <> (SELECT user_id FROM warden_remediations \
         ORDER BY id LIMIT 1) ORDER BY id LIMIT 1)",
        &[],
    )
    .await;
    let left = app_count(
        &s.test_db,
        "SELECT COUNT(*) FROM warden_remediations WHERE user_id IN \
         (SELECT id FROM staff_users WHERE status <> 'active')",
    )
    .await as usize;
    assert!(left > 0, "the test disabled a revoked user");
    let undone = reviews::undo_remediation(&ctx, started.campaign, "the campaign revoked too much")
        .await
        .unwrap();
    assert_eq!(
        undone.restored_rows as usize,
        revoked.len() - 1 - left,
        "{undone:?} {left}"
    );
    assert_eq!(undone.skipped.len(), 1 + left, "{undone:?}");
    assert_eq!(
        undone
            .skipped
            .iter()
            .filter(|r| r.reason.contains("again"))
            .count(),
        1,
        "{undone:?}"
    );
    assert_eq!(
        undone
            .skipped
            .iter()
            .filter(|r| r.reason.contains("no longer active"))
            .count(),
        left,
        "{undone:?}"
    );
    let now_held = grant_rows(&s.test_db).await;
    assert_eq!(
        now_held.len(),
        before.len() - left,
        "every grant is held again but the inactive user's"
    );
    let twice = reviews::undo_remediation(&ctx, started.campaign, "the campaign revoked too much")
        .await
        .unwrap();
    assert_eq!(twice.restored_rows, 0);
}

#[tokio::test]
async fn a_close_that_fails_midway_leaves_each_user_whole_and_a_rerun_finishes() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let req = StartRequest {
        undecided: Verdict::Revoke,
        ..start_request("Q4 finance", &["finance"], &[], "manager")
    };
    let started = reviews::start(&ctx, req).await.unwrap();
    let items = all_items(&ctx, started.campaign).await;
    let mut users: Vec<i64> = Vec::new();
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    for i in &items {
        let id: i64 =
            sqlx::query_scalar("SELECT CAST(id AS SIGNED) FROM staff_users WHERE login = ?")
                .bind(&i.login)
                .fetch_one(db.app())
                .await
                .unwrap();
        if !users.contains(&id) {
            users.push(id);
        }
    }
    users.sort_unstable();
    assert!(users.len() >= 3, "{} users", users.len());
    // The application refuses to lose the middle user's grants: that user's transaction
    // fails after the earlier users' have committed.
    let victim = users[users.len() / 2];
    sqlx::raw_sql(
        "CREATE TABLE refused_users (user_id BIGINT PRIMARY KEY); \
         CREATE TRIGGER refuse_one BEFORE DELETE ON user_roles FOR EACH ROW \
         IF EXISTS (SELECT 1 FROM refused_users r WHERE r.user_id = OLD.user_id) THEN \
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF",
    )
    .execute(db.app())
    .await
    .unwrap();
    sqlx::query("INSERT INTO refused_users (user_id) VALUES (?)")
        .bind(victim)
        .execute(db.app())
        .await
        .unwrap();
    let before = grant_rows(&s.test_db).await;
    let held = |rows: &[GrantRow], user: i64| rows.iter().filter(|r| r.0 == user).count();
    assert!(reviews::close(&ctx, started.campaign, false).await.is_err());
    let midway = grant_rows(&s.test_db).await;
    for u in &users {
        let (was, now) = (held(&before, *u), held(&midway, *u));
        assert!(
            now == was || now == 0,
            "user {u}: {was} grants, then {now}: half-remediated"
        );
    }
    assert_eq!(
        held(&midway, victim),
        held(&before, victim),
        "the failing user is untouched"
    );
    assert_eq!(held(&midway, users[0]), 0, "users before it are remediated");
    assert_eq!(
        reviews::show(&ctx, started.campaign)
            .await
            .unwrap()
            .campaign
            .status,
        CampaignStatus::Open
    );

    sqlx::raw_sql("DROP TRIGGER refuse_one")
        .execute(db.app())
        .await
        .unwrap();
    let rerun = reviews::close(&ctx, started.campaign, false).await.unwrap();
    assert!(rerun.closed);
    let done = grant_rows(&s.test_db).await;
    for u in &users {
        assert_eq!(held(&done, *u), 0, "user {u} remediated");
    }
    // Each user was remediated exactly once.
    let trail = warden_store::governance::audit_events(&db).await.unwrap();
    let mut remediated: Vec<&str> = trail
        .iter()
        .filter(|(e, ..)| e.action == "review.remediate")
        .map(|(e, ..)| e.target.as_str())
        .collect();
    let count = remediated.len();
    remediated.sort_unstable();
    remediated.dedup();
    assert_eq!(count, remediated.len());
    assert_eq!(count, users.len());
    db.close().await;
}

#[tokio::test]
async fn the_next_quarter_starts_from_a_template_and_a_queue_moves_whole() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let q3 = reviews::start(&ctx, start_request("Q3 sales", &["sales"], &[], "manager"))
        .await
        .unwrap();
    let due = day(120);
    let q4 = reviews::start_like(&ctx, q3.campaign, "Q4 sales", &due)
        .await
        .unwrap();
    assert_eq!(q4.items, q3.items);
    let shown = reviews::show(&ctx, q4.campaign).await.unwrap().campaign;
    assert_eq!(
        (shown.name.as_str(), shown.due.as_str()),
        ("Q4 sales", due.as_str())
    );
    assert_eq!(shown.reviewer_rule.as_str(), "manager");

    let items = all_items(&ctx, q4.campaign).await;
    let busiest = items
        .iter()
        .map(|i| i.reviewer.clone())
        .max_by_key(|r| items.iter().filter(|i| &i.reviewer == r).count())
        .unwrap();
    let queue = items.iter().filter(|i| i.reviewer == busiest).count();
    add_console_user(&s.test_db, "rita.reviewer", ConsoleRole::Reviewer).await;
    let moved = reviews::reassign_queue(&ctx, q4.campaign, &busiest, "rita.reviewer", "on leave")
        .await
        .unwrap();
    assert_eq!(moved.reassigned.len(), queue);
    let after = all_items(&ctx, q4.campaign).await;
    assert!(!after.iter().any(|i| i.reviewer == busiest));
    assert_eq!(
        after
            .iter()
            .filter(|i| i.reviewer == "rita.reviewer")
            .count(),
        queue
    );
}

#[tokio::test]
async fn reviewers_are_reminded_as_the_due_date_nears_and_listed_when_overdue() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let soon = day(3);
    let started = reviews::start(
        &ctx,
        StartRequest {
            due: soon,
            ..start_request("Q4 finance", &["finance"], &[], "manager")
        },
    )
    .await
    .unwrap();
    let items = all_items(&ctx, started.campaign).await;
    let mut everyone: Vec<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    everyone.sort();
    everyone.dedup();
    let listed = reviews::list(&ctx).await.unwrap().campaigns;
    assert_eq!(
        listed[0].remind, everyone,
        "everyone with pending items, due in 3 days"
    );
    assert!(!listed[0].overdue);
    // The reviewer is reminded of their own items; the officer of none yet (nothing is
    // overdue, and their own items, if any, are counted like anyone's).
    let reviewer = everyone.iter().find(|r| *r != OFFICER).unwrap().clone();
    let theirs = items.iter().filter(|i| i.reviewer == reviewer).count();
    add_console_user(&s.test_db, &reviewer, ConsoleRole::Reviewer).await;
    let rctx = ctx_as(&s.test_db, &reviewer, Some("reference")).await;
    let due_in_3 = format!("“Q4 finance” is due in 3 days ({}).", listed[0].due);
    assert_eq!(
        reviews::reminders(&rctx).await.unwrap(),
        [reviews::Reminder {
            campaign: started.campaign,
            title: format!(
                "Access review: {theirs} item{} to decide",
                if theirs == 1 { "" } else { "s" }
            ),
            body: due_in_3.clone(),
        }]
    );
    let officers = reviews::reminders(&ctx).await.unwrap();
    assert!(
        officers.iter().all(|r| r.title.contains("to decide")),
        "{officers:?}"
    );
    // Past due: overdue, and whoever still has items is listed.
    app_sql(
        &s.test_db,
        "UPDATE warden_campaigns SET due = ?",
        &[&day(-1)],
    )
    .await;
    let mine: Vec<u64> = items
        .iter()
        .filter(|i| i.reviewer == OFFICER)
        .map(|i| i.id)
        .collect();
    if !mine.is_empty() {
        reviews::decide(
            &ctx,
            DecideRequest {
                items: mine,
                decision: Verdict::Keep,
                comment: String::new(),
                key: "mine".into(),
            },
        )
        .await
        .unwrap();
    }
    let listed = reviews::list(&ctx).await.unwrap().campaigns;
    assert!(listed[0].overdue);
    let pending: Vec<String> = everyone.iter().filter(|r| *r != OFFICER).cloned().collect();
    assert_eq!(listed[0].remind, pending);
    let detail = reviews::show(&ctx, started.campaign).await.unwrap();
    assert_eq!(detail.overdue_reviewers, pending);
    // The officer, their own items decided, is told the campaign is overdue and by whom.
    let yesterday = day(-1);
    let left = items.iter().filter(|i| i.reviewer != OFFICER).count();
    assert_eq!(
        reviews::reminders(&ctx).await.unwrap(),
        [reviews::Reminder {
            campaign: started.campaign,
            title: "Access review overdue".into(),
            body: format!(
                "“Q4 finance” was due {yesterday} and is overdue: {} {} {left} item{} to decide.",
                pending.len(),
                if pending.len() == 1 {
                    "reviewer still has"
                } else {
                    "reviewers still have"
                },
                if left == 1 { "" } else { "s" },
            ),
        }]
    );
    assert!(
        reviews::reminders(&rctx).await.unwrap()[0]
            .body
            .ends_with("is overdue.")
    );
    // A campaign a week away or more reminds nobody.
    let later = day(30);
    reviews::start(
        &ctx,
        StartRequest {
            due: later,
            ..start_request("Q1", &["hr"], &[], "manager")
        },
    )
    .await
    .unwrap();
    let listed = reviews::list(&ctx).await.unwrap().campaigns;
    assert!(listed[0].remind.is_empty());
}

/// The issue's own case: the database server is killed between two users of a close, then
/// restarted; the re-run finishes, and every user is remediated exactly once.
#[tokio::test]
async fn a_close_cut_by_killing_the_server_between_users_finishes_on_a_rerun() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("srv");
    let server = warden_sandbox::server::start(&data, None).unwrap();
    let spec = warden_store::ConnectSpec::from_url(&server.url).unwrap();
    let conn = warden_store::Database::connect(&spec).await.unwrap();
    let opts = warden_sandbox::SeedOptions {
        users: 300,
        log_rows: 3_000,
        seed: 7,
        scenario: warden_sandbox::Scenario::Default,
        hostile: Vec::new(),
        now: now(),
    };
    warden_sandbox::seed::seed(&conn, &opts).await.unwrap();
    // Acting as the administrator who migrated (the first officer): this server is not
    // the shared test server, so its accounts need no prefix.
    let opts = warden_service::setup::MigrateOptions {
        grant_target: Some(
            warden_core::mapping::Mapping::preset("reference")
                .unwrap()
                .grant_target(),
        ),
        ..Default::default()
    };
    warden_service::setup::migrate(&conn, clock(), &opts)
        .await
        .unwrap();
    let ctx = warden_service::Ctx::establish(
        conn,
        Some(warden_core::mapping::Mapping::preset("reference").unwrap()),
    )
    .await
    .unwrap()
    .with_clock(clock());
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let req = StartRequest {
        undecided: Verdict::Revoke,
        fallback: ADMIN.into(),
        ..start_request("Q4 finance", &["finance"], &[], "manager")
    };
    let started = reviews::start(&ctx, req).await.unwrap();

    // Who will be remediated, in the order close takes them (by user id).
    let opts = sqlx::mysql::MySqlConnectOptions::new()
        .socket(&server.socket)
        .username("root")
        .database("warden_demo");
    let mut app = sqlx::MySqlConnection::connect_with(&opts).await.unwrap();
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT CAST(s.id AS SIGNED) FROM warden_review_items i \
         JOIN staff_users s ON s.login = i.login WHERE i.campaign_id = ? ORDER BY 1",
    )
    .bind(started.campaign)
    .fetch_all(&mut app)
    .await
    .unwrap();
    assert!(users.len() >= 3, "{users:?}");
    let grants = |rows: &[(i64, i64)], u: i64| rows.iter().filter(|r| r.0 == u).count();
    let all_grants = "SELECT CAST(user_id AS SIGNED), CAST(role_id AS SIGNED) FROM user_roles";
    let before: Vec<(i64, i64)> = sqlx::query_as(all_grants)
        .fetch_all(&mut app)
        .await
        .unwrap();

    // Another session holds the second user's grants: the close remediates the first user,
    // commits, and waits on the second, when the server is killed.
    let mut holder = sqlx::MySqlConnection::connect_with(&opts).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT role_id FROM user_roles WHERE user_id = ? FOR UPDATE")
        .bind(users[1])
        .fetch_all(&mut holder)
        .await
        .unwrap();
    let campaign = started.campaign;
    let closing = tokio::spawn(async move { reviews::close(&ctx, campaign, false).await });
    // The first user's remediation is committed (and the second's cannot be).
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_roles WHERE user_id = ?")
            .bind(users[0])
            .fetch_one(&mut app)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            !closing.is_finished(),
            "close ended before reaching the second user"
        );
        tokio::task::yield_now().await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-9", &server.pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(closing.await.unwrap().is_err(), "the close lost its server");
    drop(holder);
    drop(app);

    // Restarted: the first user is remediated, the others untouched.
    let server = warden_sandbox::server::start(&data, None).unwrap();
    let mut app = sqlx::MySqlConnection::connect_with(
        &sqlx::mysql::MySqlConnectOptions::new()
            .socket(&server.socket)
            .username("root")
            .database("warden_demo"),
    )
    .await
    .unwrap();
    let midway: Vec<(i64, i64)> = sqlx::query_as(all_grants)
        .fetch_all(&mut app)
        .await
        .unwrap();
    assert_eq!(
        grants(&midway, users[0]),
        0,
        "the first user was remediated"
    );
    for u in &users[1..] {
        assert_eq!(
            grants(&midway, *u),
            grants(&before, *u),
            "user {u} untouched"
        );
    }

    // The re-run finishes the rest; each user is remediated exactly once.
    let conn =
        warden_store::Database::connect(&warden_store::ConnectSpec::from_url(&server.url).unwrap())
            .await
            .unwrap();
    let ctx = warden_service::Ctx::establish(
        conn,
        Some(warden_core::mapping::Mapping::preset("reference").unwrap()),
    )
    .await
    .unwrap()
    .with_clock(clock());
    let rerun = reviews::close(&ctx, campaign, false).await.unwrap();
    assert!(rerun.closed);
    let done: Vec<(i64, i64)> = sqlx::query_as(all_grants)
        .fetch_all(&mut app)
        .await
        .unwrap();
    for u in &users {
        assert_eq!(grants(&done, *u), 0, "user {u} remediated");
    }
    let remediated: Vec<String> = sqlx::query_scalar(
        "SELECT target FROM warden_audit_events WHERE action = 'review.remediate' ORDER BY target",
    )
    .fetch_all(&mut app)
    .await
    .unwrap();
    let mut once = remediated.clone();
    once.dedup();
    assert_eq!(remediated, once, "no user twice");
    assert_eq!(remediated.len(), users.len());
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM warden_remediations")
        .fetch_one(&mut app)
        .await
        .unwrap();
    let revoked = before.iter().filter(|g| users.contains(&g.0)).count() as i64;
    assert_eq!(kept, revoked, "every removed row kept once for undo");
    ctx.close().await;
    app.close().await.unwrap();
    warden_sandbox::server::stop(&data).unwrap();
}

/// The close applies exactly the revocation set its preview showed: given the preview's
/// digest, a close after another decision is refused with nothing revoked; previewed
/// again, it goes through.
#[tokio::test]
async fn a_close_applies_exactly_what_its_preview_showed() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let campaign = reviews::start(&ctx, finance_review("Q4"))
        .await
        .unwrap()
        .campaign;
    let ids: Vec<u64> = all_items(&ctx, campaign)
        .await
        .iter()
        .map(|i| i.id)
        .collect();
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: ids[..2].to_vec(),
            to: OFFICER.into(),
            comment: "the officer decides these".into(),
        },
    )
    .await
    .unwrap();
    let decide = |item: u64, key: &str| DecideRequest {
        items: vec![item],
        decision: Verdict::Revoke,
        comment: "not needed".into(),
        key: key.into(),
    };
    reviews::decide(&ctx, decide(ids[0], "first"))
        .await
        .unwrap();
    let preview = reviews::close(&ctx, campaign, true).await.unwrap();
    assert_eq!(preview.revocations.len(), 1);
    assert_eq!(preview.digest.len(), 64);
    // Another revocation after the preview: the previewed close refuses, revoking nothing.
    reviews::decide(&ctx, decide(ids[1], "second"))
        .await
        .unwrap();
    let before = grant_rows(&s.test_db).await;
    let err = reviews::close_as_previewed(&ctx, campaign, &preview.digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(
        err.to_string().contains("changed since the preview"),
        "{err}"
    );
    assert_eq!(grant_rows(&s.test_db).await, before, "nothing revoked");
    let again = reviews::close(&ctx, campaign, true).await.unwrap();
    assert_eq!(again.revocations.len(), 2);
    assert_ne!(again.digest, preview.digest);
    let closed = reviews::close_as_previewed(&ctx, campaign, &again.digest)
        .await
        .unwrap();
    assert!(closed.closed);
    assert_eq!(closed.digest, again.digest, "it applied what it showed");
    ctx.close().await;
}

/// A grant table with no key that names one row (no primary key, no unique key among the
/// mapped columns) is read as before, but its revocations are refused, by the console with
/// why and by the server whatever a client asks; a campaign of keeps still closes.
#[tokio::test]
async fn a_grant_table_without_a_key_is_read_but_not_remediated() {
    let s = seeded().await;
    let root = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    for sql in [
        "ALTER TABLE user_roles DROP FOREIGN KEY user_roles_user",
        "ALTER TABLE user_roles DROP PRIMARY KEY, ADD KEY user_roles_user (user_id)",
    ] {
        sqlx::query(sql).execute(root.app()).await.unwrap();
    }
    let done = migrate(&root, &s.test_db, clock()).await;
    let why = done.remediation_refused.expect("no key");
    assert!(why.contains("`user_roles` has no primary key"), "{why}");
    assert_eq!(done.grant_key, None);

    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let started = reviews::start(&ctx, finance_review("no key"))
        .await
        .unwrap();
    let items = all_items(&ctx, started.campaign).await;
    assert!(!items.is_empty(), "the table is read as before");
    let revoked = &items[0];
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: vec![revoked.id],
            to: OFFICER.into(),
            comment: "the officer decides".into(),
        },
    )
    .await
    .unwrap();
    reviews::decide(
        &ctx,
        DecideRequest {
            items: vec![revoked.id],
            decision: Verdict::Revoke,
            comment: String::new(),
            key: "no-key".into(),
        },
    )
    .await
    .unwrap();
    let before = grant_rows(&s.test_db).await;
    let preview = reviews::close(&ctx, started.campaign, true).await.unwrap();
    assert!(
        preview
            .sql
            .iter()
            .all(|l| l.contains("to carry out in the application") && !l.contains("DELETE")),
        "{:?}",
        preview.sql
    );
    let refused = reviews::close(&ctx, started.campaign, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("no primary key") && refused.contains("revoke in the application"),
        "{refused}"
    );
    // The server refuses too, called directly as the officer's account.
    let officer_db = warden_store::Database::connect(&account_spec(&s.test_db, OFFICER))
        .await
        .unwrap();
    let direct = sqlx::query("CALL warden_grant_remove(?, NOW(6), @kept)")
        .bind(revoked.id)
        .execute(officer_db.gov())
        .await
        .unwrap_err()
        .to_string();
    assert!(direct.contains("no key naming one grant"), "{direct}");
    assert_eq!(grant_rows(&s.test_db).await, before, "nothing was removed");
    officer_db.close().await;
    root.close().await;
}
