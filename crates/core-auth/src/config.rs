//! [`AuthConfig`] and the environment it reads through [`EnvSource`].
//!
//! Variables are read through an injectable [`EnvSource`] (the process
//! environment by default), so tests never mutate the process environment,
//! which is `unsafe` in edition 2024.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use login_storage::{AuthStore, Keyring, StoreMode, StoreOptions};

use crate::error::AuthError;
use crate::refresh::TokenRefresher;
use crate::revoke::TokenRevoker;
use crate::task::TaskRegistrar;

/// `CODEX_HOME`: where `auth.json` lives.
pub const CODEX_HOME_VAR: &str = "CODEX_HOME";
/// `CODEX_API_KEY`: an API key that takes precedence over everything.
pub const CODEX_API_KEY_VAR: &str = "CODEX_API_KEY";
/// `CODEX_AGENT_IDENTITY`: a launcher's agent identity (JWT or object).
pub const CODEX_AGENT_IDENTITY_VAR: &str = "CODEX_AGENT_IDENTITY";
/// `CODEX_AUTH_STORE`: the default credentials store (`file`, `keyring`, `auto`, `ephemeral`).
pub const CODEX_AUTH_STORE_VAR: &str = "CODEX_AUTH_STORE";

/// Where variables come from.
pub trait EnvSource: Send + Sync + fmt::Debug {
    /// The value of `name`, or `None` when unset or not Unicode.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests and embedders. `Debug` shows only
/// the names: values may be secrets.
#[derive(Clone, Default)]
pub struct MapEnv(HashMap<String, String>);

impl MapEnv {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a variable.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }
}

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MapEnv")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl EnvSource for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A login method a deployment can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForcedLoginMethod {
    /// Only API keys.
    ApiKey,
    /// Only ChatGPT accounts: ChatGPT tokens, or an agent identity (which
    /// belongs to a ChatGPT workspace).
    Chatgpt,
}

impl ForcedLoginMethod {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ForcedLoginMethod::ApiKey => "API key",
            ForcedLoginMethod::Chatgpt => "ChatGPT",
        }
    }
}

