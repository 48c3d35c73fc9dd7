//! Configuration from flags and environment, and `login`/`logout`.

use std::sync::Arc;

use auth_http::HttpTaskRegistrar;
use core_auth::{AuthConfig, AuthManager, ProcessEnv};
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::{AutoStore, StoreMode};

use crate::cli::{Cli, LoginArgs};
use crate::error::CliError;
use crate::input;

/// `--codex-home` over `CODEX_HOME` over `~/.codex` (one rule for all: a
/// home that does not exist yet is empty); `--store` over
/// `CODEX_AUTH_STORE` over `file`; the HTTP token refresher and, when
/// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` is set, task registrar.
pub fn config(cli: &Cli) -> Result<AuthConfig, CliError> {
    let mut config =
        AuthConfig::from_env_source_with_home(Arc::new(ProcessEnv), cli.codex_home.clone())?;
    if let Some(store) = cli.store {
        config.store_mode = store;
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

/// A manager for writing: environment auth plays no part in what is stored.
fn writer(cli: &Cli) -> Result<Arc<AuthManager>, CliError> {
    Ok(AuthManager::writer(config(cli)?.with_env_auth(false)))
}

/// Runs `login`: reads and validates the secret, then stores it.
pub async fn login(cli: &Cli, args: &LoginArgs) -> Result<(), CliError> {
    let manager = writer(cli)?;
    let auth = if args.api_key_stdin {
        let key = input::read_stdin()?;
        manager.login_with_api_key(key).await?
    } else {
        let text = match &args.agent_identity_file {
            Some(path) => input::read_file(path)?,
            None => input::read_stdin()?,
        };
        let identity: AgentIdentityInput = text.expose_secret().parse()?;
        manager.login_with_agent_identity(identity).await?
    };
    let store = manager.config().store_mode;
    if cli.json {
        println!(
            "{}",
            serde_json::json!({ "logged_in": true, "mode": auth.mode().to_string(), "store": store.as_str() })
        );
    } else {
        println!(
            "Logged in: mode {}, stored in the {store} store",
            auth.mode()
        );
    }
    Ok(())
}

/// Runs `logout`: removes stored credentials from every store. With the
/// auto store a keyring that cannot be reached holds nothing: the logout
/// succeeds once `auth.json` is gone, and says the keyring was not reached.
pub async fn logout(cli: &Cli) -> Result<(), CliError> {
    let config = config(cli)?;
    let (removed, keyring_unreachable) =
        if config.store_mode == StoreMode::Auto && config.storage.is_none() {
            // For the auto store the manager's logout is exactly this
            // store's delete (a writer process holds nothing in memory),
            // asked directly so the keyring's answer reaches the user.
            let store = AutoStore::new(
                &config.codex_home,
                config.storage_options.keyring(),
                config.storage_options.keyring_timeout,
            );
            let outcome = store.delete_with_outcome()?;
            let unreachable = outcome.keyring_unreachable.map(|error| error.to_string());
            (outcome.removed, unreachable)
        } else {
            let manager = AuthManager::writer(config.with_env_auth(false));
            (manager.logout().await?, None)
        };
    if cli.json {
        let mut output = serde_json::json!({ "removed": removed });
        if let Some(reason) = &keyring_unreachable {
            output["keyring_unreachable"] = serde_json::json!(reason);
        }
        println!("{output}");
        return Ok(());
    }
    if removed {
        println!("Logged out: stored credentials removed.");
    } else {
        println!("Nothing to remove: no stored credentials.");
    }
    if let Some(reason) = keyring_unreachable {
        println!(
            "Note: the OS keyring was not reachable, so it was treated as holding nothing ({reason})."
        );
    }
    Ok(())
}
