//! What findings are called and how serious they are: the closed sets that policies,
//! evaluation, the detectors and the store all speak.

use serde::{Deserialize, Serialize};

use crate::named::by_name;

macro_rules! kinds {
    ($($variant:ident = $name:literal, $severity:ident, $policy:literal;)*) => {
        /// What a finding is about (CLI.md, Policies and findings).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(rename_all = "snake_case")]
        pub enum FindingKind {
            $($variant,)*
        }

        impl FindingKind {
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingKind::$variant => $name,)*
                }
            }

            /// How serious a finding of this kind is.
            pub fn severity(self) -> Severity {
                match self {
                    $(FindingKind::$variant => Severity::$severity,)*
                }
            }

            /// Found by evaluating a policy against the directory (the others come from
            /// the access-log detectors).
            pub fn is_policy_kind(self) -> bool {
                match self {
                    $(FindingKind::$variant => $policy,)*
                }
            }
        }
    };
}

kinds! {
    NoJobFunction = "no_job_function", Medium, true;
    ExcessPermission = "excess_permission", Medium, true;
    SodConflict = "sod_conflict", High, true;
    TooManyRoles = "too_many_roles", Low, true;
    DormantAccount = "dormant_account", Medium, true;
    OrphanAccount = "orphan_account", Medium, true;
    InactiveWithRoles = "inactive_with_roles", High, true;
    Superuser = "superuser", High, true;
    NoMfa = "no_mfa", Medium, true;
    WeakPasswordHash = "weak_password_hash", High, true;
    GrantOutsideReview = "grant_outside_review", Medium, true;
    Enumeration = "enumeration", High, false;
    DeniedBurst = "denied_burst", Medium, false;
    OffHours = "off_hours", Low, false;
    OutsidePolicy = "outside_policy", High, false;
    NoBusinessReason = "no_business_reason", Medium, false;
    DormantActivity = "dormant_activity", High, false;
    BulkExport = "bulk_export", High, false;
}

impl FindingKind {
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

/// How serious a finding is; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Found and not yet looked at.
    Open,
    /// Seen by someone who said so; still present.
    Acknowledged,
    /// Gone from the directory, or said to be fixed (reopened if it comes back).
    Resolved,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 3] = [Self::Open, Self::Acknowledged, Self::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status a triage action leads to, or why it cannot be taken from here.
    pub fn triage(self, action: Triage) -> Result<Self, String> {
        match (self, action) {
            (Self::Open, Triage::Ack) => Ok(Self::Acknowledged),
            (Self::Open | Self::Acknowledged, Triage::Resolve) => Ok(Self::Resolved),
            (Self::Acknowledged | Self::Resolved, Triage::Reopen) => Ok(Self::Open),
            (from, action) => Err(format!(
                "a finding that is {} cannot be {}",
                from.as_str(),
                action.past()
            )),
        }
    }
}

/// What a person can do with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Triage {
    Ack,
    Resolve,
    Reopen,
}

impl Triage {
    pub const ALL: [Triage; 3] = [Self::Ack, Self::Resolve, Self::Reopen];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ack => "ack",
            Self::Resolve => "resolve",
            Self::Reopen => "reopen",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ack" => Some(Self::Ack),
            "resolve" => Some(Self::Resolve),
            "reopen" => Some(Self::Reopen),
            _ => None,
        }
    }

    /// The word stored in a finding's history.
    pub fn past(self) -> &'static str {
        match self {
            Self::Ack => "acknowledged",
            Self::Resolve => "resolved",
            Self::Reopen => "reopened",
        }
    }
}

by_name! {
    FindingKind => "finding kind",
    Severity => "severity",
    FindingStatus => "finding status",
    Triage => "triage action",
}
