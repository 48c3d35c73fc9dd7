//! [`AuthManager`]: the one object a runtime holds for its auth.
//!
//! All storage and keyring work runs on tokio's blocking pool; the current
//! auth lives in a `watch` channel, so [`AuthManager::auth`] is a lock-free
//! read in practice and subscribers see every change.

use std::sync::Arc;

use login_agent_identity::{AgentIdentityInput, ExposeSecret as _, SecretString};
use login_storage::{AuthDotJson, AuthMode as StoredMode, TokenData};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::api_key::{ApiKey, ApiKeyError};
use crate::auth::{AuthMode, CodexAuth, ShadowedAuth};
use crate::config::{AuthConfig, ForcedLoginMethod};
use crate::error::AuthError;
use crate::resolve::{from_document, resolve, shadowed};
use crate::stores::{Stores, identity_document, same_identity};

pub use registering::{ACCOUNT_ID_HEADER, AUTHORIZATION_HEADER};

/// What [`AuthManager::refresh_if_stale`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// The tokens are not stale; nothing was done.
    Fresh,
    /// The auth has no refreshable tokens (API key or agent identity).
    NotApplicable,
    /// Under the lock, the store already held newer tokens (another process
    /// refreshed); they were adopted without asking the server.
    Adopted,
    /// This process redeemed the refresh token and stored the result.
    Refreshed,
}

/// Which step [`AuthManager::recover_unauthorized`] took after the
/// model service answered HTTP 401.
#[derive(Debug)]
#[non_exhaustive]
pub enum UnauthorizedRecovery {
    /// Storage held other credentials than the ones that failed (another
    /// process logged in or refreshed); retry with the new auth.
    Reloaded,
    /// The tokens were refreshed; retry with the new auth.
    Refreshed,
    /// The agent identity's cached background task id was rejected and is
    /// forgotten (in memory, and where the identity is kept if it was still
    /// stored there); the next
    /// [`request_headers`](AuthManager::request_headers) registers a
    /// new task.
    TaskIdDropped,
    /// Nothing more can be done; the request stays unauthorized. The error
    /// says why (for a dead refresh token: log in again).
    GaveUp(AuthError),
}

/// Runs blocking storage work off the runtime's worker threads.
async fn blocking<T, F>(work: F) -> Result<T, AuthError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AuthError> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|error| AuthError::Join(error.to_string()))?
}

/// Resolves, holds and changes the runtime's auth.
///
/// Start with [`AuthManager::load`], once, at startup; then read
/// [`auth`](Self::auth) (no I/O) and build each model request's headers
/// with [`request_headers`](Self::request_headers). [`login_with_api_key`](Self::login_with_api_key),
/// [`login_with_agent_identity`](Self::login_with_agent_identity) and
/// [`logout`](Self::logout) change what is stored;
/// [`refresh_if_stale`](Self::refresh_if_stale) and
/// [`recover_unauthorized`](Self::recover_unauthorized) keep ChatGPT tokens
/// working.
///
/// ```
/// use std::sync::Arc;
/// use core_auth::{AuthConfig, AuthManager, AuthMode, MapEnv};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let home = std::env::temp_dir().join(format!("core-auth-example-{}", std::process::id()));
/// let config = AuthConfig::new(&home).with_env(Arc::new(MapEnv::new()));
/// let manager = AuthManager::load(config).await?;
/// assert!(manager.auth().is_none()); // nothing stored yet
///
/// manager.login_with_api_key("sk-example".into()).await?;
/// let Some(auth) = manager.auth() else { return Err("not logged in".into()) };
/// match auth.mode() {
///     AuthMode::ApiKey => assert_eq!(auth.source().to_string(), "file"),
///     AuthMode::Chatgpt | AuthMode::AgentIdentity => unreachable!(),
/// }
/// assert!(!format!("{auth:?}").contains("sk-example"));
/// manager.logout().await?;
/// # std::fs::remove_dir_all(&home)?;
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(example())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AuthManager {
    config: AuthConfig,
    stores: Arc<Stores>,
    state: watch::Sender<Option<CodexAuth>>,
    registration: registering::RegistrationState,
    /// Token refresh in this process: one at a time, and the memo of the
    /// refresh token the server refused for good.
    refresh: refreshing::RefreshState,
}

