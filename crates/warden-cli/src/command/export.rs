//! `export access | findings | logs | audit-trail | campaign | verify`: evidence an auditor
//! re-checks.

use warden_service::export::{self, Progress, VerifyResponse};

use crate::args::{Cli, ExportCommand};
use crate::context::{Result, note, with_ctx};
use crate::output::{Render, print};
use crate::progress::exporting;

impl ExportCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            ExportCommand::AuditTrail { out, bom } => {
                write(cli, false, "export audit-trail", async |ctx, p| {
                    export::audit_trail(ctx, out, *bom, p).await
                })
                .await
            }
            ExportCommand::Logs { out, bom, filters } => {
                write(cli, true, "export logs", async |ctx, p| {
                    export::logs(ctx, filters.request(), out, *bom, p).await
                })
                .await
            }
            ExportCommand::Access { out, bom } => {
                write(cli, true, "export access", async |ctx, p| {
                    export::access(ctx, out, *bom, p).await
                })
                .await
            }
            ExportCommand::Findings {
                out,
                bom,
                kind,
                status,
                severity,
                department,
                subject,
            } => {
                let req = super::findings::filters([kind, severity, status], department, subject)?;
                write(cli, false, "export findings", async |ctx, p| {
                    export::findings(ctx, req, out, *bom, p).await
                })
                .await
            }
            ExportCommand::Campaign { id, out } => {
                write(cli, true, "export campaign", async |ctx, p| {
                    export::campaign(ctx, *id, out, p).await
                })
                .await
            }
            ExportCommand::Verify {
                path,
                against_trail: false,
            } => verified(cli, &export::verify(path)?),
            ExportCommand::Verify {
                path,
                against_trail: true,
            } => {
                with_ctx(cli, false, async |ctx| {
                    verified(cli, &export::verify_against_trail(ctx, path).await?)
                })
                .await
            }
        }
    }
}

/// Runs one export with progress on stderr (Ctrl-C cancels it), and prints its answer.
async fn write<R: Render>(
    cli: &Cli,
    with_mapping: bool,
    what: &str,
    work: impl AsyncFnOnce(&warden_service::Ctx, &Progress) -> warden_service::Result<R>,
) -> Result<u8> {
    with_ctx(cli, with_mapping, async |ctx| {
        let done = exporting(cli, what, async |p| work(ctx, p).await).await?;
        print(cli.format, &done)?;
        Ok(0)
    })
    .await
}

/// Prints a verification, naming each alteration on stderr; exit 1 when tampered.
fn verified(cli: &Cli, checked: &VerifyResponse) -> Result<u8> {
    for p in &checked.problems {
        note(cli, &format!("altered: {p}"));
    }
    print(cli.format, checked)?;
    Ok(u8::from(!checked.ok))
}
