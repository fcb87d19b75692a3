//! An export's progress on stderr, and Ctrl-C to cancel it.
//!
//! On a terminal, a bar redrawn in place five times a second; otherwise (a log file, a
//! pipe) a line at each tenth of the way, so that cron logs stay readable. Ctrl-C asks the
//! export to stop: it removes what it wrote and the command exits 130.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use warden_service::export::Progress;

use crate::args::Cli;

/// Runs `work` (an export reporting into the progress it is given), showing its progress
/// unless `--quiet`, cancelling it on Ctrl-C.
pub async fn exporting<T, E>(
    cli: &Cli,
    what: &str,
    work: impl AsyncFnOnce(&Progress) -> Result<T, E>,
) -> Result<T, E> {
    let progress = Progress::default();
    let mut bar = Bar {
        what,
        terminal: std::io::stderr().is_terminal(),
        shown: !cli.quiet,
        last_tenth: 0,
        drawn: false,
    };
    let work = work(&progress);
    let mut work = std::pin::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            done = &mut work => {
                bar.finish(&progress, done.is_ok());
                return done;
            }
            _ = tick.tick() => bar.draw(&progress),
            _ = &mut interrupt, if !progress.is_cancelled() => {
                progress.cancel();
                bar.say("cancelling: removing what was written");
            }
        }
    }
}

struct Bar<'a> {
    what: &'a str,
    terminal: bool,
    shown: bool,
    /// The last tenth reported on a line (not a terminal).
    last_tenth: u64,
    /// Whether a bar is on the terminal's last line.
    drawn: bool,
}

impl Bar<'_> {
    fn state(progress: &Progress) -> (u64, u64) {
        (
            progress.rows.load(Ordering::Relaxed),
            progress.total.load(Ordering::Relaxed),
        )
    }

    fn draw(&mut self, progress: &Progress) {
        if !self.shown {
            return;
        }
        let (rows, total) = Self::state(progress);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let line = match total {
                0 => format!("{}: {} rows", self.what, thousands(rows)),
                t => {
                    let done = (rows.min(t) * 30 / t) as usize;
                    format!(
                        "{}: [{}{}] {:>3}%  {} of about {} rows",
                        self.what,
                        "#".repeat(done),
                        "-".repeat(30 - done),
                        rows.min(t) * 100 / t,
                        thousands(rows),
                        thousands(t)
                    )
                }
            };
            let _ = write!(err, "\r{line}\x1b[K");
            self.drawn = true;
        } else if let Some(tenth) = (rows.min(total) * 10).checked_div(total)
            && tenth > self.last_tenth
            && tenth < 10
        {
            self.last_tenth = tenth;
            let _ = writeln!(
                err,
                "{}: {}% ({} of about {} rows)",
                self.what,
                tenth * 10,
                thousands(rows),
                thousands(total)
            );
        }
    }

    fn say(&mut self, text: &str) {
        if !self.shown {
            return;
        }
        if std::mem::take(&mut self.drawn) {
            eprintln!();
        }
        eprintln!("{}: {text}", self.what);
    }

    /// The last word: rows written, or nothing (the error says what happened).
    fn finish(&mut self, progress: &Progress, written: bool) {
        let (rows, _) = Self::state(progress);
        if written {
            self.say(&format!("{} rows written", thousands(rows)));
        } else if std::mem::take(&mut self.drawn) {
            eprintln!();
        }
    }
}

/// 1234567 as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000), "1,000");
        assert_eq!(super::thousands(10_000_000), "10,000,000");
    }
}