impl AuthManager {
    /// Resolves the auth a runtime starting now would use (environment
    /// first, then the ephemeral store, then the configured store) and
    /// enforces the configured restrictions.
    ///
    /// Not being logged in is `Ok` with [`auth`](Self::auth) `None`; an
    /// invalid `CODEX_AGENT_IDENTITY` or a corrupt `auth.json` is an error.
    pub async fn load(config: AuthConfig) -> Result<Arc<Self>, AuthError> {
        let span = tracing::info_span!(
            "load",
            codex_home = %config.codex_home.display(),
            store = %config.store_mode,
            source = tracing::field::Empty,
            mode = tracing::field::Empty,
        );
        async move {
            let stores = Arc::new(Stores::new(&config));
            let auth = {
                let (config, stores) = (config.clone(), stores.clone());
                blocking(move || resolve(&config, &stores)).await?
            };
            let manager = Arc::new(Self {
                config,
                stores,
                state: watch::Sender::new(None),
                registration: registering::RegistrationState::default(),
                refresh: refreshing::RefreshState::default(),
            });
            if let Some(auth) = auth {
                record_auth(&auth);
                manager.enforce(&auth).await?;
                manager.state.send_replace(Some(auth));
            }
            tracing::info!(
                logged_in = manager.auth().is_some(),
                "startup auth resolved"
            );
            Ok(manager)
        }
        .instrument(span)
        .await
    }

    /// A manager for writing only: it reads no source first
    /// ([`auth`](Self::auth) is `None` until a login), so a login or logout
    /// works even when the stored document is corrupt (a login then moves
    /// it aside) or the environment holds an invalid identity. Use
    /// [`load`](Self::load) for everything else.
    pub fn writer(config: AuthConfig) -> Arc<Self> {
        let stores = Arc::new(Stores::new(&config));
        Arc::new(Self {
            config,
            stores,
            state: watch::Sender::new(None),
            registration: registering::RegistrationState::default(),
            refresh: refreshing::RefreshState::default(),
        })
    }

    /// The current auth. No I/O; safe on hot paths from many tasks at once.
    pub fn auth(&self) -> Option<CodexAuth> {
        self.state.borrow().clone()
    }

    /// The configuration this manager was loaded with.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// A receiver notified on every change of the auth.
    pub fn subscribe(&self) -> watch::Receiver<Option<CodexAuth>> {
        self.state.subscribe()
    }

    /// Re-reads every source; `true` when the auth changed (for instance
    /// another process logged in or out).
    pub async fn reload(&self) -> Result<bool, AuthError> {
        let span = tracing::info_span!(
            "reload",
            source = tracing::field::Empty,
            mode = tracing::field::Empty
        );
        async move {
            let auth = self.resolve_now().await?;
            if let Some(auth) = &auth {
                record_auth(auth);
                self.enforce(auth).await?;
            }
            let changed = self.state.send_if_modified(|current| {
                if *current == auth {
                    return false;
                }
                *current = auth;
                true
            });
            self.forget_dead_token_unless_held();
            Ok(changed)
        }
        .instrument(span)
        .await
    }

    /// Credentials that exist but are not used, because the source in use
    /// comes first in resolution: `CODEX_AGENT_IDENTITY` behind
    /// `CODEX_API_KEY`, and a stored login behind either variable or the
    /// ephemeral store. Empty when nobody is logged in.
    ///
    /// Reads the stores behind the one in use (storage and keyring I/O, on
    /// the blocking pool), so it is for diagnostics such as a `status`
    /// command, not for every start; a store that cannot be read is
    /// skipped.
    pub async fn shadowed(&self) -> Result<Vec<ShadowedAuth>, AuthError> {
        let Some(auth) = self.auth() else {
            return Ok(Vec::new());
        };
        let config = self.config.clone();
        let stores = self.stores.clone();
        let used = auth.source();
        blocking(move || Ok(shadowed(&config, &stores, used))).await
    }

