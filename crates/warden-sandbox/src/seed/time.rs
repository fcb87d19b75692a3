//! Calendar arithmetic relative to `now`, so that planted cases land on the right kind of
//! day whatever day `now` is.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

/// `hour` o'clock on `day`.
pub(super) fn at_hour(day: NaiveDate, hour: u32) -> NaiveDateTime {
    day.and_hms_opt(hour, 0, 0).unwrap_or_default()
}

/// The `n`-th working day (Monday to Friday) before `now`'s date: a whole day in the past,
/// whatever the day and hour of `now`.
pub(super) fn working_day_before(now: NaiveDateTime, n: u32) -> NaiveDate {
    let mut day = now.date();
    let mut left = n;
    while left > 0 {
        day -= Duration::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_before_now_skip_weekends_and_never_reach_today() {
        // A week of clocks from Monday 2026-11-23, early and late in the day.
        for d in 0..7 {
            for hour in [0, 23] {
                let now = at_hour(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), hour)
                    + Duration::days(d);
                let mut previous = now.date();
                for n in 1..=10 {
                    let day = working_day_before(now, n);
                    assert!(day < previous, "{now}: working day {n} is {day}");
                    assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
                    let skipped = (day.succ_opt().unwrap().iter_days())
                        .take_while(|x| *x < previous)
                        .filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
                        .count();
                    assert_eq!(
                        skipped, 0,
                        "{now}: no working day between {day} and {previous}"
                    );
                    previous = day;
                }
            }
        }
    }
}
