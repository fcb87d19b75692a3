//! `audit verify | list`: the console audit trail.

use warden_service::audit::{self, EventsRequest};

use crate::args::{AuditCommand, Cli};
use crate::context::{Result, note, show, with_ctx};
use crate::output::print;

impl AuditCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            AuditCommand::Verify => {
                with_ctx(cli, false, async |ctx| {
                    let checked = audit::verify(ctx).await?;
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
