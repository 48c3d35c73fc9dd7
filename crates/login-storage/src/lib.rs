//! `auth.json` and where it lives.
//!
//! The document ([`AuthDotJson`]) can be kept in four stores, all behind
//! [`AuthStore`]:
//! - [`FileStore`]: `$CODEX_HOME/auth.json`, 0600, written atomically,
//!   updated under a cross-process lock;
//! - [`KeyringStore`]: the OS keyring (service `"Codex Auth"`), every
//!   call off the caller's thread with a timeout;
//! - [`AutoStore`]: the keyring, falling back to the file;
//! - [`EphemeralStore`]: process memory only.
//!
//! [`open_store`] picks one from an [`StoreMode`].
//!
//! ```
//! use login_storage::{StoreMode, AuthDotJson, StoreOptions, open_store};
//! use login_agent_identity::{ExposeSecret, SecretString};
//!
//! let home = tempfile::tempdir()?;
//! let storage = open_store(home.path(), StoreMode::File, StoreOptions::default());
//! storage.save(&AuthDotJson::with_api_key(SecretString::from("sk-example")))?;
//! let loaded = storage.load()?.expect("just saved");
//! assert_eq!(loaded.openai_api_key.unwrap().expose_secret(), "sk-example");
//! assert!(storage.delete()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auto;
mod document;
mod ephemeral;
mod error;
mod file;
mod keyring_store;
mod os_keyring;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use auto::{AutoDeleteOutcome, AutoStore};
pub use document::{AuthDotJson, AuthMode, IdToken, IdTokenClaims, IdTokenError, TokenData};
pub use ephemeral::EphemeralStore;
pub use error::StoreError;
pub(crate) use error::describe_parse_error;
pub(crate) use file::MAX_AUTH_FILE_LEN;
pub use file::{AUTH_FILE_NAME, FileStore, RegistrationLock};
pub(crate) use keyring_store::keyring_account_for_home;
pub use keyring_store::{KEYRING_SERVICE, Keyring, KeyringError, KeyringStore};
/// Unknown keys of `auth.json` (and of its tokens), kept in their order.
pub use login_agent_identity::UnknownKeys;
pub use os_keyring::OsKeyring;

/// The closure [`AuthStore::update`] runs under the lock: it gets
/// the current document (`None` when there is none) and returns the new one
/// to write, or `None` to leave the stored document as it is.
pub type UpdateFn<'a> =
    dyn FnMut(Option<AuthDotJson>) -> Result<Option<AuthDotJson>, StoreError> + 'a;

/// Where a document was found, for reporting the source of an auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// `$CODEX_HOME/auth.json`.
    File,
    /// The OS keyring.
    Keyring,
    /// Process memory.
    Ephemeral,
    /// A store defined outside this crate.
    Other,
}

/// A store for `auth.json`. Implement it to keep credentials elsewhere; it
/// uses only public types.
pub trait AuthStore: Send + Sync + fmt::Debug {
    /// The stored document, or `None` when there is none. Never rewrites it.
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError>;

    /// Replaces the stored document as a whole.
    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError>;

    /// Removes the stored document; `true` when there was one.
    fn delete(&self) -> Result<bool, StoreError>;

    /// Atomic read-modify-write: no other `update` (in any process sharing
    /// the home) runs between the read and the write. Returns the document
    /// stored afterwards.
    ///
    /// `f` runs under the home's lock, which is not reentrant: it must not
    /// call this home (or another home of the same `CODEX_HOME`).
    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError>;

    /// Where this store keeps documents.
    fn location(&self) -> StoreKind {
        StoreKind::Other
    }

    /// Like [`load`](Self::load), also saying where the document was found
    /// (the auto store answers from the keyring or the file).
    fn load_located(&self) -> Result<Option<(AuthDotJson, StoreKind)>, StoreError> {
        Ok(self.load()?.map(|auth| (auth, self.location())))
    }
}

