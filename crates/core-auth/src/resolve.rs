//! Startup resolution: environment, then the ephemeral store, then the
//! configured store, into one [`CodexAuth`].
//!
//! Blocking (storage and keyring I/O); the manager runs it on tokio's
//! blocking pool.
//!
//! `OPENAI_API_KEY` in the environment is deliberately not a source: it is
//! commonly exported for other tools, and treating it as a login would make
//! a runtime silently bill whichever key happens to be in the shell.
//! `CODEX_API_KEY` is the explicit opt-in.

use login_agent_identity::AgentIdentity;
use login_storage::{AuthDotJson, AuthMode as StoredMode, AuthStore, StoreKind};

use crate::auth::{AuthSource, CodexAuth, Credentials, ShadowedAuth};
use crate::config::{AuthConfig, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR};
use crate::error::AuthError;
use crate::stores::Stores;

/// Resolves the auth a runtime starting now would use.
pub(crate) fn resolve(
    config: &AuthConfig,
    stores: &Stores,
) -> Result<Option<CodexAuth>, AuthError> {
    let _span = tracing::debug_span!("resolve", codex_home = %config.codex_home.display(), store = %config.store_mode)
        .entered();
    if let Some(api_key) = config.auth_var(CODEX_API_KEY_VAR) {
        tracing::debug!(source = "env:CODEX_API_KEY", mode = "apikey", "resolved");
        if config.auth_var(CODEX_AGENT_IDENTITY_VAR).is_some() {
            // Both set is most likely a mistake; say which one is ignored.
            tracing::info!(
                shadowed = "env:CODEX_AGENT_IDENTITY",
                used = "env:CODEX_API_KEY",
                "CODEX_AGENT_IDENTITY is set but not used: CODEX_API_KEY comes first"
            );
        }
        return Ok(Some(CodexAuth::new(
            Credentials::ApiKey(api_key.trim().to_owned().into()),
            AuthSource::EnvApiKey,
        )));
    }
    if let Some(value) = config.auth_var(CODEX_AGENT_IDENTITY_VAR) {
        let record = env_identity(&value)?;
        let record = stores.hold_env_identity(record)?;
        tracing::debug!(
            source = "env:CODEX_AGENT_IDENTITY",
            mode = "agentIdentity",
            "resolved"
        );
        return Ok(Some(CodexAuth::new(
            Credentials::AgentIdentity(record),
            AuthSource::EnvAgentIdentity,
        )));
    }
    if let Some(auth) = from_store(&stores.ephemeral)? {
        return Ok(Some(auth));
    }
    if let Some(persistent) = stores.persistent()
        && let Some(auth) = from_store(persistent)?
    {
        return Ok(Some(auth));
    }
    tracing::debug!("no credentials found");
    Ok(None)
}

/// The credentials resolution would reach after `used`, the source in
/// use: the environment identity behind `CODEX_API_KEY`, and any stored
/// auth behind the environment or the ephemeral store. A store that cannot
/// be read is skipped (logged at debug): it is not in use either way.
pub(crate) fn shadowed(
    config: &AuthConfig,
    stores: &Stores,
    used: AuthSource,
) -> Vec<ShadowedAuth> {
    let mut found = Vec::new();
    if used == AuthSource::EnvApiKey && config.auth_var(CODEX_AGENT_IDENTITY_VAR).is_some() {
        found.push(ShadowedAuth::new(AuthSource::EnvAgentIdentity, used));
    }
    let mut below: Vec<&dyn AuthStore> = Vec::new();
    if used.is_env() {
        below.push(&stores.ephemeral);
    }
    if used.is_env() || used == AuthSource::Ephemeral {
        below.extend(stores.persistent());
    }
    for store in below {
        match store.load_located() {
            Ok(Some((document, location))) if document.resolved_mode().is_some() => {
                found.push(ShadowedAuth::new(AuthSource::from_location(location), used));
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "a store behind the auth in use cannot be read"),
        }
    }
    found
}

fn env_identity(value: &str) -> Result<AgentIdentity, AuthError> {
    value
        .parse::<AgentIdentity>()
        .map_err(AuthError::InvalidEnvAgentIdentity)
}

fn from_store(store: &dyn AuthStore) -> Result<Option<CodexAuth>, AuthError> {
    let Some((document, location)) = store.load_located()? else {
        return Ok(None);
    };
    let auth = from_document(document, location)?;
    if let Some(auth) = &auth {
        tracing::debug!(source = %auth.source(), mode = %auth.mode(), "resolved");
    }
    Ok(auth)
}

/// Builds the auth a stored document describes, by its resolved mode.
pub(crate) fn from_document(
    document: AuthDotJson,
    location: StoreKind,
) -> Result<Option<CodexAuth>, AuthError> {
    from_document_as(document, AuthSource::from_location(location))
}

/// Like [`from_document`], for a document known to come from `source`.
pub(crate) fn from_document_as(
    document: AuthDotJson,
    source: AuthSource,
) -> Result<Option<CodexAuth>, AuthError> {
    let Some(mode) = document.resolved_mode() else {
        return Ok(None);
    };
    let identity = |document: &AuthDotJson| {
        document.validated_agent_identity().map_err(|source_error| {
            AuthError::InvalidStoredAgentIdentity {
                location: source.to_string(),
                source: source_error,
            }
        })
    };
    let incomplete = |missing| AuthError::IncompleteStoredAuth {
        location: source.to_string(),
        mode: mode.to_string(),
        missing,
    };
    let credentials = match &mode {
        StoredMode::ApiKey => {
            let key = document
                .openai_api_key
                .clone()
                .ok_or_else(|| incomplete("OPENAI_API_KEY"))?;
            Credentials::ApiKey(key)
        }
        StoredMode::Chatgpt => {
            let agent_identity = identity(&document)?;
            let tokens = document.tokens.ok_or_else(|| incomplete("tokens"))?;
            // No id token is valid (the mirrored CLI writes such files):
            // the account then comes from `tokens.account_id` alone.
            let claims = match tokens.id_token.as_ref().map(login_storage::IdToken::claims) {
                None => None,
                Some(Ok(claims)) => Some(claims),
                Some(Err(error)) => {
                    tracing::warn!(%error, "ChatGPT id token is unreadable; account details are unavailable");
                    None
                }
            };
            Credentials::Chatgpt {
                tokens,
                claims,
                last_refresh: document.last_refresh,
                agent_identity,
            }
        }
        StoredMode::AgentIdentity => {
            let record = identity(&document)?.ok_or_else(|| incomplete("agent_identity"))?;
            Credentials::AgentIdentity(record)
        }
        other => {
            return Err(AuthError::UnsupportedMode {
                location: source.to_string(),
                mode: other.to_string(),
            });
        }
    };
    Ok(Some(CodexAuth::new(credentials, source)))
}
