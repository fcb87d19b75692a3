//! `users`, `roles`, `access`, `who-can`: reading the application's directory.

use warden_service::directory::{self, AccessRequest, UsersRequest, WhoCanRequest};

use crate::args::{Cli, Command};
use crate::context::{Result, show};

pub async fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Users(args) => {
            let req = UsersRequest {
                department: args.department.clone(),
                status: args.status.clone(),
                search: args.search.clone(),
            };
            show(cli, true, async |ctx| directory::users(ctx, req).await).await
        }
        Command::Access { login } => {
            let req = AccessRequest {
                login: login.clone(),
            };
            show(cli, true, async |ctx| directory::access(ctx, req).await).await
        }
        Command::WhoCan { permission } => {
            let req = WhoCanRequest {
                permission: permission.clone(),
            };
            show(cli, true, async |ctx| directory::who_can(ctx, req).await).await
        }
        _ => show(cli, true, directory::roles).await,
    }
}
