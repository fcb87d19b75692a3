//! Exports an auditor can verify (DESIGN.md, Exports and evidence): the CSV is written to
//! a temporary name beside its destination, hashed and counted as it goes, synced and
//! renamed into place, then its manifest the same way; the export is an event on the
//! audit trail. `verify` re-checks a file against its manifest offline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;
use warden_core::export::{CsvOut, Head, MANIFEST_FORMAT, Manifest};
use warden_store::governance::Change;

use crate::context::Ctx;
use crate::error::{Error, Result};

mod pack;
pub use pack::{PackResponse, campaign};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExportResponse {
    pub file: String,
    pub manifest: String,
    pub rows: u64,
    pub sha256: String,
    pub audit_seq: u64,
}

/// What a cancelled export answers.
fn cancelled(out: &Path) -> Error {
    Error::Cancelled(format!(
        "the export to {} was cancelled: nothing was written",
        out.display()
    ))
}

/// An error about a file, naming it.
fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {e}", path.display()))
}

/// `NAME.csv.manifest.json` beside `NAME.csv`.
pub fn manifest_path(csv: &Path) -> PathBuf {
    let mut name = csv.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.json");
    csv.with_file_name(name)
}

/// A file being written under a temporary name in its destination's directory, renamed
/// into place only when complete: a reader never sees half a file under the final name.
struct Staged {
    temp: PathBuf,
    dest: PathBuf,
    dir: bool,
}

impl Staged {
    fn create(dest: &Path) -> Result<(Self, std::fs::File)> {
        let temp = Self::temp_name(dest)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| file_error(&temp, e))?;
        // Only what this export created is ever removed.
        let staged = Self {
            temp,
            dest: dest.to_path_buf(),
            dir: false,
        };
        Ok((staged, file))
    }

    /// A folder (the evidence pack) staged the same way: written whole under a temporary
    /// name, then renamed.
    fn create_dir(dest: &Path) -> Result<Self> {
        let temp = Self::temp_name(dest)?;
        std::fs::create_dir(&temp).map_err(|e| file_error(&temp, e))?;
        Ok(Self {
            temp,
            dest: dest.to_path_buf(),
            dir: true,
        })
    }

    /// `.NAME.partial-PID-N` beside `dest`: N counts this process's exports, so two at
    /// once to one name (the app can run several) never share a temporary.
    fn temp_name(dest: &Path) -> Result<PathBuf> {
        // Evidence is never overwritten: a new export takes a new name.
        if dest.exists() {
            return Err(Error::Invalid(format!(
                "{} exists: an export never replaces one; choose another name",
                dest.display()
            )));
        }
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file name", dest.display())))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".partial-");
        sweep_abandoned(dest, &prefix.to_string_lossy());
        static EXPORTS: AtomicU64 = AtomicU64::new(0);
        let n = EXPORTS.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = prefix;
        temp_name.push(format!("{}-{n}", std::process::id()));
        Ok(dest.with_file_name(temp_name))
    }

    /// Syncs the file and gives it its final name, never replacing a file that appeared
    /// there meanwhile (another process's export): a hard link fails if the name is taken,
    /// where a rename would silently replace it.
    fn commit(self, file: std::fs::File) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        file.sync_all().map_err(fail)?;
        drop(file);
        std::fs::hard_link(&self.temp, &self.dest).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Invalid(format!(
                "{} appeared while the export was written: an export never replaces one",
                self.dest.display()
            )),
            _ => fail(e),
        })?;
        // The temporary name goes as `self` drops.
        Ok(())
    }

    /// Renames a staged folder into place once every file in it is synced.
    fn commit_dir(self) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        std::fs::File::open(&self.temp)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
        // A folder cannot be linked: a rename onto a folder with anything in it fails, and
        // one that appeared meanwhile is refused here first.
        if self.dest.exists() {
            return Err(Error::Invalid(format!(
                "{} appeared while the pack was written: an export never replaces one",
                self.dest.display()
            )));
        }
        std::fs::rename(&self.temp, &self.dest).map_err(fail)?;
        Ok(())
    }
}

