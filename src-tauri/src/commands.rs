//! Tauri commands: each takes the state, calls one service function, converts the error.
//! (Kept out of lib.rs: `#[tauri::command] pub fn` there collides with its generated macro.)

use tauri::{AppHandle, State};
use warden_service::ErrorCode;
use warden_service::directory::{
    self, AccessRequest, AccessResponse, DashboardResponse, PermissionsResponse, RoleDetail,
    RoleRequest, RolesResponse, UsersRequest, UsersResponse, WhoCanRequest, WhoCanResponse,
};
use warden_service::findings::{
    self, CheckResponse, ComplianceSummary, FindingDetail, FindingsRequest, FindingsResponse,
    PolicySource, TriageRequest, TriageResponse,
};
use warden_service::logs::{self, ScanResponse, SearchRequest, SearchResponse, TimelineResponse};
use warden_service::policy::{
    self, AppliedPolicy, PolicyDiff, PolicyHistory, PolicyLint, PolicyVersionView, SimulateResponse,
};
use warden_service::reviews::{
    self, CampaignDetail, CampaignList, CloseResponse, DecideRequest, DecideResponse, ItemsRequest,
    ItemsResponse, ReassignRequest, ReassignResponse, StartRequest, Started,
};
use warden_service::session::Target;
use warden_store::{Secret, profiles};

use crate::ipc::{AddProfileRequest, ChosenFile, ConnectionInfo, IpcCode, IpcError};
use crate::reminders;
use crate::state::AppState;

type Result<T> = std::result::Result<T, IpcError>;

#[tauri::command]
pub async fn connection(
    app: AppHandle,
    state: State<'_, AppState>,
    retry: bool,
) -> Result<ConnectionInfo> {
    let info = state.info(retry).await;
    if info.connected {
        reminders::notify(&app).await;
    }
    Ok(info)
}

/// The connection screen after a sign-in attempt: its error, if any; when connected, the
/// reviewer's reminders.
async fn after_sign_in(
    app: &AppHandle,
    state: &AppState,
    outcome: std::result::Result<(), IpcError>,
) -> ConnectionInfo {
    let mut info = state.info(false).await;
    info.error = outcome.err();
    if info.connected {
        reminders::notify(app).await;
    }
    info
}

/// Signs in with a saved profile. The page names only a profile, never a URL: where the
/// app connects, and with which password, is the configuration's and the keyring's.
#[tauri::command]
pub async fn connect(
    app: AppHandle,
    state: State<'_, AppState>,
    profile: String,
) -> Result<ConnectionInfo> {
    let outcome = state.open(Target::Profile(profile)).await;
    Ok(after_sign_in(&app, &state, outcome).await)
}

/// The first sign-in: the account's password has expired (an initial one always has), so
/// the person chooses theirs; it is set on the server, kept (a profile's in the OS
/// keyring), and the connection is opened again.
#[tauri::command]
pub async fn change_password(
    app: AppHandle,
    state: State<'_, AppState>,
    new: String,
) -> Result<ConnectionInfo> {
    let outcome = state.change_password(Secret::new(new)).await;
    Ok(after_sign_in(&app, &state, outcome).await)
}

/// The person did something (the page reports input, at most twice a minute): the idle
/// time starts again. Answers whether the app is locked.
#[tauri::command]
pub async fn activity(state: State<'_, AppState>) -> Result<bool> {
    let locked = state.lock_if_idle().await;
    if !locked {
        state.touch();
    }
    Ok(locked)
}

/// Locks now (the page's idle timer ran out): the session is dropped.
#[tauri::command]
pub async fn lock(state: State<'_, AppState>) -> Result<ConnectionInfo> {
    state.lock().await;
    Ok(state.info(false).await)
}

/// Unlocks with the password the person typed, checked by the server.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, password: String) -> Result<ConnectionInfo> {
    let outcome = state.unlock(Secret::new(password)).await;
    let mut info = state.info(false).await;
    info.error = outcome.err();
    Ok(info)
}

