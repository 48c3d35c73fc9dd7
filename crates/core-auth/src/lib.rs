//! What an agent runtime calls at startup.
//!
//! [`AuthManager::load`] resolves, in this order:
//! 1. `CODEX_API_KEY` (API key auth);
//! 2. `CODEX_AGENT_IDENTITY` (a tokenless agent identity held in memory,
//!    never written to disk; an invalid value fails startup);
//! 3. the ephemeral store of this home;
//! 4. the configured store (`auth.json` in a file, the keyring, or both): a
//!    document holding only an `agent_identity` starts tokenless;
//! 5. otherwise nobody is logged in (`auth()` is `None`); a corrupt
//!    `auth.json` is an error, never "logged out".
//!
//! The manager then serves [`AuthManager::auth`] without I/O, builds the
//! headers a model request carries for any mode
//! ([`AuthManager::request_headers`]: a bearer token, or a tokenless
//! `AgentAssertion`), reloads, logs in and out, enforces workspace and
//! login-method restrictions, caches the background task id of an agent
//! identity, registering once per home across processes
//! ([`AuthManager::ensure_background_task_id`]), and refreshes ChatGPT
//! tokens ([`AuthManager::refresh_if_stale`],
//! [`AuthManager::recover_unauthorized`]) so that of several processes
//! sharing one home exactly one redeems a rotating refresh token.
//!
//! # Plug-ins
//! Network access is not this crate's: task registration and token refresh
//! go through the [`TaskRegistrar`] and [`TokenRefresher`] set in
//! [`AuthConfig`]. The `auth-http` crate implements both over HTTP (and
//! `auth_http::with_http_clients` sets them up from the environment);
//! an embedder may bring its own. Without a refresher, stale ChatGPT
//! tokens cannot be refreshed ([`AuthError::NoTokenRefresher`]); without a
//! registrar, an agent identity cannot register a background task
//! ([`AuthError::NoTaskRegistrar`]). A [`TokenRevoker`] (also in
//! `auth-http`) lets [`AuthManager::revoke_and_logout`] revoke the stored
//! refresh token before deleting it.
//!
//! ```
//! use std::sync::Arc;
//! use core_auth::{AuthConfig, AuthManager, MapEnv, CODEX_AGENT_IDENTITY_VAR};
//! use login_agent_identity::{AgentIdentityClaims, AgentIdentityKey, ExposeSecret, JwtSigningKey,
//!     mint_agent_identity_jwt};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // A launcher hands the runtime one string.
//! let private_key = AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64();
//! let claims = AgentIdentityClaims::new("ws-1", "rt-1", private_key)?;
//! let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
//! let env = MapEnv::new().with(CODEX_AGENT_IDENTITY_VAR, jwt.expose_secret());
//!
//! let home = tempfile::tempdir()?;
//! let manager = AuthManager::load(AuthConfig::new(home.path()).with_env(Arc::new(env))).await?;
//! let auth = manager.auth().expect("authenticated by the environment");
//! assert_eq!(auth.source().to_string(), "env:CODEX_AGENT_IDENTITY");
//! assert_eq!(auth.workspace_id(), Some("ws-1"));
//! assert!(!home.path().join("auth.json").exists()); // never written to disk
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod api_key;
mod auth;
mod config;
mod error;
mod manager;
mod refresh;
mod resolve;
mod revoke;
mod stores;
mod task;

pub use api_key::{ApiKey, ApiKeyError, MAX_API_KEY_LEN};
pub use auth::{AuthSource, CodexAuth};
pub use config::{
    AuthConfig, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR, CODEX_AUTH_STORE_VAR, CODEX_HOME_VAR,
    EnvSource, ForcedLoginMethod, MapEnv, ProcessEnv,
};
pub use error::AuthError;
pub use manager::{
    ACCOUNT_ID_HEADER, AUTHORIZATION_HEADER, AuthManager, RefreshOutcome, UnauthorizedRecovery,
};
pub use refresh::{
    ACCESS_TOKEN_EXPIRY_MARGIN, MAX_TOKEN_AGE, RefreshError, RefreshTokenFailure, RefreshedTokens,
    TokenRefresher,
};
pub use revoke::{LogoutReport, RevokeError, RevokeOutcome, TokenRevoker};
pub use task::{RegistrarError, TaskRegistrar};

pub use login_agent_identity;
pub use login_storage;
