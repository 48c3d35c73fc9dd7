//! The storage stores one manager touches, and the rules for each.
//!
//! - `ephemeral`: logins made with the ephemeral store mode;
//! - `env_identity`: a separate in-memory store that holds the identity from
//!   `CODEX_AGENT_IDENTITY` (so a task id cached for it stays in memory and
//!   is never written to disk);
//! - `persistent`: the configured store (file, keyring, auto or the
//!   embedder's), absent in ephemeral mode;
//! - `others`: built-in stores that are not configured but may still hold
//!   credentials from an earlier configuration; logout clears them too, and
//!   tolerates their failures (a missing keyring must not fail a logout).

use std::sync::Arc;

use login_agent_identity::{AgentIdentity, AgentIdentityInput, ExposeSecret as _};
use login_storage::{AuthDotJson, AuthStore, EphemeralStore, StoreError, StoreMode, open_store};

use crate::auth::AuthSource;
use crate::config::AuthConfig;

/// Whether two records are the same identity: same runtime, workspace and
/// key. A cached task id belongs to exactly that. The keys are compared by
/// their text, not in constant time: a local check between records this
/// process holds, nothing an attacker can time.
pub(crate) fn same_identity(a: &AgentIdentity, b: &AgentIdentity) -> bool {
    a.same_agent(b)
        && a.agent_private_key().expose_secret() == b.agent_private_key().expose_secret()
}

#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) ephemeral: EphemeralStore,
    env_identity: EphemeralStore,
    persistent: Option<Arc<dyn AuthStore>>,
    others: Vec<Arc<dyn AuthStore>>,
}

impl Stores {
    pub(crate) fn new(config: &AuthConfig) -> Self {
        let home = config.codex_home.as_path();
        let options = config.storage_options.clone();
        let built_in = |mode| open_store(home, mode, options.clone());
        let (persistent, others) = match (&config.storage, config.store_mode) {
            (Some(custom), _) => (Some(custom.clone()), Vec::new()),
            (None, StoreMode::Ephemeral) => (
                None,
                vec![built_in(StoreMode::File), built_in(StoreMode::Keyring)],
            ),
            (None, StoreMode::File) => (
                Some(built_in(StoreMode::File)),
                vec![built_in(StoreMode::Keyring)],
            ),
            (None, StoreMode::Keyring) => (
                Some(built_in(StoreMode::Keyring)),
                vec![built_in(StoreMode::File)],
            ),
            (None, StoreMode::Auto) => (Some(built_in(StoreMode::Auto)), Vec::new()),
        };
        Self {
            ephemeral: EphemeralStore::new(home),
            env_identity: EphemeralStore::scoped(home, "env-agent-identity"),
            persistent,
            others,
        }
    }

    /// The configured persistent store, if any.
    pub(crate) fn persistent(&self) -> Option<&dyn AuthStore> {
        self.persistent.as_deref()
    }

    /// Where logins are written: the persistent store, else memory.
    pub(crate) fn login_store(&self) -> &dyn AuthStore {
        self.persistent().unwrap_or(&self.ephemeral)
    }

    /// The store an auth from `source` is kept in (`None` for variables).
    pub(crate) fn store_of(&self, source: AuthSource) -> Option<&dyn AuthStore> {
        match source {
            AuthSource::EnvApiKey | AuthSource::EnvAgentIdentity => Some(&self.env_identity),
            AuthSource::Ephemeral => Some(&self.ephemeral),
            _ => self.persistent(),
        }
    }

    /// Puts the environment's identity in its in-memory store and returns the
    /// record held there: the one already held (with its cached task id)
    /// when it is the same identity, else `record`, dropping a stale id.
    pub(crate) fn hold_env_identity(
        &self,
        record: AgentIdentity,
    ) -> Result<AgentIdentity, StoreError> {
        let mut held = record.clone();
        self.env_identity.update(&mut |current| {
            if let Some(existing) =
                current.and_then(|document| document.validated_agent_identity().ok().flatten())
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

    /// Removes credentials from every store; `true` when any held some.
    pub(crate) fn logout_all(&self) -> Result<bool, StoreError> {
        let mut removed = self.env_identity.delete()?;
        removed |= self.ephemeral.delete()?;
        if let Some(persistent) = self.persistent() {
            removed |= persistent.delete()?;
        }
        for other in &self.others {
            match other.delete() {
                Ok(existed) => removed |= existed,
                Err(error) => {
                    tracing::debug!(%error, "could not clear a store that is not configured")
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
    input.into_identity().map(AuthDotJson::with_agent_identity)
}
