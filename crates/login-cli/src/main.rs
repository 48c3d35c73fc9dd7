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
mod session;
mod status;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, IdentityCommand};
use crate::error::CliError;

/// Exit code of `status` and `header` when nobody is logged in.
const NOT_LOGGED_IN: u8 = 1;

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    // Dependencies that speak D-Bus could trace message bodies; keep them quiet
    // whatever RUST_LOG says.
    const QUIET: &str = "zbus=warn,secret_service=warn,keyring=warn,async_io=warn,polling=warn";
    let base = match verbose {
        0 => "warn".to_owned(),
        1 => std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".to_owned()),
        _ => std::env::var("RUST_LOG").unwrap_or_else(|_| "trace".to_owned()),
    };
    let filter =
        EnvFilter::try_new(format!("{base},{QUIET}")).unwrap_or_else(|_| EnvFilter::new(QUIET));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

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
        Err(error) => {
            let wants_json = std::env::args().any(|arg| arg == "--json");
            if wants_json && error.use_stderr() {
                let message = error.kind().to_string();
                println!(
                    "{}",
                    serde_json::json!({ "error": { "kind": "usage", "message": message } })
                );
            }
            error.exit()
        }
    };
    init_tracing(cli.verbose);
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
            eprintln!("agent-login: {}", error.message);
            if json_output {
                println!("{}", error.to_json());
            }
            ExitCode::from(error.kind.exit_code())
        }
    }
}
