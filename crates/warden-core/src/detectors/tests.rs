use super::enumeration::longest_run;
use super::need_to_know::canonical_number;
use super::*;
use crate::findings::FindingKind;
use chrono::NaiveDate;

const POLICY: &str = r#"
[dormancy]
days = 90

[[job_function]]
name = "support"
match = { department = "support" }
allow = ["customer.contact:read", "ticket:*"]

[[job_function]]
name = "finance"
match = { department = "finance" }
allow = ["customer.payment:read", "report:export"]

[detectors.off_hours.department.finance]
hours = "06:00-22:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat"]
"#;

fn user(id: i64, login: &str, dept: &str) -> User {
    User {
        id: UserId(id),
        login: login.into(),
        name: None,
        email: None,
        department: Some(dept.into()),
        title: None,
        manager_id: None,
        manager: None,
        status: "active".into(),
        active: true,
        superuser: false,
        mfa: None,
        last_login: Some(at(2026, 11, 20, 9, 0)),
        created: None,
    }
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

struct Row {
    at: NaiveDateTime,
    user: i64,
    action: &'static str,
    rtype: &'static str,
    rid: String,
    allowed: bool,
}

fn row(at: NaiveDateTime, user: i64, action: &'static str, rid: u64) -> Row {
    Row {
        at,
        user,
        action,
        rtype: "customer",
        rid: rid.to_string(),
        allowed: true,
    }
}

/// Runs the detectors over rows (numbered from 1 in order) and returns (kind, login,
/// evidence row ids) per finding.
fn scan(users: &[User], rows: &[Row]) -> Vec<(FindingKind, String, Vec<i64>, Finding)> {
    let policy = Policy::parse(POLICY).unwrap();
    let roles = HashMap::new();
    let mut held: HashMap<UserId, HashSet<String>> = HashMap::new();
    held.entry(UserId(1))
        .or_default()
        .insert("customer.contact:read".into());
    // ada (1) serves customers 1..=20; bob (2) serves 500..
    let relations: HashMap<UserId, HashSet<String>> = [
        (UserId(1), (1..=20).map(|c| c.to_string()).collect()),
        (UserId(2), (500..=520).map(|c| c.to_string()).collect()),
    ]
    .into();
    let mut s = Scan::new(Facts {
        policy: &policy,
        users,
        roles: &roles,
        held: &held,
        relations: Some(&relations),
    })
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        s.push(&Event {
            id: i as i64 + 1,
            at: r.at,
            user: UserId(r.user),
            action: r.action,
            resource_type: Some(r.rtype),
            resource_id: Some(&r.rid),
            allowed: r.allowed,
            fresh: true,
        });
    }
    assert_eq!(s.scanned, rows.len() as u64);
    s.finish()
        .into_iter()
        .map(|f| {
            let ids = f.evidence["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            (f.kind, f.subject.clone(), ids, f)
        })
        .collect()
}

fn people() -> Vec<User> {
    vec![
        user(1, "ada", "support"),
        user(2, "bob", "support"),
        user(3, "fin", "finance"),
    ]
}

/// A working week of ordinary work: each reads their own customers in office hours.
fn ordinary() -> Vec<Row> {
    let mut rows = Vec::new();
    for day in 23..=27 {
        for h in 9..17 {
            rows.push(row(
                at(2026, 11, day, h, 5),
                1,
                "customer.contact:read",
                (h % 20 + 1) as u64,
            ));
            rows.push(row(
                at(2026, 11, day, h, 10),
                2,
                "customer.contact:read",
                500 + h as u64,
            ));
            rows.push(row(
                at(2026, 11, day, h, 15),
                3,
                "customer.payment:read",
                900 + h as u64,
            ));
        }
    }
    rows.sort_by_key(|r| r.at);
    rows
}

#[test]
fn ordinary_work_is_no_finding() {
    assert!(scan(&people(), &ordinary()).is_empty());
}

#[test]
fn each_detector_finds_its_case_with_the_rows_as_evidence() {
    let mut rows = ordinary();
    let first_planted = rows.len() as i64 + 1;
    // Enumeration: bob reads 300 customers in sequence in 40 minutes, Saturday noon
    // (bob is support: Saturday is also off hours, and none are his customers).
    for i in 0..300u64 {
        rows.push(row(
            at(2026, 11, 28, 12, 0) + chrono::Duration::seconds(i as i64 * 8),
            2,
            "customer.contact:read",
            1_000 + i,
        ));
    }
    let sweep: Vec<i64> = (first_planted..first_planted + 300).collect();
    let n = rows.len() as i64;
    // A denied burst: fin refused 25 times in 5 minutes on Monday.
    for i in 0..25 {
        rows.push(Row {
            allowed: false,
            ..row(
                at(2026, 11, 30, 10, 0) + chrono::Duration::seconds(i * 12),
                3,
                "customer.contact:read",
                7,
            )
        });
    }
    let burst: Vec<i64> = (n + 1..=n + 25).collect();
    // Outside policy: ada reads payment data (allowed by the application).
    rows.push(row(at(2026, 11, 30, 11, 0), 1, "customer.payment:read", 3));
    let outside = rows.len() as i64;
    // Bulk export: fin exports 3 reports (allowed by the policy), Monday afternoon.
    for i in 0..3 {
        rows.push(Row {
            rtype: "report",
            ..row(at(2026, 11, 30, 15, i * 10), 3, "report:export", 1)
        });
    }
    let exports: Vec<i64> = (outside + 1..=outside + 3).collect();
    let found = scan(&people(), &rows);
    let kinds: Vec<(FindingKind, &str)> = found.iter().map(|(k, l, ..)| (*k, l.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (FindingKind::BulkExport, "fin"),
            (FindingKind::DeniedBurst, "fin"),
            (FindingKind::Enumeration, "bob"),
            (FindingKind::NoBusinessReason, "bob"),
            (FindingKind::OffHours, "bob"),
            (FindingKind::OutsidePolicy, "ada"),
        ],
        "{found:#?}"
    );
    let ids = |k: FindingKind| found.iter().find(|f| f.0 == k).unwrap().2.clone();
    assert_eq!(ids(FindingKind::Enumeration), sweep);
    assert_eq!(ids(FindingKind::NoBusinessReason), sweep);
    assert_eq!(ids(FindingKind::OffHours), sweep);
    assert_eq!(ids(FindingKind::DeniedBurst), burst);
    assert_eq!(ids(FindingKind::OutsidePolicy), [outside]);
    assert_eq!(ids(FindingKind::BulkExport), exports);
    let e = &found
        .iter()
        .find(|f| f.0 == FindingKind::Enumeration)
        .unwrap()
        .3;
    assert_eq!(e.evidence["longest_run"], 300);
    assert_eq!(e.evidence["distinct"], 300);
    let o = &found
        .iter()
        .find(|f| f.0 == FindingKind::OutsidePolicy)
        .unwrap()
        .3;
    assert_eq!(o.evidence["held"], false, "{}", o.detail);
    assert!(o.detail.contains("without holding it"), "{}", o.detail);
}

#[test]
fn a_person_whose_work_is_wide_is_judged_against_their_own_baseline() {
    // Fin reads 250 different customers every hour of the week: wide, but their normal.
    // A window of 260 is over the floor yet not five times their typical window.
    let mut rows = Vec::new();
    for day in 23..=27 {
        for h in 9..17 {
            for i in 0..250u64 {
                // Scattered ids: no sequential run.
                rows.push(row(
                    at(2026, 11, day, h, 0) + chrono::Duration::seconds(i as i64),
                    3,
                    "customer.payment:read",
                    (i * 7919 + h as u64 * 13 + day as u64 * 101) % 100_000,
                ));
            }
        }
    }
    rows.sort_by_key(|r| r.at);
    let found = scan(&people(), &rows);
    assert!(
        !found.iter().any(|f| f.0 == FindingKind::Enumeration),
        "{:?}",
        found.iter().map(|f| &f.3.detail).collect::<Vec<_>>()
    );
}

#[test]
fn dormant_and_inactive_accounts_at_work_are_found_per_day() {
    let mut users = people();
    users[0].last_login = Some(at(2026, 6, 1, 9, 0)); // ada: last login in June
    users[1].active = false; // bob: terminated
    users[1].status = "terminated".into();
    let rows = vec![
        row(at(2026, 11, 23, 10, 0), 1, "customer.contact:read", 2),
        row(at(2026, 11, 23, 11, 0), 1, "customer.contact:read", 3),
        row(at(2026, 11, 24, 10, 0), 2, "customer.contact:read", 500),
        row(at(2026, 11, 24, 10, 0), 3, "customer.payment:read", 5),
    ];
    let found = scan(&users, &rows);
    let dormant: Vec<(&str, &Vec<i64>, &str)> = found
        .iter()
        .filter(|f| f.0 == FindingKind::DormantActivity)
        .map(|f| (f.1.as_str(), &f.2, f.3.detail.as_str()))
        .collect();
    assert_eq!(
        dormant,
        [
            (
                "ada",
                &vec![1, 2],
                "2 accesses on 2026-11-23, yet last login 2026-06-01"
            ),
            (
                "bob",
                &vec![3],
                "1 access on 2026-11-24, yet the account is terminated"
            ),
        ]
    );
}

#[test]
fn thresholds_are_validated_with_the_policy() {
    let bad = "[detectors.off_hours]\nhours = \"9-5\"\n";
    let e = Policy::parse(bad).unwrap_err();
    assert!(e.message.contains("off_hours"), "{e}");
    assert_eq!(e.line, Some(1));
    let bad = "[detectors.enumeration]\nfloor = 0\n";
    assert!(
        Policy::parse(bad)
            .unwrap_err()
            .message
            .contains("enumeration")
    );
    let unknown = "[detectors.enumeration]\nflor = 10\n";
    let e = Policy::parse(unknown).unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(1)), "{e}");
    let ok = "[detectors.bulk_export]\nactions = [\"customer:export\"]\nper_day = 1\n";
    let p = Policy::parse(ok).unwrap();
    assert_eq!(p.detectors.bulk_export.per_day, 1);
    assert_eq!(p.detectors.enumeration, Enumeration::default());
}