/// Removes the temporary files of earlier exports to the same name whose process is gone
/// (killed midway: nothing of it ran after). Only where the process table can be read
/// (Linux's /proc): elsewhere a file of a running export could not be told apart.
fn sweep_abandoned(dest: &Path, prefix: &str) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = (name.to_str())
            .and_then(|n| n.strip_prefix(prefix))
            .map(|rest| rest.split('-').next().unwrap_or(rest))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            tracing::info!(file = %entry.path().display(), "removing an abandoned export");
            let path = entry.path();
            let _ = match path.is_dir() {
                true => std::fs::remove_dir_all(&path),
                false => std::fs::remove_file(&path),
            };
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Not committed (an error, a cancelled export): nothing is left behind. After a
        // rename the temporary name no longer exists and this does nothing.
        let _ = match self.dir {
            true => std::fs::remove_dir_all(&self.temp),
            false => std::fs::remove_file(&self.temp),
        };
    }
}

/// How far an export has come, and whether it was asked to stop: read and set from
/// another task (the CLI's progress bar and Ctrl-C, the app's progress and Cancel).
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows written so far.
    pub rows: AtomicU64,
    /// About how many rows there will be; 0 when not known in advance.
    pub total: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// Asks the export to stop: it removes what it wrote and answers
    /// [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// The CSV an export fills, counting its rows into the export's [`Progress`] and
/// stopping it when cancelled (a row refused with [`std::io::ErrorKind::Interrupted`]).
pub struct Sheet<'p> {
    csv: CsvOut<std::io::BufWriter<std::fs::File>>,
    progress: &'p Progress,
    syncer: Syncer,
}

/// Writes what an export has written so far to disk beside it, on a thread of its own, so
/// that the sync that makes the file durable before its rename finds little left to do
/// (a large export's dirty pages would otherwise all be flushed at the end, in line).
struct Syncer {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    synced_at: u64,
}

/// Bytes written between two background syncs.
const SYNC_EVERY: u64 = 64 << 20;

impl Syncer {
    fn new(file: &std::fs::File) -> Self {
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = file.try_clone().ok().and_then(|file| {
            std::thread::Builder::new()
                .name("warden-export-sync".into())
                .spawn(move || {
                    while woken.recv().is_ok() {
                        let _ = file.sync_data();
                    }
                })
                .ok()
        });
        Self {
            wake: Some(wake),
            thread,
            synced_at: 0,
        }
    }

    /// Asks for a sync once another [`SYNC_EVERY`] bytes are written (never waits: a sync
    /// still running takes the next request in its stride).
    fn written(&mut self, bytes: u64) {
        if bytes >= self.synced_at + SYNC_EVERY {
            self.synced_at = bytes;
            if let Some(wake) = &self.wake {
                let _ = wake.try_send(());
            }
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Rows between two updates of [`Progress::rows`].
const PROGRESS_EVERY: u64 = 4_096;

impl Sheet<'_> {
    fn check(&mut self) -> std::io::Result<()> {
        let rows = self.csv.rows();
        if rows.is_multiple_of(PROGRESS_EVERY) {
            self.progress.rows.store(rows, Ordering::Relaxed);
            self.syncer.written(self.csv.bytes());
            if self.progress.is_cancelled() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                ));
            }
        }
        Ok(())
    }

    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        self.check()?;
        self.csv.row(cells)
    }

    pub fn row_bytes(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        self.check()?;
        self.csv.row_bytes(cells)
    }

    /// [`Sheet::row_bytes`] of cells known to hold no `"`.
    pub fn row_bytes_unquoted(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        self.check()?;
        self.csv.row_bytes_unquoted(cells)
    }
}

/// The file an export writes, and what its manifest says of it.
struct Report<'a> {
    kind: &'static str,
    parameters: serde_json::Value,
    population_query: String,
    header: &'a [&'a str],
    out: &'a Path,
    bom: bool,
    progress: &'a Progress,
}

type Out<'p> = Sheet<'p>;

