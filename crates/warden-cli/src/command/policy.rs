//! `policy validate | apply | show | history | diff | simulate`.

use warden_service::policy;

use crate::args::{Cli, PolicyCommand};
use crate::context::{Result, note, read_file, show, with_ctx};
use crate::output::{Format, print};
use crate::render::warning;

impl PolicyCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            PolicyCommand::Validate { file } => {
                let (text, origin) = (read_file(file)?, file.display().to_string());
                let offline = policy::validate(&text, &origin)?;
                if cli.database_url.is_none() && cli.profile.is_none() {
                    print(cli.format, &offline)?;
                    return Ok(0);
                }
                with_ctx(cli, true, async |ctx| {
                    let checked = policy::validate_against_directory(ctx, &text, &origin).await?;
                    for w in &checked.warnings {
                        note(cli, &format!("warning: {origin}: {}", warning(w)));
                    }
                    print(cli.format, &checked)?;
                    Ok(0)
                })
                .await
            }
            PolicyCommand::Apply { file, comment } => {
                let (text, origin) = (read_file(file)?, file.display().to_string());
                with_ctx(cli, true, async |ctx| {
                    let applied = policy::apply(ctx, &text, &origin, comment).await?;
                    for w in &applied.warnings {
                        note(cli, &format!("warning: {origin}: {}", warning(w)));
                    }
                    print(cli.format, &applied)?;
                    Ok(0)
                })
                .await
            }
            PolicyCommand::Show { number } => {
                with_ctx(cli, false, async |ctx| {
                    let shown = policy::show(ctx, *number).await?;
                    match cli.format {
                        Format::Table => print!("{}", shown.body),
                        format => print(format, &shown)?,
                    }
                    Ok(0)
                })
                .await
            }
            PolicyCommand::History => show(cli, false, policy::history).await,
            PolicyCommand::Diff { from, to } => {
                show(cli, false, async |ctx| policy::diff(ctx, *from, *to).await).await
            }
            PolicyCommand::Simulate { file, days } => {
                let (text, origin) = (read_file(file)?, file.display().to_string());
                show(cli, true, async |ctx| {
                    policy::simulate(ctx, &text, &origin, *days).await
                })
                .await
            }
        }
    }
}
