use super::*;
use crate::directory::{Permission, RoleModel, effective_for_all};
use crate::mapping::Semantics;

const POLICY: &str = r#"
[dormancy]
days = 90

[[job_function]]
name = "support"
match = { department = "support" }
allow = ["customer.contact:read", "ticket:*"]
max_roles = 2

[[job_function]]
name = "security"
match = { department = "security" }
allow = ["**"]

[[separation_of_duties]]
name = "refund four-eyes"
conflict = ["refund:request", "refund:approve"]

[[exception]]
kind = "superuser"
match = { department = "security" }
reason = "the security officers administer the application"

[[exception]]
kind = "orphan_account"
match = { login = "boss" }
reason = "the top of the reporting line"
"#;

// Permissions 1..=5; roles: 10 agent (1, 2), 11 billing (3, request), 12 approver (4),
// 13 sales (5), 14 extra (2), 15 extra2 (1).
const KEYS: [&str; 5] = [
    "customer.contact:read",
    "ticket:write",
    "refund:request",
    "refund:approve",
    "lead:write",
];

struct World {
    users: Vec<User>,
    grants: Vec<RoleGrant>,
    direct: Vec<DirectGrant>,
    schemes: HashMap<UserId, String>,
    active_in_log: HashSet<UserId>,
    now: NaiveDateTime,
}

fn now() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
}

fn person(id: i64, login: &str, dept: &str) -> User {
    User {
        id: UserId(id),
        login: login.into(),
        name: None,
        email: None,
        department: Some(dept.into()),
        title: Some("Agent".into()),
        manager_id: Some(UserId(1)),
        manager: Some("boss".into()),
        status: "active".into(),
        active: true,
        superuser: false,
        mfa: Some(true),
        last_login: Some(now() - Duration::days(1)),
        created: Some(now() - Duration::days(900)),
    }
}

fn grant(user: i64, role: i64) -> RoleGrant {
    RoleGrant {
        user: UserId(user),
        role: RoleId(role),
        granted_at: None,
        granted_by: None,
        scope: Default::default(),
        key: None,
    }
}

/// A compliant team: the boss (security, a superuser by exception) and two agents.
fn clean_world() -> World {
    let mut boss = person(1, "boss", "security");
    boss.manager_id = None;
    boss.superuser = true;
    boss.title = Some("CISO".into());
    World {
        users: vec![
            boss,
            person(2, "ada", "support"),
            person(3, "ben", "support"),
        ],
        grants: vec![grant(2, 10), grant(3, 10)],
        direct: vec![],
        schemes: HashMap::from([(UserId(2), "argon2id".to_string())]),
        active_in_log: HashSet::new(),
        now: now(),
    }
}

fn run(policy: &str, w: &World) -> Evaluation {
    let policy = Policy::parse(policy).unwrap();
    let permissions: Vec<Permission> = KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| Permission {
            id: PermissionId(i as i64 + 1),
            key: (*k).into(),
        })
        .collect();
    let model = RoleModel::new(
        [10, 11, 12, 13, 14, 15].map(RoleId),
        &[],
        &[
            (10, 1),
            (10, 2),
            (11, 3),
            (12, 4),
            (13, 5),
            (14, 2),
            (15, 1),
        ]
        .map(|(r, p)| (RoleId(r), PermissionId(p))),
    );
    let effective = effective_for_all(
        &w.users,
        Semantics::default(),
        &model,
        &w.grants,
        &w.direct,
        &permissions,
    );
    let role_names: HashMap<RoleId, String> = [
        (10, "agent"),
        (11, "billing"),
        (12, "approver"),
        (13, "sales"),
        (14, "extra"),
        (15, "extra2"),
    ]
    .map(|(r, n)| (RoleId(r), n.to_string()))
    .into();
    let permission_keys = permissions.iter().map(|p| (p.id, p.key.clone())).collect();
    evaluate(
        &policy,
        Facts {
            users: &w.users,
            role_names: &role_names,
            permission_keys: &permission_keys,
            grants: &w.grants,
            direct: &w.direct,
            effective: &effective,
            columns: Columns {
                managers: true,
                mfa: true,
                last_login: true,
                password_hash: true,
            },
            password_schemes: &w.schemes,
            active_in_log: Some(&w.active_in_log),
            now: w.now,
        },
    )
}

