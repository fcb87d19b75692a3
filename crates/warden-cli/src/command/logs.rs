//! `logs search | ingest | scan`: the access logs.

use warden_service::logs::{self, IngestResponse, SearchRequest};

use crate::args::{Cli, LogsCommand};
use crate::context::{Result, note, show, with_ctx};
use crate::failure::Failure;
use crate::output::print;

impl LogsCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            LogsCommand::Ingest { kind, file: None } if kind == "table" => {
                show(cli, true, logs::table_status).await
            }
            LogsCommand::Ingest { kind, file } => {
                let Some(file) = file.as_ref().filter(|_| kind != "table") else {
                    return Err(Failure::usage(format!(
                        "logs ingest {kind}: {}",
                        if kind == "table" {
                            "takes no file (the application's table is read where it is)"
                        } else {
                            "which file?"
                        }
                    )));
                };
                with_ctx(cli, true, async |ctx| {
                    // Ctrl-C stops the import after the chunk being written: what was
                    // committed is recorded, and a rerun goes on from there (exit 130).
                    let progress = std::sync::Arc::new(logs::Progress::default());
                    let import = logs::ingest_with(ctx, kind, file, progress.clone());
                    let mut import = std::pin::pin!(import);
                    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
                    let done = loop {
                        tokio::select! {
                            done = &mut import => break done?,
                            _ = &mut interrupt, if !progress.is_cancelled() => {
                                progress.cancel();
                                note(cli, "stopping the import after the chunk being written");
                            }
                        }
                    };
                    unreadable_lines(cli, &done);
                    print(cli.format, &done)?;
                    Ok(0)
                })
                .await
            }
            LogsCommand::Scan { full } => {
                show(cli, true, async |ctx| logs::scan(ctx, *full).await).await
            }
            LogsCommand::Search(a) => {
                let req = SearchRequest {
                    limit: Some(a.limit),
                    after: a.after.clone(),
                    ..a.filters.request()
                };
                with_ctx(cli, true, async |ctx| {
                    let page = logs::search(ctx, req).await?;
                    if let Some(next) = &page.next {
                        note(cli, &format!("more: --after {next}"));
                    }
                    print(cli.format, &page)?;
                    Ok(0)
                })
                .await
            }
        }
    }
}

/// Names each line an import could not read (the first few) on stderr.
fn unreadable_lines(cli: &Cli, done: &IngestResponse) {
    for p in &done.problems {
        note(
            cli,
            &format!("{}: line {}: {}", done.file, p.line, p.message),
        );
    }
    if done.malformed > done.problems.len() as u64 {
        note(
            cli,
            &format!(
                "… and {} more lines that could not be read",
                done.malformed - done.problems.len() as u64
            ),
        );
    }
}