    /// Removes credentials from every store they may have been kept in
    /// (the environment identity's memory, the ephemeral store, the file and
    /// the keyring); `true` when anything was removed. The manager is logged
    /// out afterwards. Credentials in `CODEX_API_KEY`/`CODEX_AGENT_IDENTITY`
    /// cannot be removed by a process: a later [`reload`](Self::reload)
    /// finds them again.
    pub async fn logout(&self) -> Result<bool, AuthError> {
        let span = tracing::info_span!("logout", codex_home = %self.config.codex_home.display());
        async move {
            let stores = self.stores.clone();
            let removed = blocking(move || stores.logout_all().map_err(AuthError::from)).await?;
            self.state.send_replace(None);
            tracing::info!(removed, "logged out");
            Ok(removed)
        }
        .instrument(span)
        .await
    }

    /// Stores an API key, replacing the stored document atomically.
    ///
    /// The key is checked by [`ApiKey::parse`] first (one line, printable,
    /// no whitespace, at most [`crate::MAX_API_KEY_LEN`] bytes; a trailing
    /// line break is stripped): a refused key
    /// ([`AuthError::EmptyApiKey`], [`AuthError::InvalidApiKey`]) leaves the
    /// stored credentials as they were.
    pub async fn login_with_api_key(&self, api_key: SecretString) -> Result<CodexAuth, AuthError> {
        let api_key = ApiKey::parse(api_key.expose_secret()).map_err(|error| match error {
            ApiKeyError::Empty => AuthError::EmptyApiKey,
            other => AuthError::InvalidApiKey(other),
        })?;
        let document = AuthDotJson::with_api_key(api_key.into_secret());
        self.login(document)
            .instrument(tracing::info_span!("login", mode = "apikey"))
            .await
    }

    /// Stores an agent identity (JWT or object), validated before anything
    /// is written; the document is replaced atomically.
    pub async fn login_with_agent_identity(
        &self,
        input: AgentIdentityInput,
    ) -> Result<CodexAuth, AuthError> {
        let document = identity_document(input).map_err(AuthError::InvalidAgentIdentity)?;
        self.login(document)
            .instrument(tracing::info_span!("login", mode = "agentIdentity"))
            .await
    }

    /// Stores ChatGPT tokens (refreshed now), replacing the stored document
    /// atomically.
    pub async fn save_tokens(&self, tokens: TokenData) -> Result<CodexAuth, AuthError> {
        let document = AuthDotJson {
            auth_mode: Some(StoredMode::Chatgpt),
            tokens: Some(tokens),
            last_refresh: Some(time::OffsetDateTime::now_utc()),
            ..AuthDotJson::default()
        };
        self.login(document)
            .instrument(tracing::info_span!("login", mode = "chatgpt"))
            .await
    }

    /// Checks the restrictions on what `document` would authenticate as,
    /// then saves it. A refused or failed login writes nothing, so the
    /// previous credentials stay.
    async fn login(&self, document: AuthDotJson) -> Result<CodexAuth, AuthError> {
        let location = self.stores.login_store().location();
        let candidate =
            from_document(document.clone(), location)?.ok_or(AuthError::NoAgentIdentity)?;
        check_restrictions(&self.config, &candidate)?;
        let stores = self.stores.clone();
        blocking(move || {
            stores
                .login_store()
                .save(&document)
                .map_err(AuthError::from)
        })
        .await?;
        tracing::info!(source = %candidate.source(), mode = %candidate.mode(), "logged in");
        let auth = self.resolve_now().await?;
        self.state.send_replace(auth.clone());
        // Environment auth may take precedence over what was just stored.
        Ok(auth.unwrap_or(candidate))
    }

