//! Connection profiles in `$XDG_CONFIG_HOME/warden/config.toml`, with their passwords in the
//! OS keyring. The config file never holds a password.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use warden_core::console::AuthMode;

use crate::connect::{ConnectSpec, TlsMode};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keyring service name under which profile passwords are stored.
pub const KEYRING_SERVICE: &str = "warden";

/// One connection profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `host` or `host:port`; several for a primary and its replicas.
    pub hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    pub database: String,
    pub user: String,
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
    #[serde(default = "default_mapping")]
    pub mapping: String,
    #[serde(default = "default_auth")]
    pub auth: AuthMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance_schema: Option<String>,
}

fn default_tls() -> TlsMode {
    TlsMode::VerifyIdentity
}
fn default_mapping() -> String {
    "reference".into()
}
fn default_auth() -> AuthMode {
    AuthMode::Local
}

impl Profile {
    /// The connection spec, with the password given (from the keyring or the environment).
    pub fn spec(&self, password: Option<Secret>) -> ConnectSpec {
        ConnectSpec {
            hosts: self.hosts.clone(),
            socket: self.socket.clone(),
            user: self.user.clone(),
            password,
            database: self.database.clone(),
            tls: self.tls,
            tls_ca: self.tls_ca.clone(),
            governance_schema: self.governance_schema.clone(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    desktop: Option<DesktopSettings>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The desktop app's settings (`[desktop]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesktopSettings {
    /// After how long without input the app locks: `15m` (the default), `90s`, `1h`.
    #[serde(default = "default_idle_lock")]
    pub idle_lock: String,
}

fn default_idle_lock() -> String {
    "15m".into()
}

impl Default for DesktopSettings {
    fn default() -> Self {
        Self {
            idle_lock: default_idle_lock(),
        }
    }
}

impl DesktopSettings {
    /// The idle time as a duration: a number and a unit (`s`, `m` or `h`), from 10 seconds
    /// to 24 hours.
    pub fn idle_lock(&self) -> Result<std::time::Duration> {
        let text = self.idle_lock.trim();
        let bad = || {
            Error::Config(format!(
                "[desktop] idle_lock = {text:?}: a number and a unit, such as 15m, 90s or 1h, \
                 from 10s to 24h"
            ))
        };
        let split = text.len().checked_sub(1).ok_or_else(bad)?;
        let (n, unit) = text.split_at(split);
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => n,
            "m" => n.checked_mul(60).ok_or_else(bad)?,
            "h" => n.checked_mul(3600).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !(10..=86_400).contains(&seconds) {
            return Err(bad());
        }
        Ok(std::time::Duration::from_secs(seconds))
    }
}

/// The desktop app's settings from the config file (the defaults when it has none).
pub fn desktop_settings() -> Result<DesktopSettings> {
    Ok(load(&config_path()?)?.desktop.unwrap_or_default())
}

/// The config file's location: `$XDG_CONFIG_HOME/warden/config.toml`, or
/// `~/.config/warden/config.toml`.
pub fn config_path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".config"))
            .ok_or_else(|| Error::Config("neither XDG_CONFIG_HOME nor HOME is set".into()))?,
    };
    Ok(base.join("warden").join("config.toml"))
}

fn load(path: &Path) -> Result<ConfigFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', " ")
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(e) => Err(Error::Config(format!("{}: {e}", path.display()))),
    }
}

fn save(path: &Path, config: &ConfigFile) -> Result<()> {
    let text = toml::to_string_pretty(config)
        .map_err(|e| Error::Config(format!("cannot write the config: {e}")))?;
    let dir = path
        .parent()
        .ok_or_else(|| Error::Config(format!("{}: no parent folder", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    // Write beside, then rename: a crash never leaves half a config.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::Config(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::Config(format!(
            "profile name {name:?}: use 1 to 64 letters, digits, `-` or `_`"
        )));
    }
    Ok(())
}

/// The largest CA file a profile keeps (a chain of a few certificates is some kilobytes).
const MAX_CA_PEM: usize = 64 << 10;

