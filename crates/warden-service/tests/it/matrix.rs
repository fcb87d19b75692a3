//! The role matrix: every use case of the service under each console role's real account
//! (officer, reviewer, auditor; each signed in as themself). What a role may do goes
//! through, the server included (a missing grant would come back as the server's refusal,
//! `forbidden`); what it may not is refused with `forbidden` (the CLI's exit 4).

use warden_core::console::ConsoleRole;
use warden_core::findings::{FindingKind, Triage as TriageAction};
use warden_core::review::Verdict;
use warden_sandbox::seed::COMPANY_POLICY;
use warden_service::audit::EventsRequest;
use warden_service::directory::{AccessRequest, RoleRequest, UsersRequest, WhoCanRequest};
use warden_service::export::Progress;
use warden_service::findings::{FindingsRequest, PolicySource, TriageRequest};
use warden_service::logs::SearchRequest;
use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest};
use warden_service::{Ctx, ErrorCode, audit, directory, export, findings, logs, policy, setup};

use crate::support::*;

const REVIEWER: &str = "rita.reviewer";
const AUDITOR: &str = "adam.auditor";

/// Every use case the matrix runs, as an enum and the list of all of them.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Case {
            $($case),*
        }

        const ALL: &[Case] = &[$(Case::$case),*];
    };
}

cases! {
    Dashboard,
    Users,
    Roles,
    Role,
    Access,
    WhoCan,
    Permissions,
    PolicyShow,
    PolicyHistory,
    PolicySimulate,
    PolicyApply,
    Check,
    Findings,
    Finding,
    Triage,
    Compliance,
    ReviewList,
    ReviewShow,
    ReviewItems,
    Reminders,
    ReviewStart,
    Decide,
    Reassign,
    CloseDryRun,
    Undo,
    LogsSearch,
    LogsScan,
    ExportAccess,
    ExportAuditTrail,
    AuditEvents,
    AuditVerify,
    ConsoleUsers,
    AddConsoleUser,
    RemoveConsoleUser,
    Pack,
}

impl Case {
    /// Who may: the contract of DESIGN.md's console roles.
    fn allowed(self, role: ConsoleRole) -> bool {
        use Case::*;
        match self {
            // Campaigns and their progress: everyone (a reviewer sees their own items).
            ReviewList | ReviewShow | ReviewItems | Reminders => true,
            // Deciding and handing on one's own items: reviewers and officers.
            Decide | Reassign => role != ConsoleRole::Auditor,
            // Reading and exporting the whole directory, the policy, findings, logs and
            // the trail: officers and auditors.
            Dashboard | Users | Roles | Role | Access | WhoCan | Permissions | PolicyShow
            | PolicyHistory | PolicySimulate | Check | Findings | Finding | Compliance
            | LogsSearch | ExportAccess | ExportAuditTrail | AuditEvents | AuditVerify
            | ConsoleUsers => role.reads_whole_directory(),
            // Every change beyond one's own review items: officers.
            PolicyApply | Triage | ReviewStart | CloseDryRun | Undo | LogsScan | AddConsoleUser
            | RemoveConsoleUser | Pack => role == ConsoleRole::Officer,
        }
    }
}

/// What the cases work on.
struct World {
    campaign: u64,
    /// An undecided item of each deciding role's queue.
    item_of: std::collections::HashMap<&'static str, Vec<u64>>,
    finding: u64,
    someone: String,
    dir: tempfile::TempDir,
}

