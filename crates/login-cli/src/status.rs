//! `agent-login status`: what a runtime starting now would see. Every
//! value from the store, a token or a server is escaped for the terminal
//! ([`crate::terminal::escape`]); `--json` is left to serde_json.

use core_auth::{AuthConfig, AuthManager, CodexAuth};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _, PlanType};
use login_storage::AUTH_FILE_NAME;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::StatusArgs;
use crate::error::CliError;
use crate::terminal::escape;

/// The API key as `sk-...XXXX`: at most the first 3 and last 4 characters,
/// and none of them for keys too short to hide the rest.
pub fn mask_api_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "...".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

fn identity_json(record: &AgentIdentity) -> Value {
    let public_key = AgentIdentityKey::from_claims(record.claims())
        .ok()
        .map(|key| key.public_key_ssh());
    json!({
        "workspace_id": record.workspace_id(),
        "agent_runtime_id": record.agent_runtime_id(),
        "chatgpt_user_id": record.chatgpt_user_id(),
        "registered_at": record.registered_at(),
        "background_task_id": record.background_task_id(),
        "public_key": public_key,
        "email": record.email(),
        "plan_type": record.plan_type().map(PlanType::as_str),
        "chatgpt_account_is_fedramp": record.chatgpt_account_is_fedramp(),
        "expires_at": record.expires_at().and_then(|at| at.format(&Rfc3339).ok()),
    })
}

/// One line per problem a runtime starting now would run into without
/// failing to start: an agent identity whose `exp` is past (it is decoded
/// unverified, so nothing refuses it before the service does).
fn warnings(auth: Option<&CodexAuth>) -> Vec<String> {
    let expired = auth
        .and_then(CodexAuth::agent_identity)
        .and_then(AgentIdentity::expires_at)
        .filter(|at| *at < OffsetDateTime::now_utc());
    expired
        .and_then(|at| at.format(&Rfc3339).ok())
        .map(|at| format!("the agent identity expired at {at} (its `exp` claim is past)"))
        .into_iter()
        .collect()
}

/// The `--json` object; every key is present, `null` when it has no value.
pub fn status_json(auth: Option<&CodexAuth>, config: &AuthConfig) -> Value {
    // ChatGPT tokens, with or without a (readable) id token.
    let account = auth.filter(|auth| auth.tokens().is_some()).map(|auth| {
        let claims = auth.id_token_claims();
        json!({
            "email": auth.account_email(),
            "chatgpt_account_id": auth.workspace_id(),
            "plan_type": claims.and_then(|claims| claims.chatgpt_plan_type.as_ref()).map(PlanType::as_str),
        })
    });
    json!({
        "logged_in": auth.is_some(),
        "mode": auth.map(|auth| auth.mode().to_string()),
        "source": auth.map(|auth| auth.source().to_string()),
        "codex_home": config.codex_home.display().to_string(),
        "store": config.store_mode.as_str(),
        "agent_identity": auth.and_then(CodexAuth::agent_identity).map(identity_json),
        "api_key": auth.and_then(CodexAuth::api_key).map(|key| mask_api_key(key.expose_secret())),
        "account": account,
        "warnings": warnings(auth),
    })
}

fn print_human(auth: Option<&CodexAuth>, config: &AuthConfig) {
    let Some(auth) = auth else {
        println!("Not logged in. A runtime starting now would find no credentials.");
        println!("Looked in, in order:");
        println!("  1. environment: CODEX_API_KEY, CODEX_AGENT_IDENTITY (both unset or blank)");
        println!("  2. ephemeral store of this process");
        println!(
            "  3. {} store for {} ({})",
            config.store_mode,
            escape(&config.codex_home.display().to_string()),
            escape(&config.codex_home.join(AUTH_FILE_NAME).display().to_string())
        );
        return;
    };
    println!("Logged in: mode {}, source {}", auth.mode(), auth.source());
    println!(
        "  codex home: {}",
        escape(&config.codex_home.display().to_string())
    );
    println!("  store: {}", config.store_mode);
    if let Some(key) = auth.api_key() {
        println!("  API key: {}", escape(&mask_api_key(key.expose_secret())));
    }
    if auth.tokens().is_some() {
        let plan = auth
            .id_token_claims()
            .and_then(|claims| claims.chatgpt_plan_type.as_ref());
        println!(
            "  account: {} (account id {}, plan {})",
            escape(auth.account_email().unwrap_or("-")),
            escape(auth.workspace_id().unwrap_or("-")),
            escape(plan.map_or("-", PlanType::as_str))
        );
    }
    if let Some(record) = auth.agent_identity() {
        let identity = identity_json(record);
        for key in [
            "workspace_id",
            "agent_runtime_id",
            "chatgpt_user_id",
            "registered_at",
            "background_task_id",
            "public_key",
            "email",
            "plan_type",
            "expires_at",
        ] {
            let value = identity[key].as_str().unwrap_or("-");
            println!("  {}: {}", key.replace('_', " "), escape(value));
        }
        if let Some(fedramp) = record.chatgpt_account_is_fedramp() {
            println!("  chatgpt account is fedramp: {fedramp}");
        }
    }
    for warning in warnings(Some(auth)) {
        eprintln!("warning: {warning}");
    }
}

/// Registers a background task for the current agent identity, unless one
/// is cached already.
async fn register_task(manager: &AuthManager) -> Result<(), CliError> {
    let has_identity = manager
        .auth()
        .is_some_and(|auth| auth.agent_identity().is_some());
    if !has_identity {
        return Err(CliError::invalid(
            "--register-task needs an agent identity, and there is none",
        ));
    }
    manager.ensure_background_task_id().await?;
    Ok(())
}

/// Runs `status`; `Ok(false)` when nobody is logged in.
pub async fn run(
    config: AuthConfig,
    json_output: bool,
    args: &StatusArgs,
) -> Result<bool, CliError> {
    let manager = AuthManager::load(config.clone()).await?;
    if args.register_task {
        register_task(&manager).await?;
    }
    let auth = manager.auth();
    if json_output {
        println!("{}", status_json(auth.as_ref(), &config));
    } else {
        print_human(auth.as_ref(), &config);
    }
    Ok(auth.is_some())
}