/// Writes `report`: the CSV filled by `fill` under a temporary name, renamed into place
/// when complete; its manifest the same way; then the export's audit event.
async fn write(
    ctx: &Ctx,
    db: &warden_store::Database,
    report: Report<'_>,
    fill: impl AsyncFnOnce(&mut Out<'_>) -> Result<()>,
) -> Result<ExportResponse> {
    let out = report.out;
    let io = |e: std::io::Error| file_error(out, e);
    let (head_seq, head_hash) = warden_store::governance::audit_head(db).await?;
    let source = warden_store::governance::server_identity(db).await?;
    // Both names free before anything is written: never a CSV without its manifest.
    let manifest_path = manifest_path(out);
    if manifest_path.exists() {
        return Err(Error::Invalid(format!(
            "{} exists: an export never replaces one; choose another name",
            manifest_path.display()
        )));
    }
    let (staged, file) = Staged::create(out)?;
    let syncer = Syncer::new(&file);
    let csv = CsvOut::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        report.header,
        report.bom,
    )
    .map_err(io)?;
    let mut sheet = Sheet {
        csv,
        progress: report.progress,
        syncer,
    };
    let filled = fill(&mut sheet).await;
    // Cancelled (whether or not a row noticed): the staged file is removed as it drops.
    if report.progress.is_cancelled() {
        return Err(cancelled(out));
    }
    filled?;
    drop(sheet.syncer);
    let (buffered, written) = sheet.csv.finish().map_err(io)?;
    report.progress.rows.store(written.rows, Ordering::Relaxed);
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    staged.commit(file)?;

    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let at = ctx.clock().now();
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        kind: report.kind.into(),
        parameters: report.parameters,
        population_query: report.population_query,
        source,
        file: file_name.clone(),
        rows: written.rows,
        bytes: written.bytes,
        sha256: written.sha256.clone(),
        bom: report.bom,
        generated_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: ctx.actor().login.clone(),
        audit_head: Head {
            seq: head_seq,
            hash: head_hash,
        },
    };
    let (staged, mut file) = Staged::create(&manifest_path)?;
    serde_json::to_writer_pretty(&mut file, &manifest)
        .map_err(|e| file_error(&manifest_path, e))?;
    file.write_all(b"\n").map_err(io)?;
    staged.commit(file)?;

    let change = Change::begin(db, &ctx.actor().login, at).await?;
    let event = change
        .commit(
            &format!("export.{}", report.kind),
            &file_name,
            serde_json::json!({
                "file": file_name, "rows": written.rows, "sha256": written.sha256,
                "parameters": manifest.parameters, "audit_head_seq": head_seq,
            }),
        )
        .await?;
    Ok(ExportResponse {
        file: out.display().to_string(),
        manifest: manifest_path.display().to_string(),
        rows: written.rows,
        sha256: written.sha256,
        audit_seq: event.seq,
    })
}

/// An export to start: its kind (`access`, `findings`, `logs`, `audit-trail`, or
/// `campaign`: a closed campaign's evidence pack, a folder), where to write it (a path on
/// this machine; a new name: evidence is never overwritten), and its filters.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct ExportRequest {
    pub kind: String,
    pub path: String,
    /// Begin the CSV with a UTF-8 byte-order mark (for spreadsheets).
    pub bom: bool,
    /// For `logs`: the search.
    pub logs: Option<crate::logs::SearchRequest>,
    /// For `findings`: the filters.
    pub findings: Option<crate::findings::FindingsRequest>,
    /// For `campaign`: its id.
    pub campaign: Option<u64>,
}

/// Runs the export `req` names (the desktop app's one door to every kind); a pack is
/// answered as its folder, its manifest, its rows in all and the manifest's SHA-256.
pub async fn by_kind(ctx: &Ctx, req: ExportRequest, progress: &Progress) -> Result<ExportResponse> {
    let out = PathBuf::from(req.path.trim());
    let bom = req.bom;
    match req.kind.as_str() {
        "access" => access(ctx, &out, bom, progress).await,
        "audit-trail" => audit_trail(ctx, &out, bom, progress).await,
        "findings" => findings(ctx, req.findings.unwrap_or_default(), &out, bom, progress).await,
        "logs" => logs(ctx, req.logs.unwrap_or_default(), &out, bom, progress).await,
        "campaign" => {
            let id =
                (req.campaign).ok_or_else(|| Error::Invalid("which campaign? (its id)".into()))?;
            let pack = campaign(ctx, id, &out, progress).await?;
            Ok(ExportResponse {
                manifest: out.join("manifest.json").display().to_string(),
                file: pack.dir,
                rows: pack.files.iter().map(|f| f.rows).sum(),
                sha256: pack.manifest_sha256,
                audit_seq: pack.audit_seq,
            })
        }
        other => Err(Error::Invalid(format!(
            "`{other}`: expected access, findings, logs, audit-trail or campaign"
        ))),
    }
}

/// The console audit trail as CSV, one row per event with its hash (officers and
/// auditors).
pub async fn audit_trail(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the audit trail")?;
    let db = r.db();
    let (head, _) = warden_store::governance::audit_head(db).await?;
    progress.total.store(head, Ordering::Relaxed);
    let report = Report {
        kind: "audit-trail",
        parameters: serde_json::json!({ "bom": bom }),
        population_query: warden_store::governance::AUDIT_EVENTS.into(),
        header: &warden_core::export::TRAIL_COLUMNS,
        out,
        bom,
        progress,
    };
    write(ctx, db, report, async |csv: &mut Out| {
        warden_store::governance::stream_audit_events(db, |e, hash| {
            csv.row(warden_core::export::trail_row(e, hash))
        })
        .await?;
        Ok(())
    })
    .await
}