impl dyn AuthStore + '_ {
    /// [`update`](AuthStore::update) whose closure also returns a
    /// value, handed back to the caller: `f` returns the document to write
    /// (or `None` to leave it) and what the caller wants to know.
    ///
    /// ```
    /// use login_storage::{StoreMode, AuthDotJson, StoreOptions, open_store};
    ///
    /// let home = tempfile::tempdir()?;
    /// let storage = open_store(home.path(), StoreMode::File, StoreOptions::default());
    /// let was_empty = storage.update_with(|current| {
    ///     let was_empty = current.is_none();
    ///     Ok((Some(AuthDotJson::default()), was_empty))
    /// })?;
    /// assert!(was_empty);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_with<T>(
        &self,
        mut f: impl FnMut(Option<AuthDotJson>) -> Result<(Option<AuthDotJson>, T), StoreError>,
    ) -> Result<T, StoreError> {
        let mut answer = None;
        self.update(&mut |current| {
            let (next, value) = f(current)?;
            answer = Some(value);
            Ok(next)
        })?;
        answer.ok_or_else(|| StoreError::Update("the store never ran the update".into()))
    }
}

/// Which store to use.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StoreMode {
    /// `$CODEX_HOME/auth.json`.
    #[default]
    File,
    /// The OS keyring only.
    Keyring,
    /// The keyring, falling back to the file.
    Auto,
    /// Process memory only.
    Ephemeral,
}

impl StoreMode {
    /// The lowercase name (`file`, `keyring`, `auto`, `ephemeral`).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreMode::File => "file",
            StoreMode::Keyring => "keyring",
            StoreMode::Auto => "auto",
            StoreMode::Ephemeral => "ephemeral",
        }
    }
}

impl fmt::Display for StoreMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown store mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown credentials store `{0}`: expected file, keyring, auto or ephemeral")]
pub struct UnknownStoreMode(String);

impl FromStr for StoreMode {
    type Err = UnknownStoreMode;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "file" => Ok(StoreMode::File),
            "keyring" => Ok(StoreMode::Keyring),
            "auto" => Ok(StoreMode::Auto),
            "ephemeral" => Ok(StoreMode::Ephemeral),
            _ => Err(UnknownStoreMode(value.to_owned())),
        }
    }
}

/// Default for [`StoreOptions::keyring_timeout`]: 5 seconds.
const DEFAULT_KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings shared by the stores.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// How long one keyring call may take before it is abandoned.
    pub keyring_timeout: Duration,
    /// The keyring implementation; `None` uses [`OsKeyring`].
    pub keyring: Option<Arc<dyn Keyring>>,
    /// How long a file store write waits for a lock file (30 s by default)
    /// before [`StoreError::LockTimeout`]; see
    /// [`FileStore::with_lock_timeout`]. Applies to [`StoreMode::File`];
    /// the keyring and auto stores wait the default.
    pub lock_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            keyring_timeout: DEFAULT_KEYRING_TIMEOUT,
            keyring: None,
            lock_timeout: file::DEFAULT_LOCK_TIMEOUT,
        }
    }
}

impl StoreOptions {
    /// Sets the keyring timeout.
    pub fn with_keyring_timeout(mut self, timeout: Duration) -> Self {
        self.keyring_timeout = timeout;
        self
    }

    /// Sets how long a file store write waits for a lock file.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Uses `store` instead of the OS keyring (for tests and embedders).
    pub fn with_keyring(mut self, store: Arc<dyn Keyring>) -> Self {
        self.keyring = Some(store);
        self
    }

    /// The keyring these options use: the one set, else the process's
    /// shared [`OsKeyring`] (one `Arc`, so every default store shares one
    /// guard against a hung keyring; see [`StoreError::KeyringBusy`]).
    pub fn keyring(&self) -> Arc<dyn Keyring> {
        static OS_KEYRING: OnceLock<Arc<dyn Keyring>> = OnceLock::new();
        self.keyring
            .clone()
            .unwrap_or_else(|| Arc::clone(OS_KEYRING.get_or_init(|| Arc::new(OsKeyring))))
    }
}

/// The home for `codex_home` in `mode`.
pub fn open_store(codex_home: &Path, mode: StoreMode, options: StoreOptions) -> Arc<dyn AuthStore> {
    match mode {
        StoreMode::File => {
            Arc::new(FileStore::new(codex_home).with_lock_timeout(options.lock_timeout))
        }
        StoreMode::Keyring => Arc::new(KeyringStore::new(
            codex_home,
            options.keyring(),
            options.keyring_timeout,
        )),
        StoreMode::Auto => Arc::new(AutoStore::new(
            codex_home,
            options.keyring(),
            options.keyring_timeout,
        )),
        StoreMode::Ephemeral => Arc::new(EphemeralStore::new(codex_home)),
    }
}