fn kinds_of(e: &Evaluation, login: &str) -> Vec<FindingKind> {
    e.findings
        .iter()
        .filter(|f| f.subject == login)
        .map(|f| f.kind)
        .collect()
}

#[test]
fn a_compliant_directory_has_no_findings() {
    let e = run(POLICY, &clean_world());
    assert_eq!(e.findings, vec![], "{:#?}", e.findings);
    assert_eq!((e.evaluated, e.compliant), (3, 3));
}

#[test]
fn each_kind_is_found_on_the_person_it_concerns() {
    type Plant = fn(&mut World);
    let cases: &[(&str, Plant, FindingKind)] = &[
        (
            "excess through a role",
            |w| w.grants.push(grant(2, 13)),
            FindingKind::ExcessPermission,
        ),
        (
            "excess through a direct grant",
            |w| {
                w.direct.push(DirectGrant {
                    user: UserId(2),
                    permission: PermissionId(5),
                    scope: Default::default(),
                })
            },
            FindingKind::ExcessPermission,
        ),
        (
            "too many roles",
            |w| w.grants.extend([grant(2, 14), grant(2, 15)]),
            FindingKind::TooManyRoles,
        ),
        (
            "dormant",
            |w| w.users[1].last_login = Some(now() - Duration::days(91)),
            FindingKind::DormantAccount,
        ),
        (
            "orphan",
            |w| w.users[1].manager_id = None,
            FindingKind::OrphanAccount,
        ),
        (
            "inactive with roles",
            |w| {
                w.users[1].active = false;
                w.users[1].status = "terminated".into();
            },
            FindingKind::InactiveWithRoles,
        ),
        (
            "superuser",
            |w| w.users[1].superuser = true,
            FindingKind::Superuser,
        ),
        (
            "no mfa",
            |w| w.users[1].mfa = Some(false),
            FindingKind::NoMfa,
        ),
        (
            "weak hash",
            |w| {
                w.schemes.insert(UserId(2), "md5".into());
            },
            FindingKind::WeakPasswordHash,
        ),
        (
            "no job function",
            |w| w.users[1].department = Some("marketing".into()),
            FindingKind::NoJobFunction,
        ),
    ];
    for (what, plant, kind) in cases {
        let mut w = clean_world();
        plant(&mut w);
        let e = run(POLICY, &w);
        let found = kinds_of(&e, "ada");
        assert!(found.contains(kind), "{what}: {found:?}");
        assert!(
            found.iter().all(|k| k == kind),
            "{what}: only {kind}, got {found:?}"
        );
        assert!(
            kinds_of(&e, "ben").is_empty() && kinds_of(&e, "boss").is_empty(),
            "{what}"
        );
        assert_eq!(
            e.compliant,
            e.evaluated - usize::from(kind != &FindingKind::InactiveWithRoles),
            "{what}"
        );
    }
}

#[test]
fn a_manager_who_left_makes_an_orphan() {
    let mut w = clean_world();
    w.users[1].manager_id = Some(UserId(3));
    w.users[2].active = false;
    w.users[2].status = "terminated".into();
    w.grants.retain(|g| g.user != UserId(3));
    let e = run(POLICY, &w);
    assert_eq!(kinds_of(&e, "ada"), [FindingKind::OrphanAccount]);
    assert!(e.findings[0].detail.contains("ben, who is terminated"));
}

#[test]
fn excess_names_every_way_it_is_held_and_the_fix() {
    let mut w = clean_world();
    w.grants.push(grant(2, 13));
    w.direct.push(DirectGrant {
        user: UserId(2),
        permission: PermissionId(5),
        scope: Default::default(),
    });
    let e = run(POLICY, &w);
    assert_eq!(e.findings.len(), 1);
    let f = &e.findings[0];
    assert_eq!(f.evidence["permission"], "lead:write");
    assert_eq!(f.evidence["via"], json!(["role sales", "direct grant"]));
    assert!(
        f.fix
            .contains("revoke role sales and direct grant from ada"),
        "{}",
        f.fix
    );
    assert_eq!(
        f.fingerprint,
        fingerprint(FindingKind::ExcessPermission, UserId(2), "lead:write")
    );
}

