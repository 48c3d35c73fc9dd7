//! [`AutoStore`]: the keyring when it works, `auth.json` when not.
//!
//! - load: the keyring; when it has nothing or fails (including a timeout),
//!   the file. [`AuthStore::load_located`] says which answered. A corrupt
//!   keyring value is an error, not "nothing stored": the keyring holds a
//!   document we cannot read, and the file may be an older one.
//! - save: the keyring (which then removes a leftover `auth.json`); when
//!   that fails, the file, with one warning per process.
//! - delete: both. An unreachable keyring (any keyring failure: no Secret
//!   Service, locked, a timeout, a stuck earlier call) counts as holding
//!   nothing, so a logout succeeds once the file is gone;
//!   [`AutoStore::delete_with_outcome`] says the keyring was not reached.
//! - update: under the home lock, read as `load` does and write as `save`
//!   does. When the keyring failed to read, the write goes to the file only,
//!   so a document the keyring could not show us is never overwritten
//!   blindly; a corrupt keyring value refuses the update.
//!
//! The keyring never shadows a newer file. Whenever the auto store writes
//! past the keyring (a save or update that fell back to `auth.json`, or a
//! logout that could not reach the keyring), it also creates
//! `auth.json.keyring-stale` in the home, after the file is written (or
//! removed): the keyring entry is older than what the file says. While that
//! mark exists, load and update ignore the entry and take the file (or its
//! absence: logged out) as the truth; the next successful keyring write
//! (auto or keyring store) removes the mark before it removes the leftover
//! file, and a keyring store's delete removes it too. This also covers a
//! keyring write that timed out but landed late (see `keyring_store`): it
//! lands under the mark. A crash between the file write and the mark leaves
//! the older behaviour (the entry shadows the file until the next keyring
//! save), never a lost login. A file written by the file store (another
//! configuration) without the mark still loses to the keyring entry, as in
//! the mirrored CLI.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::document::to_compact_json;
use crate::file::HomeLock;
use crate::keyring_store::{clear_keyring_stale, keyring_is_marked_stale, mark_keyring_stale};
use crate::{
    AuthDotJson, AuthStore, FileStore, Keyring, KeyringStore, StoreError, StoreKind, UpdateFn,
};

/// What [`AutoStore::delete_with_outcome`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct AutoDeleteOutcome {
    /// Whether the file or the keyring held a document.
    pub removed: bool,
    /// Why the keyring could not be reached, when it could not: it was then
    /// treated as holding nothing (its entry, if any, is marked stale and
    /// never read again before a new login).
    pub keyring_unreachable: Option<StoreError>,
}

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
                self.save_file_locked(lock, auth)
            }
        }
    }

    /// Writes `auth` to the file and marks the keyring entry older.
    fn save_file_locked(&self, lock: &HomeLock, auth: &AuthDotJson) -> Result<(), StoreError> {
        self.file.save_locked(lock, auth)?;
        mark_keyring_stale(self.file.codex_home(), lock)
    }

    /// Whether the keyring entry is marked older than the file.
    fn keyring_is_stale(&self) -> bool {
        keyring_is_marked_stale(self.file.codex_home())
    }

    /// Removes the file and the keyring entry, trying both even when one
    /// fails (the file's error is reported first). A keyring that cannot be
    /// reached is treated as holding nothing: the result says so, and the
    /// entry is marked stale so that it cannot resurface when the keyring
    /// answers again. Any other failure is an error: a logout must not
    /// silently leave a readable credential behind.
    pub fn delete_with_outcome(&self) -> Result<AutoDeleteOutcome, StoreError> {
        let lock = HomeLock::acquire_if_home_exists(self.file.codex_home())?;
        let file = self.file.delete_locked(lock.as_ref());
        let entry = self.keyring.delete_entry();
        let file_existed = file?;
        let (entry_existed, keyring_unreachable) = match entry {
            Ok(existed) => (existed, None),
            Err(
                error @ (StoreError::Keyring { .. }
                | StoreError::KeyringTimeout { .. }
                | StoreError::KeyringBusy { .. }),
            ) => (false, Some(error)),
            Err(error) => return Err(error),
        };
        if let Some(lock) = &lock {
            match &keyring_unreachable {
                // Without a home nothing was ever written through it.
                Some(_) => mark_keyring_stale(self.file.codex_home(), lock)?,
                None => clear_keyring_stale(self.file.codex_home(), lock)?,
            }
        }
        Ok(AutoDeleteOutcome {
            removed: file_existed || entry_existed,
            keyring_unreachable,
        })
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
        let value = to_compact_json(auth, &self.keyring.entry_name())?;
        let lock = HomeLock::acquire(self.file.codex_home())?;
        self.save_locked(&lock, auth, value)
    }

    /// [`delete_with_outcome`](AutoStore::delete_with_outcome), logging an
    /// unreachable keyring as a warning.
    fn delete(&self) -> Result<bool, StoreError> {
        let outcome = self.delete_with_outcome()?;
        if let Some(error) = &outcome.keyring_unreachable {
            warn_keyring_failed("delete", error);
        }
        Ok(outcome.removed)
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire(self.file.codex_home())?;
        // May the write go to the keyring? Not over an entry we could not
        // read; over a stale one, yes: that is how it becomes current.
        let (current, keyring_writable) = if self.keyring_is_stale() {
            (self.file.read(false)?, true)
        } else {
            match self.keyring.load() {
                Ok(Some(auth)) => (Some(auth), true),
                Ok(None) => (self.file.read(false)?, true),
                Err(error @ StoreError::Corrupt { .. }) => return Err(error),
                Err(error) => {
                    warn_keyring_failed("update", &error);
                    (self.file.read(false)?, false)
                }
            }
        };
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        if keyring_writable {
            let value = to_compact_json(&next, &self.keyring.entry_name())?;
            self.save_locked(&lock, &next, value)?;
        } else {
            self.save_file_locked(&lock, &next)?;
        }
        Ok(Some(next))
    }

    /// Where documents go when the keyring works.
    fn location(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn load_located(&self) -> Result<Option<(AuthDotJson, StoreKind)>, StoreError> {
        if self.keyring_is_stale() {
            return Ok(self.file.load()?.map(|auth| (auth, StoreKind::File)));
        }
        match self.keyring.load() {
            Ok(Some(auth)) => return Ok(Some((auth, StoreKind::Keyring))),
            Ok(None) => {}
            Err(error @ StoreError::Corrupt { .. }) => return Err(error),
            Err(error) => warn_keyring_failed("load", &error),
        }
        Ok(self.file.load()?.map(|auth| (auth, StoreKind::File)))
    }
}
