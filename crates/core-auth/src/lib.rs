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
//! use core_auth::{AuthConfig, AuthManager, AuthMode, AuthSource, MapEnv, CODEX_AGENT_IDENTITY_VAR};
//! use core_auth::login_agent_identity::{AgentIdentityClaims, AgentIdentityKey, JwtSigningKey,
//!     mint_agent_identity_jwt};
//! use core_auth::ExposeSecret as _;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // A launcher hands the runtime one string (minting needs the `mint`
//! // feature, on by default).
//! let private_key = AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64();
//! let claims = AgentIdentityClaims::new("ws-1", "rt-1", private_key)?;
//! let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
//! let env = MapEnv::new().with(CODEX_AGENT_IDENTITY_VAR, jwt.expose_secret());
//!
//! let home = std::env::temp_dir().join(format!("core-auth-crate-example-{}", std::process::id()));
//! let manager = AuthManager::load(AuthConfig::new(&home).with_env(Arc::new(env))).await?;
//! let Some(auth) = manager.auth() else { return Err("not authenticated".into()) };
//! assert_eq!(auth.source(), AuthSource::EnvAgentIdentity);
//! assert_eq!(auth.mode(), AuthMode::AgentIdentity);
//! assert_eq!(auth.workspace_id(), Some("ws-1"));
//! assert!(!home.join("auth.json").exists()); // never written to disk
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(example())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//! `keyring` (the OS keyring store), `verify` (JWK-set verification of
//! identity JWTs) and `mint` (minting identities and keys), all default.
//! Everything an embedder names is re-exported here: the auth
//! ([`CodexAuth`], [`AuthMode`], [`AuthSource`]), the identity
//! ([`AgentIdentity`], [`AgentIdentityInput`], [`AgentIdentityKey`] for a
//! [`TaskRegistrar`]), the secret types
//! ([`SecretString`], [`ExposeSecret`]) and storage choices
//! ([`StoreMode`], [`TokenData`]); the two crates below stay reachable as
//! [`login_agent_identity`] and [`login_storage`].

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
pub use auth::{AuthMode, AuthSource, CodexAuth, ShadowedAuth};
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

pub use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityInput, AgentIdentityKey, ExposeSecret,
    SecretString,
};
pub use login_storage::{IdTokenClaims, StoreMode, TokenData};

pub use login_agent_identity;
pub use login_storage;