    /// Makes `record` (carrying a task id) the current identity, if the
    /// current auth is still `auth`'s identity.
    fn adopt(&self, auth: &CodexAuth, record: login_agent_identity::AgentIdentity) {
        self.state.send_if_modified(|current| {
            let Some(current_auth) = current else {
                return false;
            };
            let still_same = current_auth.source() == auth.source()
                && current_auth
                    .agent_identity()
                    .is_some_and(|held| same_identity(held, &record));
            if !still_same {
                return false;
            }
            *current = Some(current_auth.with_agent_identity(record));
            true
        });
    }

    async fn resolve_now(&self) -> Result<Option<CodexAuth>, AuthError> {
        let (config, stores) = (self.config.clone(), self.stores.clone());
        blocking(move || resolve(&config, &stores)).await
    }

    /// On a violated restriction: logs out of every store and reports it.
    async fn enforce(&self, auth: &CodexAuth) -> Result<(), AuthError> {
        let Err(violation) = check_restrictions(&self.config, auth) else {
            return Ok(());
        };
        tracing::warn!(error = %violation, "restriction violated; logging out of every store");
        self.logout().await?;
        Err(violation)
    }

    /// Refreshes the ChatGPT tokens when they are stale (the access token
    /// expires within 5 minutes, or, without a readable `exp`, the last
    /// refresh is older than 8 days); otherwise does nothing.
    ///
    /// Safe to call from many tasks and processes at once: one redeems the
    /// refresh token, the others adopt its result (under the store's lock
    /// the stored tokens are re-read, and tokens another process already
    /// refreshed are adopted instead of redeeming the same refresh token). A permanent failure
    /// ([`RefreshError::Permanent`](crate::RefreshError::Permanent)) tells the user to log in again and is
    /// remembered for that refresh token; any other failure keeps the
    /// current tokens. Stored tokens of another ChatGPT account are never
    /// adopted nor redeemed: [`AuthError::AccountChanged`]. The network
    /// call runs on tokio's blocking pool.
    pub async fn refresh_if_stale(&self) -> Result<RefreshOutcome, AuthError> {
        self.refresh_if_stale_inner().await
    }

    /// Spawns a tokio task that calls [`refresh_if_stale`](Self::refresh_if_stale)
    /// every `interval` (first right away), logging failures, until the
    /// manager is dropped or the returned handle is aborted. It holds only a
    /// weak reference to the manager.
    pub fn spawn_background_refresh(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        self.spawn_background_refresh_inner(interval)
    }

    /// After the model service answered HTTP 401: reloads from storage
    /// (another process may have logged in or refreshed); then, for ChatGPT
    /// tokens, refreshes them whatever their expiry, and for a tokenless
    /// agent identity drops the rejected background task id (see
    /// [`UnauthorizedRecovery::TaskIdDropped`]); else gives up. Reports the
    /// step taken. Retry the request (with fresh
    /// [`request_headers`](Self::request_headers)) after any step but
    /// [`UnauthorizedRecovery::GaveUp`]. When the store holds ChatGPT tokens
    /// of another account than the ones in memory, it gives up with
    /// [`AuthError::AccountChanged`], without a server call and keeping the
    /// tokens in memory.
    pub async fn recover_unauthorized(&self) -> UnauthorizedRecovery {
        self.recover_unauthorized_inner().await
    }

