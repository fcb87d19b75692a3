//! One thin handler per command: resolve the connection and actor, call a service, render.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use warden_core::console::{Actor, AuthMode};
use warden_core::mapping::Mapping;
use warden_sandbox::server;
use warden_service::session::{self, OpenRequest, Target};
use warden_service::{
    Clock, Ctx, ErrorCode, directory, findings, mapping as mapping_service, policy, reviews, setup,
};
use warden_store::{ConnectSpec, Database, Secret, profiles};

use crate::args::*;
use crate::failure::Failure;
use crate::output::print;
use crate::render::{Message, ProfileList, SandboxStatus};

pub type Result<T> = std::result::Result<T, Failure>;

/// Runs a command; returns the exit code of a command that ran.
pub async fn run(cli: Cli) -> Result<u8> {
    let format = cli.format;
    match &cli.command {
        Command::Sandbox(cmd) => sandbox(&cli, cmd).await,
        Command::Demo(args) => crate::demo::run(&cli, args).await,
        Command::Migrate => {
            let actor = actor(&cli)?;
            let (db, _) = connect(&cli).await?;
            let done = setup::migrate(&db, &actor, Clock::System).await;
            db.close().await;
            print(format, &done?)?;
            Ok(0)
        }
        Command::Profile(cmd) => profile(&cli, cmd),
        Command::Policy(PolicyCommand::Validate { file }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let origin = file.display().to_string();
            let checked = policy::validate(&text, &origin)?;
            if cli.database_url.is_none() && cli.profile.is_none() {
                print(format, &checked)?;
                return Ok(0);
            }
            with_ctx(&cli, true, async |ctx| {
                let checked = policy::validate_against_directory(ctx, &text, &origin).await?;
                for w in &checked.warnings {
                    note(
                        &cli,
                        &format!("warning: {origin}: {}", crate::render::warning(w)),
                    );
                }
                print(format, &checked)?;
                Ok(0)
            })
            .await
        }
        Command::Policy(PolicyCommand::Apply { file, comment }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let origin = file.display().to_string();
            with_ctx(&cli, true, async |ctx| {
                let applied = policy::apply(ctx, &text, &origin, comment).await?;
                for w in &applied.warnings {
                    note(
                        &cli,
                        &format!("warning: {origin}: {}", crate::render::warning(w)),
                    );
                }
                print(format, &applied)?;
                Ok(0)
            })
            .await
        }
        Command::Policy(PolicyCommand::Diff { from, to }) => {
            with_ctx(&cli, false, async |ctx| {
                print(format, &policy::diff(ctx, *from, *to).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Policy(PolicyCommand::Simulate { file, days }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let origin = file.display().to_string();
            with_ctx(&cli, true, async |ctx| {
                print(format, &policy::simulate(ctx, &text, &origin, *days).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Check(args) => {
            let source = match (&args.policy, args.version) {
                (Some(file), _) => findings::PolicySource::Draft {
                    text: std::fs::read_to_string(file)
                        .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?,
                    origin: file.display().to_string(),
                },
                (None, Some(version)) => findings::PolicySource::Version { version },
                (None, None) => findings::PolicySource::Current,
            };
            let fail_on = args
                .fail_on
                .as_deref()
                .and_then(warden_core::findings::Severity::parse);
            with_ctx(&cli, true, async |ctx| {
                let result = findings::check(ctx, source).await?;
                if !result.stored {
                    note(
                        &cli,
                        "note: not recorded (a draft, an earlier version, or not an officer)",
                    );
                }
                print(format, &result)?;
                Ok(u8::from(
                    fail_on.is_some_and(|level| result.fails_at(level)),
                ))
            })
            .await
        }
        Command::Review(cmd) => review(&cli, cmd).await,
        Command::Export(ExportCommand::AuditTrail { out, bom }) => {
            with_ctx(&cli, false, async |ctx| {
                let done = crate::progress::exporting(&cli, "export audit-trail", async |p| {
                    warden_service::export::audit_trail(ctx, out, *bom, p).await
                })
                .await?;
                print(format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Export(ExportCommand::Logs { out, bom, filters }) => {
            with_ctx(&cli, true, async |ctx| {
                let done = crate::progress::exporting(&cli, "export logs", async |p| {
                    warden_service::export::logs(ctx, filters.request(), out, *bom, p).await
                })
                .await?;
                print(format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Export(ExportCommand::Access { out, bom }) => {
            with_ctx(&cli, true, async |ctx| {
                let done = crate::progress::exporting(&cli, "export access", async |p| {
                    warden_service::export::access(ctx, out, *bom, p).await
                })
                .await?;
                print(format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Export(ExportCommand::Findings {
            out,
            bom,
            kind,
            status,
            severity,
            department,
            subject,
        }) => {
            let req = findings::FindingsRequest {
                kind: kind.clone(),
                severity: severity.clone(),
                status: status.clone(),
                department: department.clone(),
                subject: subject.clone(),
            };
            with_ctx(&cli, false, async |ctx| {
                let done = crate::progress::exporting(&cli, "export findings", async |p| {
                    warden_service::export::findings(ctx, req, out, *bom, p).await
                })
                .await?;
                print(format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Export(ExportCommand::Campaign { id, out }) => {
            with_ctx(&cli, true, async |ctx| {
                let done = crate::progress::exporting(&cli, "export campaign", async |p| {
                    warden_service::export::campaign(ctx, *id, out, p).await
                })
                .await?;
                print(format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Audit(AuditCommand::List {
            action,
            actor,
            target,
            since,
            until,
            limit,
            before,
        }) => {
            let req = warden_service::audit::EventsRequest {
                action: action.clone(),
                actor: actor.clone(),
                target: target.clone(),
                since: since.clone(),
                until: until.clone(),
                limit: Some(*limit),
                before: *before,
            };
            with_ctx(&cli, false, async |ctx| {
                print(format, &warden_service::audit::events(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Export(ExportCommand::Verify {
            path,
            against_trail: false,
        }) => {
            let checked = warden_service::export::verify(path)?;
            for p in &checked.problems {
                note(&cli, &format!("altered: {p}"));
            }
            print(format, &checked)?;
            Ok(u8::from(!checked.ok))
        }
        Command::Export(ExportCommand::Verify {
            path,
            against_trail: true,
        }) => {
            with_ctx(&cli, false, async |ctx| {
                let checked = warden_service::export::verify_against_trail(ctx, path).await?;
                for p in &checked.problems {
                    note(&cli, &format!("altered: {p}"));
                }
                print(format, &checked)?;
                Ok(u8::from(!checked.ok))
            })
            .await
        }
        Command::Audit(AuditCommand::Verify) => {
            with_ctx(&cli, false, async |ctx| {
                let checked = warden_service::audit::verify(ctx).await?;
                if let (Some(seq), Some(reason)) = (checked.first_bad_seq, &checked.reason) {
                    note(
                        &cli,
                        &format!("the audit trail is broken at {seq}: {reason}"),
                    );
                }
                print(format, &checked)?;
                Ok(u8::from(!checked.ok))
            })
            .await
        }
        Command::Logs(LogsCommand::Ingest { kind, file: None }) if kind == "table" => {
            with_ctx(&cli, true, async |ctx| {
                print(cli.format, &warden_service::logs::table_status(ctx).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Logs(LogsCommand::Ingest { kind, file }) => {
            let Some(file) = file.as_ref().filter(|_| kind != "table") else {
                return Err(Failure::usage(format!(
                    "logs ingest {kind}: {}",
                    if kind == "table" {
                        "takes no file (the application's table is read where it is)"
                    } else {
                        "which file?"
                    }
                )));
            };
            with_ctx(&cli, true, async |ctx| {
                let done = warden_service::logs::ingest(ctx, kind, file).await?;
                for p in &done.problems {
                    note(
                        &cli,
                        &format!("{}: line {}: {}", done.file, p.line, p.message),
                    );
                }
                if done.malformed > done.problems.len() as u64 {
                    note(
                        &cli,
                        &format!(
                            "… and {} more lines that could not be read",
                            done.malformed - done.problems.len() as u64
                        ),
                    );
                }
                print(cli.format, &done)?;
                Ok(0)
            })
            .await
        }
        Command::Logs(LogsCommand::Scan { full }) => {
            with_ctx(&cli, true, async |ctx| {
                print(format, &warden_service::logs::scan(ctx, *full).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Logs(LogsCommand::Search(a)) => {
            let req = warden_service::logs::SearchRequest {
                limit: Some(a.limit),
                after: a.after.clone(),
                ..a.filters.request()
            };
            with_ctx(&cli, true, async |ctx| {
                let page = warden_service::logs::search(ctx, req).await?;
                if let Some(next) = &page.next {
                    note(&cli, &format!("more: --after {next}"));
                }
                print(format, &page)?;
                Ok(0)
            })
            .await
        }
        Command::Findings(args) => {
            with_ctx(&cli, false, async |ctx| {
                match &args.command {
                    None => {
                        let req = findings::FindingsRequest {
                            kind: args.kind.clone(),
                            severity: args.severity.clone(),
                            status: args.status.clone(),
                            department: args.department.clone(),
                            subject: args.subject.clone(),
                        };
                        print(format, &findings::findings(ctx, req).await?)?;
                    }
                    Some(FindingsCommand::Show { id }) => {
                        print(format, &findings::finding(ctx, *id).await?)?;
                    }
                    Some(FindingsCommand::Triage {
                        id,
                        action,
                        comment,
                    }) => {
                        let req = findings::TriageRequest {
                            id: *id,
                            action: action.clone(),
                            comment: comment.clone(),
                        };
                        print(format, &findings::triage(ctx, req).await?)?;
                    }
                }
                Ok(0)
            })
            .await
        }
        Command::Policy(PolicyCommand::Show { number }) => {
            with_ctx(&cli, false, async |ctx| {
                let shown = policy::show(ctx, *number).await?;
                match format {
                    crate::output::Format::Table => print!("{}", shown.body),
                    _ => print(format, &shown)?,
                }
                Ok(0)
            })
            .await
        }
        Command::Policy(PolicyCommand::History) => {
            with_ctx(&cli, false, async |ctx| {
                print(format, &policy::history(ctx).await?)?;
                Ok(0)
            })
            .await
        }
        Command::ConsoleUsers(args) => {
            with_ctx(&cli, false, async |ctx| {
                match &args.command {
                    None => print(format, &setup::console_users(ctx).await?)?,
                    Some(ConsoleUsersCommand::Add { login, role }) => {
                        let req = setup::AddConsoleUser {
                            login: login.clone(),
                            role: role.parse()?,
                        };
                        print(format, &setup::add_console_user(ctx, req).await?)?;
                    }
                    Some(ConsoleUsersCommand::Remove { login }) => {
                        print(format, &setup::remove_console_user(ctx, login).await?)?;
                    }
                }
                Ok(0)
            })
            .await
        }
        Command::Mapping(MappingCommand::Check) => {
            let mapping = load_mapping(&cli)?;
            with_ctx(&cli, false, async |ctx| {
                let report = mapping_service::check(ctx, &mapping).await?;
                print(format, &report)?;
                Ok(if report.ok { 0 } else { 2 })
            })
            .await
        }
        Command::Users(args) => {
            let req = directory::UsersRequest {
                department: args.department.clone(),
                status: args.status.clone(),
                search: args.search.clone(),
            };
            with_ctx(&cli, true, async |ctx| {
                print(format, &directory::users(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Roles => {
            with_ctx(&cli, true, async |ctx| {
                print(format, &directory::roles(ctx).await?)?;
                Ok(0)
            })
            .await
        }
        Command::Access { login } => {
            let req = directory::AccessRequest {
                login: login.clone(),
            };
            with_ctx(&cli, true, async |ctx| {
                print(format, &directory::access(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        Command::WhoCan { permission } => {
            let req = directory::WhoCanRequest {
                permission: permission.clone(),
            };
            with_ctx(&cli, true, async |ctx| {
                print(format, &directory::who_can(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
    }
}

/// Runs `f` with a context and closes the connections afterwards, whatever `f` returned,
/// so the server sees a clean goodbye rather than an aborted connection.
async fn with_ctx(
    cli: &Cli,
    with_mapping: bool,
    f: impl AsyncFnOnce(&Ctx) -> Result<u8>,
) -> Result<u8> {
    let ctx = context(cli, with_mapping).await?;
    let result = f(&ctx).await;
    ctx.close().await;
    result
}

/// Notes for people go to stderr, never stdout, and not at all with --quiet.
pub fn note(cli: &Cli, text: &str) {
    if !cli.quiet {
        eprintln!("{text}");
    }
}

fn data_dir(dir: &DataDir) -> Result<PathBuf> {
    match &dir.data_dir {
        Some(d) => Ok(d.clone()),
        None => Ok(server::default_data_dir()?),
    }
}

async fn sandbox(cli: &Cli, cmd: &SandboxCommand) -> Result<u8> {
    let format = cli.format;
    match cmd {
        SandboxCommand::Start { dir, port } => {
            let info = server::start(&data_dir(dir)?, *port)?;
            print(format, &SandboxStatus::running(info))?;
            Ok(0)
        }
        SandboxCommand::Seed(args) => {
            let scenario = args.scenario.parse()?;
            let opts = warden_sandbox::SeedOptions {
                now: args.now.unwrap_or_else(|| Clock::System.now()),
                users: args.users,
                log_rows: args.log_rows,
                seed: args.seed,
                scenario,
                hostile: match &args.hostile_text {
                    Some(path) => warden_sandbox::seed::read_lines(path)?,
                    None => Vec::new(),
                },
            };
            let db = match &cli.database_url {
                Some(_) => connect(cli).await?.0,
                None => sandbox_database(&data_dir(&args.dir)?).await?,
            };
            note(cli, &format!("seeding {} …", db.target()));
            let report = warden_sandbox::seed::seed(&db, &opts).await?;
            let actor = actor(cli)?;
            setup::migrate(&db, &actor, Clock::System).await?;
            print(format, &report)?;
            db.close().await;
            Ok(0)
        }
        SandboxCommand::Status { dir } => {
            let status = match server::status(&data_dir(dir)?)? {
                Some(info) => SandboxStatus::running(info),
                None => SandboxStatus::stopped(data_dir(dir)?),
            };
            print(format, &status)?;
            Ok(0)
        }
        SandboxCommand::Url { dir } => {
            let dir = data_dir(dir)?;
            let info = server::status(&dir)?.ok_or_else(|| {
                Failure::new(
                    ErrorCode::Unavailable,
                    format!(
                        "no sandbox is running at {}: run `warden sandbox start`",
                        dir.display()
                    ),
                )
            })?;
            match format {
                crate::output::Format::Table => println!("{}", info.url),
                _ => print(format, &SandboxStatus::running(info))?,
            }
            Ok(0)
        }
        SandboxCommand::Stop { dir } => {
            let dir = data_dir(dir)?;
            let stopped = server::stop(&dir)?;
            let text = if stopped {
                format!("stopped the sandbox at {}", dir.display())
            } else {
                format!("no sandbox was running at {}", dir.display())
            };
            print(format, &Message::new(text).with("stopped", stopped))?;
            Ok(0)
        }
    }
}

/// The running sandbox's database (started if needed).
pub async fn sandbox_database(dir: &Path) -> Result<Database> {
    let info = server::start(dir, None)?;
    Ok(Database::connect(&ConnectSpec::from_url(&info.url)?).await?)
}

fn profile(cli: &Cli, cmd: &ProfileCommand) -> Result<u8> {
    match cmd {
        ProfileCommand::Add(a) => {
            let hosts = a
                .host
                .iter()
                .map(|h| match a.port {
                    Some(p) if !h.contains(':') => format!("{h}:{p}"),
                    _ => h.clone(),
                })
                .collect();
            let auth = match a.auth.as_str() {
                "local" => AuthMode::Local,
                "oidc" => AuthMode::Oidc,
                other => {
                    return Err(Failure::usage(format!(
                        "--auth {other}: expected local or oidc"
                    )));
                }
            };
            if Mapping::preset(&a.mapping).is_none() && !Path::new(&a.mapping).is_file() {
                return Err(Failure::usage(format!(
                    "--mapping {}: neither a preset (reference, django) nor a file",
                    a.mapping
                )));
            }
            let profile = profiles::Profile {
                hosts,
                socket: None,
                database: a.database.clone(),
                user: a.user.clone(),
                tls: a.tls.parse()?,
                tls_ca: a.tls_ca.clone(),
                mapping: a.mapping.clone(),
                auth,
                governance_schema: a.governance_schema.clone(),
            };
            let password = read_password(cli, &a.name)?;
            profiles::add(&a.name, profile, &password)?;
            let text = format!(
                "profile `{}` saved in {}; its password is in the OS keyring",
                a.name,
                profiles::config_path()?.display()
            );
            print(
                cli.format,
                &Message::new(text).with("profile", a.name.clone()),
            )?;
            Ok(0)
        }
        ProfileCommand::List => {
            print(
                cli.format,
                &ProfileList {
                    profiles: profiles::list()?,
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Remove { name } => {
            profiles::remove(name)?;
            print(
                cli.format,
                &Message::new(format!("profile `{name}` removed")),
            )?;
            Ok(0)
        }
    }
}

fn read_password(cli: &Cli, name: &str) -> Result<Secret> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for profile {name}: "))
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?
    } else {
        note(cli, "reading the password from the first line of stdin");
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.is_empty() {
        return Err(Failure::new(ErrorCode::Input, "the password is empty"));
    }
    Ok(Secret::new(password))
}

/// The database named by --database-url or --profile.
fn target(cli: &Cli) -> Result<Target> {
    match (&cli.database_url, &cli.profile) {
        (Some(url), None) => Ok(Target::Url(url.clone())),
        (None, Some(name)) => Ok(Target::Profile(name.clone())),
        _ => Err(Failure::usage(
            "no database: pass --database-url (or WARDEN_DATABASE_URL) or --profile; \
             for the sandbox: --database-url \"$(warden sandbox url)\"",
        )),
    }
}

async fn connect(cli: &Cli) -> Result<(Database, Option<String>)> {
    Ok(session::connect(&target(cli)?).await?)
}

fn actor(_cli: &Cli) -> Result<Actor> {
    Ok(session::actor()?)
}

fn load_mapping(cli: &Cli) -> Result<Mapping> {
    Ok(session::mapping_for(&target(cli)?, cli.mapping.as_deref())?)
}

/// Connects, establishes the actor's console role, and checks the mapping if one is needed.
pub async fn context(cli: &Cli, with_mapping: bool) -> Result<Ctx> {
    Ok(session::open(&OpenRequest {
        target: target(cli)?,
        mapping: cli.mapping.clone(),
        with_mapping,
    })
    .await?)
}

/// A context on an already connected database (the demo).
pub async fn context_on(db: Database, mapping: Mapping) -> Result<Ctx> {
    Ok(Ctx::establish(db, setup::local_actor()?, Some(mapping)).await?)
}

/// `--scope department=support,sales --scope role=R`: the campaign's scope.
fn scope(args: &[String]) -> Result<reviews::Scope> {
    let mut scope = reviews::Scope::default();
    for arg in args {
        let (key, values) = arg.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "--scope {arg}: expected KEY=A,B (department, role, job_function)"
            ))
        })?;
        let values = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        match key.trim() {
            "department" | "departments" => scope.departments.extend(values),
            "role" | "roles" => scope.roles.extend(values),
            "job_function" | "job_functions" => scope.job_functions.extend(values),
            other => {
                return Err(Failure::usage(format!(
                    "--scope {other}: expected department, role or job_function"
                )));
            }
        }
    }
    Ok(scope)
}

/// A fresh idempotency key for a decision sent from this process: the process id and the
/// standard library's per-process random hash keys (no clock: time is the Clock's alone).
fn fresh_key() -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    let digest = warden_core::policy::sha256(&format!("{random}:{}", std::process::id()));
    format!("cli-{}", &digest[..32])
}

async fn review(cli: &Cli, cmd: &ReviewCommand) -> Result<u8> {
    let format = cli.format;
    match cmd {
        ReviewCommand::Start {
            name,
            due,
            scope: s,
            reviewer,
            fallback,
            undecided,
            like,
        } => {
            let scope = scope(s)?;
            with_ctx(cli, true, async |ctx| {
                if let Some(template) = like {
                    print(
                        format,
                        &reviews::start_like(ctx, *template, name, due).await?,
                    )?;
                    return Ok(0);
                }
                let req = reviews::StartRequest {
                    name: name.clone(),
                    due: due.clone(),
                    scope,
                    reviewer: reviewer.clone(),
                    fallback: fallback
                        .clone()
                        .unwrap_or_else(|| ctx.actor().login.clone()),
                    undecided: undecided.clone(),
                };
                print(format, &reviews::start(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::List => {
            with_ctx(cli, false, async |ctx| {
                print(format, &reviews::list(ctx).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::Show { id } => {
            with_ctx(cli, false, async |ctx| {
                print(format, &reviews::show(ctx, *id).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::Items {
            id,
            reviewer,
            pending,
        } => {
            let req = reviews::ItemsRequest {
                campaign: *id,
                reviewer: reviewer.clone(),
                pending: *pending,
            };
            with_ctx(cli, false, async |ctx| {
                print(format, &reviews::items(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::Decide { args, comment, key } => {
            let (decision, ids) = args
                .split_last()
                .ok_or_else(|| Failure::usage("review decide ITEM... approve|revoke"))?;
            if !matches!(decision.as_str(), "approve" | "revoke") {
                return Err(Failure::usage(format!(
                    "review decide ITEM... approve|revoke: the last word is `{decision}`"
                )));
            }
            let items = ids
                .iter()
                .map(|i| {
                    i.parse::<u64>()
                        .map_err(|_| Failure::usage(format!("`{i}` is not an item number")))
                })
                .collect::<Result<Vec<_>>>()?;
            let req = reviews::DecideRequest {
                items,
                decision: decision.clone(),
                comment: comment.clone(),
                key: key.clone().unwrap_or_else(fresh_key),
            };
            with_ctx(cli, false, async |ctx| {
                print(format, &reviews::decide(ctx, req).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::Close { id, dry_run } => {
            with_ctx(cli, true, async |ctx| {
                let closed = reviews::close(ctx, *id, *dry_run).await?;
                match format {
                    crate::output::Format::Table if *dry_run => {
                        for line in &closed.sql {
                            println!("{}", crate::output::terminal_safe(line));
                        }
                    }
                    _ => print(format, &closed)?,
                }
                Ok(0)
            })
            .await
        }
        ReviewCommand::UndoRemediation { id } => {
            with_ctx(cli, true, async |ctx| {
                print(format, &reviews::undo_remediation(ctx, *id).await?)?;
                Ok(0)
            })
            .await
        }
        ReviewCommand::Reassign {
            items,
            campaign,
            from,
            to,
            comment,
        } => {
            let req = reviews::ReassignRequest {
                items: items.clone(),
                to: to.clone(),
                comment: comment.clone(),
            };
            with_ctx(cli, false, async |ctx| {
                let moved = match (campaign, from) {
                    (Some(c), Some(f)) => reviews::reassign_queue(ctx, *c, f, to, comment).await?,
                    _ => reviews::reassign(ctx, req).await?,
                };
                print(format, &moved)?;
                Ok(0)
            })
            .await
        }
    }
}
