//! Configuration from flags and environment, and `login`/`logout`.

use std::sync::Arc;

use auth_http::HttpTaskRegistrar;
use core_auth::{
    AuthConfig, AuthManager, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR, ProcessEnv, RevokeOutcome,
};
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::{AutoStore, FileStore, StoreMode};

use crate::cli::{Cli, LoginArgs, LogoutArgs};
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
    let chatgpt = args.chatgpt || args.device_auth;
    let auth = if chatgpt {
        let tokens = crate::chatgpt_login::run(args, &*manager.config().env).await?;
        // The same path as every login: restrictions are checked against
        // the id token before anything is written.
        manager.save_tokens(tokens).await?
    } else if args.api_key_stdin {
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
        let mut output = serde_json::json!({
            "schema_version": crate::SCHEMA_VERSION,
            "logged_in": true,
            "mode": auth.mode().as_str(),
            "store": store.as_str(),
        });
        if chatgpt {
            output["flow"] = serde_json::json!(crate::chatgpt_login::flow_name(args));
        }
        println!("{output}");
    } else {
        println!(
            "Logged in with {}, stored in the {store} store.",
            crate::status::with_article(auth.mode())
        );
    }
    Ok(())
}

/// Runs `logout`: revokes the stored refresh token (unless `--no-revoke`),
/// then removes stored credentials from every store, whatever the revoke's
/// outcome, and reports both. With the auto store a keyring that cannot be
/// reached holds nothing: the logout succeeds once `auth.json` is gone, and
/// says the keyring was not reached. Environment variables still
/// authenticate a runtime after a logout; the output says so.
pub async fn logout(cli: &Cli, args: &LogoutArgs) -> Result<(), CliError> {
    let config = config(cli)?;
    let file_store = FileStore::new(&config.codex_home);
    let auto = (config.store_mode == StoreMode::Auto && config.storage.is_none()).then(|| {
        AutoStore::new(
            &config.codex_home,
            config.storage_options.keyring(),
            config.storage_options.keyring_timeout,
        )
    });
    let manager = AuthManager::writer(config.with_env_auth(false));
    let env = &manager.config().env;
    let still: Vec<&str> = [CODEX_API_KEY_VAR, CODEX_AGENT_IDENTITY_VAR]
        .into_iter()
        .filter(|name| env.var(name).is_some_and(|value| !value.trim().is_empty()))
        .collect();
    let (mut removed, revoke) = if args.no_revoke {
        (manager.logout().await?, None)
    } else {
        let report = manager.revoke_and_logout().await?;
        (report.removed, Some(report.revoke))
    };
    // The manager's delete treats an unreachable keyring as empty without
    // saying so; the auto store, asked directly once more (the file is gone
    // by now, so this only probes the keyring), tells whether it answered.
    // A stuck keyring fails fast here (`KeyringBusy`), so this adds no wait.
    let mut keyring_unreachable = None;
    if let Some(store) = auto {
        let outcome = store.delete_with_outcome()?;
        removed |= outcome.removed;
        keyring_unreachable = outcome.keyring_unreachable.map(|error| error.to_string());
    }
    let revoked = revoke.as_ref().and_then(RevokeOutcome::revoked);
    // Copies a login moved aside are never deleted (they may be the only
    // copy of a credential); a listing that fails is no reason to fail the
    // logout that already happened.
    let corrupt_copies = file_store.corrupt_copies().unwrap_or_default();
    if cli.json {
        let mut output = serde_json::json!({
            "schema_version": crate::SCHEMA_VERSION,
            "removed": removed,
            "revoked": revoked,
            "still_authenticated_by": still.iter().map(|name| format!("env:{name}")).collect::<Vec<_>>(),
        });
        if let Some(reason) = &keyring_unreachable {
            output["keyring_unreachable"] = serde_json::json!(reason);
        }
        if !corrupt_copies.is_empty() {
            output["corrupt_copies"] = serde_json::json!(corrupt_copies);
        }
        println!("{output}");
        return Ok(());
    }
    match &revoke {
        Some(RevokeOutcome::Revoked) => println!("Refresh token revoked."),
        // The error names the URL and status and quotes an error body with
        // the token removed in every form; never the token itself.
        Some(RevokeOutcome::Failed(error)) => {
            println!("Refresh token not revoked: could not revoke: {error}");
        }
        _ => {}
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
    if !corrupt_copies.is_empty() {
        println!(
            "Left in place: {} corrupt cop{} of auth.json that may hold credentials; delete {} once nothing in {} is needed:",
            corrupt_copies.len(),
            if corrupt_copies.len() == 1 {
                "y"
            } else {
                "ies"
            },
            if corrupt_copies.len() == 1 {
                "it"
            } else {
                "them"
            },
            if corrupt_copies.len() == 1 {
                "it"
            } else {
                "them"
            },
        );
        for path in &corrupt_copies {
            println!("  {}", terminal::escape(&path.to_string_lossy()));
        }
    }
    for name in &still {
        println!(
            "Note: {name} is still set in this environment, so a runtime started from it is still logged in; unset it to log out completely."
        );
    }
    Ok(())
}
