//! `warden demo`: start the sandbox, seed it if it is empty, and show the product working.

use std::collections::BTreeMap;

use serde::Serialize;
use warden_core::mapping::Mapping;
use warden_service::directory::{self, AccessResponse, RolesResponse, WhoCanResponse};
use warden_service::findings::{self, CheckResponse, PolicySource};
use warden_service::{Clock, policy, setup};

use super::sandbox::sandbox_database;
use crate::args::{Cli, DemoArgs};
use crate::context::{Result, context_on, note};
use crate::failure::Failure;
use crate::output::{Format, Render, Table, print};

#[derive(Debug, Serialize)]
struct Department {
    department: String,
    staff: usize,
    active: usize,
}

#[derive(Debug, Serialize)]
struct Tour {
    database: String,
    departments: Vec<Department>,
    roles: RolesResponse,
    access: AccessResponse,
    who_can: WhoCanResponse,
    /// Open findings per kind and severity, from the check against the company's policy.
    findings: BTreeMap<String, usize>,
    compliant: u32,
    evaluated: u32,
}

/// The company's policy in force (applied on first run), a check against it and a scan of
/// the access log, so the demo shows findings from its first screen.
async fn baseline(cli: &Cli, ctx: &warden_service::Ctx) -> Result<CheckResponse> {
    if policy::history(ctx).await?.versions.is_empty() {
        policy::apply(
            ctx,
            warden_sandbox::seed::COMPANY_POLICY,
            "company-policy.toml",
            "the synthetic company's baseline (warden demo)",
        )
        .await?;
        note(cli, "Applied the synthetic company's policy as version 1.");
    }
    let check = findings::check(ctx, PolicySource::Current).await?;
    // The access-log detectors too, from where the last scan stopped.
    let scan = warden_service::logs::scan(ctx, false).await?;
    if scan.scanned > 0 {
        note(
            cli,
            &format!(
                "Scanned {} access-log rows with the detectors: {} new findings (see Findings, or `warden findings --kind enumeration`).",
                scan.scanned, scan.new_findings
            ),
        );
    }
    Ok(check)
}

impl Render for Tour {
    fn table(&self) -> Table {
        let mut t = Table::new(&["department", "staff", "active"]);
        for d in &self.departments {
            t.row(vec![
                d.department.clone(),
                d.staff.to_string(),
                d.active.to_string(),
            ]);
        }
        t
    }
}

/// The desktop app beside this binary, if it was built and there is a display to show it on.
fn desktop_app(cli: &Cli) -> Option<std::path::PathBuf> {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    let app = std::env::current_exe()
        .ok()?
        .parent()?
        .join("warden-desktop");
    match (has_display, app.is_file()) {
        (true, true) => Some(app),
        (false, _) => {
            note(
                cli,
                "No display (DISPLAY/WAYLAND_DISPLAY): running the tour in the terminal instead.",
            );
            None
        }
        (true, false) => {
            note(
                cli,
                "The desktop app is not built next to this binary (./dev demo builds it): running the tour in the terminal.",
            );
            None
        }
    }
}