/// The user access listing: who has what, through which role (or directly), granted when
/// and by whom; one row per role held, with the permissions it brings (inheritance
/// included), and one per direct grant (officers and auditors). Read as the directory is
/// read everywhere in Warden: a handful of bulk queries, bounded by the directory.
pub async fn access(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the access listing")?;
    let db = r.db();
    let loaded = crate::directory::load(&r).await?;
    let rows = loaded.grants.len() + loaded.direct.len();
    progress.total.store(rows as u64, Ordering::Relaxed);
    let report = Report {
        kind: "access",
        parameters: serde_json::json!({ "bom": bom }),
        population_query: "the directory through the mapping: every user, every unexpired role \
            grant (with when and by whom), every direct permission grant, and the role hierarchy's \
            permissions"
            .into(),
        header: &[
            "login",
            "name",
            "department",
            "status",
            "via",
            "role",
            "permissions",
            "granted_at",
            "granted_by",
        ],
        out,
        bom,
        progress,
    };
    write(ctx, db, report, async |csv: &mut Out| {
        use std::collections::HashMap;
        let fail = |e: std::io::Error| file_error(out, e);
        let users: HashMap<_, _> = loaded.users.iter().map(|u| (u.id, u)).collect();
        let roles: HashMap<_, _> = loaded.roles.iter().map(|r| (r.id, r)).collect();
        let keys: HashMap<_, _> = (loaded.permissions.iter())
            .map(|p| (p.id, p.key.as_str()))
            .collect();
        let login = |id| users.get(&id).map(|u| u.login.clone()).unwrap_or_default();
        let time = |t: Option<chrono::NaiveDateTime>| {
            t.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default()
        };
        let mut grants: Vec<_> = loaded.grants.iter().collect();
        grants.sort_by_key(|g| (login(g.user), g.role));
        // A grant to someone the directory does not list (a dangling row) is evidence too:
        // it is written with the id it names.
        let person = |id: warden_core::directory::UserId| match users.get(&id) {
            Some(u) => [
                u.login.clone(),
                u.name.clone().unwrap_or_default(),
                u.department.clone().unwrap_or_default(),
                u.status.clone(),
            ],
            None => [
                format!("#{}", id.0),
                String::new(),
                String::new(),
                "unknown".into(),
            ],
        };
        for g in grants {
            let [who, name, department, status] = person(g.user);
            let mut permissions: Vec<&str> = (loaded.model.permissions_of(g.role).iter())
                .filter_map(|p| keys.get(p).copied())
                .collect();
            permissions.sort_unstable();
            csv.row([
                who,
                name,
                department,
                status,
                "role".into(),
                (roles.get(&g.role)).map_or_else(|| format!("#{}", g.role.0), |r| r.name.clone()),
                permissions.join(" "),
                time(g.granted_at),
                g.granted_by.map(login).unwrap_or_default(),
            ])
            .map_err(fail)?;
        }
        let mut direct: Vec<_> = loaded.direct.iter().collect();
        direct.sort_by_key(|d| (login(d.user), d.permission));
        for d in direct {
            let [who, name, department, status] = person(d.user);
            csv.row([
                who,
                name,
                department,
                status,
                "direct".into(),
                String::new(),
                keys.get(&d.permission)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                String::new(),
                String::new(),
            ])
            .map_err(fail)?;
        }
        Ok(())
    })
    .await
}

