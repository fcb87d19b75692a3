//! What the company is made of before any person is hired: its permissions, its roles and
//! what they grant, its departments and their shares of the staff, and the names, titles and
//! browsers its people are drawn from.

use crate::rng::Rng;

pub(super) const PERMISSIONS: &[(&str, &str)] = &[
    ("customer.contact:read", "Read a customer's contact details"),
    (
        "customer.contact:write",
        "Change a customer's contact details",
    ),
    ("customer.notes:read", "Read support notes on a customer"),
    ("customer.notes:write", "Write support notes on a customer"),
    ("customer.payment:read", "Read a customer's payment data"),
    ("customer.payment:write", "Change a customer's payment data"),
    ("customer:export", "Export customer lists"),
    ("ticket:read", "Read support tickets"),
    ("ticket:write", "Work on support tickets"),
    ("ticket:assign", "Assign tickets to agents"),
    ("ticket:close", "Close tickets"),
    ("lead:read", "Read sales leads"),
    ("lead:write", "Work on sales leads"),
    ("lead:assign", "Assign leads to reps"),
    ("order:read", "Read orders"),
    ("order:write", "Create and change orders"),
    ("refund:request", "Request a refund"),
    ("refund:approve", "Approve a refund"),
    ("report:view", "View reports"),
    ("report:export", "Export reports"),
    ("staff:read", "Read staff records"),
    ("user:admin", "Administer application users and roles"),
    ("audit:read", "Read the application's audit log"),
    ("system:deploy", "Deploy the application"),
    ("system:logs.read", "Read system logs"),
];

pub(super) struct RoleDef {
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) dept: &'static str,
    pub(super) parent: Option<&'static str>,
    pub(super) perms: &'static [&'static str],
}

pub(super) const ROLES: &[RoleDef] = &[
    RoleDef {
        name: "support_agent",
        description: "Front-line customer support",
        dept: "support",
        parent: None,
        perms: &[
            "customer.contact:read",
            "customer.notes:read",
            "customer.notes:write",
            "ticket:read",
            "ticket:write",
        ],
    },
    RoleDef {
        name: "support_lead",
        description: "Support team lead",
        dept: "support",
        parent: Some("support_agent"),
        perms: &["ticket:assign", "ticket:close", "report:view"],
    },
    RoleDef {
        name: "support_billing",
        description: "Support agents handling billing questions",
        dept: "support",
        parent: None,
        perms: &["customer.payment:read", "refund:request"],
    },
    RoleDef {
        name: "sales_rep",
        description: "Sales representative",
        dept: "sales",
        parent: None,
        perms: &[
            "lead:read",
            "lead:write",
            "customer.contact:read",
            "order:read",
            "order:write",
        ],
    },
    RoleDef {
        name: "sales_manager",
        description: "Sales team manager",
        dept: "sales",
        parent: Some("sales_rep"),
        perms: &[
            "lead:assign",
            "report:view",
            "report:export",
            "customer:export",
        ],
    },
    RoleDef {
        name: "finance_analyst",
        description: "Finance",
        dept: "finance",
        parent: None,
        perms: &[
            "customer.payment:read",
            "order:read",
            "report:view",
            "report:export",
        ],
    },
    RoleDef {
        name: "refund_approver",
        description: "Approves refunds",
        dept: "finance",
        parent: None,
        perms: &["refund:approve"],
    },
    RoleDef {
        name: "engineer",
        description: "Application engineering",
        dept: "engineering",
        parent: None,
        perms: &["system:deploy", "system:logs.read"],
    },
    RoleDef {
        name: "security_officer",
        description: "Security and compliance",
        dept: "security",
        parent: None,
        perms: &["audit:read", "user:admin", "staff:read", "report:view"],
    },
    RoleDef {
        name: "hr_partner",
        description: "People operations",
        dept: "hr",
        parent: None,
        perms: &["staff:read"],
    },
    RoleDef {
        name: "ops_analyst",
        description: "Business operations",
        dept: "operations",
        parent: None,
        perms: &["report:view", "order:read"],
    },
    RoleDef {
        name: "executive",
        description: "Leadership reporting",
        dept: "executive",
        parent: None,
        perms: &["report:view"],
    },
];

