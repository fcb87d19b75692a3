//! The command line, exactly as ../shared/CLI.md documents it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::output::Format;

/// Warden: access-control governance for a MySQL-backed application.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The database, as mysql://USER@HOST:PORT/DATABASE (optional ?socket=/path,
    /// ?ssl-mode=…, ?ssl-ca=…). The password comes from WARDEN_DATABASE_PASSWORD.
    #[arg(
        long,
        env = "WARDEN_DATABASE_URL",
        global = true,
        conflicts_with = "profile"
    )]
    pub database_url: Option<String>,

    /// A connection profile from $XDG_CONFIG_HOME/warden/config.toml (password in the OS keyring).
    #[arg(long, global = true)]
    pub profile: Option<String>,

    /// The mapping: `reference` (default), `django`, or a TOML mapping file.
    #[arg(long, global = true)]
    pub mapping: Option<String>,

    /// Output format. `json` prints one JSON document on stdout and nothing else there.
    #[arg(long, value_enum, default_value = "table", global = true)]
    pub format: Format,

    /// Print nothing but the result (no progress or notes on stderr).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// More diagnostics on stderr (-v, -vv, -vvv). Secrets never appear in them.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A private MariaDB for trying Warden out: start, seed, status, url, stop.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Start the sandbox, seed it if it is empty, and show Warden working.
    Demo(DemoArgs),
    /// Apply Warden's own migrations (tables prefixed warden_) and set up the server's
    /// side of the console roles (roles, grants, the trail's trigger); run by an
    /// administrator account. On a database with no console user yet, the actor running
    /// it becomes the first officer.
    Migrate {
        /// Print the server roles, grants, views, triggers and routines as a script for a
        /// DBA, change nothing.
        #[arg(long)]
        print_sql: bool,
        /// A prefix for the account names of console users, when several governed
        /// databases share one server (lowercase letters, digits, `.`, `_`, `-`).
        #[arg(long)]
        account_prefix: Option<String>,
    },
    /// Choose a new password for the account you sign in with: at first sign-in (an
    /// initial password is already expired) or any time. Reads it twice at a terminal, or
    /// once from the first line of stdin; a profile's keyring entry is updated.
    Password,
    /// Connection profiles (passwords in the OS keyring).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Who may use the console: list, add, remove.
    ConsoleUsers(ConsoleUsersArgs),
    /// Check the mapping against the database.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Staff users of the application.
    Users(UsersArgs),
    /// Roles with their owners, member and permission counts.
    Roles,
    /// One user's effective permissions and where each comes from.
    Access {
        /// The user's login.
        login: String,
    },
    /// Everyone who holds a permission, and through what.
    WhoCan {
        /// The permission key, e.g. customer.payment:read
        permission: String,
    },
    /// Least-privilege policies as code.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Judge every account against the policy and record the findings (the version in
    /// force, by an officer); exit 1 with --fail-on when an open finding is that severe.
    #[command(disable_version_flag = true)]
    Check(CheckArgs),
    /// Recorded findings, filtered; `findings triage ID ack|resolve|reopen --comment C`.
    Findings(FindingsArgs),
    /// Access review campaigns: start, list, show, items, decide, reassign.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// The application's access log: search it, scan it with the detectors.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Warden's own audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Audit evidence as CSV with a manifest an auditor can re-check; `export verify`.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The console audit trail, one row per event with its hash (officers and auditors).
    AuditTrail {
        /// The CSV to write; NAME.csv.manifest.json is written beside it.
        #[arg(long, value_name = "FILE.csv")]
        out: std::path::PathBuf,
        /// Begin with a UTF-8 byte-order mark (for spreadsheets).
        #[arg(long)]
        bom: bool,
    },
    /// The user access listing: who has what, through which role, granted when and by
    /// whom (officers and auditors).
    Access {
        #[arg(long, value_name = "FILE.csv")]
        out: std::path::PathBuf,
        #[arg(long)]
        bom: bool,
    },
    /// Recorded findings, most severe first, with their evidence (officers and auditors).
    Findings {
        #[arg(long, value_name = "FILE.csv")]
        out: std::path::PathBuf,
        #[arg(long)]
        bom: bool,
        /// Only this kind (e.g. excess_permission).
        #[arg(long)]
        kind: Option<String>,
        /// Only this status: open, acknowledged, resolved.
        #[arg(long)]
        status: Option<String>,
        /// Only this severity: low, medium, high.
        #[arg(long)]
        severity: Option<String>,
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
        /// Only this person (login).
        #[arg(long)]
        subject: Option<String>,
    },
    /// Access-log search results (the `logs search` filters), every page of them, newest
    /// first (officers and auditors).
    Logs {
        #[arg(long, value_name = "FILE.csv")]
        out: std::path::PathBuf,
        #[arg(long)]
        bom: bool,
        #[command(flatten)]
        filters: Box<LogFilters>,
    },
    /// A closed campaign's evidence pack, signed off by the officer exporting it: a new
    /// folder with manifest.json, review_items.csv, access_before.csv, access_after.csv and
    /// action_log.csv; the sign-off is an event on the audit trail (officers).
    Campaign {
        id: u64,
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Re-check an export or an evidence pack offline: hashes, row counts, the audit
    /// trail's chain to its head, a pack's sign-off; exit 0 intact, 1 altered (named).
    Verify {
        /// The CSV, its manifest, or a pack's folder.
        path: std::path::PathBuf,
        /// Also against the live audit trail (needs the database): the trail must verify
        /// and record this very export (a pack's sign-off, an export's SHA-256), which
        /// catches a file rewritten together with its manifest.
        #[arg(long)]
        against_trail: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit trail's hash chain and compare its end with the head Warden
    /// recorded, and the trail with the heads it once had — the one this client saw last
    /// (kept in $XDG_STATE_HOME/warden/witness.json) and each manifest's given with
    /// --witness; exit 1 naming the first bad sequence number when it does not verify.
    Verify {
        /// An export manifest whose audit head the trail must still hold (a restore from an
        /// older backup ends before it; a rewritten trail holds another event there).
        #[arg(long = "witness", value_name = "MANIFEST")]
        witness: Vec<std::path::PathBuf>,
    },
    /// The audit trail, newest first, a page at a time (officers and auditors).
    List {
        /// Actions starting with this (`review.` lists every review action).
        #[arg(long)]
        action: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        actor: Option<String>,
        /// Targets containing this text.
        #[arg(long, allow_hyphen_values = true)]
        target: Option<String>,
        /// From this time (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS].
        #[arg(long)]
        since: Option<String>,
        /// Before this time (UTC).
        #[arg(long)]
        until: Option<String>,
        /// Events per page (1 to 500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// The `next` of the previous page.
        #[arg(long)]
        before: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// One page of the access log, newest first; `next` is the cursor of the page after.
    Search(Box<LogSearchArgs>),
    /// Import a database audit-log file (officers): MariaDB server_audit, MySQL Enterprise
    /// or Percona audit logs in XML or JSON. Importing the same events again imports
    /// nothing twice; an XML file with a DTD is refused (exit 5). `table`: the application's
    /// own log is read where it is; this shows its checkpoint and the rows waiting for a scan.
    Ingest {
        #[arg(value_name = "FORMAT", value_parser = ["table", "server-audit", "audit-xml", "audit-json"])]
        kind: String,
        /// The file (not for `table`).
        file: Option<PathBuf>,
    },
    /// Run the detectors over rows added since the last scan (officers); `--full` rescans
    /// every row. Hits become findings (see `warden findings --kind enumeration`).
    Scan {
        #[arg(long)]
        full: bool,
    },
}

#[derive(Debug, Args)]
pub struct LogSearchArgs {
    #[command(flatten)]
    pub filters: LogFilters,
    /// Rows per page (1 to 1000).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// The `next` cursor of the previous page.
    #[arg(long)]
    pub after: Option<String>,
}

/// What `logs search` and `export logs` select.
#[derive(Debug, Clone, clap::Args)]
pub struct LogFilters {
    /// app (the application's log), db-audit (imported audit-log files) or all.
    #[arg(long, value_parser = ["app", "db-audit", "all"], default_value = "all")]
    pub source: String,
    /// Only this person (login).
    #[arg(long, allow_hyphen_values = true)]
    pub user: Option<String>,
    /// Only people of this department.
    #[arg(long)]
    pub department: Option<String>,
    /// Only this action (permission key), e.g. customer.payment:read
    #[arg(long)]
    pub action: Option<String>,
    /// Only this resource type, e.g. customer
    #[arg(long)]
    pub resource: Option<String>,
    /// Only this resource id.
    #[arg(long)]
    pub resource_id: Option<String>,
    #[arg(long, value_parser = ["allowed", "denied"])]
    pub outcome: Option<String>,
    /// From this time (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS].
    #[arg(long)]
    pub since: Option<String>,
    /// Before this time (UTC).
    #[arg(long)]
    pub until: Option<String>,
    /// Only this client address.
    #[arg(long)]
    pub client: Option<String>,
}

impl LogFilters {
    pub fn request(&self) -> warden_service::logs::SearchRequest {
        warden_service::logs::SearchRequest {
            source: Some(self.source.clone()),
            user: self.user.clone(),
            department: self.department.clone(),
            action: self.action.clone(),
            resource_type: self.resource.clone(),
            resource_id: self.resource_id.clone(),
            outcome: self.outcome.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            client_address: self.client.clone(),
            limit: None,
            after: None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Launch a campaign over every grant in scope (officers).
    Start {
        #[arg(long, allow_hyphen_values = true)]
        name: String,
        /// The due date, YYYY-MM-DD.
        #[arg(long)]
        due: String,
        /// What to review: department=support,sales role=R job_function=J (repeatable).
        #[arg(long, value_name = "KEY=A,B")]
        scope: Vec<String>,
        /// Who reviews: the person's manager, or the role's owner.
        #[arg(long, default_value = "manager", value_parser = ["manager", "owner"])]
        reviewer: String,
        /// Reviews what the rule cannot (no manager or owner, or their own access).
        #[arg(long)]
        fallback: Option<String>,
        /// What undecided items become at close.
        #[arg(long, default_value = "keep", value_parser = ["keep", "revoke"])]
        undecided: String,
        /// Launch from an earlier campaign (a template): its scope, reviewer rule, fallback
        /// and default, with this name and due date.
        #[arg(long, value_name = "CAMPAIGN", conflicts_with_all = ["scope", "fallback"])]
        like: Option<u64>,
    },
    /// Every campaign with its progress.
    List,
    /// One campaign: progress per reviewer and department, overdue reviewers.
    Show { id: u64 },
    /// A campaign's items (a reviewer sees only their own).
    Items {
        id: u64,
        #[arg(long)]
        reviewer: Option<String>,
        /// Only undecided items.
        #[arg(long)]
        pending: bool,
    },
    /// Approve or revoke items (yours to review), with a comment.
    Decide {
        #[arg(required = true, num_args = 1..)]
        args: Vec<String>,
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        comment: String,
        /// Idempotency key: the same key sent twice records once (default: a new one).
        #[arg(long)]
        key: Option<String>,
    },
    /// Close a campaign: undecided items take its default, then revocations are applied
    /// one transaction per user (officers). --dry-run prints the exact SQL and changes nothing.
    Close {
        id: u64,
        #[arg(long)]
        dry_run: bool,
        /// The digest a --dry-run printed: the close applies exactly that revocation set,
        /// or refuses (exit 6) when it has changed since.
        #[arg(long, conflicts_with = "dry_run")]
        digest: Option<String>,
    },
    /// Put back every grant a campaign's remediation removed.
    UndoRemediation {
        id: u64,
        /// Why the revocations are undone (recorded on the trail).
        #[arg(long, allow_hyphen_values = true)]
        comment: String,
    },
    /// Hand items to another reviewer, with a comment; or a reviewer's whole pending queue
    /// in a campaign (--campaign ID --from LOGIN, officers).
    Reassign {
        #[arg(required_unless_present = "from", num_args = 0..)]
        items: Vec<u64>,
        #[arg(long, requires = "from")]
        campaign: Option<u64>,
        #[arg(
            long,
            requires = "campaign",
            conflicts_with = "items",
            allow_hyphen_values = true
        )]
        from: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        to: String,
        #[arg(long, allow_hyphen_values = true)]
        comment: String,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Judge against a draft policy file instead (nothing is recorded).
    #[arg(long, conflicts_with = "version")]
    pub policy: Option<PathBuf>,
    /// Judge against an earlier version (nothing is recorded).
    #[arg(long)]
    pub version: Option<u32>,
    /// Exit 1 when an open finding is at least this severe: low, medium or high.
    #[arg(long, value_parser = ["low", "medium", "high"])]
    pub fail_on: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FindingsArgs {
    #[command(subcommand)]
    pub command: Option<FindingsCommand>,
    /// Only this kind (e.g. excess_permission).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this status: open, acknowledged, resolved.
    #[arg(long)]
    pub status: Option<String>,
    /// Only this severity: low, medium, high.
    #[arg(long)]
    pub severity: Option<String>,
    /// Only this department.
    #[arg(long)]
    pub department: Option<String>,
    /// Only this person (login).
    #[arg(long)]
    pub subject: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// One finding with its evidence, fix and history.
    Show { id: u64 },
    /// Acknowledge, resolve or reopen a finding, with a comment (audited).
    Triage {
        id: u64,
        #[arg(value_parser = ["ack", "resolve", "reopen"])]
        action: String,
        #[arg(long, allow_hyphen_values = true)]
        comment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file; exit 5 with the line and column of the first error. With a
    /// database (--database-url or --profile), also warn of patterns that match no
    /// permission there.
    Validate { file: PathBuf },
    /// Store a policy file as the new version (officers), with its audit event.
    Apply {
        file: PathBuf,
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        comment: String,
    },
    /// A version's document (default: the one in force).
    Show {
        #[arg(value_name = "VERSION")]
        number: Option<u32>,
    },
    /// Every version, newest first.
    History,
    /// What changed from version A to version B, rule by rule.
    Diff { from: u32, to: u32 },
    /// Replay the last N days of the access log against a draft policy: which real
    /// accesses it would have denied.
    Simulate {
        file: PathBuf,
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// The sandbox's folder (default $XDG_DATA_HOME/warden/sandbox).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start the sandbox server (idempotent).
    Start {
        #[command(flatten)]
        dir: DataDir,
        /// TCP port on 127.0.0.1 (default: a free one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Load the reference application and a synthetic company (replacing its tables).
    /// Seeds --database-url when given, else the sandbox.
    Seed(SeedArgs),
    /// Whether the sandbox is running.
    Status {
        #[command(flatten)]
        dir: DataDir,
    },
    /// The sandbox's database URL.
    Url {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Stop exactly the sandbox's server.
    Stop {
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// Staff users.
    #[arg(long, default_value_t = 1_000)]
    pub users: u32,
    /// Access-log rows over the last 120 days.
    #[arg(long, default_value_t = 100_000)]
    pub log_rows: u64,
    /// The same seed gives the same company.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// `default` (with planted anomalies) or `clean` (none).
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// A file or folder of hostile text (e.g. ../shared/corpora/xss): every line becomes a
    /// staff user's name and title, and a role's name, to prove the UI shows them inert.
    #[arg(long)]
    pub hostile_text: Option<PathBuf>,
    /// The moment the company is made at, RFC 3339 (default: now). Every date is placed
    /// relative to it: the same --seed, sizes and --now give byte-identical tables.
    #[arg(long, value_parser = parse_rfc3339)]
    pub now: Option<DateTime<Utc>>,
}

fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: expected RFC 3339, like 2026-11-30T10:00:00Z"))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub dir: DataDir,
    #[arg(long, default_value_t = 1_000)]
    pub users: u32,
    #[arg(long, default_value_t = 100_000)]
    pub log_rows: u64,
    /// Run the whole tour in the terminal instead of opening the desktop app.
    #[arg(long)]
    pub headless: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add (or replace) a profile; prompts for the password and stores it in the OS keyring.
    /// Without a terminal, the password is read from the first line of stdin.
    Add(ProfileAddArgs),
    /// List profiles (never passwords).
    List,
    /// Remove a profile and its keyring entry.
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    pub name: String,
    #[arg(long, required = true)]
    pub host: Vec<String>,
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, allow_hyphen_values = true)]
    pub user: String,
    #[arg(long)]
    pub database: String,
    /// disabled, preferred, required, verify-ca or verify-identity (default).
    #[arg(long, default_value = "verify-identity")]
    pub tls: String,
    /// The CA certificate to verify the server with.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    #[arg(long, default_value = "reference")]
    pub mapping: String,
    /// local (the profile's own account and its password in the keyring) or oidc.
    #[arg(long, default_value = "local")]
    pub auth: String,
    /// A separate schema for Warden's own tables.
    #[arg(long)]
    pub governance_schema: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsoleUsersArgs {
    #[command(subcommand)]
    pub command: Option<ConsoleUsersCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ConsoleUsersCommand {
    /// Add a console user, or change their role.
    Add {
        login: String,
        #[arg(long)]
        role: String,
        /// Where the person connects from (the account's host part; default `%`). Off
        /// this machine the account requires TLS.
        #[arg(long)]
        host: Option<String>,
    },
    /// Remove a console user.
    Remove { login: String },
}

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Report every problem of the mapping against the database at once.
    Check,
}

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[arg(long)]
    pub department: Option<String>,
    /// Text searched in login, name and email.
    #[arg(long, allow_hyphen_values = true)]
    pub search: Option<String>,
    /// The application's status (active, suspended…), or active/inactive.
    #[arg(long)]
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (clap checks names, conflicts, the
    /// `--version` flag) without running each one.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
