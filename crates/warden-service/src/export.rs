//! Exports an auditor can verify (DESIGN.md, Exports and evidence): the CSV is written to
//! a temporary name beside its destination, hashed and counted as it goes, synced and
//! renamed into place, then its manifest the same way; the export is an event on the
//! audit trail. `verify` re-checks a file against its manifest offline.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use warden_core::export::{CsvOut, Head, MANIFEST_FORMAT, Manifest};
use warden_store::governance::Change;

use crate::context::Ctx;
use crate::error::{Error, Result};

mod pack;
pub use pack::{PackResponse, campaign};

#[derive(Debug, Clone, Serialize)]
pub struct ExportResponse {
    pub file: String,
    pub manifest: String,
    pub rows: u64,
    pub sha256: String,
    pub audit_seq: u64,
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
        let staged = Self::stage(dest, false)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staged.temp)
            .map_err(|e| file_error(&staged.temp, e))?;
        Ok((staged, file))
    }

    /// A folder (the evidence pack) staged the same way: written whole under a temporary
    /// name, then renamed.
    fn create_dir(dest: &Path) -> Result<Self> {
        let staged = Self::stage(dest, true)?;
        std::fs::create_dir(&staged.temp).map_err(|e| file_error(&staged.temp, e))?;
        Ok(staged)
    }

    fn stage(dest: &Path, dir: bool) -> Result<Self> {
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
        let mut temp_name = prefix;
        temp_name.push(std::process::id().to_string());
        Ok(Self {
            temp: dest.with_file_name(temp_name),
            dest: dest.to_path_buf(),
            dir,
        })
    }

    fn commit(self, file: std::fs::File) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        file.sync_all().map_err(fail)?;
        drop(file);
        std::fs::rename(&self.temp, &self.dest).map_err(fail)?;
        Ok(())
    }

    /// Renames a staged folder into place once every file in it is synced.
    fn commit_dir(self) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        std::fs::File::open(&self.temp)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
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
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
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

/// The file an export writes, and what its manifest says of it.
struct Report<'a> {
    kind: &'static str,
    parameters: serde_json::Value,
    population_query: String,
    header: &'a [&'a str],
    out: &'a Path,
    bom: bool,
}

type Out = CsvOut<std::io::BufWriter<std::fs::File>>;

/// Writes `report`: the CSV filled by `fill` under a temporary name, renamed into place
/// when complete; its manifest the same way; then the export's audit event.
async fn write(
    ctx: &Ctx,
    db: &warden_store::Database,
    report: Report<'_>,
    fill: impl AsyncFnOnce(&mut Out) -> Result<()>,
) -> Result<ExportResponse> {
    let out = report.out;
    let io = |e: std::io::Error| file_error(out, e);
    let (head_seq, head_hash) = warden_store::governance::audit_head(db).await?;
    let source = warden_store::governance::server_identity(db).await?;
    let (staged, file) = Staged::create(out)?;
    let mut csv = CsvOut::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        report.header,
        report.bom,
    )
    .map_err(io)?;
    fill(&mut csv).await?;
    let (buffered, written) = csv.finish().map_err(io)?;
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    staged.commit(file)?;

    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
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
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: ctx.actor().login.clone(),
        audit_head: Head {
            seq: head_seq,
            hash: head_hash,
        },
    };
    let manifest_path = manifest_path(out);
    let (staged, mut file) = Staged::create(&manifest_path)?;
    serde_json::to_writer_pretty(&mut file, &manifest)
        .map_err(|e| file_error(&manifest_path, e))?;
    file.write_all(b"\n").map_err(io)?;
    staged.commit(file)?;

    let change = Change::begin(db, &ctx.actor().login).await?;
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

/// The console audit trail as CSV, one row per event with its hash (officers and
/// auditors).
pub async fn audit_trail(ctx: &Ctx, out: &Path, bom: bool) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the audit trail")?;
    let db = r.db();
    let report = Report {
        kind: "audit-trail",
        parameters: serde_json::json!({ "bom": bom }),
        population_query: warden_store::governance::AUDIT_EVENTS.into(),
        header: &warden_core::export::TRAIL_COLUMNS,
        out,
        bom,
    };
    write(ctx, db, report, async |csv: &mut Out| {
        warden_store::governance::stream_audit_events(db, |e, hash| {
            csv.row([
                e.seq.to_string(),
                e.occurred_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.actor.clone(),
                e.db_account.clone(),
                e.action.clone(),
                e.target.clone(),
                e.details.to_string(),
                hash.to_string(),
            ])
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
pub async fn access(ctx: &Ctx, out: &Path, bom: bool) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the access listing")?;
    let db = r.db();
    let loaded = crate::directory::load(&r).await?;
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
    };
    write(ctx, db, report, async |csv: &mut Out| {
        let found = crate::findings::findings(ctx, req).await?.findings;
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

/// Access-log search results: every page of `req`'s search (its page size and cursor
/// ignored), newest first, a page at a time (memory stays that of one page).
pub async fn logs(
    ctx: &Ctx,
    req: crate::logs::SearchRequest,
    out: &Path,
    bom: bool,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting access-log search results")?;
    let db = r.db();
    let mut parameters =
        serde_json::to_value(&req).map_err(|e| Error::Invalid(format!("the search: {e}")))?;
    if let Some(p) = parameters.as_object_mut() {
        p.remove("limit");
        p.remove("after");
        p.insert("bom".into(), bom.into());
    }
    let report = Report {
        kind: "logs",
        parameters,
        population_query: "warden logs search with these parameters: the application's \
            access log through the mapping and the imported audit-log events, newest first, \
            by keyset pages"
            .into(),
        header: &[
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
        ],
        out,
        bom,
    };
    write(ctx, db, report, async |csv: &mut Out| {
        let mut page_req = crate::logs::SearchRequest {
            limit: Some(crate::logs::MAX_PAGE),
            after: None,
            ..req
        };
        loop {
            let page = crate::logs::search(ctx, page_req.clone()).await?;
            for row in page.rows {
                let text = |v: Option<String>| v.unwrap_or_default();
                csv.row([
                    row.source,
                    row.id.to_string(),
                    text(row.at),
                    row.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    text(row.login),
                    text(row.department),
                    text(row.action),
                    text(row.resource_type),
                    text(row.resource_id),
                    text(row.outcome),
                    text(row.client_address),
                    text(row.user_agent),
                    text(row.statement),
                    text(row.origin),
                ])
                .map_err(|e| file_error(out, e))?;
            }
            match page.next {
                Some(next) => page_req.after = Some(next),
                None => return Ok(()),
            }
        }
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
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
    let bytes = read(&csv_path)?;
    let mut problems = warden_core::export::verify(&bytes, &manifest);
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
