//! Tauri commands: each takes the state, calls one service function, converts the error.
//! (Kept out of lib.rs: `#[tauri::command] pub fn` there collides with its generated macro.)

use tauri::State;
use warden_service::directory::{
    self, AccessRequest, AccessResponse, DashboardResponse, PermissionsResponse, RoleDetail,
    RoleRequest, RolesResponse, UsersRequest, UsersResponse, WhoCanRequest, WhoCanResponse,
};
use warden_service::session::Target;
use warden_store::{Secret, profiles};

use crate::ipc::{AddProfileRequest, ConnectionInfo, IpcError};
use crate::state::AppState;

type Result<T> = std::result::Result<T, IpcError>;

#[tauri::command]
pub async fn connection(state: State<'_, AppState>, retry: bool) -> Result<ConnectionInfo> {
    Ok(state.info(retry).await)
}

#[tauri::command]
pub async fn connect(state: State<'_, AppState>, target: Target) -> Result<ConnectionInfo> {
    let outcome = state.open(target).await;
    let mut info = state.info(false).await;
    info.error = outcome.err();
    Ok(info)
}

#[tauri::command]
pub async fn add_profile(
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
    profiles::add(&req.name, profile, &Secret::new(req.password))?;
    connect(state, Target::Profile(req.name)).await
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