pub async fn run(cli: &Cli, args: &DemoArgs) -> Result<u8> {
    let desktop = if args.headless {
        None
    } else {
        desktop_app(cli)
    };
    let dir = match &args.dir.data_dir {
        Some(d) => d.clone(),
        None => warden_sandbox::server::default_data_dir()?,
    };
    note(
        cli,
        &format!("Starting the sandbox MariaDB in {} …", dir.display()),
    );
    let db = sandbox_database(&dir).await?;
    if !seeded(&db).await? {
        note(
            cli,
            &format!(
                "Seeding the synthetic company ({} staff, {} access-log rows) …",
                args.users, args.log_rows
            ),
        );
        let opts = warden_sandbox::SeedOptions {
            users: args.users,
            log_rows: args.log_rows,
            ..warden_sandbox::SeedOptions::at(Clock::System.now())
        };
        let report = warden_sandbox::seed::seed(&db, &opts).await?;
        note(cli, &format!("Seeded in {:.1} s.", report.seconds));
    }
    setup::migrate(
        &db,
        Clock::System,
        &super::sandbox::sandbox_migrate_options()?,
    )
    .await?;
    let target = db.target().to_string();
    let mapping = Mapping::preset("reference")
        .ok_or_else(|| Failure::usage("the reference mapping is missing from this build"))?;
    let ctx = context_on(db, mapping).await?;
    let check = baseline(cli, &ctx).await?;
    let url = warden_sandbox::server::status(&dir)?
        .map(|info| info.url)
        .ok_or_else(|| Failure::usage("the sandbox stopped while seeding"))?;
    let officer_profile = demo_accounts(cli, &ctx, &url).await?;
    if let Some(app) = desktop {
        ctx.close().await;
        note(
            cli,
            &format!("Opening Warden ({}) on the sandbox …", app.display()),
        );
        let mut command = std::process::Command::new(&app);
        match &officer_profile {
            // As the demo's officer, signed in with their own account.
            Some(profile) => command
                .env("WARDEN_PROFILE", profile)
                .env_remove("WARDEN_DATABASE_URL"),
            // No keyring: as the sandbox's administrator.
            None => command
                .env("WARDEN_DATABASE_URL", &url)
                .env_remove("WARDEN_PROFILE"),
        };
        let status = command
            .env_remove("WARDEN_DATABASE_PASSWORD")
            .status()
            .map_err(|e| Failure::usage(format!("{}: {e}", app.display())))?;
        return Ok(if status.success() { 0 } else { 1 });
    }
    let users = directory::users(&ctx, Default::default()).await?;
    let mut per_dept: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for u in &users.users {
        let e = per_dept
            .entry(u.department.clone().unwrap_or_else(|| "(none)".into()))
            .or_default();
        e.0 += 1;
        e.1 += usize::from(u.active);
    }
    let roles = directory::roles(&ctx).await?;
    let request = |p: &str| directory::WhoCanRequest {
        permission: p.to_string(),
    };
    let requesters = directory::who_can(&ctx, request("refund:request")).await?;
    let approvers = directory::who_can(&ctx, request("refund:approve")).await?;
    // The most instructive person to show: someone who can both request and approve a
    // refund through ordinary roles (a separation-of-duties conflict), else any support lead.
    let subject = requesters
        .users
        .iter()
        .filter(|h| !h.via.iter().any(|v| v == "superuser"))
        .find(|h| approvers.users.iter().any(|a| a.login == h.login))
        .map(|h| h.login.clone())
        .or_else(|| users.users.first().map(|u| u.login.clone()))
        .unwrap_or_default();
    let access = directory::access(&ctx, directory::AccessRequest { login: subject }).await?;
    let who_can = directory::who_can(&ctx, request("customer.payment:read")).await?;
    let tour = Tour {
        database: target,
        departments: per_dept
            .into_iter()
            .map(|(department, (staff, active))| Department {
                department,
                staff,
                active,
            })
            .collect(),
        roles,
        access,
        who_can,
        findings: check.findings.iter().fold(BTreeMap::new(), |mut m, f| {
            *m.entry(format!("{} ({})", f.kind, f.severity)).or_default() += 1;
            m
        }),
        compliant: check.compliant,
        evaluated: check.evaluated,
    };
    ctx.close().await;
    if cli.format != Format::Table {
        print(cli.format, &tour)?;
        return Ok(0);
    }
    show(&tour)?;
    Ok(0)
}

