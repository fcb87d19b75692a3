//! `review start | list | show | items | decide | reassign | close | undo-remediation`.

use warden_core::review::{ReviewerRule, Verdict};
use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest, StartRequest};

use crate::args::{Cli, ReviewCommand};
use crate::context::{Result, show, with_ctx};
use crate::failure::{Failure, word};
use crate::output::{Format, print, terminal_safe};

impl ReviewCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            ReviewCommand::Start {
                name,
                due,
                scope,
                reviewer,
                fallback,
                undecided,
                like,
            } => {
                let scope = parse_scope(scope)?;
                let rule = word("reviewer rule", reviewer, &ReviewerRule::ALL)?;
                let undecided = word("verdict", undecided, &Verdict::ALL)?;
                show(cli, true, async |ctx| match like {
                    Some(template) => reviews::start_like(ctx, *template, name, due).await,
                    None => {
                        let fallback = fallback.clone();
                        let req = StartRequest {
                            name: name.clone(),
                            due: due.clone(),
                            scope,
                            reviewer: rule,
                            fallback: fallback.unwrap_or_else(|| ctx.actor().login.clone()),
                            undecided,
                        };
                        reviews::start(ctx, req).await
                    }
                })
                .await
            }
            ReviewCommand::List => show(cli, false, reviews::list).await,
            ReviewCommand::Show { id } => {
                show(cli, false, async |ctx| reviews::show(ctx, *id).await).await
            }
            ReviewCommand::Items {
                id,
                reviewer,
                pending,
            } => {
                let req = ItemsRequest {
                    campaign: *id,
                    reviewer: reviewer.clone(),
                    pending: *pending,
                };
                show(cli, false, async |ctx| reviews::items(ctx, req).await).await
            }
            ReviewCommand::Decide { args, comment, key } => {
                let req = decide_request(args, comment, key.as_deref())?;
                show(cli, false, async |ctx| reviews::decide(ctx, req).await).await
            }
            ReviewCommand::Close {
                id,
                dry_run,
                digest,
            } => {
                with_ctx(cli, true, async |ctx| {
                    let closed = match digest {
                        Some(d) => reviews::close_as_previewed(ctx, *id, d).await?,
                        None => reviews::close(ctx, *id, *dry_run).await?,
                    };
                    match cli.format {
                        Format::Table if *dry_run => {
                            for line in &closed.sql {
                                println!("{}", terminal_safe(line));
                            }
                            println!(
                                "-- close exactly this: warden review close {id} --digest {}",
                                closed.digest
                            );
                        }
                        format => print(format, &closed)?,
                    }
                    Ok(0)
                })
                .await
            }
            ReviewCommand::UndoRemediation { id, comment } => {
                show(cli, true, async |ctx| {
                    reviews::undo_remediation(ctx, *id, comment).await
                })
                .await
            }
            ReviewCommand::Reassign {
                items,
                campaign,
                from,
                to,
                comment,
            } => {
                let req = ReassignRequest {
                    items: items.clone(),
                    to: to.clone(),
                    comment: comment.clone(),
                };
                show(cli, false, async |ctx| match (campaign, from) {
                    (Some(c), Some(f)) => reviews::reassign_queue(ctx, *c, f, to, comment).await,
                    _ => reviews::reassign(ctx, req).await,
                })
                .await
            }
        }
    }
}

/// `review decide ITEM... approve|revoke`: the items and the decision, the last word.
fn decide_request(args: &[String], comment: &str, key: Option<&str>) -> Result<DecideRequest> {
    let (decision, ids) = args
        .split_last()
        .ok_or_else(|| Failure::usage("review decide ITEM... approve|revoke"))?;
    let decision = match decision.as_str() {
        "approve" => Verdict::Keep,
        "revoke" => Verdict::Revoke,
        other => {
            return Err(Failure::usage(format!(
                "review decide ITEM... approve|revoke: the last word is `{other}`"
            )));
        }
    };
    let items = ids
        .iter()
        .map(|i| {
            i.parse::<u64>()
                .map_err(|_| Failure::usage(format!("`{i}` is not an item number")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DecideRequest {
        items,
        decision,
        comment: comment.to_string(),
        key: key.map_or_else(fresh_key, str::to_string),
    })
}

/// `--scope department=support,sales --scope role=R`: the campaign's scope.
fn parse_scope(args: &[String]) -> Result<reviews::Scope> {
    let mut scope = reviews::Scope::default();
    for arg in args {
        let (key, values) = arg.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "--scope {arg}: expected KEY=A,B (department, role, job_function)"
            ))
        })?;
        let values = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        match key.trim() {
            "department" | "departments" => scope.departments.extend(values),
            "role" | "roles" => scope.roles.extend(values),
            "job_function" | "job_functions" => scope.job_functions.extend(values),
            other => {
                return Err(Failure::usage(format!(
                    "--scope {other}: expected department, role or job_function"
                )));
            }
        }
    }
    Ok(scope)
}

/// A fresh idempotency key for a decision sent from this process: the process id and the
/// standard library's per-process random hash keys (no clock: time is the Clock's alone).
fn fresh_key() -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    let digest = warden_core::policy::sha256(&format!("{random}:{}", std::process::id()));
    format!("cli-{}", &digest[..32])
}
