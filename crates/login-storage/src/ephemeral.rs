//! [`EphemeralStore`]: documents in process memory, keyed like the
//! keyring entry, so two handles on one home in one process share them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::{AuthDotJson, AuthStore, StoreError, StoreKind, UpdateFn, keyring_account_for_home};

fn documents() -> MutexGuard<'static, HashMap<String, AuthDotJson>> {
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, AuthDotJson>>> = OnceLock::new();
    // A panic while holding the lock cannot leave a half-written document
    // (values are replaced whole), so a poisoned lock is still usable.
    DOCUMENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Process memory; nothing touches the disk.
#[derive(Debug, Clone)]
pub struct EphemeralStore {
    key: String,
}

impl EphemeralStore {
    /// The in-memory store of `codex_home`.
    pub fn new(codex_home: &Path) -> Self {
        Self {
            key: keyring_account_for_home(codex_home),
        }
    }

    /// A separate in-memory store of `codex_home`, named by `scope`, for
    /// documents that must not mix with the default one (such as an agent
    /// identity taken from the environment).
    pub fn scoped(codex_home: &Path, scope: &str) -> Self {
        Self {
            key: format!("{scope}|{}", keyring_account_for_home(codex_home)),
        }
    }
}

impl AuthStore for EphemeralStore {
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError> {
        Ok(documents().get(&self.key).cloned())
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError> {
        documents().insert(self.key.clone(), auth.clone());
        Ok(())
    }

    fn delete(&self) -> Result<bool, StoreError> {
        Ok(documents().remove(&self.key).is_some())
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let mut documents = documents();
        let current = documents.get(&self.key).cloned();
        match f(current.clone())? {
            Some(next) => {
                documents.insert(self.key.clone(), next.clone());
                Ok(Some(next))
            }
            None => Ok(current),
        }
    }

    fn location(&self) -> StoreKind {
        StoreKind::Ephemeral
    }
}
