//! Closed sets that travel by name: a finding's kind, a campaign's status, a reviewer's
//! verdict. Each is a Rust enum everywhere; only at the edges is it a word, and every edge
//! speaks the same word: `as_str` (the database column, the CSV cell, the audit event),
//! serde (JSON on the CLI and over IPC), and, with the `ts` feature, a TypeScript string
//! union. With the `sqlx` feature each binds and decodes as that word, so a row read from
//! the store is typed as it arrives and an unknown word is an error naming the column.

/// Implements, for enums with inherent `as_str(self) -> &'static str` and
/// `parse(&str) -> Option<Self>`: `Display`, and with the `sqlx` feature MySQL's
/// `Type`, `Encode` and `Decode` as text. `$what` names the set in errors.
macro_rules! by_name {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "sqlx")]
        impl ::sqlx::Type<::sqlx::MySql> for $ty {
            fn type_info() -> ::sqlx::mysql::MySqlTypeInfo {
                <str as ::sqlx::Type<::sqlx::MySql>>::type_info()
            }

            fn compatible(ty: &::sqlx::mysql::MySqlTypeInfo) -> bool {
                <str as ::sqlx::Type<::sqlx::MySql>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl ::sqlx::Encode<'_, ::sqlx::MySql> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<u8>,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <&str as ::sqlx::Encode<::sqlx::MySql>>::encode(self.as_str(), buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r> ::sqlx::Decode<'r, ::sqlx::MySql> for $ty {
            fn decode(
                value: ::sqlx::mysql::MySqlValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <&str as ::sqlx::Decode<::sqlx::MySql>>::decode(value)?;
                Self::parse(text).ok_or_else(|| format!("unknown {} `{text}`", $what).into())
            }
        }
    )*};
}

pub(crate) use by_name;

#[cfg(test)]
mod tests {
    use crate::console::ConsoleRole;
    use crate::findings::{FindingKind, FindingStatus, Severity, Triage};
    use crate::review::{Baseline, CampaignStatus, Remediated, ReviewerRule, Verdict};

    /// Each member's word is the same in a column (`as_str`, `parse`), in text
    /// (`Display`) and in JSON (serde, and so the TypeScript union), and names one member.
    fn one_word<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + serde::Serialize,
    {
        let mut words = std::collections::HashSet::new();
        for &member in all {
            let word = as_str(member);
            assert!(words.insert(word), "`{word}` names two members");
            assert_eq!(parse(word), Some(member));
            assert_eq!(member.to_string(), word);
            assert_eq!(serde_json::to_value(member).unwrap(), word);
        }
        assert_eq!(parse("no such word"), None);
    }

    #[test]
    fn every_closed_set_speaks_one_word_everywhere() {
        one_word(FindingKind::ALL, FindingKind::as_str, FindingKind::parse);
        one_word(&Severity::ALL, Severity::as_str, Severity::parse);
        one_word(
            &FindingStatus::ALL,
            FindingStatus::as_str,
            FindingStatus::parse,
        );
        one_word(&Triage::ALL, Triage::as_str, Triage::parse);
        one_word(&ConsoleRole::ALL, ConsoleRole::as_str, ConsoleRole::parse);
        one_word(
            &ReviewerRule::ALL,
            ReviewerRule::as_str,
            ReviewerRule::parse,
        );
        one_word(&Verdict::ALL, Verdict::as_str, Verdict::parse);
        one_word(
            &CampaignStatus::ALL,
            CampaignStatus::as_str,
            CampaignStatus::parse,
        );
        one_word(&Baseline::ALL, Baseline::as_str, Baseline::parse);
        one_word(&Remediated::ALL, Remediated::as_str, Remediated::parse);
    }
}
