//! The OS keyring home. (scaffold: to be replaced)

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::{AuthDotJson, AuthStorageBackend, StorageError, StorageLocation, UpdateFn};

/// The keyring service every entry lives under.
pub const KEYRING_SERVICE: &str = "Codex Auth";

/// The keyring account for a home: `cli|` and the first 16 hex digits of
/// the SHA-256 of the canonicalized path (the raw path when it cannot be
/// canonicalized).
pub fn keyring_account_for_home(codex_home: &Path) -> String {
    let path = std::fs::canonicalize(codex_home).unwrap_or_else(|_| codex_home.to_path_buf());
    let digest = Sha256::digest(path.to_string_lossy().as_bytes());
    format!("cli|{}", &hex::encode(digest)[..16])
}

/// A keyring failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The platform store refused or failed.
    #[error("{0}")]
    Platform(String),
}

/// A credential store addressed by service and account.
pub trait KeyringStore: Send + Sync + fmt::Debug {
    /// The value, or `None` when there is no entry.
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError>;
    /// Creates or replaces the entry.
    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError>;
    /// Removes the entry; `true` when there was one.
    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError>;
}

/// The OS keyring through the `keyring` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultKeyringStore;

impl KeyringStore for DefaultKeyringStore {
    fn load(&self, _service: &str, _account: &str) -> Result<Option<String>, KeyringError> {
        Ok(None)
    }
    fn save(&self, _service: &str, _account: &str, _value: &str) -> Result<(), KeyringError> {
        Err(KeyringError::Platform("scaffold".into()))
    }
    fn delete(&self, _service: &str, _account: &str) -> Result<bool, KeyringError> {
        Ok(false)
    }
}

/// The keyring home.
#[derive(Debug, Clone)]
pub struct KeyringAuthStorage {
    store: Arc<dyn KeyringStore>,
    account: String,
    timeout: Duration,
}

impl KeyringAuthStorage {
    /// The keyring home of `codex_home`.
    pub fn new(codex_home: &Path, store: Arc<dyn KeyringStore>, timeout: Duration) -> Self {
        Self {
            store,
            account: keyring_account_for_home(codex_home),
            timeout,
        }
    }
}

impl AuthStorageBackend for KeyringAuthStorage {
    fn load(&self) -> Result<Option<AuthDotJson>, StorageError> {
        let _ = self.timeout;
        Ok(None)
    }
    fn save(&self, _auth: &AuthDotJson) -> Result<(), StorageError> {
        Err(StorageError::Keyring {
            entry: self.account.clone(),
            reason: "scaffold".into(),
        })
    }
    fn delete(&self) -> Result<bool, StorageError> {
        self.store
            .delete(KEYRING_SERVICE, &self.account)
            .map_err(|e| StorageError::Keyring {
                entry: self.account.clone(),
                reason: e.to_string(),
            })
    }
    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StorageError> {
        f(None)
    }
    fn location(&self) -> StorageLocation {
        StorageLocation::Keyring
    }
}
