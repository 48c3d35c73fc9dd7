//! What an agent runtime calls at startup.
//!
//! [`AuthManager::load`] resolves, in this order:
//! 1. `CODEX_API_KEY` (API key auth);
//! 2. `CODEX_AGENT_IDENTITY` (a tokenless agent identity held in memory,
//!    never written to disk; an invalid value fails startup);
//! 3. the ephemeral store of this home;
//! 4. the configured home (`auth.json` in a file, the keyring, or both): a
//!    document holding only an `agent_identity` starts tokenless;
//! 5. otherwise nobody is logged in (`auth()` is `None`); a corrupt
//!    `auth.json` is an error, never "logged out".
//!
//! The manager then serves [`AuthManager::auth`] without I/O, reloads,
//! logs in and out, enforces workspace and login-method restrictions, and
//! caches the background task id of an agent identity
//! ([`AuthManager::ensure_background_task_id`]).
//!
//! ```
//! use std::sync::Arc;
//! use core_auth::{AuthConfig, AuthManager, MapEnv, CODEX_AGENT_IDENTITY_VAR};
//! use login_agent_identity::{AgentIdentityJwtClaims, AgentIdentityKey, JwtSigningKey, mint_agent_identity_jwt};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // A launcher hands the runtime one string.
//! let claims = AgentIdentityJwtClaims {
//!     workspace_id: "ws-1".into(),
//!     agent_runtime_id: "rt-1".into(),
//!     agent_private_key: AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
//!     chatgpt_user_id: None,
//!     registered_at: None,
//! };
//! let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
//! let env = MapEnv::new().with(CODEX_AGENT_IDENTITY_VAR, jwt);
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

mod auth;
mod config;
mod error;
mod homes;
mod manager;
mod resolve;
mod task;

pub use auth::{AuthSource, CodexAuth};
pub use config::{
    AuthConfig, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR, CODEX_AUTH_STORE_VAR, CODEX_HOME_VAR,
    EnvSource, ForcedLoginMethod, MapEnv, ProcessEnv,
};
pub use error::{AuthError, RegistrarError};
pub use manager::AuthManager;
pub use task::TaskRegistrar;

pub use login_agent_identity;
pub use login_storage;
