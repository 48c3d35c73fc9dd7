//! Configuration from flags and environment, and `login`/`logout`.

use std::sync::Arc;

use auth_http::HttpTaskRegistrar;
use core_auth::{AuthConfig, AuthManager, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR, ProcessEnv};
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::StoreMode;

use crate::cli::{Cli, LoginArgs};
use crate::error::CliError;
use crate::input::{self, Limit};
use crate::terminal;

/// `--codex-home` over `CODEX_HOME` over `~/.codex` (one rule for all: a
/// home that does not exist yet is empty); `--store` over
/// `CODEX_AUTH_STORE` over `file`; the HTTP token refresher and, when
/// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` is set, task registrar.
pub fn config(cli: &Cli) -> Result<AuthConfig, CliError> {
    let storage = cli.storage();
    if let Some(home) = &storage.codex_home
        && terminal::is_token_like(&home.to_string_lossy())
    {
        // Refused before it could be echoed by `status` or an error.
        return Err(CliError::invalid(format!(
            "--codex-home: {} is not taken as a directory; did you pass a token instead of a directory?",
            terminal::sized(&home.to_string_lossy())
        )));
    }
    let mut config =
        AuthConfig::from_env_source_with_home(Arc::new(ProcessEnv), storage.codex_home)?;
    if let Some(store) = storage.store {
        config.store_mode = store.into();
    }
    Ok(auth_http::with_http_clients(config)?)
}

/// `config` registering background tasks with the auth API at `base_url`
/// when one is given (`CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` still
/// overrides it); without one, the manager's default reads that variable.
pub fn config_with_registrar(cli: &Cli, base_url: Option<&str>) -> Result<AuthConfig, CliError> {
    let mut config = config(cli)?;
    let Some(base_url) = base_url else {
        return Ok(config);
    };
    let registrar = HttpTaskRegistrar::from_env(&*config.env, Some(base_url))
        .map_err(|error| CliError::invalid(error.to_string()))?;
    config.task_registrar = Some(Arc::new(registrar));
    Ok(config)
}

/// The storage flags this command line was given, to repeat in the
/// commands `status` suggests (the home quoted for a shell when needed).
pub fn storage_flags(cli: &Cli) -> String {
    let storage = cli.storage();
    let mut flags = String::new();
    if let Some(home) = &storage.codex_home {
        let home = home.to_string_lossy();
        let plain = home
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~'));
        if plain {
            flags.push_str(&format!(" --codex-home {home}"));
        } else {
            flags.push_str(&format!(" --codex-home '{}'", home.replace('\'', "'\\''")));
        }
    }
    if let Some(store) = storage.store {
        flags.push_str(&format!(" --store {}", StoreMode::from(store)));
    }
    flags
}

/// Why `login` refuses the ephemeral store.
const EPHEMERAL_LOGIN: &str = "login cannot use the ephemeral store: it lives inside one runtime's process and ends with it, so nothing would be kept. To give a runtime credentials without storing them, set CODEX_AGENT_IDENTITY (or CODEX_API_KEY) in its environment; to store them, use --store file, keyring or auto";

/// A manager for writing: environment auth plays no part in what is stored.
fn writer(cli: &Cli) -> Result<Arc<AuthManager>, CliError> {
    Ok(AuthManager::writer(config(cli)?.with_env_auth(false)))
}

/// Runs `login`: reads and validates the secret, then stores it.
pub async fn login(cli: &Cli, args: &LoginArgs) -> Result<(), CliError> {
    let manager = writer(cli)?;
    if manager.config().store_mode == StoreMode::Ephemeral {
        // Checked before anything is read: the store would vanish with
        // this process, so a "logged in" here would be a lie.
        return Err(CliError::invalid(EPHEMERAL_LOGIN));
    }
    // Everything is read and checked (by the library, before it writes)
    // first: a refused login leaves the stored credentials as they were.
    let auth = if args.api_key_stdin {
        let key = input::read_secret_stdin("--api-key-stdin", "API key", Limit::Secret)?;
        manager.login_with_api_key(key).await?
    } else {
        let text = match &args.agent_identity_file {
            Some(path) => input::read_file("--agent-identity-file", path, Limit::Secret)?,
            None => input::read_secret_stdin(
                "--agent-identity-stdin",
                "Agent identity (JWT or JSON object on one line)",
                Limit::Secret,
            )?,
        };
        let identity: AgentIdentityInput = text.expose_secret().parse()?;
        manager.login_with_agent_identity(identity).await?
    };
    let store = manager.config().store_mode;
    if cli.json {
        println!(
            "{}",
            serde_json::json!({
                "schema_version": crate::SCHEMA_VERSION,
                "logged_in": true,
                "mode": auth.mode().as_str(),
                "store": store.as_str(),
            })
        );
    } else {
        println!(
            "Logged in with {}, stored in the {store} store.",
            crate::status::with_article(auth.mode())
        );
    }
    Ok(())
}

/// Runs `logout`: removes stored credentials from every store.
/// Environment variables still authenticate a runtime after a logout.
pub async fn logout(cli: &Cli) -> Result<(), CliError> {
    let manager = writer(cli)?;
    let removed = manager.logout().await?;
    let env = &manager.config().env;
    let still: Vec<&str> = [CODEX_API_KEY_VAR, CODEX_AGENT_IDENTITY_VAR]
        .into_iter()
        .filter(|name| env.var(name).is_some_and(|value| !value.trim().is_empty()))
        .collect();
    if cli.json {
        println!(
            "{}",
            serde_json::json!({
                "schema_version": crate::SCHEMA_VERSION,
                "removed": removed,
                "still_authenticated_by": still.iter().map(|name| format!("env:{name}")).collect::<Vec<_>>(),
            })
        );
        return Ok(());
    }
    if removed {
        println!("Logged out: stored credentials removed.");
    } else {
        println!("Nothing to remove: no stored credentials.");
    }
    for name in &still {
        println!(
            "Note: {name} is still set in this environment, so a runtime started from it is still logged in; unset it to log out completely."
        );
    }
    Ok(())
}
