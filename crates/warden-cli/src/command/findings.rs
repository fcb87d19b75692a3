//! `check` and `findings`: judging the directory against the policy, and triage.

use warden_core::findings::Severity;
use warden_service::findings::{self, FindingsRequest, PolicySource, TriageRequest};

use crate::args::{CheckArgs, Cli, FindingsArgs, FindingsCommand};
use crate::context::{Result, note, read_file, show, with_ctx};
use crate::output::print;

impl CheckArgs {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        let source = match (&self.policy, self.version) {
            (Some(file), _) => PolicySource::Draft {
                text: read_file(file)?,
                origin: file.display().to_string(),
            },
            (None, Some(version)) => PolicySource::Version { version },
            (None, None) => PolicySource::Current,
        };
        let fail_on = self.fail_on.as_deref().and_then(Severity::parse);
        with_ctx(cli, true, async |ctx| {
            let result = findings::check(ctx, source).await?;
            if !result.stored {
                note(
                    cli,
                    "note: not recorded (a draft, an earlier version, or not an officer)",
                );
            }
            print(cli.format, &result)?;
            Ok(u8::from(
                fail_on.is_some_and(|level| result.fails_at(level)),
            ))
        })
        .await
    }
}

impl FindingsArgs {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match &self.command {
            None => {
                let req = FindingsRequest {
                    kind: self.kind.clone(),
                    severity: self.severity.clone(),
                    status: self.status.clone(),
                    department: self.department.clone(),
                    subject: self.subject.clone(),
                };
                show(cli, false, async |ctx| findings::findings(ctx, req).await).await
            }
            Some(FindingsCommand::Show { id }) => {
                show(cli, false, async |ctx| findings::finding(ctx, *id).await).await
            }
            Some(FindingsCommand::Triage {
                id,
                action,
                comment,
            }) => {
                let req = TriageRequest {
                    id: *id,
                    action: action.clone(),
                    comment: comment.clone(),
                };
                show(cli, false, async |ctx| findings::triage(ctx, req).await).await
            }
        }
    }
}
