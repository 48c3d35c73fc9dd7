//! The storage homes one manager touches, and the rules for each.
//!
//! - `ephemeral`: logins made with the ephemeral store mode;
//! - `env_identity`: a separate in-memory home that holds the identity from
//!   `CODEX_AGENT_IDENTITY` (so a task id cached for it stays in memory and
//!   is never written to disk);
//! - `persistent`: the configured home (file, keyring, auto or the
//!   embedder's), absent in ephemeral mode;
//! - `others`: built-in homes that are not configured but may still hold
//!   credentials from an earlier configuration; logout clears them too, and
//!   tolerates their failures (a missing keyring must not fail a logout).

use std::sync::Arc;

use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityInput};
use login_storage::{
    AuthCredentialsStoreMode, AuthDotJson, AuthStorageBackend, EphemeralAuthStorage, StorageError,
    create_auth_storage,
};

use crate::auth::AuthSource;
use crate::config::AuthConfig;

/// Whether two records are the same identity: same runtime, workspace and
/// key. A cached task id belongs to exactly that.
pub(crate) fn same_identity(a: &AgentIdentityAuthRecord, b: &AgentIdentityAuthRecord) -> bool {
    a.same_agent(b) && a.agent_private_key == b.agent_private_key
}

#[derive(Debug)]
pub(crate) struct Homes {
    pub(crate) ephemeral: EphemeralAuthStorage,
    env_identity: EphemeralAuthStorage,
    persistent: Option<Arc<dyn AuthStorageBackend>>,
    others: Vec<Arc<dyn AuthStorageBackend>>,
}

impl Homes {
    pub(crate) fn new(config: &AuthConfig) -> Self {
        let home = config.codex_home.as_path();
        let options = config.storage_options.clone();
        let built_in = |mode| create_auth_storage(home, mode, options.clone());
        let (persistent, others) = match (&config.storage, config.store_mode) {
            (Some(custom), _) => (Some(custom.clone()), Vec::new()),
            (None, AuthCredentialsStoreMode::Ephemeral) => (
                None,
                vec![
                    built_in(AuthCredentialsStoreMode::File),
                    built_in(AuthCredentialsStoreMode::Keyring),
                ],
            ),
            (None, AuthCredentialsStoreMode::File) => (
                Some(built_in(AuthCredentialsStoreMode::File)),
                vec![built_in(AuthCredentialsStoreMode::Keyring)],
            ),
            (None, AuthCredentialsStoreMode::Keyring) => (
                Some(built_in(AuthCredentialsStoreMode::Keyring)),
                vec![built_in(AuthCredentialsStoreMode::File)],
            ),
            (None, AuthCredentialsStoreMode::Auto) => {
                (Some(built_in(AuthCredentialsStoreMode::Auto)), Vec::new())
            }
        };
        Self {
            ephemeral: EphemeralAuthStorage::new(home),
            env_identity: EphemeralAuthStorage::scoped(home, "env-agent-identity"),
            persistent,
            others,
        }
    }

    /// The configured persistent home, if any.
    pub(crate) fn persistent(&self) -> Option<&dyn AuthStorageBackend> {
        self.persistent.as_deref()
    }

    /// Where logins are written: the persistent home, else memory.
    pub(crate) fn login_home(&self) -> &dyn AuthStorageBackend {
        self.persistent().unwrap_or(&self.ephemeral)
    }

    /// The home an auth from `source` is kept in (`None` for variables).
    pub(crate) fn home_of(&self, source: AuthSource) -> Option<&dyn AuthStorageBackend> {
        match source {
            AuthSource::EnvApiKey | AuthSource::EnvAgentIdentity => Some(&self.env_identity),
            AuthSource::Ephemeral => Some(&self.ephemeral),
            _ => self.persistent(),
        }
    }

    /// Puts the environment's identity in its in-memory home and returns the
    /// record held there: the one already held (with its cached task id)
    /// when it is the same identity, else `record`, dropping a stale id.
    pub(crate) fn hold_env_identity(
        &self,
        record: AgentIdentityAuthRecord,
    ) -> Result<AgentIdentityAuthRecord, StorageError> {
        let mut held = record.clone();
        self.env_identity.update(&mut |current| {
            if let Some(existing) =
                current.and_then(|document| document.agent_identity_record().ok().flatten())
                && same_identity(&existing, &record)
            {
                held = existing;
                return Ok(None);
            }
            held = record.clone();
            Ok(Some(AuthDotJson::with_agent_identity(record.clone())))
        })?;
        Ok(held)
    }

    /// Removes credentials from every home; `true` when any held some.
    pub(crate) fn logout_all(&self) -> Result<bool, StorageError> {
        let mut removed = self.env_identity.delete()?;
        removed |= self.ephemeral.delete()?;
        if let Some(persistent) = self.persistent() {
            removed |= persistent.delete()?;
        }
        for other in &self.others {
            match other.delete() {
                Ok(existed) => removed |= existed,
                Err(error) => {
                    tracing::debug!(%error, "could not clear a home that is not configured")
                }
            }
        }
        Ok(removed)
    }
}

/// The record an input describes, validated.
pub(crate) fn identity_document(
    input: AgentIdentityInput,
) -> Result<AuthDotJson, login_agent_identity::AgentIdentityError> {
    input.into_record().map(AuthDotJson::with_agent_identity)
}
