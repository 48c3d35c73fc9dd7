//! Background tasks and request credentials for [`AuthManager`]:
//! [`AuthManager::ensure_background_task_id`],
//! [`AuthManager::request_headers`], and forgetting a task id the model
//! service rejected.
//!
//! Coordination, in this order:
//! 1. in this process, one registration at a time (`RegistrationState::flight`);
//!    a caller that waited finds the id cached and does nothing;
//! 2. across processes sharing a persistent store (file, keyring, auto, or
//!    the embedder's), registration runs under
//!    [`RegistrationLock`] (`$CODEX_HOME/auth.json.register.lock`): under it
//!    the stored identity is re-read, a task id another runtime cached is
//!    adopted, and only otherwise is the registrar called; the new id is
//!    cached (under the ordinary `auth.json.lock`) before the registration
//!    lock is released. So runtimes starting together on one home register
//!    once. The registration lock is a separate file so that ordinary
//!    updates never wait behind a network call.
//! 3. an identity from `CODEX_AGENT_IDENTITY` or in the ephemeral store
//!    lives in this process's memory: its task id is cached there, per
//!    process, since there is no shared place to keep it.

use std::sync::Arc;

use login_agent_identity::{
    AgentIdentity, AgentIdentityInput, AgentIdentityKey, ExposeSecret as _, SecretString,
};
use login_storage::{AuthStore, RegistrationLock};
use tracing::Instrument as _;

use super::{AuthManager, UnauthorizedRecovery, blocking};
use crate::auth::{AuthSource, CodexAuth};
use crate::error::AuthError;
use crate::stores::same_identity;
use crate::task::TaskRegistrar;

/// `Authorization`: the bearer token or the `AgentAssertion`.
pub const AUTHORIZATION_HEADER: &str = "Authorization";
/// `ChatGPT-Account-ID`: the ChatGPT account (workspace) a request is for.
pub const ACCOUNT_ID_HEADER: &str = "ChatGPT-Account-ID";

/// The registration state of one manager.
#[derive(Debug, Default)]
pub(super) struct RegistrationState {
    flight: tokio::sync::Mutex<()>,
}

impl AuthManager {
    /// See [`AuthManager::request_headers`].
    pub(super) async fn request_headers_inner(
        &self,
    ) -> Result<Vec<(&'static str, SecretString)>, AuthError> {
        let auth = self.auth().ok_or(AuthError::NotLoggedIn)?;
        let headers = if let Some(key) = auth.api_key() {
            vec![(
                AUTHORIZATION_HEADER,
                format!("Bearer {}", key.expose_secret()).into(),
            )]
        } else if auth.tokens().is_some() {
            self.refresh_if_stale().await?;
            let auth = self.auth().ok_or(AuthError::NotLoggedIn)?;
            let tokens = auth.tokens().ok_or(AuthError::NotLoggedIn)?;
            let mut headers = vec![(
                AUTHORIZATION_HEADER,
                format!("Bearer {}", tokens.access_token.expose_secret()).into(),
            )];
            let account = tokens.account_id.as_deref().or_else(|| auth.workspace_id());
            if let Some(account) = account {
                headers.push((ACCOUNT_ID_HEADER, account.into()));
            }
            headers
        } else {
            let record = self.ensure_task().await?;
            let task_id = record
                .background_task_id()
                .ok_or(AuthError::IdentityChanged)?;
            let key = AgentIdentityKey::from_claims(record.claims())
                .map_err(AuthError::InvalidAgentIdentity)?;
            let assertion = key
                .agent_assertion(task_id)
                .map_err(AuthError::InvalidAgentIdentity)?;
            vec![
                (AUTHORIZATION_HEADER, assertion),
                (ACCOUNT_ID_HEADER, record.workspace_id().into()),
            ]
        };
        for (header, value) in &headers {
            if value.expose_secret().chars().any(char::is_control) {
                return Err(AuthError::InvalidHeaderValue { header });
            }
        }
        Ok(headers)
    }

    /// See [`AuthManager::ensure_background_task_id`].
    pub(super) async fn ensure_background_task_id_inner(&self) -> Result<String, AuthError> {
        let record = self.ensure_task().await?;
        record
            .background_task_id()
            .map(str::to_owned)
            .ok_or(AuthError::IdentityChanged)
    }

    /// The current identity, carrying a background task id.
    async fn ensure_task(&self) -> Result<AgentIdentity, AuthError> {
        let auth = self.auth().ok_or(AuthError::NoAgentIdentity)?;
        let span =
            tracing::info_span!("registration", source = %auth.source(), mode = %auth.mode());
        async move {
            if let Some(record) = identity_with_task(self.auth()) {
                return Ok(record);
            }
            let _flight = self.registration.flight.lock().await;
            if let Some(record) = identity_with_task(self.auth()) {
                tracing::debug!("task id cached by a concurrent caller");
                return Ok(record);
            }
            let auth = self.auth().ok_or(AuthError::NoAgentIdentity)?;
            let record = auth
                .agent_identity()
                .cloned()
                .ok_or(AuthError::NoAgentIdentity)?;
            let registrar = self.registrar()?;
            let stores = self.stores.clone();
            let codex_home = self.config.codex_home.clone();
            let source = auth.source();
            let registered = blocking(move || {
                let store = stores.store_of(source).ok_or(AuthError::NoAgentIdentity)?;
                let _lock = match source {
                    AuthSource::EnvApiKey
                    | AuthSource::EnvAgentIdentity
                    | AuthSource::Ephemeral => None,
                    _ => Some(RegistrationLock::acquire(&codex_home)?),
                };
                register_locked(store, &record, &*registrar)
            })
            .await?;
            self.adopt(&auth, registered.clone());
            Ok(registered)
        }
        .instrument(span)
        .await
    }

