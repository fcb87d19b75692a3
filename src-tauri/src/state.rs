//! The app's managed state: the one open session (a service context), if any.

use tokio::sync::RwLock;
use warden_service::Ctx;
use warden_service::session::{self, OpenRequest, Target};
use warden_store::Secret;

use crate::ipc::{ConnectionInfo, IpcError, ProfileSummary};

pub struct AppState {
    session: RwLock<Option<Ctx>>,
    /// The target last tried, and (for a URL) the password chosen at first sign-in, which
    /// replaces `WARDEN_DATABASE_PASSWORD` for this run; a profile's goes to the keyring.
    last: RwLock<Option<Target>>,
    url_password: RwLock<Option<Secret>>,
    /// Where to connect at start: `WARDEN_DATABASE_URL` or `WARDEN_PROFILE` (the demo sets one).
    initial: Option<Target>,
    tried_initial: RwLock<bool>,
}

impl AppState {
    pub fn from_env() -> Self {
        let initial = std::env::var("WARDEN_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Target::Url)
            .or_else(|| {
                std::env::var("WARDEN_PROFILE")
                    .ok()
                    .filter(|p| !p.is_empty())
                    .map(Target::Profile)
            });
        Self {
            session: RwLock::new(None),
            last: RwLock::new(None),
            url_password: RwLock::new(None),
            initial,
            tried_initial: RwLock::new(false),
        }
    }

    /// Opens a session on `target`, replacing the current one only if this one works.
    pub async fn open(&self, target: Target) -> Result<(), IpcError> {
        *self.last.write().await = Some(target.clone());
        let ctx = session::open(&OpenRequest {
            target,
            mapping: None,
            with_mapping: true,
            url_password: self.url_password.read().await.clone(),
        })
        .await?;
        if let Some(old) = self.session.write().await.replace(ctx) {
            old.close().await;
        }
        Ok(())
    }

    /// The connection screen's data; connects to the initial target on first call, and again
    /// when `retry` asks (after an error).
    pub async fn info(&self, retry: bool) -> ConnectionInfo {
        let mut error = None;
        {
            let mut tried = self.tried_initial.write().await;
            if retry && self.session.read().await.is_none() {
                *tried = false;
            }
            if !*tried {
                *tried = true;
                if let Some(target) = self.initial.clone()
                    && let Err(e) = self.open(target).await
                {
                    error = Some(e);
                }
            }
        }
        let profiles = warden_store::profiles::list()
            .map(|all| {
                all.into_iter()
                    .map(|(name, p)| ProfileSummary {
                        name,
                        hosts: p.hosts,
                        user: p.user,
                        database: p.database,
                        mapping: p.mapping,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let session = self.session.read().await;
        ConnectionInfo {
            connected: session.is_some(),
            target: session.as_ref().map(|c| c.target().to_string()),
            actor: session.as_ref().map(|c| c.actor().login.clone()),
            role: session.as_ref().map(|c| c.role()),
            read_only: false,
            profiles,
            error,
        }
    }

    /// Sets a new password for the account of the target last tried (its password expired:
    /// the first sign-in), then opens it again.
    pub async fn change_password(&self, new: Secret) -> Result<(), IpcError> {
        let target = self
            .last
            .read()
            .await
            .clone()
            .ok_or_else(IpcError::not_connected)?;
        let current = self.url_password.read().await.clone();
        session::change_password(&target, current.as_ref(), &new).await?;
        if let Target::Url(_) = target {
            *self.url_password.write().await = Some(new);
        }
        self.open(target).await
    }

    /// Runs `f` with the open session.
    pub async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&Ctx) -> Result<T, warden_service::Error>,
    ) -> Result<T, IpcError> {
        let session = self.session.read().await;
        let ctx = session.as_ref().ok_or_else(IpcError::not_connected)?;
        Ok(f(ctx).await?)
    }
}
