//! Console users: who may use Warden, and with which role.

use serde::{Deserialize, Serialize};

/// A console role. Officers do everything, reviewers decide their own review items,
/// auditors read and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ConsoleRole {
    Officer,
    Reviewer,
    Auditor,
}

impl ConsoleRole {
    pub const ALL: [ConsoleRole; 3] = [Self::Officer, Self::Reviewer, Self::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Officer => "officer",
            Self::Reviewer => "reviewer",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether the role may read the whole directory (every user, role and grant).
    pub fn reads_whole_directory(self) -> bool {
        matches!(self, Self::Officer | Self::Auditor)
    }
}

crate::named::by_name! { ConsoleRole => "console role" }

impl std::str::FromStr for ConsoleRole {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                crate::Error::Invalid(format!(
                    "unknown console role `{s}`: expected officer, reviewer or auditor"
                ))
            })
    }
}

/// How the actor's identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// The person's own database account and its password (the account the server
    /// authenticated decides who acts).
    Local,
    /// An identity proved by the company's OpenID Connect provider.
    Oidc,
}

/// Who is acting: the console user whose account the server authenticated. Console logins
/// compare in their identity form ([`identity`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub login: String,
    pub auth: AuthMode,
}

impl Actor {
    pub fn local(login: impl Into<String>) -> crate::Result<Self> {
        let login = normalize_login(&login.into())?;
        Ok(Self {
            login,
            auth: AuthMode::Local,
        })
    }
}

/// The one form in which logins and accounts are compared (DESIGN.md, "One identity
/// rule"): Unicode NFKC, case folded, NFKC again (folding can leave a composable pair), so
/// `Olivia`, `OLIVIA` and a fullwidth `Ｏｌｉｖｉａ` are one person and a reviewer cannot
/// pass as someone else, or someone else as themself, by the spelling of their name.
pub fn identity(login: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = login.trim().nfkc().flat_map(char::to_lowercase).collect();
    folded.nfkc().collect()
}

/// Whether two logins name the same person under [`identity`].
pub fn same_identity(a: &str, b: &str) -> bool {
    a == b || identity(a) == identity(b)
}

/// Trims a console login and refuses ones that cannot be a login.
pub fn normalize_login(raw: &str) -> crate::Result<String> {
    let login = raw.trim();
    if login.is_empty() {
        return Err(crate::Error::Invalid(
            "a console login must not be empty".into(),
        ));
    }
    if login.chars().count() > 190 {
        return Err(crate::Error::Invalid(
            "a console login is at most 190 characters".into(),
        ));
    }
    if login.chars().any(char::is_control) {
        return Err(crate::Error::Invalid(
            "a console login must not contain control characters".into(),
        ));
    }
    Ok(login.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_reject_others() {
        assert_eq!(
            "Officer".parse::<ConsoleRole>().unwrap(),
            ConsoleRole::Officer
        );
        assert_eq!(
            " auditor ".parse::<ConsoleRole>().unwrap(),
            ConsoleRole::Auditor
        );
        assert!("admin".parse::<ConsoleRole>().is_err());
    }

    #[test]
    fn only_officers_and_auditors_read_everything() {
        assert!(ConsoleRole::Officer.reads_whole_directory());
        assert!(ConsoleRole::Auditor.reads_whole_directory());
        assert!(!ConsoleRole::Reviewer.reads_whole_directory());
    }

    #[test]
    fn one_person_however_their_login_is_spelled() {
        assert!(same_identity("Olivia.Officer", "olivia.officer"));
        assert!(same_identity("Ｏｌｉｖｉａ", "olivia"), "fullwidth letters");
        assert!(same_identity("ＲＩＣＫ", "rick"));
        assert!(
            same_identity("e\u{301}lodie", "\u{c9}lodie"),
            "decomposed and composed"
        );
        assert!(same_identity("ﬁona", "fiona"), "the fi ligature");
        assert!(!same_identity("olivia", "olivia2"));
        assert!(
            !same_identity("rick", "rıck"),
            "a dotless i is another letter"
        );
        assert_eq!(identity("  Ｏlivia "), "olivia");
    }

    #[test]
    fn logins_are_trimmed_and_checked() {
        assert_eq!(normalize_login("  alice ").unwrap(), "alice");
        assert!(normalize_login("   ").is_err());
        assert!(normalize_login("a\nb").is_err());
    }
}