#[test]
fn sod_names_both_sides_and_their_roles() {
    let mut w = clean_world();
    w.grants.extend([grant(2, 11), grant(2, 12)]);
    let policy = POLICY
        .replace("ticket:*", "ticket:*\", \"refund:*")
        .replace("max_roles = 2", "max_roles = 3");
    let e = run(&policy, &w);
    assert_eq!(kinds_of(&e, "ada"), [FindingKind::SodConflict]);
    let f = &e.findings[0];
    assert_eq!(f.evidence["sides"][0][0]["via"], json!(["role billing"]));
    assert_eq!(f.evidence["sides"][1][0]["via"], json!(["role approver"]));
    assert!(
        f.detail
            .contains("`refund:request` (role billing) with `refund:approve` (role approver)"),
        "{}",
        f.detail
    );
}

#[test]
fn access_log_activity_keeps_an_account_alive() {
    let mut w = clean_world();
    w.users[1].last_login = Some(now() - Duration::days(150));
    w.active_in_log.insert(UserId(2));
    assert!(run(POLICY, &w).findings.is_empty());
    w.active_in_log.clear();
    assert_eq!(
        kinds_of(&run(POLICY, &w), "ada"),
        [FindingKind::DormantAccount]
    );
    // Never logged in, but the account is new: not dormant yet.
    w.users[1].last_login = None;
    w.users[1].created = Some(now() - Duration::days(10));
    assert!(run(POLICY, &w).findings.is_empty());
}

#[test]
fn exceptions_accept_exactly_what_they_name() {
    let mut w = clean_world();
    w.grants.push(grant(2, 13));
    w.users[2].superuser = true;
    let with = format!(
        "{POLICY}\n[[exception]]\nkind = \"excess_permission\"\nmatch = {{ login = \"ada\" }}\npermission = \"lead:*\"\nreason = \"covers for sales\"\n"
    );
    let e = run(&with, &w);
    assert!(kinds_of(&e, "ada").is_empty());
    // The security exception does not cover a support agent.
    assert_eq!(kinds_of(&e, "ben"), [FindingKind::Superuser]);
}

#[test]
fn an_ambiguous_assignment_is_reported_not_guessed() {
    let w = clean_world();
    let two = format!(
        "{POLICY}\n[[job_function]]\nname = \"agents\"\nmatch = {{ title = \"agent\" }}\nallow = []\n"
    );
    let e = run(&two, &w);
    assert_eq!(e.ambiguous.len(), 2);
    assert_eq!(e.ambiguous[0].1, ["support", "agents"]);
    let prioritized = two.replace("allow = []", "allow = []\npriority = 1");
    assert!(run(&prioritized, &w).ambiguous.is_empty());
}

#[test]
fn triage_moves_only_where_it_makes_sense() {
    use FindingStatus::*;
    assert_eq!(Open.triage(Triage::Ack), Ok(Acknowledged));
    assert_eq!(Acknowledged.triage(Triage::Resolve), Ok(Resolved));
    assert_eq!(Resolved.triage(Triage::Reopen), Ok(Open));
    assert_eq!(
        Resolved.triage(Triage::Ack).unwrap_err(),
        "a finding that is resolved cannot be acknowledged"
    );
    assert!(Open.triage(Triage::Reopen).is_err());
    assert!(Acknowledged.triage(Triage::Ack).is_err());
}

#[test]
fn weak_schemes() {
    for s in ["md5", "MD5", "unsalted_sha1", "crypt", "1"] {
        assert!(is_weak_scheme(s), "{s}");
    }
    for s in [
        "argon2id",
        "argon2",
        "bcrypt",
        "bcrypt_sha256",
        "pbkdf2_sha256",
        "scrypt",
        "2b",
        "6",
        "!",
    ] {
        assert!(!is_weak_scheme(s), "{s}");
    }
}

#[test]
fn kinds_round_trip_through_their_names() {
    for k in FindingKind::ALL {
        assert_eq!(FindingKind::parse(k.as_str()), Some(*k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert_eq!(Severity::parse("high"), Some(Severity::High));
    assert!(Severity::High > Severity::Medium && Severity::Medium > Severity::Low);
}