/// Recorded findings matching `req` (the `findings` filters), most severe first, with
/// their evidence as JSON (officers and auditors). Findings are one per account and issue,
/// so they are bounded by the directory, not the log: they are read in one query.
pub async fn findings(
    ctx: &Ctx,
    req: crate::findings::FindingsRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting findings")?;
    let db = r.db();
    let mut parameters =
        serde_json::to_value(&req).map_err(|e| Error::Invalid(format!("the filters: {e}")))?;
    if let Some(p) = parameters.as_object_mut() {
        p.insert("bom".into(), bom.into());
    }
    let report = Report {
        kind: "findings",
        parameters,
        population_query: [
            warden_store::findings::FINDING_COLUMNS,
            " WHERE the parameters' filters ORDER BY severity (high first), kind, subject, id",
        ]
        .concat(),
        header: &[
            "id",
            "kind",
            "severity",
            "status",
            "subject",
            "department",
            "detail",
            "fix",
            "evidence",
            "fingerprint",
            "first_seen",
            "last_seen",
            "resolved_at",
        ],
        out,
        bom,
        progress,
    };
    write(ctx, db, report, async |csv: &mut Out| {
        let found = crate::findings::findings(ctx, req).await?.findings;
        progress.total.store(found.len() as u64, Ordering::Relaxed);
        for f in found {
            let text = |v: Option<String>| v.unwrap_or_default();
            csv.row([
                f.id.map(|i| i.to_string()).unwrap_or_default(),
                f.kind,
                f.severity,
                f.status,
                f.subject,
                text(f.department),
                f.detail,
                f.fix,
                f.evidence.to_string(),
                f.fingerprint,
                text(f.first_seen),
                text(f.last_seen),
                text(f.resolved_at),
            ])
            .map_err(|e| file_error(out, e))?;
        }
        Ok(())
    })
    .await
}

/// Access-log search results: every row `req`'s search matches (its page size and cursor
/// ignored), newest first, both sources merged as the search merges them. The
/// application's log is one statement streamed straight into the file a batch at a time;
/// imported events are read a page at a time beside it. Memory is a batch, a page and
/// the directory's logins, whatever the log's size.
pub async fn logs(
    ctx: &Ctx,
    req: crate::logs::SearchRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    use warden_store::logs as store;
    let r = ctx.as_reader("exporting access-log search results")?;
    let db = r.db();
    let mut parameters =
        serde_json::to_value(&req).map_err(|e| Error::Invalid(format!("the search: {e}")))?;
    if let Some(p) = parameters.as_object_mut() {
        p.remove("limit");
        p.remove("after");
        p.insert("bom".into(), bom.into());
    }
    let plan = crate::logs::plan(&r, &req).await?;
    // Logins and departments by id: the directory, not the log, bounds this.
    type ById = std::hash::BuildHasherDefault<warden_core::detectors::Fx>;
    let mut people = std::collections::HashMap::with_hasher(ById::default());
    if let Some((m, _)) = &plan.app {
        let filter = warden_store::directory::UserFilter::default();
        for u in warden_store::directory::users(db, m, &filter).await? {
            people.insert(u.id.0, (u.login, u.department.unwrap_or_default()));
        }
    }
    // Whether any login or department holds a `"` (then every row is checked for one).
    let quoted_people = (people.values()).any(|(l, d)| l.contains('"') || d.contains('"'));
    let unfiltered = req_is_unfiltered(&req);
    let report = Report {
        kind: "logs",
        parameters,
        population_query: "warden logs search with these parameters: the application's \
            access log through the mapping (one statement, newest id first) and the imported \
            audit-log events (keyset pages), merged newest first"
            .into(),
        header: &LOG_COLUMNS,
        out,
        bom,
        progress,
    };
    write(ctx, db, report, async |sheet: &mut Out| {
        let fail = |e: std::io::Error| file_error(out, e);
        let mut imported = ImportedEvents {
            db,
            search: plan.audit.clone(),
            page: std::collections::VecDeque::new(),
        };
        if let Some((m, search)) = &plan.app {
            // Unfiltered, the log's id range is about its size (ids are dense).
            if unfiltered && let Some((low, high)) = store::id_range(db, m).await? {
                let about = u64::try_from(high - low + 1).unwrap_or(0);
                progress.total.store(about, Ordering::Relaxed);
            }
            // Nothing to merge in: each row straight from the socket into the file.
            if imported.is_done().await? {
                let mut failure = None;
                let each = store::export_each(db, m, search, |row| {
                    let person = row.user.and_then(|u| people.get(&u));
                    match app_row(sheet, row, person, quoted_people) {
                        Ok(()) => true,
                        Err(e) => {
                            failure = Some(e);
                            false
                        }
                    }
                })
                .await?;
                if let Some(e) = failure {
                    return Err(fail(e));
                }
                if each.is_some() {
                    return Ok(());
                }
            }
            let (tx, rx) = tokio::sync::mpsc::channel::<store::ExportBatch>(2);
            let read = async move {
                let read = store::export(db, m, search, |batch| {
                    let tx = tx.clone();
                    async move { tx.send(batch).await.is_ok() }
                })
                .await;
                drop(tx);
                read
            };
            let written = async {
                // Owned here: when writing stops (an error, a cancel), the reader's next
                // send fails and it ends, rather than waiting on a full channel for good.
                let mut rx = rx;
                while let Some(batch) = rx.recv().await {
                    for row in batch.rows() {
                        while imported.pending()
                            && let Some(e) = imported.next_after(row.at.unwrap_or_default()).await?
                        {
                            sheet.row(imported_cells(&e)).map_err(fail)?;
                        }
                        let person = row.user.and_then(|u| people.get(&u));
                        app_row(sheet, &row, person, quoted_people).map_err(fail)?;
                    }
                }
                Ok::<_, Error>(())
            };
            let (read, written) = tokio::join!(read, written);
            written?;
            read?;
        }
        while let Some(e) = imported.next_after(chrono::NaiveDateTime::MIN).await? {
            sheet.row(imported_cells(&e)).map_err(fail)?;
        }
        Ok(())
    })
    .await
}

