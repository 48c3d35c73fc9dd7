//! [`AutoStore`]: the keyring when it works, `auth.json` when not.
//!
//! - load: the keyring; when it has nothing or fails (including a timeout),
//!   the file. [`AuthStore::load_located`] says which answered.
//! - save: the keyring (which then removes a leftover `auth.json`); when
//!   that fails, the file, with one warning per process.
//! - delete: both; `true` when either held a document.
//! - update: under the home lock, read as `load` does and write as `save`
//!   does. When the keyring failed to read, the write goes to the file only,
//!   so a document the keyring could not show us is never overwritten
//!   blindly; a corrupt keyring value refuses the update.
//!
//! Known limit (shared with the mirrored CLI): a document saved to the file
//! during a keyring outage is shadowed by an older keyring entry once the
//! keyring answers again, until the next successful keyring save.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::document::to_compact_json;
use crate::file::HomeLock;
use crate::{
    AuthDotJson, AuthStore, FileStore, Keyring, KeyringStore, StoreError, StoreKind, UpdateFn,
};

/// The keyring, falling back to the file.
#[derive(Debug, Clone)]
pub struct AutoStore {
    keyring: KeyringStore,
    file: FileStore,
}

impl AutoStore {
    /// The auto store of `codex_home`: its keyring entry (through `store`,
    /// each call given at most `timeout`) and its `auth.json`. One home
    /// for both, so they can never belong to different homes.
    pub fn new(codex_home: &Path, store: Arc<dyn Keyring>, timeout: Duration) -> Self {
        Self {
            keyring: KeyringStore::new(codex_home, store, timeout),
            file: FileStore::new(codex_home),
        }
    }

    /// Saves `auth`, already serialized as `value`, with the lock held.
    fn save_locked(
        &self,
        lock: &HomeLock,
        auth: &AuthDotJson,
        value: Zeroizing<String>,
    ) -> Result<(), StoreError> {
        match self.keyring.save_locked(lock, value) {
            Ok(()) => Ok(()),
            Err(error) => {
                warn_keyring_failed("save", &error);
                self.file.save_locked(lock, auth)
            }
        }
    }
}

/// Logs a keyring failure as a warning once per process (debug after).
/// `StoreError` names the entry, never a secret.
fn warn_keyring_failed(operation: &'static str, error: &StoreError) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        tracing::debug!(operation, %error, "the OS keyring failed; using auth.json");
        return;
    }
    tracing::warn!(
        operation,
        %error,
        "the OS keyring failed; using auth.json instead (further failures are logged at debug level)",
    );
}

impl AuthStore for AutoStore {
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError> {
        Ok(self.load_located()?.map(|(auth, _)| auth))
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError> {
        // Serialize first: a document that cannot be written changes nothing
        // and must not look like a keyring failure.
        let value = to_compact_json(auth)?;
        let lock = HomeLock::acquire(self.file.codex_home())?;
        self.save_locked(&lock, auth, value)
    }

    /// Removes the keyring entry and the file, trying both even when one
    /// fails (the file's error is reported first). A logout must not
    /// silently leave a credential behind, so a keyring failure is an error.
    fn delete(&self) -> Result<bool, StoreError> {
        let lock = HomeLock::acquire_if_home_exists(self.file.codex_home())?;
        let file = self.file.delete_locked(lock.as_ref());
        let entry = self.keyring.delete_entry();
        let file_existed = file?;
        let entry_existed = entry?;
        Ok(file_existed || entry_existed)
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire(self.file.codex_home())?;
        let (current, keyring_readable) = match self.keyring.load() {
            Ok(Some(auth)) => (Some(auth), true),
            Ok(None) => (self.file.read(false)?, true),
            Err(error @ StoreError::Corrupt { .. }) => return Err(error),
            Err(error) => {
                warn_keyring_failed("update", &error);
                (self.file.read(false)?, false)
            }
        };
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        if keyring_readable {
            let value = to_compact_json(&next)?;
            self.save_locked(&lock, &next, value)?;
        } else {
            self.file.save_locked(&lock, &next)?;
        }
        Ok(Some(next))
    }

    /// Where documents go when the keyring works.
    fn location(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn load_located(&self) -> Result<Option<(AuthDotJson, StoreKind)>, StoreError> {
        match self.keyring.load() {
            Ok(Some(auth)) => return Ok(Some((auth, StoreKind::Keyring))),
            Ok(None) => {}
            Err(error) => warn_keyring_failed("load", &error),
        }
        Ok(self.file.load()?.map(|auth| (auth, StoreKind::File)))
    }
}
