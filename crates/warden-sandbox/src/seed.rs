//! The synthetic company: a customer-support and sales business with managers, roles and
//! permissions, customers, tickets and accounts, and an access log over the last 120 days
//! with planted anomalies.
//!
//! Everything is placed relative to [`SeedOptions::now`], never the wall clock: the same
//! seed, sizes and `now` give byte-identical tables. Nothing lies in the future of `now`,
//! and the planted anomalies sit on working days and hours counted back from it (the
//! off-hours case on a Sunday night), so at any `now` each planted person trips its own
//! detector and ordinary traffic trips none.

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, MySqlConnection, QueryBuilder};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// The reference application's schema, embedded.
#[derive(RustEmbed)]
#[folder = "../../migrations/reference-app/"]
struct ReferenceSchema;

/// Which company to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// With the planted anomalies and drifts listed in [`Planted`].
    Default,
    /// The same company without any planted case: a control group.
    Clean,
}

impl std::str::FromStr for Scenario {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "default" => Ok(Self::Default),
            "clean" => Ok(Self::Clean),
            other => Err(Error::Input(format!(
                "unknown scenario `{other}`: expected default or clean"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The moment the company is made at: every date is placed relative to it.
    pub now: DateTime<Utc>,
    pub users: u32,
    pub log_rows: u64,
    pub seed: u64,
    pub scenario: Scenario,
    /// Hostile text (an XSS corpus, say): each line becomes the name and title of an extra
    /// staff user in department `qa`, and, where short enough to be one, a role's name.
    pub hostile: Vec<String>,
}

impl SeedOptions {
    /// The default company (1,000 staff, 100,000 log rows, seed 42), made at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            users: 1_000,
            log_rows: 100_000,
            seed: 42,
            scenario: Scenario::Default,
            hostile: Vec::new(),
        }
    }
}

/// The logins of the planted cases, so tests and the demo can point at them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planted {
    /// A support agent who also holds the sales role (excess permissions, e.g. `lead:write`).
    pub excess_role: String,
    /// Holds both `refund:request` and `refund:approve`, through two different roles.
    pub sod_conflict: String,
    /// A support agent with `customer.payment:read` granted directly.
    pub direct_grant: String,
    /// Five roles.
    pub too_many_roles: String,
    /// Terminated, but still holding a role.
    pub inactive_with_roles: String,
    /// Managed by the terminated user above.
    pub orphan: String,
    /// An engineer who is a superuser (outside the security officers).
    pub superuser_outside_officers: String,
    /// Password hashed with md5.
    pub weak_password_hash: String,
    /// No login and no activity for 200 days.
    pub dormant: String,
    /// Last login 150 days ago, yet active in the access log two working days ago.
    pub dormant_activity: String,
    /// Read over a thousand customers in sequence within the hour.
    pub enumeration: String,
    /// A burst of denied reads of payment data.
    pub denied_burst: String,
    /// Access at 2-3 am on a Sunday, at least a week before `now`.
    pub off_hours: String,
    /// Allowed reads of `customer.payment:read` without holding it: a backend gap.
    pub outside_policy: String,
    /// Reads of customers with no ticket assigned to them.
    pub no_business_reason: String,
    /// Bulk exports of the customer list.
    pub bulk_export: String,
    /// Holds `support_billing` only through a grant that expired ten days ago.
    pub expired_grant: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedReport {
    pub users: u64,
    pub roles: u64,
    pub permissions: u64,
    pub customers: u64,
    pub tickets: u64,
    pub accounts: u64,
    pub log_rows: u64,
    pub seconds: f64,
    pub planted: Option<Planted>,
}

/// The synthetic company's least-privilege policy: every planted case breaks it, and the
/// clean scenario complies with it.
pub const COMPANY_POLICY: &str = include_str!("company-policy.toml");

const PERMISSIONS: &[(&str, &str)] = &[
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

struct RoleDef {
    name: &'static str,
    description: &'static str,
    dept: &'static str,
    parent: Option<&'static str>,
    perms: &'static [&'static str],
}

const ROLES: &[RoleDef] = &[
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

const DEPARTMENTS: &[(&str, u32)] = &[
    ("support", 45),
    ("sales", 35),
    ("engineering", 8),
    ("finance", 5),
    ("hr", 3),
    ("security", 2),
    ("operations", 2),
];

const FIRST: &[&str] = &[
    "Ada", "Alan", "Amara", "Anil", "Astrid", "Bea", "Bruno", "Carmen", "Chen", "Chidi", "Dana",
    "Dmitri", "Elena", "Emeka", "Farah", "Felix", "Greta", "Hana", "Hugo", "Ines", "Ivan", "Jamal",
    "Jana", "Jonas", "Kai", "Keiko", "Lars", "Leila", "Lucia", "Malik", "Maren", "Mateo", "Mei",
    "Nadia", "Nils", "Noor", "Olga", "Omar", "Paula", "Pedro", "Priya", "Rafael", "Rosa", "Sami",
    "Sofia", "Tariq", "Tess", "Uma", "Viktor", "Yara", "Yusuf", "Zoe",
];

const LAST: &[&str] = &[
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

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "SupportDesk-iOS/4.12.0 (iPhone; iOS 18.1)",
    "SupportDesk-Android/4.12.0 (Pixel 8; Android 15)",
];

#[derive(Debug, Clone)]
struct StaffUser {
    id: u64,
    login: String,
    name: String,
    dept: &'static str,
    title: String,
    manager: Option<u64>,
    status: &'static str,
    mfa: bool,
    algo: &'static str,
    superuser: bool,
    last_login: Option<NaiveDateTime>,
    created: NaiveDateTime,
    lead: bool,
}

struct Grant {
    user: u64,
    role: u64,
    at: NaiveDateTime,
    by: Option<u64>,
    expires: Option<NaiveDateTime>,
}

/// id, name, email, phone, country, card_last4, created_at
type CustomerRow = (
    u64,
    String,
    String,
    String,
    &'static str,
    Option<String>,
    NaiveDateTime,
);

struct LogRow {
    at: NaiveDateTime,
    user: u64,
    action: &'static str,
    rtype: &'static str,
    rid: String,
    allowed: bool,
    ip: String,
    ua: &'static str,
}

fn role_id(name: &str) -> u64 {
    ROLES
        .iter()
        .position(|r| r.name == name)
        .map(|i| i as u64 + 1)
        .unwrap_or(0)
}

fn perm_id(key: &str) -> u64 {
    PERMISSIONS
        .iter()
        .position(|p| p.0 == key)
        .map(|i| i as u64 + 1)
        .unwrap_or(0)
}

fn title_for(dept: &str, head: bool, lead: bool, rng: &mut Rng) -> String {
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
    if head {
        head_t.into()
    } else if lead {
        lead_t.into()
    } else {
        rng.pick(member).to_string()
    }
}

/// Every line of a file, or of every file in a folder (sorted by name), without repeats.
pub fn read_lines(path: &std::path::Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(crate::error::io(path))? {
            files.push(entry.map_err(crate::error::io(path))?.path());
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.is_file()) {
        let bytes = std::fs::read(f).map_err(crate::error::io(f))?;
        for line in String::from_utf8_lossy(&bytes).lines() {
            if seen.insert(line.to_string()) {
                out.push(line.to_string());
            }
        }
    }
    Ok(out)
}

/// Loads the reference application's schema (replacing its tables) and the synthetic company.
pub async fn seed(db: &warden_store::Database, opts: &SeedOptions) -> Result<SeedReport> {
    if opts.users < 40 {
        return Err(Error::Input(format!(
            "--users {}: the synthetic company needs at least 40 staff users",
            opts.users
        )));
    }
    let started = Instant::now();
    let mut conn = db
        .app()
        .acquire()
        .await
        .map_err(|e| Error::Server(format!("cannot connect to seed: {e}")))?;
    let c: &mut MySqlConnection = &mut conn;
    let sql_err = |e: sqlx::Error| Error::Server(format!("seeding failed: {e}"));
    c.execute("SET foreign_key_checks = 0, unique_checks = 0")
        .await
        .map_err(sql_err)?;
    for table in [
        "access_log",
        "customer_accounts",
        "support_tickets",
        "customers",
        "user_permissions",
        "user_roles",
        "role_permissions",
        "permissions",
        "role_inheritance",
        "roles",
        "staff_users",
    ] {
        let mut qb = QueryBuilder::<MySql>::new("DROP TABLE IF EXISTS ");
        qb.push(warden_core::ident::quote(table));
        qb.build().execute(&mut *c).await.map_err(sql_err)?;
    }
    let mut files: Vec<_> = ReferenceSchema::iter().collect();
    files.sort();
    for file in files {
        let sql = ReferenceSchema::get(&file)
            .ok_or_else(|| Error::Input(format!("embedded schema file {file} is missing")))?;
        let text = String::from_utf8_lossy(&sql.data).to_string();
        sqlx::raw_sql(&text)
            .execute(&mut *c)
            .await
            .map_err(sql_err)?;
    }

    let now = opts.now.naive_utc().with_nanosecond(0).unwrap_or_default();
    let mut rng = Rng::new(opts.seed);
    let planted_wanted = opts.scenario == Scenario::Default;

    // --- Staff ------------------------------------------------------------------------
    let mut urng = rng.fork(1);
    let mut users: Vec<StaffUser> = Vec::with_capacity(opts.users as usize);
    let mut logins = HashSet::new();
    let mut new_user = |users: &mut Vec<StaffUser>,
                        dept: &'static str,
                        head: bool,
                        lead: bool,
                        manager: Option<u64>,
                        rng: &mut Rng| {
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let mut login = base.clone();
        let mut n = 1;
        while !logins.insert(login.clone()) {
            n += 1;
            login = format!("{base}{n}");
        }
        let id = users.len() as u64 + 1;
        let created = now - Duration::days(rng.range(130, 2_000));
        let senior = head || lead;
        let roll = rng.below(100);
        let status = if senior || roll < 93 {
            "active"
        } else if roll < 96 {
            "suspended"
        } else {
            "terminated"
        };
        let last_login = match status {
            "active" if !senior && rng.chance(0.02) => {
                Some(now - Duration::days(rng.range(100, 300)))
            }
            "active" => Some(now - Duration::minutes(rng.range(30, 60 * 24 * 14))),
            _ => Some(now - Duration::days(rng.range(30, 200))),
        };
        let algo = match rng.below(100) {
            0..=69 => "argon2id",
            70..=98 => "bcrypt",
            _ => "pbkdf2_sha256",
        };
        let title = title_for(dept, head, lead, rng);
        users.push(StaffUser {
            id,
            login: login.clone(),
            name: format!("{first} {last}"),
            dept,
            title,
            manager,
            status,
            mfa: senior || rng.chance(0.85),
            algo,
            superuser: false,
            last_login,
            created,
            lead,
        });
        id
    };
    let ceo = new_user(&mut users, "executive", true, false, None, &mut urng);
    let total = u64::from(opts.users);
    let share_sum: u32 = DEPARTMENTS.iter().map(|d| d.1).sum();
    let mut heads = Vec::new();
    for (dept, _) in DEPARTMENTS {
        heads.push((
            *dept,
            new_user(&mut users, dept, true, false, Some(ceo), &mut urng),
        ));
    }
    // The head of security is the application's one legitimate superuser.
    if let Some((_, sec)) = heads.iter().find(|(d, _)| *d == "security") {
        users[*sec as usize - 1].superuser = true;
    }
    let remaining = total - users.len() as u64;
    for (dept, share) in DEPARTMENTS {
        let head = heads.iter().find(|(d, _)| d == dept).map(|(_, id)| *id);
        let count = (remaining * u64::from(*share) / u64::from(share_sum)).max(2);
        let leads_needed = (count / 10).max(1);
        let mut leads = Vec::new();
        for i in 0..count {
            if users.len() as u64 >= total {
                break;
            }
            if i < leads_needed {
                leads.push(new_user(&mut users, dept, false, true, head, &mut urng));
            } else {
                let manager = leads[(i % leads.len() as u64) as usize];
                new_user(&mut users, dept, false, false, Some(manager), &mut urng);
            }
        }
    }
    while (users.len() as u64) < total {
        let manager = heads[0].1;
        new_user(
            &mut users,
            "support",
            false,
            false,
            Some(manager),
            &mut urng,
        );
    }

    // The clean scenario is a control group: a company with no drift at all, so every
    // finding on it would be a false positive. Everyone active signs in with MFA and has
    // signed in lately; only active staff hold roles.
    if !planted_wanted {
        for u in users.iter_mut().filter(|u| u.status == "active") {
            u.mfa = true;
            if u.last_login.is_none_or(|l| l < now - Duration::days(30)) {
                u.last_login = Some(now - Duration::days(1));
            }
        }
    }

    // --- Roles and grants ----------------------------------------------------------------
    let owner_of = |dept: &str| {
        heads
            .iter()
            .find(|(d, _)| *d == dept)
            .map(|(_, id)| *id)
            .unwrap_or(ceo)
    };
    let mut grants: Vec<Grant> = Vec::new();
    let mut grng = rng.fork(2);
    for u in &users {
        if u.status == "terminated" || (!planted_wanted && u.status != "active") {
            continue;
        }
        let role = match (
            u.dept,
            u.lead || u.title.starts_with("Head") || u.id == owner_of(u.dept),
        ) {
            ("support", true) => "support_lead",
            ("support", false) => "support_agent",
            ("sales", true) => "sales_manager",
            ("sales", false) => "sales_rep",
            ("finance", _) => "finance_analyst",
            ("engineering", _) => "engineer",
            ("security", _) => "security_officer",
            ("hr", _) => "hr_partner",
            ("operations", _) => "ops_analyst",
            _ => "executive",
        };
        let at = u.created + Duration::days(grng.range(0, 10));
        let by = if u.id == ceo {
            None
        } else {
            Some(owner_of(u.dept))
        };
        grants.push(Grant {
            user: u.id,
            role: role_id(role),
            at,
            by,
            expires: None,
        });
        if u.dept == "support" && !u.lead && grng.chance(0.08) {
            grants.push(Grant {
                user: u.id,
                role: role_id("support_billing"),
                at,
                by,
                expires: None,
            });
        }
        if u.dept == "finance" && grng.chance(0.3) {
            grants.push(Grant {
                user: u.id,
                role: role_id("refund_approver"),
                at,
                by,
                expires: None,
            });
        }
    }
    let mut direct: Vec<(u64, u64, NaiveDateTime, Option<u64>)> = Vec::new();

    // Support agents who are plain, active, recently seen members: candidates for planting.
    let plain_agents: Vec<u64> = users
        .iter()
        .filter(|u| {
            u.dept == "support"
                && !u.lead
                && u.status == "active"
                && u.manager != Some(owner_of("support"))
        })
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(20)))
        .filter(|u| {
            !grants
                .iter()
                .any(|g| g.user == u.id && g.role == role_id("support_billing"))
        })
        .map(|u| u.id)
        .collect();
    let sales_reps: Vec<u64> = users
        .iter()
        .filter(|u| u.dept == "sales" && !u.lead && u.status == "active")
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(20)))
        .map(|u| u.id)
        .collect();
    let login_of = |users: &[StaffUser], id: u64| users[id as usize - 1].login.clone();

    let mut planted = None;
    let mut specials: Vec<u64> = Vec::new();
    let agent = |i: usize| plain_agents.get(i).copied();
    if planted_wanted {
        let need = |o: Option<u64>| {
            o.ok_or_else(|| {
                Error::Input("too few support agents to plant every case; use more --users".into())
            })
        };
        let p_excess = need(agent(0))?;
        let p_sod = need(agent(1))?;
        let p_direct = need(agent(2))?;
        let p_many = need(agent(3))?;
        let p_orphan = need(agent(4))?;
        let p_weak = need(agent(5))?;
        let p_dormant = need(agent(6))?;
        let p_dormant_act = need(agent(7))?;
        let p_enum = need(agent(8))?;
        let p_off = need(agent(9))?;
        let p_outside = need(agent(10))?;
        let p_nbr = need(agent(11))?;
        let p_inactive = need(agent(12))?;
        let p_expired = need(agent(13))?;
        let p_denied = *sales_reps
            .first()
            .ok_or_else(|| Error::Input("no sales reps".into()))?;
        let p_export = users
            .iter()
            .find(|u| u.dept == "sales" && u.lead)
            .map(|u| u.id)
            .ok_or_else(|| Error::Input("no sales manager".into()))?;
        let p_super = users
            .iter()
            .find(|u| {
                u.dept == "engineering" && !u.lead && u.status == "active" && u.manager.is_some()
            })
            .map(|u| u.id)
            .ok_or_else(|| Error::Input("no engineer".into()))?;
        let by = Some(owner_of("support"));
        let at = now - Duration::days(12);
        grants.push(Grant {
            user: p_excess,
            role: role_id("sales_rep"),
            at,
            by,
            expires: None,
        });
        grants.push(Grant {
            user: p_sod,
            role: role_id("support_billing"),
            at,
            by,
            expires: None,
        });
        grants.push(Grant {
            user: p_sod,
            role: role_id("refund_approver"),
            at,
            by: Some(owner_of("finance")),
            expires: None,
        });
        direct.push((p_direct, perm_id("customer.payment:read"), at, by));
        for r in ["support_billing", "sales_rep", "ops_analyst", "hr_partner"] {
            grants.push(Grant {
                user: p_many,
                role: role_id(r),
                at,
                by,
                expires: None,
            });
        }
        grants.push(Grant {
            user: p_expired,
            role: role_id("support_billing"),
            at: now - Duration::days(40),
            by,
            expires: Some(now - Duration::days(10)),
        });
        {
            let u = &mut users[p_inactive as usize - 1];
            u.status = "terminated";
            u.last_login = Some(now - Duration::days(45));
        }
        users[p_orphan as usize - 1].manager = Some(p_inactive);
        users[p_weak as usize - 1].algo = "md5";
        users[p_super as usize - 1].superuser = true;
        users[p_dormant as usize - 1].last_login = Some(now - Duration::days(200));
        users[p_dormant_act as usize - 1].last_login = Some(now - Duration::days(150));
        specials.extend([
            p_dormant,
            p_dormant_act,
            p_enum,
            p_off,
            p_outside,
            p_nbr,
            p_inactive,
        ]);
        planted = Some((
            Planted {
                excess_role: login_of(&users, p_excess),
                sod_conflict: login_of(&users, p_sod),
                direct_grant: login_of(&users, p_direct),
                too_many_roles: login_of(&users, p_many),
                inactive_with_roles: login_of(&users, p_inactive),
                orphan: login_of(&users, p_orphan),
                superuser_outside_officers: login_of(&users, p_super),
                weak_password_hash: login_of(&users, p_weak),
                dormant: login_of(&users, p_dormant),
                dormant_activity: login_of(&users, p_dormant_act),
                enumeration: login_of(&users, p_enum),
                denied_burst: login_of(&users, p_denied),
                off_hours: login_of(&users, p_off),
                outside_policy: login_of(&users, p_outside),
                no_business_reason: login_of(&users, p_nbr),
                bulk_export: login_of(&users, p_export),
                expired_grant: login_of(&users, p_expired),
            },
            [
                p_dormant_act,
                p_enum,
                p_denied,
                p_off,
                p_outside,
                p_nbr,
                p_export,
            ],
        ));
    }

    // --- Hostile text ---------------------------------------------------------------------
    let mut extra_roles: Vec<(u64, String)> = Vec::new();
    {
        let qa_manager = owner_of("engineering");
        let mut role_names: HashSet<String> = ROLES.iter().map(|r| r.name.to_lowercase()).collect();
        for (i, text) in opts.hostile.iter().enumerate() {
            let id = users.len() as u64 + 1;
            let login = format!("qa.tester{}", i + 1);
            logins.insert(login.clone());
            let title = opts.hostile[(i + 1) % opts.hostile.len()].clone();
            users.push(StaffUser {
                id,
                login,
                name: text.clone(),
                dept: "qa",
                title,
                manager: Some(qa_manager),
                status: "active",
                mfa: true,
                algo: "argon2id",
                superuser: false,
                last_login: Some(now - Duration::days(1)),
                created: now - Duration::days(30),
                lead: false,
            });
            let at = now - Duration::days(20);
            grants.push(Grant {
                user: id,
                role: role_id("ops_analyst"),
                at,
                by: Some(qa_manager),
                expires: None,
            });
            // A role name must be unique (case-insensitively) and fit the column.
            if !text.trim().is_empty()
                && text.chars().count() <= 190
                && role_names.insert(text.trim_end().to_lowercase())
            {
                let role = (ROLES.len() + extra_roles.len()) as u64 + 1;
                extra_roles.push((role, text.clone()));
                grants.push(Grant {
                    user: id,
                    role,
                    at,
                    by: Some(qa_manager),
                    expires: None,
                });
            }
        }
    }

    // --- Customers, tickets, accounts ------------------------------------------------------
    let n_customers = (total * 5).max(500);
    let mut crng = rng.fork(3);
    let support_active: Vec<u64> = users
        .iter()
        .filter(|u| u.dept == "support" && u.status == "active" && !specials.contains(&u.id))
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(90)))
        .map(|u| u.id)
        .collect();
    let sales_active: Vec<u64> = users
        .iter()
        .filter(|u| u.dept == "sales" && u.status == "active")
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(90)))
        .map(|u| u.id)
        .collect();
    let mut tickets: Vec<(u64, u64, &'static str, NaiveDateTime)> = Vec::new();
    let mut accounts: Vec<(u64, u64, &'static str, NaiveDateTime)> = Vec::new();
    let mut customers_of: std::collections::HashMap<u64, Vec<u64>> = Default::default();
    for cust in 1..=n_customers {
        for _ in 0..crng.range(0, 2) {
            let agent = *crng.pick(&support_active);
            let status = if crng.chance(0.7) { "closed" } else { "open" };
            tickets.push((
                cust,
                agent,
                status,
                now - Duration::hours(crng.range(1, 24 * 150)),
            ));
            customers_of.entry(agent).or_default().push(cust);
        }
        if crng.chance(0.7) {
            let owner = *crng.pick(&sales_active);
            let tier = *crng.pick(&["smb", "mid", "enterprise"]);
            accounts.push((cust, owner, tier, now - Duration::days(crng.range(10, 900))));
            customers_of.entry(owner).or_default().push(cust);
        }
    }

    // --- Access log --------------------------------------------------------------------------
    let mut lrng = rng.fork(4);
    let ip_of = |u: &StaffUser| {
        format!(
            "10.{}.{}.{}",
            20 + u.dept.len(),
            (u.id / 250) % 250,
            u.id % 250 + 1
        )
    };
    let ua_of = |u: &StaffUser| USER_AGENTS[(u.id % USER_AGENTS.len() as u64) as usize];
    let actors: Vec<u64> = users
        .iter()
        .filter(|u| matches!(u.dept, "support" | "sales" | "finance") && u.status == "active")
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(90)))
        .filter(|u| !specials.contains(&u.id))
        .map(|u| u.id)
        .collect();
    let mut log: Vec<LogRow> = Vec::with_capacity(opts.log_rows as usize);
    let mut planted_rows: Vec<LogRow> = Vec::new();
    if let Some((
        _,
        [
            p_dormant_act,
            p_enum,
            p_denied,
            p_off,
            p_outside,
            p_nbr,
            p_export,
        ],
    )) = &planted
    {
        let u = |id: u64| &users[id as usize - 1];
        // Each case on a working day of its own, in working hours, so that it trips its
        // own detector and not off-hours as well.
        // Enumeration: a sequential sweep over customer ids within 45 minutes.
        let start = at_hour(working_day_before(now, 3), 14);
        let sweep = 1_200.min(n_customers);
        for i in 0..sweep {
            planted_rows.push(LogRow {
                at: start + Duration::milliseconds((i * 2_250) as i64),
                user: *p_enum,
                action: "customer.contact:read",
                rtype: "customer",
                rid: (i + 1).to_string(),
                allowed: true,
                ip: ip_of(u(*p_enum)),
                ua: ua_of(u(*p_enum)),
            });
        }
        // Denied burst: 120 refusals of payment data in 8 minutes.
        let start = at_hour(working_day_before(now, 5), 10);
        for i in 0..120u64 {
            planted_rows.push(LogRow {
                at: start + Duration::seconds((i * 4) as i64),
                user: *p_denied,
                action: "customer.payment:read",
                rtype: "customer",
                rid: ((i * 37) % n_customers + 1).to_string(),
                allowed: false,
                ip: ip_of(u(*p_denied)),
                ua: ua_of(u(*p_denied)),
            });
        }
        // Off hours: a Sunday between 2 and 3 am, a week or two back.
        let mut sunday = now.date() - Duration::days(7);
        while sunday.weekday() != Weekday::Sun {
            sunday -= Duration::days(1);
        }
        let start = at_hour(sunday, 2);
        let own = customers_of.get(p_off).cloned().unwrap_or_else(|| vec![1]);
        for i in 0..40u64 {
            planted_rows.push(LogRow {
                at: start + Duration::seconds((i * 80) as i64),
                user: *p_off,
                action: "customer.contact:read",
                rtype: "customer",
                rid: own[(i as usize) % own.len()].to_string(),
                allowed: true,
                ip: ip_of(u(*p_off)),
                ua: ua_of(u(*p_off)),
            });
        }
        // Dormant account suddenly active.
        let start = at_hour(working_day_before(now, 2), 11);
        for i in 0..25u64 {
            planted_rows.push(LogRow {
                at: start + Duration::minutes((i * 7) as i64),
                user: *p_dormant_act,
                action: "customer.contact:read",
                rtype: "customer",
                rid: ((i * 101) % n_customers + 1).to_string(),
                allowed: true,
                ip: "203.0.113.77".into(),
                ua: USER_AGENTS[2],
            });
        }
        // Outside policy: allowed reads of payment data by an agent who does not hold it.
        let start = at_hour(working_day_before(now, 9), 15);
        for i in 0..25u64 {
            planted_rows.push(LogRow {
                at: start + Duration::minutes((i * 3) as i64),
                user: *p_outside,
                action: "customer.payment:read",
                rtype: "customer",
                rid: ((i * 53) % n_customers + 1).to_string(),
                allowed: true,
                ip: ip_of(u(*p_outside)),
                ua: ua_of(u(*p_outside)),
            });
        }
        // No business reason: customers with no ticket of theirs.
        let start = at_hour(working_day_before(now, 6), 13);
        let mine: HashSet<u64> = customers_of
            .get(p_nbr)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default();
        let mut k = 0u64;
        let mut cust = n_customers / 2;
        while k < 60 {
            cust = cust % n_customers + 1;
            if !mine.contains(&cust) {
                planted_rows.push(LogRow {
                    at: start + Duration::minutes((k * 2) as i64),
                    user: *p_nbr,
                    action: "customer.contact:read",
                    rtype: "customer",
                    rid: cust.to_string(),
                    allowed: true,
                    ip: ip_of(u(*p_nbr)),
                    ua: ua_of(u(*p_nbr)),
                });
                k += 1;
            }
            cust += 17;
        }
        // Bulk exports of the whole customer list.
        let start = at_hour(working_day_before(now, 4), 17);
        for i in 0..8u64 {
            planted_rows.push(LogRow {
                at: start + Duration::minutes((i * 6) as i64),
                user: *p_export,
                action: "customer:export",
                rtype: "customer_list",
                rid: "all-customers".into(),
                allowed: true,
                ip: ip_of(u(*p_export)),
                ua: ua_of(u(*p_export)),
            });
        }
    }
    let normal = opts.log_rows.saturating_sub(planted_rows.len() as u64);
    for _ in 0..normal {
        let u = &users[*lrng.pick(&actors) as usize - 1];
        // Office hours on a working day of the last 120 days, before today: the draws are
        // the same at any `now`, only the calendar they land on moves.
        let mut day = now.date() - Duration::days(lrng.range(1, 120));
        match day.weekday() {
            Weekday::Sat => day -= Duration::days(1),
            Weekday::Sun => day -= Duration::days(2),
            _ => {}
        }
        let at = at_hour(day, lrng.range(8, 18) as u32) + Duration::seconds(lrng.range(0, 3_599));
        let own = customers_of.get(&u.id);
        let customer = |rng: &mut Rng| match own {
            Some(list) if !list.is_empty() => list[rng.below(list.len() as u64) as usize],
            _ => rng.range(1, n_customers as i64) as u64,
        };
        let mut roll = lrng.below(100);
        // Agents and reps open only the customers they serve; one with none (no ticket
        // assigned, no account owned) works on tickets or leads instead: need-to-know
        // holds in ordinary traffic, and only the planted case breaks it.
        if own.is_none_or(|l| l.is_empty()) {
            roll = match u.dept {
                "support" if roll < 50 => 45 + roll % 25,
                "support" => 85 + roll % 15,
                "sales" if roll < 50 => roll % 30,
                "sales" => 70 + roll % 30,
                _ => roll,
            };
        }
        let (action, rtype, rid) = match u.dept {
            "support" => match roll {
                0..=44 => (
                    "customer.contact:read",
                    "customer",
                    customer(&mut lrng).to_string(),
                ),
                45..=69 => (
                    "ticket:write",
                    "ticket",
                    lrng.range(1, tickets.len().max(1) as i64).to_string(),
                ),
                70..=84 => (
                    "customer.notes:write",
                    "customer",
                    customer(&mut lrng).to_string(),
                ),
                _ => (
                    "ticket:read",
                    "ticket",
                    lrng.range(1, tickets.len().max(1) as i64).to_string(),
                ),
            },
            "sales" => match roll {
                0..=29 => ("lead:write", "lead", lrng.range(1, 50_000).to_string()),
                30..=69 => (
                    "customer.contact:read",
                    "customer",
                    customer(&mut lrng).to_string(),
                ),
                70..=89 => ("order:read", "order", lrng.range(1, 400_000).to_string()),
                _ => ("order:write", "order", lrng.range(1, 400_000).to_string()),
            },
            _ => match roll {
                0..=49 => (
                    "customer.payment:read",
                    "customer",
                    lrng.range(1, n_customers as i64).to_string(),
                ),
                50..=59 => (
                    "refund:approve",
                    "refund",
                    lrng.range(1, 20_000).to_string(),
                ),
                _ => ("order:read", "order", lrng.range(1, 400_000).to_string()),
            },
        };
        log.push(LogRow {
            at,
            user: u.id,
            action,
            rtype,
            rid,
            allowed: !lrng.chance(0.004),
            ip: ip_of(u),
            ua: ua_of(u),
        });
    }
    log.extend(planted_rows);
    log.sort_by_key(|r| (r.at, r.user));

    // --- Write -----------------------------------------------------------------------------
    insert(
        c,
        "INSERT INTO permissions (id, perm_key, description) ",
        PERMISSIONS.iter().enumerate(),
        |b, (i, (k, d))| {
            b.push_bind(i as u64 + 1).push_bind(*k).push_bind(*d);
        },
    )
    .await?;
    insert(c, "INSERT INTO staff_users (id, login, display_name, email, department, title, manager_id, status, mfa_enabled, password_algo, is_superuser, last_login_at, created_at) ", users.iter(), |b, u| {
        b.push_bind(u.id).push_bind(&u.login).push_bind(&u.name).push_bind(format!("{}@example.com", u.login))
            .push_bind(u.dept).push_bind(&u.title).push_bind(u.manager).push_bind(u.status).push_bind(u.mfa)
            .push_bind(u.algo).push_bind(u.superuser).push_bind(u.last_login).push_bind(u.created);
    }).await?;
    insert(
        c,
        "INSERT INTO roles (id, name, description, owner_id) ",
        ROLES.iter().enumerate(),
        |b, (i, r)| {
            b.push_bind(i as u64 + 1)
                .push_bind(r.name)
                .push_bind(r.description)
                .push_bind(owner_of(r.dept));
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO roles (id, name, description, owner_id) ",
        extra_roles.iter(),
        |b, (id, name)| {
            b.push_bind(*id)
                .push_bind(name)
                .push_bind(name)
                .push_bind(ceo);
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO role_inheritance (role_id, parent_role_id) ",
        ROLES.iter().filter(|r| r.parent.is_some()),
        |b, r| {
            b.push_bind(role_id(r.name))
                .push_bind(role_id(r.parent.unwrap_or_default()));
        },
    )
    .await?;
    let role_perms: Vec<(u64, u64)> = ROLES
        .iter()
        .flat_map(|r| r.perms.iter().map(|p| (role_id(r.name), perm_id(p))))
        .collect();
    insert(
        c,
        "INSERT INTO role_permissions (role_id, permission_id) ",
        role_perms.iter(),
        |b, (r, p)| {
            b.push_bind(*r).push_bind(*p);
        },
    )
    .await?;
    grants.sort_by_key(|g| (g.user, g.role));
    grants.dedup_by_key(|g| (g.user, g.role));
    insert(
        c,
        "INSERT INTO user_roles (user_id, role_id, granted_at, granted_by, expires_at) ",
        grants.iter(),
        |b, g| {
            b.push_bind(g.user)
                .push_bind(g.role)
                .push_bind(g.at)
                .push_bind(g.by)
                .push_bind(g.expires);
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO user_permissions (user_id, permission_id, granted_at, granted_by) ",
        direct.iter(),
        |b, d| {
            b.push_bind(d.0)
                .push_bind(d.1)
                .push_bind(d.2)
                .push_bind(d.3);
        },
    )
    .await?;
    let countries = ["DE", "FR", "GB", "US", "NL", "SE", "ES", "IT", "PL", "JP"];
    let mut krng = rng.fork(5);
    let customers: Vec<CustomerRow> = (1..=n_customers)
        .map(|id| {
            let first = *krng.pick(FIRST);
            let last = *krng.pick(LAST);
            let card = krng
                .chance(0.6)
                .then(|| format!("{:04}", krng.below(10_000)));
            (
                id,
                format!("{first} {last}"),
                format!(
                    "{}.{}{}@mail.example",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    id
                ),
                format!("+49 30 {:07}", krng.below(10_000_000)),
                *krng.pick(&countries),
                card,
                now - Duration::days(krng.range(1, 2_500)),
            )
        })
        .collect();
    insert(
        c,
        "INSERT INTO customers (id, name, email, phone, country, card_last4, created_at) ",
        customers.iter(),
        |b, k| {
            b.push_bind(k.0)
                .push_bind(&k.1)
                .push_bind(&k.2)
                .push_bind(&k.3)
                .push_bind(k.4)
                .push_bind(&k.5)
                .push_bind(k.6);
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO support_tickets (customer_id, assignee_id, subject, status, opened_at) ",
        tickets.iter(),
        |b, t| {
            b.push_bind(t.0)
                .push_bind(t.1)
                .push_bind("Customer request")
                .push_bind(t.2)
                .push_bind(t.3);
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO customer_accounts (customer_id, owner_id, tier, opened_at) ",
        accounts.iter(),
        |b, a| {
            b.push_bind(a.0)
                .push_bind(a.1)
                .push_bind(a.2)
                .push_bind(a.3);
        },
    )
    .await?;
    insert(c, "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent) ", log.iter(), |b, r| {
        b.push_bind(r.at).push_bind(r.user).push_bind(r.action).push_bind(r.rtype).push_bind(&r.rid)
            .push_bind(if r.allowed { "allowed" } else { "denied" }).push_bind(&r.ip).push_bind(r.ua);
    }).await?;
    c.execute("SET foreign_key_checks = 1, unique_checks = 1")
        .await
        .map_err(sql_err)?;

    Ok(SeedReport {
        users: users.len() as u64,
        roles: (ROLES.len() + extra_roles.len()) as u64,
        permissions: PERMISSIONS.len() as u64,
        customers: n_customers,
        tickets: tickets.len() as u64,
        accounts: accounts.len() as u64,
        log_rows: log.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
        planted: planted.map(|(p, _)| p),
    })
}

/// `hour` o'clock on `day`.
fn at_hour(day: NaiveDate, hour: u32) -> NaiveDateTime {
    day.and_hms_opt(hour, 0, 0).unwrap_or_default()
}

/// The `n`-th working day (Monday to Friday) before `now`'s date: a whole day in the past,
/// whatever the day and hour of `now`.
fn working_day_before(now: NaiveDateTime, n: u32) -> NaiveDate {
    let mut day = now.date();
    let mut left = n;
    while left > 0 {
        day -= Duration::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

/// Multi-row INSERTs in batches that stay under the 65,535-placeholder limit.
async fn insert<'r, T: 'r, I>(
    c: &mut MySqlConnection,
    head: &'static str,
    rows: I,
    mut bind: impl FnMut(&mut sqlx::query_builder::Separated<'_, 'r, MySql, &'static str>, T),
) -> Result<()>
where
    I: Iterator<Item = T>,
{
    let columns = head.matches(',').count() + 1;
    let per_batch = (60_000 / columns).min(4_000);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let batch: Vec<T> = rows.by_ref().take(per_batch).collect();
        let mut qb = QueryBuilder::<MySql>::new(head);
        qb.push_values(batch, |mut b, row| bind(&mut b, row));
        qb.build()
            .execute(&mut *c)
            .await
            .map_err(|e| Error::Server(format!("seeding failed ({head}): {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_before_now_skip_weekends_and_never_reach_today() {
        // A week of clocks from Monday 2026-11-23, early and late in the day.
        for d in 0..7 {
            for hour in [0, 23] {
                let now = at_hour(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), hour)
                    + Duration::days(d);
                let mut previous = now.date();
                for n in 1..=10 {
                    let day = working_day_before(now, n);
                    assert!(day < previous, "{now}: working day {n} is {day}");
                    assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
                    let skipped = (day.succ_opt().unwrap().iter_days())
                        .take_while(|x| *x < previous)
                        .filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
                        .count();
                    assert_eq!(
                        skipped, 0,
                        "{now}: no working day between {day} and {previous}"
                    );
                    previous = day;
                }
            }
        }
    }
}
