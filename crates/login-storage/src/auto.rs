//! The auto home. (scaffold: to be replaced)

use crate::{
    AuthDotJson, AuthStorageBackend, FileAuthStorage, KeyringAuthStorage, StorageError, UpdateFn,
};

/// The keyring, falling back to the file.
#[derive(Debug, Clone)]
pub struct AutoAuthStorage {
    keyring: KeyringAuthStorage,
    file: FileAuthStorage,
}

impl AutoAuthStorage {
    /// Combines the two homes of one `CODEX_HOME`.
    pub fn new(keyring: KeyringAuthStorage, file: FileAuthStorage) -> Self {
        Self { keyring, file }
    }
}

impl AuthStorageBackend for AutoAuthStorage {
    fn load(&self) -> Result<Option<AuthDotJson>, StorageError> {
        let _ = &self.keyring;
        self.file.load()
    }
    fn save(&self, auth: &AuthDotJson) -> Result<(), StorageError> {
        self.file.save(auth)
    }
    fn delete(&self) -> Result<bool, StorageError> {
        self.file.delete()
    }
    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StorageError> {
        self.file.update(f)
    }
}