/// Each department and its share of the staff below the heads, in per cent.
pub(super) const DEPARTMENTS: &[(&str, u32)] = &[
    ("support", 45),
    ("sales", 35),
    ("engineering", 8),
    ("finance", 5),
    ("hr", 3),
    ("security", 2),
    ("operations", 2),
];

pub(super) const FIRST: &[&str] = &[
    "Ada", "Alan", "Amara", "Anil", "Astrid", "Bea", "Bruno", "Carmen", "Chen", "Chidi", "Dana",
    "Dmitri", "Elena", "Emeka", "Farah", "Felix", "Greta", "Hana", "Hugo", "Ines", "Ivan", "Jamal",
    "Jana", "Jonas", "Kai", "Keiko", "Lars", "Leila", "Lucia", "Malik", "Maren", "Mateo", "Mei",
    "Nadia", "Nils", "Noor", "Olga", "Omar", "Paula", "Pedro", "Priya", "Rafael", "Rosa", "Sami",
    "Sofia", "Tariq", "Tess", "Uma", "Viktor", "Yara", "Yusuf", "Zoe",
];

pub(super) const LAST: &[&str] = &[
    "Abara",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umarov",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersen",
    "Bianchi",
    "Chowdhury",
    "Delgado",
    "Evans",
    "Ferreira",
    "Gupta",
    "Horvat",
    "Ibrahim",
    "Kim",
    "Lopez",
    "Meyer",
    "Novak",
    "Olsen",
    "Park",
    "Reyes",
    "Schmidt",
    "Torres",
    "Vogel",
    "Wright",
];

pub(super) const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "SupportDesk-iOS/4.12.0 (iPhone; iOS 18.1)",
    "SupportDesk-Android/4.12.0 (Pixel 8; Android 15)",
];

/// Where a person stands in their department, which decides their title and senior role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rank {
    Head,
    Lead,
    Member,
}

/// A role's row id: its place in [`ROLES`], counted from 1.
pub(super) fn role_id(name: &str) -> u64 {
    ROLES
        .iter()
        .position(|r| r.name == name)
        .map(|i| i as u64 + 1)
        .unwrap_or(0)
}

/// A permission's row id: its place in [`PERMISSIONS`], counted from 1.
pub(super) fn perm_id(key: &str) -> u64 {
    PERMISSIONS
        .iter()
        .position(|p| p.0 == key)
        .map(|i| i as u64 + 1)
        .unwrap_or(0)
}

/// A job title; only a member's is drawn, a department has one head title and one lead title.
pub(super) fn title_for(dept: &str, rank: Rank, rng: &mut Rng) -> String {
    let (head_t, lead_t, member): (&str, &str, &[&str]) = match dept {
        "support" => (
            "Head of Support",
            "Support Team Lead",
            &["Support Agent", "Senior Support Agent"],
        ),
        "sales" => (
            "Head of Sales",
            "Sales Manager",
            &["Sales Representative", "Account Executive"],
        ),
        "engineering" => (
            "VP Engineering",
            "Engineering Manager",
            &["Software Engineer", "Site Reliability Engineer"],
        ),
        "finance" => (
            "CFO",
            "Finance Manager",
            &["Financial Analyst", "Accountant"],
        ),
        "hr" => ("Head of People", "HR Manager", &["HR Partner"]),
        "security" => (
            "CISO",
            "Security Lead",
            &["Security Officer", "Compliance Analyst"],
        ),
        "operations" => ("COO", "Operations Manager", &["Operations Analyst"]),
        _ => (
            "Chief Executive Officer",
            "Chief of Staff",
            &["Executive Assistant"],
        ),
    };
    match rank {
        Rank::Head => head_t.into(),
        Rank::Lead => lead_t.into(),
        Rank::Member => rng.pick(member).to_string(),
    }
}