/// Whether a log search has no filter at all (every row is exported).
fn req_is_unfiltered(req: &crate::logs::SearchRequest) -> bool {
    let crate::logs::SearchRequest {
        source: _,
        user,
        department,
        action,
        resource_type,
        resource_id,
        outcome,
        since,
        until,
        client_address,
        limit: _,
        after: _,
    } = req;
    [
        user,
        department,
        action,
        resource_type,
        resource_id,
        outcome,
        since,
        until,
        client_address,
    ]
    .iter()
    .all(|f| f.is_none())
}

/// The columns of a log export: both sources' rows, as `logs search` shows them.
const LOG_COLUMNS: [&str; 14] = [
    "source",
    "id",
    "at",
    "user_id",
    "login",
    "department",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "client_address",
    "user_agent",
    "statement",
    "origin",
];

/// Imported audit-log events matching a search, newest first, a page at a time.
struct ImportedEvents<'a> {
    db: &'a warden_store::Database,
    /// None once every page is read (or when the search does not apply to them).
    search: Option<warden_store::logs::DbAuditSearch>,
    page: std::collections::VecDeque<warden_store::logs::DbAuditRow>,
}

impl ImportedEvents<'_> {
    /// Whether any event may still come.
    fn pending(&self) -> bool {
        self.search.is_some() || !self.page.is_empty()
    }

    /// Whether no event will come (the first page is read to know).
    async fn is_done(&mut self) -> Result<bool> {
        self.fill().await?;
        Ok(!self.pending())
    }

    /// Reads the next page when this one is used up.
    async fn fill(&mut self) -> Result<()> {
        if self.page.is_empty()
            && let Some(search) = &mut self.search
        {
            search.limit = crate::logs::MAX_PAGE;
            let page = warden_store::logs::search_db_audit(self.db, search).await?;
            match page.last() {
                Some(last) if page.len() == search.limit as usize => search.before = Some(last.id),
                _ => self.search = None,
            }
            self.page.extend(page);
        }
        Ok(())
    }

    /// The next event if it happened after `at` (the search's order: an application row
    /// goes first when at the same time or later).
    async fn next_after(
        &mut self,
        at: chrono::NaiveDateTime,
    ) -> Result<Option<warden_store::logs::DbAuditRow>> {
        self.fill().await?;
        Ok(match self.page.front() {
            Some(e) if e.occurred_at > at => self.page.pop_front(),
            _ => None,
        })
    }
}

fn imported_cells(e: &warden_store::logs::DbAuditRow) -> [String; 14] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        "db-audit".into(),
        e.id.to_string(),
        crate::directory::utc(e.occurred_at),
        String::new(),
        e.db_user.clone(),
        String::new(),
        e.operation.clone(),
        text(&e.db_name),
        String::new(),
        e.status.map(|s| s.to_string()).unwrap_or_default(),
        e.client_host.clone(),
        String::new(),
        text(&e.object),
        format!("{}:{}", e.source_file, e.line),
    ]
}

/// One application-log row being written: its numbers and time as text in buffers
/// reused from row to row, its text cells borrowed from the batch.
#[derive(Default)]
struct LogLine<'b> {
    id: Short,
    user: Short,
    at: Short,
    person: Option<&'b (String, String)>,
    text: [std::borrow::Cow<'b, [u8]>; 6],
}

/// A short text (a number, a time) in a buffer of its own.
#[derive(Default)]
struct Short([u8; 20], usize);

