//! Opening a session: which database (a URL or a profile), with which password (the OS
//! keyring, or `WARDEN_DATABASE_PASSWORD` for automation), and which mapping. Who acts is
//! not chosen here: it is the console user whose account the server authenticated.
//! Both front ends open their context here.

use std::path::Path;

use warden_core::console::AuthMode;
use warden_core::mapping::Mapping;
use warden_store::{ConnectSpec, Database, Secret, profiles};

use crate::context::Ctx;
use crate::error::{Error, Result};

/// Which database to open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Target {
    /// `mysql://user@host:port/db`; the password comes from `WARDEN_DATABASE_PASSWORD`.
    Url(String),
    /// A profile from the config file; the password comes from the OS keyring.
    Profile(String),
}

fn env_password() -> Option<Secret> {
    std::env::var("WARDEN_DATABASE_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
}

/// Connects to the target. Returns the database and the profile's mapping name, if any.
pub async fn connect(target: &Target) -> Result<(Database, Option<String>)> {
    let (spec, mapping) = spec_for(target, None)?;
    Ok((Database::connect(&spec).await?, mapping))
}

/// How to connect to the target, with its password, and the profile's mapping name. The
/// password is `typed` when given (the app's unlock, or one changed at first sign-in), else
/// `WARDEN_DATABASE_PASSWORD`, else (a profile) the OS keyring.
fn spec_for(target: &Target, typed: Option<&Secret>) -> Result<(ConnectSpec, Option<String>)> {
    let (spec, mapping, auth) = match target {
        Target::Url(url) => {
            let mut spec = ConnectSpec::from_url(url)?;
            spec.password = typed.cloned().or_else(env_password);
            (spec, None, AuthMode::Local)
        }
        Target::Profile(name) => {
            let profile = profiles::get(name)?;
            let password = match typed.cloned().or_else(env_password) {
                Some(p) => p,
                None => profiles::password(name)?,
            };
            (
                profile.spec(Some(password)),
                Some(profile.mapping),
                profile.auth,
            )
        }
    };
    if auth == AuthMode::Oidc {
        return Err(warden_store::Error::Config(
            "this profile uses OpenID Connect, which this build of Warden cannot log in with yet; \
             use a profile with auth = \"local\""
                .into(),
        )
        .into());
    }
    Ok((spec, mapping))
}

/// Sets a new password for the target's account: the one the server asks for at first
/// sign-in (an initial password is already expired), or any time. For a profile, the new
/// password replaces the old in the OS keyring once the server has taken it; for a URL,
/// the caller updates `WARDEN_DATABASE_PASSWORD`.
pub async fn change_password(
    target: &Target,
    current: Option<&Secret>,
    new: &Secret,
) -> Result<()> {
    let (spec, _) = spec_for(target, current)?;
    warden_store::accounts::change_password(&spec, new).await?;
    if let Target::Profile(name) = target {
        profiles::set_password(name, new)?;
    }
    Ok(())
}

/// A mapping by preset name or TOML file. A file that does not parse is rejected input
/// (with line and column); a name that is neither is a usage error.
pub fn load_mapping(name: &str) -> Result<Mapping> {
    if let Some(m) = Mapping::preset(name) {
        return Ok(m);
    }
    let path = Path::new(name);
    if !path.is_file() {
        return Err(warden_store::Error::Config(format!(
            "mapping {name}: neither a preset (reference, django, laravel-permission) nor a readable file"
        ))
        .into());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| warden_store::Error::Config(format!("{}: {e}", path.display())))?;
    Mapping::from_toml(&text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

/// The mapping to read `target` with: the one named explicitly, else the profile's, else
/// `reference`.
pub fn mapping_for(target: &Target, explicit: Option<&str>) -> Result<Mapping> {
    match (explicit, target) {
        (Some(name), _) => load_mapping(name),
        (None, Target::Profile(profile)) => load_mapping(&profiles::get(profile)?.mapping),
        (None, Target::Url(_)) => load_mapping("reference"),
    }
}

/// What to open a context with.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub target: Target,
    /// A preset or file; else the profile's mapping; else `reference`.
    pub mapping: Option<String>,
    /// Whether the use cases need the application's tables (the directory) or only
    /// Warden's own (console users).
    pub with_mapping: bool,
    /// The password to use instead of `WARDEN_DATABASE_PASSWORD` or the keyring's (typed
    /// by the person: the app's unlock).
    pub password: Option<Secret>,
}

/// Connects, establishes the actor and their console role from the account the server
/// authenticated, and checks the mapping when needed.
pub async fn open(req: &OpenRequest) -> Result<Ctx> {
    let mapping = match req.with_mapping {
        true => Some(mapping_for(&req.target, req.mapping.as_deref())?),
        false => None,
    };
    let (spec, _) = spec_for(&req.target, req.password.as_ref())?;
    let db = Database::connect(&spec).await?;
    Ctx::establish(db, mapping).await
}