#[test]
fn the_longest_run_counts_consecutive_ids_once_each() {
    let window = |ids: &[u64]| {
        let mut w = Window::default();
        for &n in ids {
            w.read(n);
        }
        let distinct = w.distinct().to_vec();
        (longest_run(&distinct), distinct)
    };
    assert_eq!(window(&[5, 3, 4, 4, 9, 10]), (3, vec![3, 4, 5, 9, 10]));
    assert_eq!(window(&[]), (0, vec![]));
    assert_eq!(window(&[7]), (1, vec![7]));
    assert_eq!(window(&[7, 7, 7, 7, 7]), (1, vec![7]));
    // Past the inline few and past a dedup of the growing list: still exact.
    let many: Vec<u64> = (0..5_000).map(|i| (i * 7) % 1_500).collect();
    assert_eq!(window(&many), (1_500, (0..1_500).collect()));
}

#[test]
fn a_row_that_comes_late_joins_its_finding_instead_of_making_another() {
    // A sweep of 310 customers in one hour, whose last 60 rows are logged after a row of
    // the next hour (two application servers writing one log).
    let sweep = |i: u64| {
        row(
            at(2026, 11, 28, 12, 0) + chrono::Duration::seconds(i as i64 * 10),
            2,
            "customer.contact:read",
            1_000 + i,
        )
    };
    let mut rows: Vec<Row> = (0..250u64).map(sweep).collect();
    rows.push(row(at(2026, 11, 28, 13, 5), 1, "customer.contact:read", 3));
    rows.extend((250..310u64).map(sweep));
    let found = scan(&people(), &rows);
    let sweeps: Vec<_> = found
        .iter()
        .filter(|f| f.0 == FindingKind::Enumeration)
        .collect();
    assert_eq!(sweeps.len(), 1, "{found:#?}");
    assert_eq!(sweeps[0].3.evidence["count"], 310);
    let fingerprints: std::collections::BTreeSet<_> =
        found.iter().map(|f| &f.3.fingerprint).collect();
    assert_eq!(
        fingerprints.len(),
        found.len(),
        "one finding per fingerprint"
    );
}

