//! [`AuthError`]: why startup, login, logout or registration failed.
//!
//! Each variant names the variable, home or restriction involved; none
//! carries a secret (storage, identity and HTTP errors are already
//! secret-free).

use std::path::PathBuf;

use login_agent_identity::AgentIdentityError;
use login_storage::StoreError;

use crate::api_key::ApiKeyError;
use crate::refresh::RefreshError;
use crate::task::RegistrarError;

/// Why an auth operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// An environment variable holds an unusable value.
    #[error("environment variable {variable} is invalid: {reason}")]
    InvalidEnvVar {
        /// The variable's name.
        variable: &'static str,
        /// Why (never the value).
        reason: String,
    },
    /// The home (`CODEX_HOME` or one given explicitly) exists but is not a
    /// directory. A home that does not exist yet is not an error.
    #[error("the codex home (CODEX_HOME) {} {reason}", path.display())]
    InvalidCodexHome {
        /// The path it names.
        path: PathBuf,
        /// "is not a directory", or why it cannot be inspected.
        reason: String,
    },
    /// No home directory could be found for the default `~/.codex`.
    #[error("cannot find the home directory for the default CODEX_HOME (~/.codex); set CODEX_HOME")]
    NoHomeDirectory,
    /// `CODEX_AGENT_IDENTITY` is set but is not a valid agent identity.
    #[error("environment variable CODEX_AGENT_IDENTITY is invalid: {0}")]
    InvalidEnvAgentIdentity(#[source] AgentIdentityError),
    /// An agent identity given to a login is invalid; nothing was written.
    #[error("agent identity is invalid: {0}")]
    InvalidAgentIdentity(#[source] AgentIdentityError),
    /// The stored document's agent identity is invalid.
    #[error("the stored agent identity ({location}) is invalid: {source}")]
    InvalidStoredAgentIdentity {
        /// Where it was stored.
        location: String,
        /// What is wrong with it.
        #[source]
        source: AgentIdentityError,
    },
    /// The stored document declares a mode but lacks what the mode needs.
    #[error("the stored auth ({location}) says auth_mode `{mode}` but has no {missing}")]
    IncompleteStoredAuth {
        /// Where it was stored.
        location: String,
        /// The declared mode.
        mode: String,
        /// The missing field.
        missing: &'static str,
    },
    /// The stored document declares a mode this version does not know.
    #[error(
        "the stored auth ({location}) uses auth_mode `{mode}`, which this version does not support"
    )]
    UnsupportedMode {
        /// Where it was stored.
        location: String,
        /// The unknown mode.
        mode: String,
    },
    /// An API key given to a login is empty.
    #[error("the API key is empty")]
    EmptyApiKey,
    /// An API key given to a login is not one line of printable characters
    /// without whitespace, or is longer than [`crate::MAX_API_KEY_LEN`].
    /// Nothing was written.
    #[error(transparent)]
    InvalidApiKey(ApiKeyError),
    /// The auth belongs to another workspace than the one required.
    #[error("workspace restriction: workspace `{required}` is required, but the credentials belong to {}", found.as_deref().map_or("no workspace".to_owned(), |found| format!("workspace `{found}`")))]
    WorkspaceRestriction {
        /// The forced workspace id.
        required: String,
        /// The workspace found, if any.
        found: Option<String>,
    },
    /// The auth uses another login method than the one required.
    #[error(
        "login method restriction: {required} login is required, but the credentials are {found}"
    )]
    LoginMethodRestriction {
        /// The forced method.
        required: &'static str,
        /// The method found.
        found: &'static str,
    },
    /// Request credentials were asked for, and nobody is logged in.
    #[error("not logged in: no credentials to authenticate a request with")]
    NotLoggedIn,
    /// A task must be registered but no registrar is configured (set one
    /// with `AuthConfig::with_task_registrar`; `auth-http` sets one up when
    /// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` is set).
    #[error(
        "a background task must be registered but no task registrar is configured (set CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL)"
    )]
    NoTaskRegistrar,
    /// A request header would carry a control character (from a stored
    /// workspace or task id, say); the value is not shown.
    #[error("the {header} header value would contain a control character")]
    InvalidHeaderValue {
        /// The header's name.
        header: &'static str,
    },
    /// An operation needs an agent identity and there is none.
    #[error("not authenticated with an agent identity")]
    NoAgentIdentity,
    /// The identity changed while a task was being registered; the new id
    /// was not cached, because it belongs to the old identity.
    #[error(
        "the agent identity changed during task registration; the registered task id was discarded"
    )]
    IdentityChanged,
    /// The task registrar failed; nothing was cached.
    #[error("task registration failed: {0}")]
    Registration(#[source] RegistrarError),
    /// Refreshing ChatGPT tokens failed. A permanent failure's message
    /// tells the user to log in again; after a transient one the current
    /// tokens are kept.
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    /// A refresh or 401 recovery found tokens of another ChatGPT account in
    /// the store (their `account_id`, else their id token's
    /// `chatgpt_account_id`, differs from the tokens held in memory). They
    /// were not adopted, no refresh was attempted and the tokens in memory
    /// are kept; an explicit [`reload`](crate::AuthManager::reload) or a new
    /// login switches accounts.
    #[error(
        "the stored ChatGPT tokens belong to another account than the one in use; they were not adopted and no refresh was attempted (reload or log in again to switch accounts)"
    )]
    AccountChanged,
    /// The current auth has no refresh token to redeem (API key, agent
    /// identity, or not logged in).
    #[error("the current auth has no ChatGPT refresh token to refresh")]
    NotRefreshable,
    /// Tokens are stale but no refresher is configured (set one with
    /// `AuthConfig::with_token_refresher`, such as `auth-http`'s).
    #[error("ChatGPT tokens need a refresh but no token refresher is configured")]
    NoTokenRefresher,
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking storage task could not complete (the runtime is shutting down).
    #[error("storage task did not complete: {0}")]
    Join(String),
}
