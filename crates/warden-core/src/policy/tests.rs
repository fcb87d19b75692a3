use super::*;
use crate::directory::{RoleId, UserId};

const EXAMPLE: &str = r#"
[dormancy]
days = 90

[[job_function]]
name  = "support"
match = { department = "support" }
allow = ["customer.contact:read", "customer.notes:write", "ticket:*"]
max_roles = 3

[[job_function]]
name  = "sales"
match = { department = "sales" }
allow = ["lead:*", "customer.contact:read", "order:read", "order:write"]

[[separation_of_duties]]
name     = "refund four-eyes"
conflict = ["refund:request", "refund:approve"]
"#;

fn user(login: &str, dept: &str, title: &str) -> User {
    User {
        id: UserId(1),
        login: login.into(),
        name: None,
        email: None,
        department: Some(dept.into()),
        title: Some(title.into()),
        manager_id: None,
        manager: None,
        status: "active".into(),
        active: true,
        superuser: false,
        mfa: None,
        last_login: None,
        created: None,
    }
}

#[test]
fn the_design_example_parses() {
    let p = Policy::parse(EXAMPLE).unwrap();
    assert_eq!(p.dormancy, Some(Dormancy { days: 90 }));
    assert_eq!(p.job_function.len(), 2);
    assert_eq!(p.job_function[0].max_roles, Some(3));
    assert_eq!(p.separation_of_duties[0].conflict.len(), 2);
}

#[test]
fn malformed_policies_are_clear_errors_with_line_and_column() {
    let cases: &[(&str, &str, Option<usize>)] = &[
        (
            "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"ok\"]\ncolour = 1\n",
            "colour",
            Some(5),
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { dept = \"a\" }\nallow = []\n",
            "dept",
            Some(3),
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"a b\"]\n",
            "cannot appear",
            Some(4),
        ),
        ("[dormancy]\ndays = -3\n", "expected u32", Some(2)),
        ("[dormancy\ndays = 3\n", "", Some(1)),
        (
            "[[job_function]]\nname = \"x\"\nmatch = {}\nallow = []\n",
            "at least one of",
            Some(2),
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { role = \"r\" }\nallow = []\n[[job_function]]\nname = \"x\"\nmatch = { role = \"q\" }\nallow = []\n",
            "two job functions",
            Some(2),
        ),
        (
            "[[separation_of_duties]]\nname = \"solo\"\nconflict = [\"a:b\"]\n",
            "at least two",
            Some(2),
        ),
    ];
    for (text, needle, line) in cases {
        let err = Policy::parse(text).unwrap_err();
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
        assert_eq!(err.line, *line, "{text:?}: {err}");
        assert!(err.column.is_some(), "{err}");
    }
}

#[test]
fn job_functions_match_on_every_key_and_priority_breaks_ties() {
    let p = Policy::parse(
        r#"
[[job_function]]
name = "support"
match = { department = "support" }
allow = ["ticket:*"]

[[job_function]]
name = "support leads"
match = { department = "support", role = "support_lead" }
allow = ["ticket:**"]
priority = 10

[[job_function]]
name = "contractors"
match = { login = "ext.**" }
allow = []
"#,
    )
    .unwrap();
    let agent = user("ada", "Support", "Agent");
    let lead_roles = ["support_lead".to_string()];
    let name = |a: Assignment<'_>| match a {
        Assignment::One(jf) => jf.name.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(
        name(p.assign(&Subject {
            user: &agent,
            roles: &[]
        })),
        "support"
    );
    assert_eq!(
        name(p.assign(&Subject {
            user: &agent,
            roles: &lead_roles
        })),
        "support leads"
    );
    let outsider = user("bob", "finance", "Analyst");
    assert_eq!(
        p.assign(&Subject {
            user: &outsider,
            roles: &[]
        }),
        Assignment::None
    );
    let ext = user("ext.vendor.joe", "support", "Agent");
    assert!(
        matches!(p.assign(&Subject { user: &ext, roles: &[] }), Assignment::Ambiguous(v) if v == ["support", "contractors"])
    );
}

#[test]
fn decisions_are_deny_over_allow_with_provenance() {
    let p = Policy::parse(EXAMPLE).unwrap();
    let support = &p.job_function[0];
    let keys = [
        "customer.contact:read",
        "ticket:write",
        "lead:write",
        "customer.payment:read",
    ];
    let mut eff = Effective::new();
    eff.insert(PermissionId(0), BTreeSet::from([Via::Role(RoleId(1))]));
    eff.insert(
        PermissionId(1),
        BTreeSet::from([Via::Role(RoleId(1)), Via::Direct]),
    );
    eff.insert(PermissionId(2), BTreeSet::from([Via::Role(RoleId(4))]));
    eff.insert(PermissionId(3), BTreeSet::from([Via::Direct]));
    let decisions = decide(support, &eff, |p| keys[p.0 as usize]);
    assert_eq!(decisions[0].1, Decision::Allowed);
    assert_eq!(decisions[1].1, Decision::Allowed);
    assert_eq!(
        decisions[2].1,
        Decision::Excess {
            via: BTreeSet::from([Via::Role(RoleId(4))])
        }
    );
    assert_eq!(
        decisions[3].1,
        Decision::Excess {
            via: BTreeSet::from([Via::Direct])
        }
    );
}

#[test]
fn sod_needs_every_side_and_names_what_meets_it() {
    let p = Policy::parse(EXAMPLE).unwrap();
    assert!(sod_conflicts(&p, &["refund:request", "ticket:read"]).is_empty());
    let hits = sod_conflicts(&p, &["refund:request", "refund:approve", "ticket:read"]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0.name, "refund four-eyes");
    assert_eq!(
        hits[0].1,
        vec![
            vec!["refund:request".to_string()],
            vec!["refund:approve".to_string()]
        ]
    );
}

#[test]
fn diffs_are_rule_by_rule() {
    let old = Policy::parse(EXAMPLE).unwrap();
    let new_text = EXAMPLE
            .replace("days = 90", "days = 60")
            .replace("\"ticket:*\"]", "\"ticket:read\", \"ticket:write\"]")
            .replace("max_roles = 3", "max_roles = 2")
            .replace("[[separation_of_duties]]", "[[job_function]]\nname = \"finance\"\nmatch = { department = \"finance\" }\nallow = [\"order:read\"]\n\n[[separation_of_duties]]");
    let new = Policy::parse(&new_text).unwrap();
    let d = diff(&old, &new);
    let show: Vec<String> = d
        .iter()
        .map(|c| format!("{:?} {}: {}", c.change, c.rule, c.details.join("; ")))
        .collect();
    assert_eq!(
        show,
        [
            "Changed dormancy: days: 90 → 60",
            "Changed job function support: allow + ticket:read; allow + ticket:write; allow − ticket:*; max_roles: 3 → 2",
            "Added job function finance: match department = finance; allow order:read",
        ],
        "{show:#?}"
    );
    assert!(diff(&old, &old).is_empty());
    let back = diff(&new, &old);
    assert!(
        back.iter()
            .any(|c| c.change == ChangeKind::Removed && c.rule == "job function finance")
    );
}

#[test]
fn patterns_that_match_nothing_are_warnings_at_their_place() {
    let p = Policy::parse(EXAMPLE).unwrap();
    let keys = [
        "customer.contact:read",
        "ticket:read",
        "lead:read",
        "order:read",
        "order:write",
        "refund:request",
        "refund:approve",
    ];
    let w = unmatched_patterns(&p, EXAMPLE, &keys);
    let messages: Vec<String> = w.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 8, column 36: job function `support`: `customer.notes:write` matches no permission in the directory"
        ],
    );
    assert!(unmatched_patterns(&p, EXAMPLE, &[]).len() >= 7);
}