    /// After the model service answered 401 to an `AgentAssertion`: forgets
    /// `rejected` (the task id the request carried) in memory and where the
    /// identity is kept, if it is still the one stored there. Returns
    /// `Reloaded` when another runtime has cached a different id meanwhile.
    pub(super) async fn drop_rejected_task_id(
        &self,
        auth: &CodexAuth,
        rejected: Option<String>,
    ) -> UnauthorizedRecovery {
        let Some(rejected) = rejected else {
            return UnauthorizedRecovery::GaveUp(AuthError::NotRefreshable);
        };
        let Some(record) = auth.agent_identity().cloned() else {
            return UnauthorizedRecovery::GaveUp(AuthError::NoAgentIdentity);
        };
        if record
            .background_task_id()
            .is_some_and(|held| held != rejected)
        {
            tracing::info!("another runtime cached a new task id; retry with it");
            return UnauthorizedRecovery::Reloaded;
        }
        let stores = self.stores.clone();
        let source = auth.source();
        let held = record.clone();
        let cleared = blocking(move || {
            let store = stores.store_of(source).ok_or(AuthError::NoAgentIdentity)?;
            let stored_other = store.update_with(|current| {
                let Some(mut document) = current else {
                    return Ok((None, None));
                };
                let Some(stored) = document.validated_agent_identity().ok().flatten() else {
                    return Ok((None, None));
                };
                if !same_identity(&stored, &held) {
                    return Ok((None, None));
                }
                if stored.background_task_id() != Some(rejected.as_str()) {
                    return Ok((None, stored.background_task_id().map(str::to_owned)));
                }
                document.agent_identity = Some(AgentIdentityInput::Object(
                    stored.with_background_task_id(None),
                ));
                Ok((Some(document), None))
            })?;
            Ok(stored_other)
        })
        .await;
        match cleared {
            Err(error) => UnauthorizedRecovery::GaveUp(error),
            Ok(Some(_)) => {
                self.reload_quietly().await;
                UnauthorizedRecovery::Reloaded
            }
            Ok(None) => {
                self.adopt(auth, record.with_background_task_id(None));
                tracing::info!("rejected task id dropped; the next request registers a new task");
                UnauthorizedRecovery::TaskIdDropped
            }
        }
    }

    async fn reload_quietly(&self) {
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "reload after a task id change failed");
        }
    }

    /// The configured registrar.
    fn registrar(&self) -> Result<Arc<dyn TaskRegistrar>, AuthError> {
        self.config
            .task_registrar
            .clone()
            .ok_or(AuthError::NoTaskRegistrar)
    }
}

/// The current identity when it carries a task id.
fn identity_with_task(auth: Option<CodexAuth>) -> Option<AgentIdentity> {
    auth?
        .agent_identity()
        .filter(|record| record.background_task_id().is_some())
        .cloned()
}

/// With the registration lock held (or in a store private to this process):
/// adopts a task id already stored for `record`, else registers and caches
/// one. Returns the stored identity, carrying the id.
fn register_locked(
    store: &dyn AuthStore,
    record: &AgentIdentity,
    registrar: &dyn TaskRegistrar,
) -> Result<AgentIdentity, AuthError> {
    let stored = store
        .load()?
        .and_then(|document| document.validated_agent_identity().ok().flatten())
        .filter(|stored| same_identity(stored, record));
    if let Some(stored) = stored.filter(|stored| stored.background_task_id().is_some()) {
        tracing::debug!("task id cached by another runtime adopted");
        return Ok(stored);
    }
    let key =
        AgentIdentityKey::from_claims(record.claims()).map_err(AuthError::InvalidAgentIdentity)?;
    let task_id = registrar
        .register_task(&key, record)
        .map_err(AuthError::Registration)?;
    tracing::info!("background task registered");
    cache_task_id(store, record, task_id)
}

/// Writes `task_id` into the stored identity (a locked read-modify-write
/// that keeps every other field, and stores the object form), or adopts the
/// id found there if another writer got there first.
fn cache_task_id(
    store: &dyn AuthStore,
    record: &AgentIdentity,
    task_id: String,
) -> Result<AgentIdentity, AuthError> {
    store.update_with(|current| {
        let Some(mut document) = current else {
            return Ok((None, Err(AuthError::IdentityChanged)));
        };
        let Some(stored) = document.validated_agent_identity().ok().flatten() else {
            return Ok((None, Err(AuthError::IdentityChanged)));
        };
        if !same_identity(&stored, record) {
            return Ok((None, Err(AuthError::IdentityChanged)));
        }
        if stored.background_task_id().is_some() {
            return Ok((None, Ok(stored)));
        }
        let stored = stored.with_background_task_id(Some(task_id.clone()));
        document.agent_identity = Some(AgentIdentityInput::Object(stored.clone()));
        Ok((Some(document), Ok(stored)))
    })?
}
