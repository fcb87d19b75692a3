//! The one place Warden reads the wall clock (DESIGN.md, Time).
//!
//! Every use case takes "now" from its context's [`Clock`], and passes it down as a value:
//! warden-core judges with the time it is given, and warden-store binds it into SQL instead
//! of asking the server for `NOW()`. A test pins the clock, and the synthetic company is
//! seeded relative to the same instant, so a test gives the same result on any day and at
//! any hour.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system's wall clock: what the CLI and the desktop app use.
    #[default]
    System,
    /// Always the same instant: tests, and anything that must be reproducible.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// A clock stopped at `at`.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self::Fixed(at.trunc_subsecs(6))
    }

    /// The current instant, to the microsecond (what `DATETIME(6)` keeps, so a time read
    /// back compares equal to the one written).
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now().trunc_subsecs(6),
            Self::Fixed(at) => *at,
        }
    }

    /// [`Clock::now`] as the naive UTC time Warden's tables and the directory hold.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Today's date in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stays_where_it_was_pinned_to_the_microsecond() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T23:30:00.1234567Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::fixed(at);
        assert_eq!(clock.now().to_rfc3339(), "2026-11-29T23:30:00.123456+00:00");
        assert_eq!(clock.now(), clock.now());
        assert_eq!(clock.today().to_string(), "2026-11-29");
        assert_eq!(clock.now_naive().to_string(), "2026-11-29 23:30:00.123456");
    }

    #[test]
    fn the_system_clock_keeps_microseconds_only() {
        let now = Clock::System.now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
    }
}