    /// The headers a model request needs for the current auth, as
    /// (name, value) pairs; values are secrets.
    ///
    /// - API key: `Authorization: Bearer <key>`.
    /// - ChatGPT tokens: refreshed first when stale (the single-redemption
    ///   refresh of [`refresh_if_stale`](Self::refresh_if_stale)), then
    ///   `Authorization: Bearer <access token>` and, when the account is
    ///   known, `ChatGPT-Account-ID`.
    /// - Agent identity: the background task id is ensured (registered once,
    ///   see [`ensure_background_task_id`](Self::ensure_background_task_id)),
    ///   then `Authorization: AgentAssertion <token>` (a fresh timestamp on
    ///   every call) and `ChatGPT-Account-ID: <workspace id>`.
    ///
    /// Errors: [`AuthError::NotLoggedIn`], a refresh or registration
    /// failure, or [`AuthError::InvalidHeaderValue`] when a value would
    /// carry a control character (never sent, never shown).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use core_auth::{AuthConfig, AuthManager, MapEnv, CODEX_API_KEY_VAR};
    /// use core_auth::ExposeSecret;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let env = MapEnv::new().with(CODEX_API_KEY_VAR, "sk-example");
    /// let config = AuthConfig::new("/nonexistent/codex-home").with_env(Arc::new(env));
    /// let manager = AuthManager::load(config).await?;
    /// let headers = manager.request_headers().await?;
    /// assert_eq!(headers[0].0, "Authorization");
    /// assert_eq!(headers[0].1.expose_secret(), "Bearer sk-example");
    /// # Ok::<(), core_auth::AuthError>(())
    /// # }).unwrap();
    /// ```
    pub async fn request_headers(&self) -> Result<Vec<(&'static str, SecretString)>, AuthError> {
        self.request_headers_inner().await
    }

    /// The cached background task id of the current agent identity, or a
    /// new one from the configured [`TaskRegistrar`](crate::TaskRegistrar), cached where the
    /// identity is kept.
    ///
    /// Concurrent callers share one registration, and so do runtimes
    /// sharing a persistent store: under the home's registration lock the
    /// stored identity is re-read, and an id another process cached is
    /// adopted instead of registering again (under the home's registration
    /// lock, `auth.json.register.lock`). An identity from `CODEX_AGENT_IDENTITY` caches
    /// its id in this process's memory only. A failed registration caches
    /// nothing.
    pub async fn ensure_background_task_id(&self) -> Result<String, AuthError> {
        self.ensure_background_task_id_inner().await
    }
}

fn record_auth(auth: &CodexAuth) {
    let span = tracing::Span::current();
    span.record("source", tracing::field::display(auth.source()));
    span.record("mode", tracing::field::display(auth.mode()));
}

fn method_name(auth: &CodexAuth) -> &'static str {
    match auth.mode() {
        AuthMode::ApiKey => "an API key",
        AuthMode::Chatgpt => "ChatGPT tokens",
        AuthMode::AgentIdentity => "an agent identity",
    }
}

/// The restrictions of `config` applied to `auth`.
///
/// An agent identity belongs to a ChatGPT workspace, so it counts as a
/// ChatGPT login. API key auth passes a workspace restriction (it has no
/// workspace) unless the forced method is ChatGPT, which the method check
/// refuses first.
fn check_restrictions(config: &AuthConfig, auth: &CodexAuth) -> Result<(), AuthError> {
    let is_api_key = auth.mode() == AuthMode::ApiKey;
    if let Some(required) = config.forced_login_method {
        let allowed = match required {
            ForcedLoginMethod::ApiKey => is_api_key,
            ForcedLoginMethod::Chatgpt => !is_api_key,
        };
        if !allowed {
            return Err(AuthError::LoginMethodRestriction {
                required: required.name(),
                found: method_name(auth),
            });
        }
    }
    let Some(required) = &config.forced_workspace_id else {
        return Ok(());
    };
    if is_api_key {
        return Ok(());
    }
    let found = auth.workspace_id();
    if found == Some(required.as_str()) {
        return Ok(());
    }
    Err(AuthError::WorkspaceRestriction {
        required: required.clone(),
        found: found.map(str::to_owned),
    })
}

// Declared after the main `impl` so that the `AuthManager` page lists
// `load` and the everyday methods before refresh and registration.
mod refreshing;
mod registering;
mod revoking;