impl Short {
    fn bytes(&self) -> &[u8] {
        &self.0[..self.1]
    }

    fn number(&mut self, n: Option<i64>) {
        let mut digits = itoa::Buffer::new();
        let text = n.map_or(&b""[..], |n| digits.format(n).as_bytes());
        self.0[..text.len()].copy_from_slice(text);
        self.1 = text.len();
    }
}

impl<'b> LogLine<'b> {
    fn app(
        &mut self,
        row: &warden_store::logs::ExportedRow<'b>,
        person: Option<&'b (String, String)>,
        utf8: bool,
    ) {
        self.id.number(Some(row.id));
        self.user.number(row.user);
        self.at.1 = row.at.map_or(0, |t| iso_utc(t, &mut self.at.0));
        self.person = person;
        for (out, cell) in self.text.iter_mut().zip(row.text) {
            let bytes = cell.unwrap_or_default();
            *out = match utf8 {
                true => std::borrow::Cow::Borrowed(bytes),
                // The batch holds text that is not UTF-8: each cell of it is mended.
                false => match String::from_utf8_lossy(bytes) {
                    std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(bytes),
                    std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
                },
            };
        }
    }

    fn cells(&self) -> [&[u8]; 14] {
        let (login, department) = match self.person {
            Some((l, d)) => (l.as_bytes(), d.as_bytes()),
            None => (&b""[..], &b""[..]),
        };
        [
            b"app",
            self.id.bytes(),
            self.at.bytes(),
            self.user.bytes(),
            login,
            department,
            &self.text[0],
            &self.text[1],
            &self.text[2],
            &self.text[3],
            &self.text[4],
            &self.text[5],
            b"",
            b"",
        ]
    }
}