/// Keeps a CA certificate (PEM, as the app's connection form read it from the file the
/// person chose) beside the config, as `ca/NAME-<its SHA-256>.pem`, owner-only, and returns
/// its path for the profile's `tls_ca`. Named by its content, it never replaces the CA
/// another profile (or an earlier one of this name) pins. Refused unless it is PEM
/// certificates and nothing else.
pub fn save_ca(name: &str, pem: &str) -> Result<PathBuf> {
    use sha2::Digest;
    check_name(name)?;
    check_ca_pem(pem)?;
    let digest = hex::encode(sha2::Sha256::digest(pem.as_bytes()));
    let path = config_path()?;
    let dir = path
        .parent()
        .ok_or_else(|| Error::Config(format!("{}: no parent folder", path.display())))?
        .join("ca");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    let file = dir.join(format!("{name}-{}.pem", &digest[..16]));
    let tmp = dir.join(format!(
        ".{name}-{}.pem.{}.tmp",
        &digest[..16],
        std::process::id()
    ));
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::Config(format!("{}: {e}", tmp.display())))?;
        f.write_all(pem.as_bytes())
            .map_err(|e| Error::Config(format!("{}: {e}", tmp.display())))?;
    }
    std::fs::rename(&tmp, &file).map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
    Ok(file)
}

/// PEM certificate blocks only, each of base64, within [`MAX_CA_PEM`].
fn check_ca_pem(pem: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::Config(format!("the CA file {why}")));
    if pem.len() > MAX_CA_PEM {
        return bad("is larger than 64 KiB: a CA certificate is a few kilobytes");
    }
    let (mut blocks, mut inside) = (0, false);
    for (n, line) in pem.lines().map(str::trim).enumerate() {
        match (inside, line) {
            (_, "") => {}
            (false, "-----BEGIN CERTIFICATE-----") => inside = true,
            (true, "-----END CERTIFICATE-----") => {
                inside = false;
                blocks += 1;
            }
            (true, l)
                if l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) => {}
            _ => {
                return bad(&format!(
                    "is not a PEM certificate (line {}): choose the CA's .pem or .crt file",
                    n + 1
                ));
            }
        }
    }
    if inside || blocks == 0 {
        return bad("holds no complete PEM certificate: choose the CA's .pem or .crt file");
    }
    Ok(())
}

/// Every profile, by name.
pub fn list() -> Result<BTreeMap<String, Profile>> {
    Ok(load(&config_path()?)?.profiles)
}

/// One profile by name.
pub fn get(name: &str) -> Result<Profile> {
    let path = config_path()?;
    load(&path)?.profiles.remove(name).ok_or_else(|| {
        Error::Config(format!(
            "no profile `{name}` in {} (add one with `warden profile add {name} …`)",
            path.display()
        ))
    })
}

/// Saves a profile and stores its password in the keyring. The password is stored first,
/// so a keyring failure leaves the config file as it was.
pub fn add(name: &str, profile: Profile, password: &Secret) -> Result<()> {
    check_profile(name, &profile, profile.tls_ca.is_some())?;
    let path = config_path()?;
    let mut config = load(&path)?;
    off_runtime(|| {
        keyring_entry(name)?
            .set_password(password.expose())
            .map_err(|e| keyring_error(name, e))
    })?;
    config.profiles.insert(name.to_string(), profile);
    save(&path, &config)
}

fn check_profile(name: &str, profile: &Profile, with_ca: bool) -> Result<()> {
    check_name(name)?;
    if profile.hosts.is_empty() && profile.socket.is_none() {
        return Err(Error::Config("a profile needs at least one host".into()));
    }
    if with_ca && !profile.tls.verifies() {
        return Err(Error::Config(
            "a CA (--tls-ca) is for verifying the server: use --tls verify-ca or verify-identity with it"
                .into(),
        ));
    }
    Ok(())
}