/// The demo's people: an officer, a reviewer and an auditor, each a console user with an
/// account of their own on the sandbox (over its socket), signed in once to replace the
/// expired initial password with a random one kept in the OS keyring as the profile
/// `sandbox-officer`, `sandbox-reviewer` or `sandbox-auditor`. A profile that already
/// signs in is kept. Answers the officer's profile, or None when the OS keyring is not
/// there (the demo then goes on as the sandbox's administrator).
async fn demo_accounts(
    cli: &Cli,
    admin: &warden_service::Ctx,
    url: &str,
) -> Result<Option<String>> {
    use warden_core::console::ConsoleRole;
    use warden_store::connect::TlsMode;
    use warden_store::{ConnectSpec, accounts, profiles};
    let sandbox = ConnectSpec::from_url(url)?;
    let mut made = Vec::new();
    for (login, role) in [
        ("demo.officer", ConsoleRole::Officer),
        ("demo.reviewer", ConsoleRole::Reviewer),
        ("demo.auditor", ConsoleRole::Auditor),
    ] {
        let name = format!("sandbox-{role}");
        if profile_signs_in(&name).await {
            continue;
        }
        let add = |host: &str| setup::AddConsoleUser {
            login: login.into(),
            role,
            host: Some(host.into()),
        };
        let mut added = setup::add_console_user(admin, add("localhost")).await?;
        if added.initial_password.is_none() {
            // There from an earlier demo whose profile is gone: a new initial password.
            setup::remove_console_user(admin, login).await?;
            added = setup::add_console_user(admin, add("localhost")).await?;
        }
        let account = added.account.unwrap_or_default();
        let user = account.split('@').next().unwrap_or(login).to_string();
        let mut spec = sandbox.clone();
        spec.user = user.clone();
        spec.password = added.initial_password.map(warden_store::Secret::new);
        let chosen = accounts::initial_password()?;
        accounts::change_password(&spec, &chosen).await?;
        let profile = profiles::Profile {
            hosts: Vec::new(),
            socket: sandbox.socket.clone(),
            database: sandbox.database.clone(),
            user,
            tls: TlsMode::Disabled,
            tls_ca: None,
            mapping: "reference".into(),
            auth: warden_core::console::AuthMode::Local,
            governance_schema: None,
        };
        if let Err(e) = profiles::add(&name, profile, &chosen) {
            note(
                cli,
                &format!(
                    "The demo's accounts need the OS keyring for their passwords: {e}. Going on as the sandbox's administrator."
                ),
            );
            return Ok(None);
        }
        made.push(format!("{login} ({name})"));
    }
    if !made.is_empty() {
        note(
            cli,
            &format!(
                "Demo accounts, passwords in the OS keyring: {}. Try `warden --profile sandbox-auditor users` or `warden --profile sandbox-reviewer review list`.",
                made.join(", ")
            ),
        );
    }
    Ok(Some("sandbox-officer".into()))
}

/// Whether the profile `name` is there and its keyring password opens a session.
async fn profile_signs_in(name: &str) -> bool {
    use warden_store::profiles;
    let (Ok(profile), Ok(password)) = (profiles::get(name), profiles::password(name)) else {
        return false;
    };
    match warden_store::Database::connect(&profile.spec(Some(password))).await {
        Ok(db) => {
            db.close().await;
            true
        }
        Err(_) => false,
    }
}

async fn seeded(db: &warden_store::Database) -> Result<bool> {
    // The reference mapping resolves only once the reference application's tables exist.
    let mapping = Mapping::preset("reference")
        .ok_or_else(|| Failure::usage("the reference mapping is missing from this build"))?;
    let problems = warden_store::schema::check(db, &mapping).await?;
    Ok(problems.is_empty())
}

fn show(tour: &Tour) -> anyhow::Result<()> {
    println!("Warden demo on {}\n", tour.database);
    println!("1. Staff per department");
    print(Format::Table, tour)?;
    println!("\n2. Roles (owner, current members, permissions including inherited ones)");
    print(Format::Table, &tour.roles)?;
    println!(
        "\n3. What {} can do, and through which role ({} roles held)",
        tour.access.user.login,
        tour.access.roles.len()
    );
    print(Format::Table, &tour.access)?;
    let mut by_via: BTreeMap<String, usize> = BTreeMap::new();
    for u in &tour.who_can.users {
        *by_via.entry(u.via.join(" + ")).or_default() += 1;
    }
    println!(
        "\n4. Who can read customer payment data ({}): {} people",
        tour.who_can.permission,
        tour.who_can.users.len()
    );
    let mut t = Table::new(&["via", "people"]);
    for (via, n) in by_via {
        t.row(vec![via, n.to_string()]);
    }
    crate::output::print_table(&t)?;
    println!(
        "\n5. Findings against the company's policy: {} of {} active staff compliant",
        tour.compliant, tour.evaluated
    );
    let mut t = Table::new(&["kind (severity)", "findings"]);
    for (kind, n) in &tour.findings {
        t.row(vec![kind.clone(), n.to_string()]);
    }
    crate::output::print_table(&t)?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "warden".into());
    println!("\nTry it yourself:");
    println!("  W={exe}");
    println!(
        "  $W --database-url \"$($W sandbox url)\" users --search {}",
        tour.access.user.login
    );
    println!(
        "  $W --database-url \"$($W sandbox url)\" access {}",
        tour.access.user.login
    );
    println!("  $W --database-url \"$($W sandbox url)\" who-can refund:approve");
    println!("  $W --database-url \"$($W sandbox url)\" findings --severity high");
    println!("  $W sandbox stop");
    Ok(())
}