#[test]
fn a_corpus_of_malformed_policies_gives_errors_never_panics() {
    // Every prefix and every one-byte corruption of a valid policy: each parses or
    // fails with a message; none panics.
    let text = format!(
        "{EXAMPLE}\n[[exception]]\nkind = \"superuser\"\nmatch = {{ department = \"security\" }}\nreason = \"officers\"\n"
    );
    assert!(Policy::parse(&text).is_ok());
    for cut in (0..text.len()).filter(|c| text.is_char_boundary(*c)) {
        if let Err(e) = Policy::parse(&text[..cut]) {
            assert!(!e.message.is_empty(), "prefix {cut}");
        }
    }
    for (i, _) in text.char_indices() {
        for junk in ["\"", "[", "=", "\u{0}", "é", "\n", "'", "*"] {
            let mut bad = text.clone();
            bad.replace_range(
                i..i + text[i..].chars().next().map_or(0, char::len_utf8),
                junk,
            );
            if let Err(e) = Policy::parse(&bad) {
                assert!(!e.message.is_empty());
                if let Some(line) = e.line {
                    assert!(line <= bad.lines().count() + 1);
                }
            }
        }
    }
    let cases: &[(&str, &str)] = &[
        (
            "[[exception]]\nkind = \"enumeration\"\nmatch = { login = \"a\" }\nreason = \"r\"\n",
            "access log",
        ),
        (
            "[[exception]]\nkind = \"superuser\"\nmatch = { login = \"a\" }\nreason = \" \"\n",
            "reason",
        ),
        (
            "[[exception]]\nkind = \"made_up\"\nmatch = { login = \"a\" }\nreason = \"r\"\n",
            "unknown variant",
        ),
        (
            "[[exception]]\nkind = \"superuser\"\nmatch = {}\nreason = \"r\"\n",
            "at least one of",
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = \"ticket:*\"\n",
            "sequence",
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"a:***\"]\n",
            "***",
        ),
        (
            "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = []\nmax_roles = 1.5\n",
            "u32",
        ),
        ("job_function = 3\n", "sequence"),
        ("[dormancy]\ndays = 99999999999\n", "u32"),
    ];
    for (text, needle) in cases {
        let err = Policy::parse(text).unwrap_err();
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
        assert!(err.line.is_some(), "{text:?}: {err}");
    }
}

#[test]
fn sqli_text_in_names_is_only_text() {
    let text = "[[job_function]]\nname = \"x'; DROP TABLE roles; --\"\nmatch = { department = \"' OR 1=1 --\" }\nallow = [\"ticket:*\"]\n";
    let p = Policy::parse(text).unwrap();
    let u = user("a", "support", "t");
    assert_eq!(
        p.assign(&Subject {
            user: &u,
            roles: &[]
        }),
        Assignment::None
    );
}
