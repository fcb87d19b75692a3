//! Access-review reminders as desktop notifications: when a session opens and every hour
//! while the app runs, the signed-in console user is told of their undecided items in
//! campaigns due within a week or overdue (and an officer of overdue campaigns). Each
//! reminder is shown once a day per person and campaign; the Reviews page carries the same
//! reminders in the app.
//!
//! Notifications are sent from here, never from the page: the webview has no notification
//! permission (see capabilities/default.json).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use chrono::NaiveDate;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use warden_service::reviews::{self, Reminder};

use crate::state::AppState;

/// How often reminders are looked for while the app runs.
const EVERY: Duration = Duration::from_secs(60 * 60);

/// The reminders shown today: (console user, campaign, title, day).
#[derive(Default)]
pub struct Shown(Mutex<HashSet<(String, u64, String, NaiveDate)>>);

/// Looks for reminders every hour for as long as the app runs.
pub fn every_hour<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.tick().await; // the first is immediate: a session opening notifies instead
        loop {
            ticks.tick().await;
            notify(&app).await;
        }
    });
}

/// Shows, as desktop notifications, the reminders not yet shown today. Without a session,
/// or for a console role that reads no campaigns, there is nothing to show.
pub async fn notify<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let found = state
        .with(async |ctx| {
            let today = ctx.clock().today();
            Ok((
                ctx.actor().login.clone(),
                today,
                reviews::reminders(ctx).await?,
            ))
        })
        .await;
    let (login, today, reminders) = match found {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e.message, "no review reminders");
            return;
        }
    };
    for r in reminders {
        let key = (login.clone(), r.campaign, r.title.clone(), today);
        let new = app
            .state::<Shown>()
            .0
            .lock()
            .map(|mut shown| shown.insert(key))
            .unwrap_or(false);
        if !new {
            continue;
        }
        let (title, body) = notification_text(&r);
        if let Err(e) = app.notification().builder().title(title).body(body).show() {
            tracing::warn!(error = %e, "a review reminder could not be shown");
        }
    }
}

/// The notification's summary and body. The summary is plain text by the specification;
/// the body may be read as markup by the notification server (a subset of HTML), so the
/// campaign's name, which is user text, is escaped there.
pub fn notification_text(r: &Reminder) -> (String, String) {
    (r.title.clone(), escape_markup(&r.body))
}

/// Escapes `&`, `<` and `>` so a notification server that reads markup shows the text.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_campaign_name_is_escaped_for_the_notification_server() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpora/xss");
        let mut corpus = String::new();
        for f in std::fs::read_dir(dir).expect("the XSS corpus in ../shared/corpora/xss") {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            corpus.push_str(&String::from_utf8_lossy(&bytes));
            corpus.push('\n');
        }
        let mut checked = 0;
        for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
            let r = Reminder {
                campaign: 1,
                title: "Access review: 2 items to decide".into(),
                body: format!("“{line}” is due tomorrow."),
            };
            let (title, body) = notification_text(&r);
            assert_eq!(title, r.title);
            assert!(!body.contains('<') && !body.contains('>'), "{body}");
            // Unescaping gives back exactly the text.
            let back = body
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            assert_eq!(back, r.body);
            checked += 1;
        }
        assert!(checked > 10, "only {checked} payloads");
    }
}