/// Runs `case` as `ctx`; answers the error code, or None when it went through.
async fn attempt(ctx: &Ctx, login: &str, case: Case, w: &World) -> Option<ErrorCode> {
    use Case::*;
    let out = |name: &str| w.dir.path().join(format!("{login}-{name}"));
    let progress = Progress::default();
    let item = |n: usize| {
        w.item_of
            .get(login)
            .and_then(|v| v.get(n).copied())
            .unwrap_or(1)
    };
    let r: Result<(), warden_service::Error> = match case {
        Dashboard => directory::dashboard(ctx).await.map(drop),
        Users => directory::users(ctx, UsersRequest::default())
            .await
            .map(drop),
        Roles => directory::roles(ctx).await.map(drop),
        Role => directory::role(
            ctx,
            RoleRequest {
                name: "support_agent".into(),
            },
        )
        .await
        .map(drop),
        Access => directory::access(
            ctx,
            AccessRequest {
                login: w.someone.clone(),
            },
        )
        .await
        .map(drop),
        WhoCan => directory::who_can(
            ctx,
            WhoCanRequest {
                permission: "refund:approve".into(),
            },
        )
        .await
        .map(drop),
        Permissions => directory::permissions(ctx).await.map(drop),
        PolicyShow => policy::show(ctx, None).await.map(drop),
        PolicyHistory => policy::history(ctx).await.map(drop),
        PolicySimulate => policy::simulate(ctx, COMPANY_POLICY, "p.toml", 30)
            .await
            .map(drop),
        PolicyApply => policy::apply(ctx, COMPANY_POLICY, "p.toml", "the same again")
            .await
            .map(drop),
        Check => findings::check(ctx, PolicySource::Current).await.map(drop),
        Findings => findings::findings(ctx, FindingsRequest::default())
            .await
            .map(drop),
        Finding => findings::finding(ctx, w.finding).await.map(drop),
        Triage => findings::triage(
            ctx,
            TriageRequest {
                id: w.finding,
                action: TriageAction::Ack,
                comment: "seen in the matrix".into(),
            },
        )
        .await
        .map(drop),
        Compliance => findings::summary(ctx).await.map(drop),
        ReviewList => reviews::list(ctx).await.map(drop),
        ReviewShow => reviews::show(ctx, w.campaign).await.map(drop),
        ReviewItems => reviews::items(
            ctx,
            ItemsRequest {
                campaign: w.campaign,
                reviewer: None,
                pending: false,
            },
        )
        .await
        .map(drop),
        Reminders => reviews::reminders(ctx).await.map(drop),
        ReviewStart => reviews::start(ctx, finance_review("Matrix"))
            .await
            .map(drop),
        Decide => reviews::decide(
            ctx,
            DecideRequest {
                items: vec![item(0)],
                decision: Verdict::Keep,
                comment: "needed for the job".into(),
                key: format!("matrix-{login}"),
            },
        )
        .await
        .map(drop),
        Reassign => reviews::reassign(
            ctx,
            ReassignRequest {
                items: vec![item(1)],
                to: OFFICER.into(),
                comment: "the officer knows this team".into(),
            },
        )
        .await
        .map(drop),
        CloseDryRun => reviews::close(ctx, w.campaign, true).await.map(drop),
        Undo => reviews::undo_remediation(ctx, w.campaign, "the matrix undoes")
            .await
            .map(drop),
        LogsSearch => logs::search(ctx, SearchRequest::default()).await.map(drop),
        LogsScan => logs::scan(ctx, false).await.map(drop),
        ExportAccess => export::access(ctx, &out("access.csv"), false, &progress)
            .await
            .map(drop),
        ExportAuditTrail => export::audit_trail(ctx, &out("trail.csv"), false, &progress)
            .await
            .map(drop),
        AuditEvents => audit::events(ctx, EventsRequest::default()).await.map(drop),
        AuditVerify => {
            let state = tempfile::tempdir().unwrap();
            audit::chain(ctx, &state.path().join("witness.json"), "profile matrix")
                .await
                .map(drop)
        }
        ConsoleUsers => setup::console_users(ctx).await.map(drop),
        AddConsoleUser => setup::add_console_user(
            ctx,
            setup::AddConsoleUser {
                login: "mia.matrix".into(),
                role: ConsoleRole::Auditor,
                host: Some("localhost".into()),
            },
        )
        .await
        .map(drop),
        RemoveConsoleUser => setup::remove_console_user(ctx, "mia.matrix")
            .await
            .map(drop),
        Pack => export::campaign(ctx, w.campaign, &out("pack"), &progress)
            .await
            .map(drop),
    };
    r.err().map(|e| e.code())
}

/// A policy in force, its findings recorded, and an open campaign with two items in the
/// reviewer's queue and two in the officer's.
async fn world(s: &Seeded, officer: &Ctx) -> World {
    policy::apply(officer, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    findings::check(officer, PolicySource::Current)
        .await
        .unwrap();
    let finding = findings::findings(
        officer,
        FindingsRequest {
            kind: Some(FindingKind::SodConflict),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .findings[0]
        .id
        .unwrap();
    let campaign = reviews::start(officer, finance_review("Q4 finance"))
        .await
        .unwrap()
        .campaign;
    let items: Vec<u64> = reviews::items(
        officer,
        ItemsRequest {
            campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items
    .iter()
    .map(|i| i.id)
    .collect();
    assert!(items.len() >= 4, "{items:?}");
    let mut item_of = std::collections::HashMap::new();
    for (login, ids) in [(REVIEWER, &items[..2]), (OFFICER, &items[2..4])] {
        reviews::reassign(
            officer,
            ReassignRequest {
                items: ids.to_vec(),
                to: login.into(),
                comment: "for the matrix".into(),
            },
        )
        .await
        .unwrap();
        item_of.insert(login, ids.to_vec());
    }
    World {
        campaign,
        item_of,
        finding,
        someone: s.planted.sod_conflict.clone(),
        dir: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test]
async fn every_use_case_under_every_roles_own_account() {
    let s = seeded().await;
    add_console_user(&s.test_db, REVIEWER, ConsoleRole::Reviewer).await;
    add_console_user(&s.test_db, AUDITOR, ConsoleRole::Auditor).await;
    let officer = officer(&s.test_db).await;
    let w = world(&s, &officer).await;
    let mut wrong = Vec::new();
    // The officer last: its cases change what the others' would see.
    for (login, role) in [
        (AUDITOR, ConsoleRole::Auditor),
        (REVIEWER, ConsoleRole::Reviewer),
        (OFFICER, ConsoleRole::Officer),
    ] {
        let ctx = ctx_as(&s.test_db, login, Some("reference")).await;
        assert_eq!(ctx.role(), role);
        for &case in ALL {
            let got = attempt(&ctx, login, case, &w).await;
            let refused = got == Some(ErrorCode::Forbidden);
            let allowed = case.allowed(role);
            // Allowed: it went through. (The pack of a campaign still open is refused as
            // such, not as a matter of role.)
            let fine = match (allowed, case) {
                (true, Case::Pack) => got == Some(ErrorCode::Input),
                (true, _) => got.is_none(),
                (false, _) => refused,
            };
            if !fine {
                wrong.push(format!("{role:?} {case:?}: {got:?}"));
            }
        }
        ctx.close().await;
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    officer.close().await;
}