/// How [`crate::AuthManager`] finds and keeps credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The home holding `auth.json` (and keying the keyring entry).
    pub codex_home: PathBuf,
    /// Where credentials are kept.
    pub store_mode: StoreMode,
    /// Whether `CODEX_API_KEY` and `CODEX_AGENT_IDENTITY` are read. Default true.
    pub enable_env_auth: bool,
    /// A login method every auth must use.
    pub forced_login_method: Option<ForcedLoginMethod>,
    /// A workspace every ChatGPT or agent identity auth must belong to.
    pub forced_workspace_id: Option<String>,
    /// The keyring timeout and implementation the built-in stores use.
    pub storage_options: StoreOptions,
    /// Where variables come from.
    pub env: Arc<dyn EnvSource>,
    /// A store defined by the embedder, used instead of `store_mode`'s.
    pub storage: Option<Arc<dyn AuthStore>>,
    /// What redeems ChatGPT refresh tokens (`auth-http` provides one).
    /// `None`: stale tokens cannot be refreshed.
    pub token_refresher: Option<Arc<dyn TokenRefresher>>,
    /// What registers background tasks for an agent identity (`auth-http`
    /// provides one). `None`: registering fails with
    /// [`AuthError::NoTaskRegistrar`].
    pub task_registrar: Option<Arc<dyn TaskRegistrar>>,
    /// What revokes the stored refresh token at
    /// [`AuthManager::revoke_and_logout`](crate::AuthManager::revoke_and_logout)
    /// (`auth-http` provides one). `None`: nothing is revoked.
    pub token_revoker: Option<Arc<dyn TokenRevoker>>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("codex_home", &self.codex_home)
            .field("store_mode", &self.store_mode)
            .field("enable_env_auth", &self.enable_env_auth)
            .field("forced_login_method", &self.forced_login_method)
            .field("forced_workspace_id", &self.forced_workspace_id)
            .field("storage_options", &self.storage_options)
            .field("custom_storage", &self.storage.is_some())
            .field("token_refresher", &self.token_refresher)
            .field("task_registrar", &self.task_registrar)
            .field("token_revoker", &self.token_revoker)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// A configuration for `codex_home` with every default: file store,
    /// environment auth on, no restriction, the process environment.
    pub fn new(codex_home: impl Into<PathBuf>) -> Self {
        Self {
            codex_home: codex_home.into(),
            store_mode: StoreMode::default(),
            enable_env_auth: true,
            forced_login_method: None,
            forced_workspace_id: None,
            storage_options: StoreOptions::default(),
            env: Arc::new(ProcessEnv),
            storage: None,
            token_refresher: None,
            task_registrar: None,
            token_revoker: None,
        }
    }

    /// Reads `CODEX_HOME` and `CODEX_AUTH_STORE` from the process environment.
    pub fn from_env() -> Result<Self, AuthError> {
        Self::from_env_source(Arc::new(ProcessEnv))
    }

    /// Reads `CODEX_HOME` (default `~/.codex`) and `CODEX_AUTH_STORE`
    /// (default `file`) from `env`, and keeps `env` for startup resolution.
    /// The home follows [`from_env_source_with_home`](Self::from_env_source_with_home)'s rule.
    pub fn from_env_source(env: Arc<dyn EnvSource>) -> Result<Self, AuthError> {
        Self::from_env_source_with_home(env, None)
    }

    /// Like [`from_env_source`](Self::from_env_source), with `codex_home`,
    /// when given (a command-line flag, say), taking the place of
    /// `CODEX_HOME`.
    ///
    /// One rule for every store, however it was named: a directory that
    /// does not exist yet is an empty home (reading it finds nothing; it is
    /// created 0700 when something is first written), while a path that
    /// exists and is not a directory is an error. Credentials from the
    /// environment never touch the home.
    pub fn from_env_source_with_home(
        env: Arc<dyn EnvSource>,
        codex_home: Option<PathBuf>,
    ) -> Result<Self, AuthError> {
        let codex_home = match codex_home.or_else(|| {
            env.var(CODEX_HOME_VAR)
                .filter(|value| !value.trim().is_empty())
                .map(PathBuf::from)
        }) {
            Some(path) => checked_codex_home(path)?,
            // std's home_dir reads $HOME (and the user database when unset),
            // which is what `dirs` did here, without its three crates.
            None => std::env::home_dir()
                .ok_or(AuthError::NoHomeDirectory)?
                .join(".codex"),
        };
        let store_mode = store_mode_from_env(&*env)?.unwrap_or_default();
        Ok(Self {
            store_mode,
            env,
            ..Self::new(codex_home)
        })
    }

    /// Sets the store mode.
    pub fn with_store_mode(mut self, mode: StoreMode) -> Self {
        self.store_mode = mode;
        self
    }

    /// Sets where variables come from.
    pub fn with_env(mut self, env: Arc<dyn EnvSource>) -> Self {
        self.env = env;
        self
    }

    /// Turns environment auth on or off.
    pub fn with_env_auth(mut self, enabled: bool) -> Self {
        self.enable_env_auth = enabled;
        self
    }

    /// Requires a login method.
    pub fn with_forced_login_method(mut self, method: ForcedLoginMethod) -> Self {
        self.forced_login_method = Some(method);
        self
    }

    /// Requires a workspace.
    pub fn with_forced_workspace_id(mut self, workspace_id: impl Into<String>) -> Self {
        self.forced_workspace_id = Some(workspace_id.into());
        self
    }

    /// Sets the keyring timeout.
    pub fn with_keyring_timeout(mut self, timeout: Duration) -> Self {
        self.storage_options = self.storage_options.with_keyring_timeout(timeout);
        self
    }

    /// Keeps credentials in `storage` instead of a built-in store.
    pub fn with_store(mut self, storage: Arc<dyn AuthStore>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Uses `store` instead of the OS keyring.
    pub fn with_keyring(mut self, store: Arc<dyn Keyring>) -> Self {
        self.storage_options = self.storage_options.with_keyring(store);
        self
    }

    /// Redeems refresh tokens with `refresher` instead of the default.
    pub fn with_token_refresher(mut self, refresher: Arc<dyn TokenRefresher>) -> Self {
        self.token_refresher = Some(refresher);
        self
    }

    /// Revokes refresh tokens at logout with `revoker` instead of the default.
    pub fn with_token_revoker(mut self, revoker: Arc<dyn TokenRevoker>) -> Self {
        self.token_revoker = Some(revoker);
        self
    }

    /// Registers background tasks with `registrar` instead of the default.
    pub fn with_task_registrar(mut self, registrar: Arc<dyn TaskRegistrar>) -> Self {
        self.task_registrar = Some(registrar);
        self
    }

    /// The value of an auth variable when environment auth is on and the
    /// value is not blank.
    pub(crate) fn auth_var(&self, name: &str) -> Option<String> {
        if !self.enable_env_auth {
            return None;
        }
        self.env.var(name).filter(|value| !value.trim().is_empty())
    }
}

/// `path` when it is a directory or does not exist yet.
fn checked_codex_home(path: PathBuf) -> Result<PathBuf, AuthError> {
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.is_dir() => Ok(path),
        Ok(_) => Err(AuthError::InvalidCodexHome {
            path,
            reason: "is not a directory".to_owned(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(path),
        Err(error) => Err(AuthError::InvalidCodexHome {
            path,
            reason: format!("cannot be inspected ({})", error.kind()),
        }),
    }
}

/// The store `CODEX_AUTH_STORE` names in `env`, or `None` when it is unset
/// or blank; an unknown name is an error naming the variable.
fn store_mode_from_env(env: &dyn EnvSource) -> Result<Option<StoreMode>, AuthError> {
    let Some(value) = env
        .var(CODEX_AUTH_STORE_VAR)
        .filter(|value| !value.trim().is_empty())
    else {
        return Ok(None);
    };
    value
        .parse()
        .map(Some)
        .map_err(
            |error: login_storage::UnknownStoreMode| AuthError::InvalidEnvVar {
                variable: CODEX_AUTH_STORE_VAR,
                reason: error.to_string(),
            },
        )
}
