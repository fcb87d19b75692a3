//! The synthetic company: a customer-support and sales business with managers, roles and
//! permissions, customers, tickets and accounts, and an access log over the last 120 days
//! with planted anomalies.
//!
//! Everything is placed relative to [`SeedOptions::now`], never the wall clock: the same
//! seed, sizes and `now` give byte-identical tables. Nothing lies in the future of `now`,
//! and the planted anomalies sit on working days and hours counted back from it (the
//! off-hours case on a Sunday night), so at any `now` each planted person trips its own
//! detector and ordinary traffic trips none.

mod access_log;
mod catalogue;
mod company;
mod customers;
mod drifts;
mod grants;
mod hostile;
mod schema;
mod staff;
mod time;
mod write;

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use sqlx::MySqlConnection;

use crate::error::{Error, Result};
use crate::rng::Rng;

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
pub const COMPANY_POLICY: &str = include_str!("../company-policy.toml");

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
    schema::replace_tables(c).await?;

    // Each part draws from a generator of its own, forked off this one in this order:
    // forking in another order would change every table.
    let now = opts.now.naive_utc().with_nanosecond(0).unwrap_or_default();
    let mut rng = Rng::new(opts.seed);
    let mut company = staff::hire(now, opts.users, &mut rng.fork(1));
    if opts.scenario == Scenario::Clean {
        staff::settle_for_control_group(&mut company);
    }
    company.grants = grants::by_job(&company, opts.scenario, &mut rng.fork(2));
    let cast = match opts.scenario {
        Scenario::Default => Some(drifts::plant(&mut company)?),
        Scenario::Clean => None,
    };
    hostile::hire_testers(&mut company, &opts.hostile);
    let specials = cast
        .as_ref()
        .map(drifts::Cast::specials)
        .unwrap_or_default();
    let book = customers::book(&company, opts.users, &specials, &mut rng.fork(3));
    let log = access_log::rows(
        &company,
        &book,
        cast.as_ref(),
        &specials,
        opts.log_rows,
        &mut rng.fork(4),
    );
    let customers = customers::rows(book.customers, now, &mut rng.fork(5));

    write::all(c, &mut company, &customers, &book, &log).await?;
    schema::restore_checks(c).await?;
    Ok(SeedReport {
        users: company.users.len() as u64,
        roles: (catalogue::ROLES.len() + company.extra_roles.len()) as u64,
        permissions: catalogue::PERMISSIONS.len() as u64,
        customers: book.customers,
        tickets: book.tickets.len() as u64,
        accounts: book.accounts.len() as u64,
        log_rows: log.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
        planted: cast.map(|cast| cast.planted(&company)),
    })
}
