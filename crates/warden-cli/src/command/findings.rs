//! `check` and `findings`: judging the directory against the policy, and triage.

use warden_core::findings::{FindingKind, FindingStatus, Severity, Triage};
use warden_service::findings::{self, FindingsRequest, PolicySource, TriageRequest};

use crate::args::{CheckArgs, Cli, FindingsArgs, FindingsCommand};
use crate::context::{Result, note, read_file, show, with_ctx};
use crate::failure::{filter_word, word};
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
                let req = filters(
                    [&self.kind, &self.severity, &self.status],
                    &self.department,
                    &self.subject,
                )?;
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
                    action: word("triage action", action, &Triage::ALL)?,
                    comment: comment.clone(),
                };
                show(cli, false, async |ctx| findings::triage(ctx, req).await).await
            }
        }
    }
}

/// The findings `--kind`, `--severity`, `--status`, `--department` and `--subject` select.
pub fn filters(
    [kind, severity, status]: [&Option<String>; 3],
    department: &Option<String>,
    subject: &Option<String>,
) -> Result<FindingsRequest> {
    Ok(FindingsRequest {
        kind: filter_word("kind", kind.as_deref(), FindingKind::ALL)?,
        severity: filter_word("severity", severity.as_deref(), &Severity::ALL)?,
        status: filter_word("status", status.as_deref(), &FindingStatus::ALL)?,
        department: department.clone(),
        subject: subject.clone(),
    })
}
