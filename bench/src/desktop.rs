//! The desktop app at 100,000 staff: launch to first data, and filtering People.

use std::time::{Duration, Instant};

use warden_service::{Ctx, directory};

use super::{Row, format_count, seeded, sibling, warden_json};

/// The desktop app at 100,000 staff: launch to first data, and filtering People.
pub(crate) async fn desktop(server: &warden_sandbox::TestServer) -> anyhow::Result<Vec<Row>> {
    eprintln!("seeding 100000 staff for the desktop …");
    let (db, ctx) = seeded(server, 100_000).await?;
    let home = std::env::temp_dir().join(format!("warden-bench-desktop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);

    let t = Instant::now();
    let dash = directory::dashboard(&ctx).await?;
    let in_process = t.elapsed();
    let app = warden_e2e::Desktop::launch(&db.url, None, &home).await?;
    app.wait_text(
        "[data-testid=tile-staff] .tile-num",
        Some(&format_count(dash.staff)),
    )
    .await?;
    let launch = app.started.elapsed();

    // People: load everyone once, then time a filter from keystroke to the rendered count.
    app.click("[data-testid=nav-people]").await?;
    app.wait_text("[data-testid=row-count]", Some("100,000"))
        .await?;
    let needle = "ada.ab";
    let expected = users_matching(&ctx, needle).await?;
    let measure = r#"
        const [needle, expected, done] = arguments;
        const input = document.querySelector('[data-testid=people-search]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const t0 = performance.now();
        set.call(input, needle);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        const check = () => {
            const n = document.querySelector('[data-testid=row-count]').textContent;
            if (n === expected) return requestAnimationFrame(() => done(performance.now() - t0));
            if (performance.now() - t0 > 10000) return done(-1);
            requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
    "#;
    let ms = app
        .client
        .execute_async(
            measure,
            vec![
                serde_json::json!(needle),
                serde_json::json!(format_count(expected)),
            ],
        )
        .await?
        .as_f64()
        .unwrap_or(-1.0);
    anyhow::ensure!(ms >= 0.0, "the filtered count never appeared");
    let filter = Duration::from_secs_f64(ms / 1000.0);
    app.close().await?;

    let (cli, _) = warden_json(&db, &["users", "--search", needle])?;
    let size = std::fs::metadata(sibling("warden-desktop")?)?.len();
    eprintln!("release binary warden-desktop: {:.1} MB", size as f64 / 1e6);
    ctx.close().await;
    Ok(vec![
        Row {
            what: "desktop: launch to the dashboard's first data, 100k".into(),
            warden: launch,
            baseline: in_process,
            baseline_name: "same data, in-process service",
            budget: "< 1.5 s".into(),
            megabytes: false,
        },
        Row {
            what: format!("desktop: People filtered ({expected} of 100k shown)"),
            warden: filter,
            baseline: cli,
            baseline_name: "`warden users --search`, whole",
            budget: "< 300 ms".into(),
            megabytes: false,
        },
    ])
}

async fn users_matching(ctx: &Ctx, needle: &str) -> anyhow::Result<usize> {
    let req = directory::UsersRequest {
        department: None,
        status: None,
        search: Some(needle.into()),
    };
    Ok(directory::users(ctx, req).await?.users.len())
}
