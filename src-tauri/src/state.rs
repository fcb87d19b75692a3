//! The app's managed state: the one open session (a service context), if any.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;
use warden_service::Ctx;
use warden_service::session::{self, OpenRequest, Target};
use warden_store::Secret;

use crate::ipc::{ConnectionInfo, IpcError, ProfileSummary};

/// How long without input before the app locks, unless `[desktop] idle_lock` says.
const DEFAULT_IDLE: Duration = Duration::from_secs(15 * 60);

pub struct AppState {
    session: RwLock<Option<Ctx>>,
    /// The target last tried, and (for a URL) the password chosen at first sign-in, which
    /// replaces `WARDEN_DATABASE_PASSWORD` for this run; a profile's goes to the keyring.
    last: RwLock<Option<Target>>,
    url_password: RwLock<Option<Secret>>,
    /// The idle lock: after `idle` without the person's input the session is dropped and
    /// the password asked again. Measured on the monotonic clock (how long, not when).
    idle: Duration,
    last_input: Mutex<Instant>,
    locked: RwLock<bool>,
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
        // A setting that does not parse locks at the default rather than never.
        let idle = warden_store::profiles::desktop_settings()
            .and_then(|d| d.idle_lock())
            .unwrap_or(DEFAULT_IDLE);
        Self {
            session: RwLock::new(None),
            last: RwLock::new(None),
            url_password: RwLock::new(None),
            idle,
            last_input: Mutex::new(Instant::now()),
            locked: RwLock::new(false),
            initial,
            tried_initial: RwLock::new(false),
        }
    }

    /// Opens a session on `target`, replacing the current one only if this one works.
    /// While locked only [`AppState::unlock`] opens a session: nothing else (a retry of the
    /// initial target, a profile, a password change) may step around the password.
    pub async fn open(&self, target: Target) -> Result<(), IpcError> {
        if *self.locked.read().await {
            return Err(IpcError::locked());
        }
        let typed = self.password_for(&target).await?;
        self.open_with(target, typed).await
    }

    /// The password a target signs in with. A profile's is its own, from the OS keyring:
    /// never `WARDEN_DATABASE_PASSWORD`, which belongs to the URL the app was started with
    /// (the page names only saved profiles, and a profile it just saved could point
    /// anywhere). That URL's password is the environment's until the person changes it.
    async fn password_for(&self, target: &Target) -> Result<Option<Secret>, IpcError> {
        Ok(match target {
            Target::Url(_) => self.url_password.read().await.clone(),
            Target::Profile(name) => Some(warden_store::profiles::password(name)?),
        })
    }

    async fn open_with(&self, target: Target, typed: Option<Secret>) -> Result<(), IpcError> {
        *self.last.write().await = Some(target.clone());
        let ctx = session::open(&OpenRequest {
            target,
            mapping: None,
            with_mapping: true,
            password: typed,
        })
        .await?;
        if let Some(old) = self.session.write().await.replace(ctx) {
            old.close().await;
        }
        *self.locked.write().await = false;
        self.touch();
        Ok(())
    }

    /// The person did something: the idle time starts again.
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_input.lock() {
            *t = Instant::now();
        }
    }

    fn idle_for(&self) -> Duration {
        self.last_input
            .lock()
            .map_or(Duration::MAX, |t| t.elapsed())
    }

    /// Locks: the session is dropped (its connections closed); only the password opens it
    /// again.
    pub async fn lock(&self) {
        let old = self.session.write().await.take();
        if let Some(old) = old {
            *self.locked.write().await = true;
            old.close().await;
        }
    }

    /// Locks if the person has been idle too long; answers whether it is locked.
    pub async fn lock_if_idle(&self) -> bool {
        if self.session.read().await.is_some() && self.idle_for() >= self.idle {
            self.lock().await;
        }
        *self.locked.read().await
    }

    /// Unlocks with the password the person typed: the server checks it, by opening the
    /// locked session's target with it.
    pub async fn unlock(&self, password: Secret) -> Result<(), IpcError> {
        let target = self
            .last
            .read()
            .await
            .clone()
            .ok_or_else(IpcError::not_connected)?;
        self.open_with(target, Some(password)).await
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
        let locked = self.lock_if_idle().await;
        let session = self.session.read().await;
        ConnectionInfo {
            locked,
            idle_lock_seconds: self.idle.as_secs(),
            connected: session.is_some(),
            target: session.as_ref().map(|c| c.target().to_string()),
            actor: session.as_ref().map(|c| c.actor().login.clone()),
            role: session.as_ref().map(|c| c.role()),
            read_only: session.as_ref().is_some_and(|c| c.read_only().is_some()),
            read_only_reason: session.as_ref().and_then(|c| c.read_only()),
            profiles,
            error,
        }
    }

    /// Sets a new password for the account of the target last tried (its password expired:
    /// the first sign-in), then opens it again.
    pub async fn change_password(&self, new: Secret) -> Result<(), IpcError> {
        if *self.locked.read().await {
            return Err(IpcError::locked());
        }
        let target = self
            .last
            .read()
            .await
            .clone()
            .ok_or_else(IpcError::not_connected)?;
        let current = self.password_for(&target).await?;
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
        if self.lock_if_idle().await {
            return Err(IpcError::locked());
        }
        let session = self.session.read().await;
        let ctx = session.as_ref().ok_or_else(IpcError::not_connected)?;
        Ok(f(ctx).await?)
    }
}
