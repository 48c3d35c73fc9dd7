//! `agent-login`: the command-line front door to the login subsystem.
//!
//! A thin layer over `core-auth`: parse the command line, build an
//! `AuthConfig`, call the library, print the result (human or `--json`),
//! and exit with 0 (success), 1 (`status`: not logged in), 2 (invalid input,
//! usage, corrupt `auth.json`) or 3 (storage, keyring, registration or
//! network failure).

mod cli;
mod error;
mod header;
mod identity;
mod input;
mod logging;
mod session;
mod status;
mod terminal;
mod usage;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, IdentityCommand};
use crate::error::CliError;

/// Exit code of `status` and `header` when nobody is logged in.
const NOT_LOGGED_IN: u8 = 1;

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match &cli.command {
        Command::Status(args) => {
            let config = session::config_with_registrar(&cli, args.auth_api_base_url.as_deref())?;
            let logged_in = status::run(config, cli.json, args).await?;
            Ok(if logged_in {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(NOT_LOGGED_IN)
            })
        }
        Command::Header(args) => {
            let config = session::config_with_registrar(&cli, args.auth_api_base_url.as_deref())?;
            let logged_in = header::run(config, cli.json).await?;
            Ok(if logged_in {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(NOT_LOGGED_IN)
            })
        }
        Command::Login(args) => session::login(&cli, args).await.map(|()| ExitCode::SUCCESS),
        Command::Logout(args) => session::logout(&cli, args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Identity(IdentityCommand::Decode(args)) => {
            identity::decode(args, cli.json).map(|()| ExitCode::SUCCESS)
        }
        Command::Identity(IdentityCommand::Mint(args)) => {
            identity::mint(args, cli.json).map(|()| ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage::report(&error),
    };
    logging::init(cli.verbose);
    let json_output = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agent-login: cannot start the async runtime: {error}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            // Library messages may carry text from a file or a server.
            eprintln!("agent-login: {}", terminal::escape(&error.message));
            if json_output {
                println!("{}", error.to_json());
            }
            ExitCode::from(error.kind.exit_code())
        }
    }
}
