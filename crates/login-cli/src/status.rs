//! `agent-login status`: what a runtime starting now would see. Every
//! value from the store, a token or a server is escaped for the terminal
//! ([`crate::terminal::escape`]); `--json` is left to serde_json.

use core_auth::{AuthConfig, AuthManager, AuthMode, AuthSource, CodexAuth, ShadowedAuth};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _, PlanType};
use login_storage::{AUTH_FILE_NAME, StoreMode};
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

/// The mode in words, with its article: "an API key", "ChatGPT", "an
/// agent identity".
pub fn with_article(mode: AuthMode) -> String {
    match mode {
        AuthMode::Chatgpt => mode.description().to_owned(),
        AuthMode::ApiKey | AuthMode::AgentIdentity => format!("an {}", mode.description()),
    }
}

/// A source in words.
fn describe_source(source: AuthSource) -> String {
    if source.is_env() {
        // `env:NAME`
        let name = source.to_string();
        let name = name.trim_start_matches("env:");
        return format!("{name} in the environment");
    }
    format!("the login stored in the {source} store")
}

/// Where a runtime starting now looks, in order: what `status` prints and
/// `--json` carries as `looked_in`.
pub fn looked_in(config: &AuthConfig) -> Vec<String> {
    let home = config.codex_home.display().to_string();
    let persistent = match config.store_mode {
        StoreMode::Ephemeral => {
            "no stored login: with the ephemeral store, credentials live only inside a runtime's process (no file)".to_owned()
        }
        StoreMode::Keyring => format!("keyring store for {home} (the OS keyring entry of this home)"),
        mode => format!(
            "{mode} store for {home} ({})",
            config.codex_home.join(AUTH_FILE_NAME).display()
        ),
    };
    vec![
        "environment: CODEX_API_KEY, CODEX_AGENT_IDENTITY".to_owned(),
        "ephemeral store of this process".to_owned(),
        persistent,
    ]
}

/// What to do next when nobody is logged in; `flags` are the storage
/// flags to repeat ([`crate::session::storage_flags`]).
fn login_hint(config: &AuthConfig, flags: &str) -> String {
    if config.store_mode == StoreMode::Ephemeral {
        return "nothing can be stored with --store ephemeral; give the runtime CODEX_AGENT_IDENTITY (or CODEX_API_KEY) in its environment, or log in with --store file, keyring or auto".to_owned();
    }
    format!(
        "log in with `agent-login login{flags} --api-key-stdin` (reads the key from stdin) or `agent-login login{flags} --agent-identity-file identity.jwt`, or give the runtime CODEX_API_KEY or CODEX_AGENT_IDENTITY in its environment"
    )
}

/// Why a shadowed credential is not used.
fn shadow_reason(shadowed: &ShadowedAuth) -> String {
    format!(
        "not used: {} comes first",
        describe_source(shadowed.shadowed_by())
    )
}

/// What `status` found: the auth, what it hides, and what to do next.
pub struct Report<'a> {
    /// The auth a runtime starting now would use.
    pub auth: Option<&'a CodexAuth>,
    /// Credentials that exist but are not used.
    pub shadowed: &'a [ShadowedAuth],
    /// What to do next, if anything.
    pub hint: Option<String>,
}

/// The `--json` object; every key is present, `null` when it has no value.
pub fn status_json(report: &Report<'_>, config: &AuthConfig) -> Value {
    let auth = report.auth;
    // ChatGPT tokens, with or without a (readable) id token.
    let account = auth.filter(|auth| auth.tokens().is_some()).map(|auth| {
        let claims = auth.id_token_claims();
        json!({
            "email": auth.account_email(),
            "chatgpt_account_id": auth.workspace_id(),
            "plan_type": claims.and_then(|claims| claims.chatgpt_plan_type.as_ref()).map(PlanType::as_str),
        })
    });
    let shadowed: Vec<Value> = report
        .shadowed
        .iter()
        .map(|shadowed| {
            json!({
                "source": shadowed.source().to_string(),
                "shadowed_by": shadowed.shadowed_by().to_string(),
                "reason": shadow_reason(shadowed),
            })
        })
        .collect();
    json!({
        "schema_version": crate::SCHEMA_VERSION,
        "logged_in": auth.is_some(),
        "mode": auth.map(|auth| auth.mode().as_str()),
        "source": auth.map(|auth| auth.source().to_string()),
        "codex_home": config.codex_home.display().to_string(),
        "store": config.store_mode.as_str(),
        "agent_identity": auth.and_then(CodexAuth::agent_identity).map(identity_json),
        "api_key": auth.and_then(CodexAuth::api_key).map(|key| mask_api_key(key.expose_secret())),
        "account": account,
        "looked_in": looked_in(config),
        "shadowed": shadowed,
        "hint": report.hint,
        "warnings": warnings(auth),
    })
}

fn print_human(report: &Report<'_>, config: &AuthConfig) {
    let Some(auth) = report.auth else {
        println!("Not logged in. A runtime starting now would find no credentials.");
        println!("Looked in, in order:");
        for (index, place) in looked_in(config).iter().enumerate() {
            println!("  {}. {}", index + 1, escape(place));
        }
        if let Some(hint) = &report.hint {
            println!("Next: {}.", escape(hint));
        }
        return;
    };
    println!(
        "Logged in with {}, source {}",
        with_article(auth.mode()),
        auth.source()
    );
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
    if !report.shadowed.is_empty() {
        println!("Ignored credentials (they exist, but another source comes first):");
        for shadowed in report.shadowed {
            println!(
                "  - {} ({}): {}",
                describe_source(shadowed.source()),
                shadowed.source(),
                shadow_reason(shadowed)
            );
        }
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
/// `flags` are the storage flags of the command line, repeated in the
/// login commands suggested when nobody is logged in.
pub async fn run(
    config: AuthConfig,
    json_output: bool,
    args: &StatusArgs,
    flags: &str,
) -> Result<bool, CliError> {
    let manager = AuthManager::load(config.clone()).await?;
    if args.register_task {
        register_task(&manager).await?;
    }
    let auth = manager.auth();
    let shadowed = manager.shadowed().await?;
    let hint = auth.is_none().then(|| login_hint(&config, flags));
    let report = Report {
        auth: auth.as_ref(),
        shadowed: &shadowed,
        hint,
    };
    if json_output {
        println!("{}", status_json(&report, &config));
    } else {
        print_human(&report, &config);
    }
    Ok(auth.is_some())
}