/// A new profile whose CA, if any, came as PEM text (the desktop's connection form): never
/// replaces a profile of that name (its host, password and pinned CA stay as their owner
/// set them), and checks everything before the CA is kept and the profile saved.
pub fn add_new(
    name: &str,
    mut profile: Profile,
    ca_pem: Option<&str>,
    password: &Secret,
) -> Result<()> {
    if list()?.contains_key(name) {
        return Err(Error::Config(format!(
            "a profile named `{name}` exists: choose another name, or remove it first \
             (`warden profile remove {name}`)"
        )));
    }
    let ca_pem = ca_pem.filter(|p| !p.trim().is_empty());
    check_profile(name, &profile, ca_pem.is_some())?;
    if let Some(pem) = ca_pem {
        profile.tls_ca = Some(save_ca(name, pem)?);
    }
    add(name, profile, password)
}

/// Replaces a profile's password in the OS keyring (after the server took a new one).
pub fn set_password(name: &str, password: &Secret) -> Result<()> {
    get(name)?;
    off_runtime(|| {
        keyring_entry(name)?
            .set_password(password.expose())
            .map_err(|e| keyring_error(name, e))
    })
}

/// Removes a profile and its keyring entry.
pub fn remove(name: &str) -> Result<()> {
    let path = config_path()?;
    let mut config = load(&path)?;
    if config.profiles.remove(name).is_none() {
        return Err(Error::NotFound(format!(
            "no profile `{name}` in {}",
            path.display()
        )));
    }
    off_runtime(|| match keyring_entry(name)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(name, e)),
    })?;
    save(&path, &config)
}

/// The profile's password from the OS keyring.
pub fn password(name: &str) -> Result<Secret> {
    off_runtime(|| {
        keyring_entry(name)?
            .get_password()
            .map(Secret::new)
            .map_err(|e| keyring_error(name, e))
    })
}

/// Runs a keyring call on a thread of its own. The Secret Service client blocks on a
/// runtime of its own, which must not be started from inside the caller's async runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|_| Err(Error::Config("the OS keyring client failed".into())))
    })
}

/// The profile's keyring entry. A build whose platform has no supported OS keyring gets
/// keyring's in-memory mock store, which would keep a password until the process ends and
/// then lose it: that is refused, never used.
fn keyring_entry(name: &str) -> Result<keyring::Entry> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, &format!("profile:{name}"))
        .map_err(|e| keyring_error(name, e))?;
    if entry
        .get_credential()
        .downcast_ref::<keyring::mock::MockCredential>()
        .is_some()
    {
        return Err(Error::Config(
            "this build of Warden has no OS keyring for this platform, so it cannot keep a \
             password: use --database-url with WARDEN_DATABASE_PASSWORD instead"
                .into(),
        ));
    }
    Ok(entry)
}

fn keyring_error(name: &str, e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoEntry => Error::Config(format!(
            "the OS keyring has no password for profile `{name}`: run `warden profile add {name} …` again"
        )),
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            Error::Config(format!(
                "the OS keyring is unavailable ({e}); start a Secret Service (gnome-keyring, KeePassXC) \
                 in this session, or set WARDEN_DATABASE_PASSWORD for automation"
            ))
        }
        other => Error::Config(format!("the OS keyring refused profile `{name}`: {other}")),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_ca_file_is_pem_certificates_and_nothing_else() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
        assert!(check_ca_pem(cert).is_ok());
        assert!(check_ca_pem(&format!("{cert}{cert}")).is_ok(), "a chain");
        for bad in [
            "",
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\n<script>alert(1)</script>\n-----END CERTIFICATE-----\n",
            "../../etc/passwd",
        ] {
            assert!(check_ca_pem(bad).is_err(), "{bad:?}");
        }
        assert!(check_ca_pem(&format!("{cert}{}", "A".repeat(70_000))).is_err());
    }
    use super::*;

    /// (This test process keeps keyring's mock as its default store afterwards: no other
    /// test of this crate's library touches the keyring.)
    #[test]
    fn a_mock_keyring_is_refused_not_used() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let err = keyring_entry("p").unwrap_err();
        assert!(
            err.to_string().contains("no OS keyring for this platform"),
            "{err}"
        );
    }
}
