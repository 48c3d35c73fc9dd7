//! An agent runtime embedding the manager at startup.
//!
//! It loads the auth from the process environment and `$CODEX_HOME` (or
//! `~/.codex`), prints a summary with no secret in it, and, when the runtime
//! runs as an agent identity, makes sure a background task id is cached,
//! using a registrar defined here. A real runtime would register over HTTP;
//! this one derives a local id from the signature the service would check.
//!
//! ```text
//! CODEX_AGENT_IDENTITY="$(cat identity.jwt)" cargo run -p core-auth --example startup
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use core_auth::{AuthConfig, AuthManager, RegistrarError, TaskRegistrar};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _};

/// Registers tasks without a network: the id is derived from the signed
/// registration message, so it is stable per runtime and timestamp.
#[derive(Debug)]
struct LocalRegistrar;

impl TaskRegistrar for LocalRegistrar {
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        let signature = key.sign_task_registration("2026-01-01T00:00:00Z");
        let suffix: String = signature
            .expose_secret()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        Ok(format!("local-{}-{suffix}", identity.agent_runtime_id()))
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = AuthConfig::from_env()?.with_task_registrar(Arc::new(LocalRegistrar));
    println!(
        "codex home: {} (store: {})",
        config.codex_home.display(),
        config.store_mode
    );
    let manager = AuthManager::load(config).await?;
    let Some(auth) = manager.auth() else {
        println!("not logged in");
        return Ok(());
    };
    println!("mode: {}, source: {}", auth.mode(), auth.source());
    if let Some(workspace) = auth.workspace_id() {
        println!("workspace: {workspace}");
    }
    if auth.agent_identity().is_some() {
        let task_id = manager.ensure_background_task_id().await?;
        println!("background task: {task_id}");
        let headers = manager.request_headers().await?;
        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        println!("request headers: {names:?}");
    }
    println!("auth: {auth:?}");
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
