//! `audit verify | list`: the console audit trail.

use warden_service::audit::{self, EventsRequest};

use crate::args::{AuditCommand, Cli};
use crate::context::{Result, note, show, with_ctx};
use crate::output::print;

impl AuditCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            AuditCommand::Verify { witness } => {
                let mut witnesses = Vec::new();
                for file in witness {
                    witnesses.push(manifest_witness(file)?);
                }
                with_ctx(cli, false, async |ctx| {
                    let place = crate::context::witness_place(cli, ctx);
                    witnesses.extend(audit::client_witness(ctx, &client_witness()?, &place).await?);
                    let checked = audit::verify_against(ctx, witnesses).await?;
                    if let (Some(seq), Some(reason)) = (checked.first_bad_seq, &checked.reason) {
                        note(
                            cli,
                            &format!("the audit trail is broken at {seq}: {reason}"),
                        );
                    }
                    print(cli.format, &checked)?;
                    Ok(u8::from(!checked.ok))
                })
                .await
            }
            AuditCommand::List {
                action,
                actor,
                target,
                since,
                until,
                limit,
                before,
            } => {
                let req = EventsRequest {
                    action: action.clone(),
                    actor: actor.clone(),
                    target: target.clone(),
                    since: since.clone(),
                    until: until.clone(),
                    limit: Some(*limit),
                    before: *before,
                };
                show(cli, false, async |ctx| audit::events(ctx, req).await).await
            }
        }
    }
}

/// Where this client keeps the heads it saw.
pub fn client_witness() -> Result<std::path::PathBuf> {
    Ok(warden_store::witness::path()?)
}

/// A manifest's audit head, as a witness named by the manifest's file.
fn manifest_witness(file: &std::path::Path) -> Result<warden_core::witness::Witness> {
    let bad = |why: String| {
        crate::failure::Failure::new(
            warden_service::ErrorCode::Input,
            format!("--witness {}: {why}", file.display()),
        )
    };
    let text = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
    let manifest: warden_core::export::Manifest =
        serde_json::from_slice(&text).map_err(|e| bad(format!("not an export manifest: {e}")))?;
    Ok(warden_core::witness::Witness {
        seq: manifest.audit_head.seq,
        hash: manifest.audit_head.hash,
        source: format!("the manifest {}", file.display()),
        first: None,
    })
}
