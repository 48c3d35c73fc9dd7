//! `agent-login`: the command-line front door to the login subsystem.
//!
//! A thin layer over `core-auth`: parse the command line, build an
//! `AuthConfig`, call the library, print the result (human or `--json`),
//! and exit with 0 (success), 1 (`status`: not logged in), 2 (invalid input,
//! usage, corrupt `auth.json`) or 3 (storage, keyring, registration or
//! network failure).

// The doc comments of `cli.rs` are clap's help text: a URL there is for
// people reading `--help`, not a rustdoc link.
#![allow(rustdoc::bare_urls)]

mod chatgpt_login;
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

use clap::FromArgMatches as _;

use crate::cli::{Cli, Command, IdentityCommand};
use crate::error::CliError;

/// Exit code of `status` and `header` when nobody is logged in.
const NOT_LOGGED_IN: u8 = 1;

/// The version of every `--json` object's shape (`schema_version`).
pub const SCHEMA_VERSION: u32 = 1;

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    if let Some(flag) = cli.ignored_storage_option() {
        return Err(CliError::invalid(format!(
            "{flag} does not apply to this command: it neither reads nor writes stored credentials"
        )));
    }
    match &cli.command {
        Command::Status(args) => {
            let config = session::config_with_registrar(&cli, args.auth_api_base_url.as_deref())?;
            let flags = session::storage_flags(&cli);
            let logged_in = status::run(config, cli.json, args, &flags).await?;
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
        Command::Completions(args) => {
            let mut command = cli::command();
            clap_complete::generate(
                args.shell,
                &mut command,
                "agent-login",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The command line, parsed against [`cli::command`] (so that help shows
/// what it shows).
fn parse() -> Result<Cli, clap::Error> {
    let matches = cli::command().try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// The argument that prints the man page (for `cargo xtask man`): not a
/// clap command, so that neither help nor completions offer it.
const MAN_PAGE: &str = "__man";

/// Prints the man page (roff, clap_mangen) on stdout.
fn print_man_page() -> ExitCode {
    match clap_mangen::Man::new(cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-login: cannot write the man page: {error}");
            ExitCode::from(3)
        }
    }
}

fn main() -> ExitCode {
    let arguments: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if arguments.len() == 1 && arguments[0] == MAN_PAGE {
        return print_man_page();
    }
    let cli = match parse() {
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
            // One line, the hint (ours) after the message.
            let hint = error
                .hint
                .map_or_else(String::new, |hint| format!(" Next: {hint}."));
            eprintln!(
                "agent-login: {}.{hint}",
                terminal::escape(&error.message).trim_end_matches('.')
            );
            if json_output {
                println!("{}", error.to_json());
            }
            ExitCode::from(error.kind.exit_code())
        }
    }
}