#[tauri::command]
pub async fn add_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    req: AddProfileRequest,
) -> Result<ConnectionInfo> {
    let profile = profiles::Profile {
        hosts: vec![format!("{}:{}", req.host, req.port)],
        socket: None,
        database: req.database,
        user: req.user,
        tls: req.tls.parse()?,
        tls_ca: None,
        mapping: req.mapping,
        auth: warden_core::console::AuthMode::Local,
        governance_schema: None,
    };
    profiles::add_new(&req.name, profile, req.ca_pem.as_deref(), &req.password)?;
    connect(app, state, req.name).await
}

#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>) -> Result<DashboardResponse> {
    state
        .with(async |ctx| directory::dashboard(ctx).await)
        .await
}

#[tauri::command]
pub async fn users(state: State<'_, AppState>, req: UsersRequest) -> Result<UsersResponse> {
    state
        .with(async |ctx| directory::users(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn access(state: State<'_, AppState>, req: AccessRequest) -> Result<AccessResponse> {
    state
        .with(async |ctx| directory::access(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn roles(state: State<'_, AppState>) -> Result<RolesResponse> {
    state.with(async |ctx| directory::roles(ctx).await).await
}

#[tauri::command]
pub async fn role(state: State<'_, AppState>, req: RoleRequest) -> Result<RoleDetail> {
    state
        .with(async |ctx| directory::role(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn who_can(state: State<'_, AppState>, req: WhoCanRequest) -> Result<WhoCanResponse> {
    state
        .with(async |ctx| directory::who_can(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn permissions(state: State<'_, AppState>) -> Result<PermissionsResponse> {
    state
        .with(async |ctx| directory::permissions(ctx).await)
        .await
}

/// The editor's draft is named in errors as this.
const DRAFT: &str = "draft";

#[tauri::command]
pub async fn policy_show(
    state: State<'_, AppState>,
    version: Option<u32>,
) -> Result<PolicyVersionView> {
    state
        .with(async |ctx| policy::show(ctx, version).await)
        .await
}

#[tauri::command]
pub async fn policy_history(state: State<'_, AppState>) -> Result<PolicyHistory> {
    state.with(async |ctx| policy::history(ctx).await).await
}

#[tauri::command]
pub async fn policy_diff(state: State<'_, AppState>, from: u32, to: u32) -> Result<PolicyDiff> {
    state
        .with(async |ctx| policy::diff(ctx, from, to).await)
        .await
}

#[tauri::command]
pub async fn policy_lint(state: State<'_, AppState>, text: String) -> Result<PolicyLint> {
    state.with(async |ctx| policy::lint(ctx, &text).await).await
}

#[tauri::command]
pub async fn policy_apply(
    state: State<'_, AppState>,
    text: String,
    comment: String,
) -> Result<AppliedPolicy> {
    state
        .with(async |ctx| policy::apply(ctx, &text, DRAFT, &comment).await)
        .await
}

#[tauri::command]
pub async fn policy_simulate(
    state: State<'_, AppState>,
    text: String,
    days: u32,
) -> Result<SimulateResponse> {
    state
        .with(async |ctx| policy::simulate(ctx, &text, DRAFT, days).await)
        .await
}

#[tauri::command]
pub async fn check(state: State<'_, AppState>) -> Result<CheckResponse> {
    state
        .with(async |ctx| findings::check(ctx, PolicySource::Current).await)
        .await
}

#[tauri::command]
pub async fn findings(
    state: State<'_, AppState>,
    req: FindingsRequest,
) -> Result<FindingsResponse> {
    state
        .with(async |ctx| findings::findings(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn finding(state: State<'_, AppState>, id: u64) -> Result<FindingDetail> {
    state
        .with(async |ctx| findings::finding(ctx, id).await)
        .await
}

#[tauri::command]
pub async fn triage(state: State<'_, AppState>, req: TriageRequest) -> Result<TriageResponse> {
    state
        .with(async |ctx| findings::triage(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn compliance(state: State<'_, AppState>) -> Result<ComplianceSummary> {
    state.with(async |ctx| findings::summary(ctx).await).await
}

#[tauri::command]
pub async fn review_list(state: State<'_, AppState>) -> Result<CampaignList> {
    state.with(async |ctx| reviews::list(ctx).await).await
}

#[tauri::command]
pub async fn review_show(state: State<'_, AppState>, id: u64) -> Result<CampaignDetail> {
    state.with(async |ctx| reviews::show(ctx, id).await).await
}

#[tauri::command]
pub async fn review_items(state: State<'_, AppState>, req: ItemsRequest) -> Result<ItemsResponse> {
    state.with(async |ctx| reviews::items(ctx, req).await).await
}

#[tauri::command]
pub async fn review_start(state: State<'_, AppState>, req: StartRequest) -> Result<Started> {
    state.with(async |ctx| reviews::start(ctx, req).await).await
}

#[tauri::command]
pub async fn review_decide(
    state: State<'_, AppState>,
    req: DecideRequest,
) -> Result<DecideResponse> {
    state
        .with(async |ctx| reviews::decide(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn review_reassign(
    state: State<'_, AppState>,
    req: ReassignRequest,
) -> Result<ReassignResponse> {
    state
        .with(async |ctx| reviews::reassign(ctx, req).await)
        .await
}

/// A preview (`dry`), or the close of exactly what the preview showed (its `digest`).
#[tauri::command]
pub async fn review_close(
    state: State<'_, AppState>,
    id: u64,
    dry: bool,
    digest: Option<String>,
) -> Result<CloseResponse> {
    state
        .with(async |ctx| match (dry, digest) {
            (false, Some(d)) => reviews::close_as_previewed(ctx, id, &d).await,
            _ => reviews::close(ctx, id, dry).await,
        })
        .await
}

#[tauri::command]
pub async fn logs_search(state: State<'_, AppState>, req: SearchRequest) -> Result<SearchResponse> {
    state.with(async |ctx| logs::search(ctx, req).await).await
}

#[tauri::command]
pub async fn logs_scan(state: State<'_, AppState>, full: bool) -> Result<ScanResponse> {
    state.with(async |ctx| logs::scan(ctx, full).await).await
}

#[tauri::command]
pub async fn logs_timeline(
    state: State<'_, AppState>,
    req: SearchRequest,
    buckets: u32,
) -> Result<TimelineResponse> {
    state
        .with(async |ctx| logs::timeline(ctx, req, buckets).await)
        .await
}

/// Shows the native Open/Save dialog for `purpose`; None when the person cancelled. The
/// answer's number is what `export_start`, `logs_import` and `export_verify` take.
#[tauri::command]
pub async fn choose_file(
    app: AppHandle,
    state: State<'_, AppState>,
    chosen: State<'_, crate::chosen::Chosen>,
    purpose: crate::ipc::FilePurpose,
    suggested: Option<String>,
) -> Result<Option<ChosenFile>> {
    // Only for someone signed in: a locked or signed-out app shows no dialog.
    state.with(async |_signed_in| Ok(())).await?;
    Ok(crate::chosen::choose(&app, &chosen, purpose, suggested).await)
}

/// Starts importing the audit-log file chosen in the Open dialog (`file`), in the
/// background; returns the import's id.
#[tauri::command]
pub async fn logs_import(
    app: AppHandle,
    imports: State<'_, crate::imports::Imports>,
    chosen: State<'_, crate::chosen::Chosen>,
    format: String,
    file: u64,
) -> Result<u64> {
    let path = chosen.path(file, &[crate::ipc::FilePurpose::Import])?;
    // One import at a time: each holds a connection of the session's few for its length.
    if crate::imports::running(&imports) {
        return Err(IpcError {
            code: IpcCode::Service(ErrorCode::Conflict),
            message: "an import is running: wait for it to end, or cancel it".into(),
            detail: None,
        });
    }
    let (id, progress) = imports.start();
    tauri::async_runtime::spawn(async move {
        use tauri::Manager;
        let state = app.state::<AppState>();
        let outcome = state
            .with(async |ctx| logs::ingest_with(ctx, &format, &path, progress).await)
            .await;
        app.state::<crate::imports::Imports>().finish(id, outcome);
    });
    Ok(id)
}

/// How far an import has come.
#[tauri::command]
pub fn logs_import_status(
    imports: State<'_, crate::imports::Imports>,
    id: u64,
) -> Result<crate::ipc::ImportStatus> {
    crate::imports::status(&imports, id).ok_or_else(|| IpcError {
        code: IpcCode::Service(ErrorCode::NotFound),
        message: format!("no import {id}"),
        detail: None,
    })
}

/// Asks an import to stop after the chunk being written: what was committed is recorded,
/// and importing the file again goes on from there.
#[tauri::command]
pub fn logs_import_cancel(imports: State<'_, crate::imports::Imports>, id: u64) -> Result<()> {
    match crate::imports::cancel(&imports, id) {
        true => Ok(()),
        false => Err(IpcError {
            code: IpcCode::Service(ErrorCode::NotFound),
            message: format!("no import {id}"),
            detail: None,
        }),
    }
}

/// Starts an export to the file (or, for a pack, the folder) chosen in the Save dialog, in
/// the background; returns its id (see `export_status`).
#[tauri::command]
pub async fn export_start(
    app: AppHandle,
    exports: State<'_, crate::exports::Exports>,
    chosen: State<'_, crate::chosen::Chosen>,
    req: crate::ipc::ExportStart,
) -> Result<u64> {
    use crate::ipc::FilePurpose;
    let purpose = match req.what {
        warden_service::export::ExportKind::Campaign { .. } => FilePurpose::ExportFolder,
        _ => FilePurpose::ExportFile,
    };
    let path = chosen.path(req.file, &[purpose])?;
    let req = crate::ipc::ExportRequest {
        what: req.what,
        path: path.display().to_string(),
        bom: req.bom,
    };
    let (id, progress) = exports.start();
    tauri::async_runtime::spawn(async move {
        use tauri::Manager;
        let state = app.state::<AppState>();
        let outcome = state
            .with(async |ctx| warden_service::export::by_kind(ctx, req, &progress).await)
            .await;
        app.state::<crate::exports::Exports>().finish(id, outcome);
    });
    Ok(id)
}

/// How far an export has come.
#[tauri::command]
pub fn export_status(
    exports: State<'_, crate::exports::Exports>,
    id: u64,
) -> Result<crate::ipc::ExportStatus> {
    crate::exports::status(&exports, id).ok_or_else(|| IpcError {
        code: IpcCode::Service(ErrorCode::NotFound),
        message: format!("no export {id}"),
        detail: None,
    })
}

/// Asks an export to stop: it removes what it wrote.
#[tauri::command]
pub fn export_cancel(exports: State<'_, crate::exports::Exports>, id: u64) -> Result<()> {
    match crate::exports::cancel(&exports, id) {
        true => Ok(()),
        false => Err(IpcError {
            code: IpcCode::Service(ErrorCode::NotFound),
            message: format!("no export {id}"),
            detail: None,
        }),
    }
}

/// Re-checks an export or an evidence pack. Offline (the file and its manifest), but only
/// for someone signed in: the app reads no file for a page nobody has signed in to.
#[tauri::command]
pub async fn export_verify(
    state: State<'_, AppState>,
    chosen: State<'_, crate::chosen::Chosen>,
    file: u64,
) -> Result<warden_service::export::VerifyResponse> {
    use crate::ipc::FilePurpose;
    state.with(async |_signed_in| Ok(())).await?;
    // A file chosen to verify, or an export just written (verified from its result).
    let path = chosen.path(
        file,
        &[
            FilePurpose::Verify,
            FilePurpose::VerifyPack,
            FilePurpose::ExportFile,
            FilePurpose::ExportFolder,
        ],
    )?;
    state
        .with(async |_signed_in| warden_service::export::verify(&path))
        .await
}

#[tauri::command]
pub async fn audit_events(
    state: State<'_, AppState>,
    req: warden_service::audit::EventsRequest,
) -> Result<warden_service::audit::EventsResponse> {
    state
        .with(async |ctx| warden_service::audit::events(ctx, req).await)
        .await
}

#[tauri::command]
pub async fn audit_verify(state: State<'_, AppState>) -> Result<warden_service::audit::ChainState> {
    state
        .with(async |ctx| {
            let witness = warden_store::witness::path()?;
            let place = warden_service::audit::place(ctx, None);
            warden_service::audit::chain(ctx, &witness, &place).await
        })
        .await
}