#[test]
fn dormancy_begins_after_whole_days_past_the_threshold() {
    // Last login 2026-08-01 09:00; 90 days later is 2026-10-30 09:00. Ninety whole days
    // (and up to a day more) is not yet dormant; the first instant of day 91 is.
    let mut users = people();
    users[0].last_login = Some(at(2026, 8, 1, 9, 0));
    let just_before = at(2026, 10, 31, 8, 59) + chrono::Duration::seconds(59);
    let rows = vec![
        row(at(2026, 10, 30, 10, 0), 1, "customer.contact:read", 2),
        row(just_before, 1, "customer.contact:read", 3),
        row(at(2026, 10, 31, 9, 0), 1, "customer.contact:read", 4),
    ];
    let found = scan(&users, &rows);
    let dormant: Vec<&Vec<i64>> = (found.iter())
        .filter(|f| f.0 == FindingKind::DormantActivity)
        .map(|f| &f.2)
        .collect();
    assert_eq!(dormant, [&vec![3]]);
}

#[test]
fn justified_ids_compare_as_written_whether_numbers_or_not() {
    assert_eq!(canonical_number("0"), Some(0));
    assert_eq!(canonical_number("123"), Some(123));
    for not in ["", "007", "+5", "-1", "1.0", "12a", "99999999999999999999"] {
        assert_eq!(canonical_number(not), None, "{not}");
    }
    let text: HashSet<String> = ["7", "007", "cust-9", "0"].map(String::from).into();
    let j = Justified {
        numeric: text.iter().filter_map(|t| canonical_number(t)).collect(),
        text: &text,
    };
    for (id, yes) in [
        ("7", true),
        ("007", true),
        ("0007", false),
        ("cust-9", true),
        ("cust-09", false),
        ("0", true),
        ("8", false),
    ] {
        assert_eq!(j.contains(id), yes, "{id}");
    }
}