/// Writes one row of the application's log: its cells as the search shows them, checked
/// for UTF-8 (a cell that is not is mended) and, unless the row is known to hold no `"`,
/// for quotes to double.
fn app_row(
    sheet: &mut Out<'_>,
    row: &warden_store::logs::ExportedRow<'_>,
    person: Option<&(String, String)>,
    quoted_people: bool,
) -> std::io::Result<()> {
    let utf8 = (row.text.iter().flatten()).all(|c| c.is_ascii() || std::str::from_utf8(c).is_ok());
    let mut line = LogLine::default();
    line.app(row, person, utf8);
    match row.quote_free && !quoted_people {
        true => sheet.row_bytes_unquoted(&line.cells()),
        false => sheet.row_bytes(&line.cells()),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (as the search shows times) into `out`; its length. Written by
/// hand: chrono's formatter, once per row of a ten-million-row export, costs seconds.
fn iso_utc(t: chrono::NaiveDateTime, out: &mut [u8; 20]) -> usize {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        let text = crate::directory::utc(t);
        let n = text.len().min(out.len());
        out[..n].copy_from_slice(&text.as_bytes()[..n]);
        return n;
    }
    let two = |out: &mut [u8], v: u32| {
        out[0] = b'0' + (v / 10) as u8;
        out[1] = b'0' + (v % 10) as u8;
    };
    two(&mut out[0..2], year as u32 / 100);
    two(&mut out[2..4], year as u32 % 100);
    out[4] = b'-';
    two(&mut out[5..7], t.month());
    out[7] = b'-';
    two(&mut out[8..10], t.day());
    out[10] = b'T';
    two(&mut out[11..13], t.hour());
    out[13] = b':';
    two(&mut out[14..16], t.minute());
    out[16] = b':';
    two(&mut out[17..19], t.second());
    out[19] = b'Z';
    20
}

/// [`verify`], and then against the live audit trail (officers and auditors): the trail's
/// chain must hold, and it must record this very evidence. A pack's sign-off event must
/// be in the trail exactly as the manifest carries it; a CSV export's `export.*` event
/// must record the file's name and SHA-256. This catches what offline checks cannot: a
/// file rewritten together with its manifest, every hash recomputed.
pub async fn verify_against_trail(ctx: &Ctx, path: &Path) -> Result<VerifyResponse> {
    let r = ctx.as_reader("verifying an export against the audit trail")?;
    let mut checked = verify(path)?;
    let db = r.db();
    let chain = crate::audit::verify(ctx).await?;
    if !chain.ok {
        checked.problems.push(format!(
            "the audit trail itself does not verify (at event {}): it cannot vouch for this export",
            chain.first_bad_seq.unwrap_or_default()
        ));
    }
    let event_at = |seq: u64| async move {
        let search = warden_store::governance::AuditSearch {
            before: Some(seq + 1),
            limit: 1,
            ..Default::default()
        };
        let found = warden_store::governance::search_audit_events(db, &search).await?;
        Ok::<_, Error>(found.into_iter().next().filter(|(e, _, _)| e.seq == seq))
    };
    if path.is_dir() {
        let manifest_file = path.join("manifest.json");
        let text = std::fs::read(&manifest_file).map_err(|e| file_error(&manifest_file, e))?;
        if let Ok(m) = serde_json::from_slice::<warden_core::export::PackManifest>(&text) {
            match event_at(m.sign_off.seq).await? {
                Some((event, _, hash)) if hash == m.sign_off_hash && event == m.sign_off => {}
                Some(_) => checked.problems.push(format!(
                    "manifest.json: audit event {} in the trail is not the sign-off the manifest carries",
                    m.sign_off.seq
                )),
                None => checked.problems.push(format!(
                    "manifest.json: the trail has no audit event {}, the sign-off it names",
                    m.sign_off.seq
                )),
            }
        }
    } else {
        let csv_path = match path.to_string_lossy().strip_suffix(".manifest.json") {
            Some(csv) => PathBuf::from(csv),
            None => path.to_path_buf(),
        };
        let manifest_file = manifest_path(&csv_path);
        let text = std::fs::read(&manifest_file).map_err(|e| file_error(&manifest_file, e))?;
        if let Ok(m) = serde_json::from_slice::<Manifest>(&text) {
            let search = warden_store::governance::AuditSearch {
                action: Some(format!("export.{}", m.kind)),
                target: Some(m.file.clone()),
                limit: crate::audit::MAX_EVENTS,
                ..Default::default()
            };
            let events = warden_store::governance::search_audit_events(db, &search).await?;
            let recorded = events.iter().any(|(e, _, _)| {
                e.details["file"] == m.file.as_str() && e.details["sha256"] == m.sha256.as_str()
            });
            if !recorded {
                checked.problems.push(format!(
                    "{}: no export.{} event in the audit trail records this file with SHA-256 {}",
                    m.file, m.kind, m.sha256
                ));
            }
        }
    }
    checked.ok = checked.problems.is_empty();
    Ok(checked)
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VerifyResponse {
    pub ok: bool,
    pub file: String,
    pub rows: u64,
    /// What differs from the manifest; empty when intact.
    pub problems: Vec<String>,
}

/// Re-checks an exported CSV (or its manifest's path) against its manifest: SHA-256, byte
/// and row counts, and for the audit trail its hash chain up to the recorded head; or an
/// evidence pack's folder against its manifest.json. Offline: no database is needed.
pub fn verify(path: &Path) -> Result<VerifyResponse> {
    if path.is_dir() {
        return pack::verify(path);
    }
    let csv_path = match path.to_string_lossy().strip_suffix(".manifest.json") {
        Some(csv) => PathBuf::from(csv),
        None => path.to_path_buf(),
    };
    let manifest_path = manifest_path(&csv_path);
    let read = |p: &Path| std::fs::read(p).map_err(|e| file_error(p, e));
    let manifest: Manifest = match serde_json::from_slice(&read(&manifest_path)?) {
        Ok(m) => m,
        Err(e) => {
            return Ok(VerifyResponse {
                ok: false,
                file: csv_path.display().to_string(),
                rows: 0,
                problems: vec![format!(
                    "{}: does not read as a manifest: {e}",
                    manifest_path.display()
                )],
            });
        }
    };
    // Streamed (a large export is never held whole), but for the audit trail, which is
    // re-chained event by event.
    let mut problems = match manifest.kind.as_str() {
        "audit-trail" => warden_core::export::verify(&read(&csv_path)?, &manifest),
        _ => {
            let file = std::fs::File::open(&csv_path).map_err(|e| file_error(&csv_path, e))?;
            let input = std::io::BufReader::with_capacity(1 << 20, file);
            warden_core::export::verify_described(input, &manifest)
                .map_err(|e| file_error(&csv_path, e))?
        }
    };
    let on_disk = csv_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if on_disk.as_deref() != Some(manifest.file.as_str()) {
        problems.push(format!(
            "the manifest describes {:?}, not {:?}",
            manifest.file,
            on_disk.unwrap_or_default()
        ));
    }
    Ok(VerifyResponse {
        ok: problems.is_empty(),
        file: csv_path.display().to_string(),
        rows: manifest.rows,
        problems,
    })
}
