//! `auth.json` and where it lives.
//!
//! The document ([`AuthDotJson`]) can be kept in four homes, all behind
//! [`AuthStorageBackend`]:
//! - [`FileAuthStorage`]: `$CODEX_HOME/auth.json`, 0600, written atomically,
//!   updated under a cross-process lock;
//! - [`KeyringAuthStorage`]: the OS keyring (service `"Codex Auth"`), every
//!   call off the caller's thread with a timeout;
//! - [`AutoAuthStorage`]: the keyring, falling back to the file;
//! - [`EphemeralAuthStorage`]: process memory only.
//!
//! [`create_auth_storage`] picks one from an [`AuthCredentialsStoreMode`].
//!
//! ```
//! use login_storage::{AuthCredentialsStoreMode, AuthDotJson, StorageOptions, create_auth_storage};
//! use login_agent_identity::SecretString;
//!
//! let home = tempfile::tempdir()?;
//! let storage = create_auth_storage(home.path(), AuthCredentialsStoreMode::File, StorageOptions::default());
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
use std::sync::Arc;
use std::time::Duration;

pub use auto::AutoAuthStorage;
pub use document::{
    AuthDotJson, AuthMode, IdToken, IdTokenClaims, IdTokenError, TokenData, unverified_jwt_payload,
};
pub use ephemeral::EphemeralAuthStorage;
pub use error::StorageError;
pub(crate) use error::describe_parse_error;
pub(crate) use file::MAX_AUTH_FILE_LEN;
pub use file::{AUTH_FILE_NAME, FileAuthStorage, RegistrationLock};
pub(crate) use keyring_store::keyring_account_for_home;
pub use keyring_store::{KEYRING_SERVICE, KeyringAuthStorage, KeyringError, KeyringStore};
pub use os_keyring::DefaultKeyringStore;

/// The closure [`AuthStorageBackend::update`] runs under the lock: it gets
/// the current document (`None` when there is none) and returns the new one
/// to write, or `None` to leave the stored document as it is.
pub type UpdateFn<'a> =
    dyn FnMut(Option<AuthDotJson>) -> Result<Option<AuthDotJson>, StorageError> + 'a;

/// Where a document was found, for reporting the source of an auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageLocation {
    /// `$CODEX_HOME/auth.json`.
    File,
    /// The OS keyring.
    Keyring,
    /// Process memory.
    Ephemeral,
    /// A home defined outside this crate.
    Other,
}

/// A home for `auth.json`. Implement it to keep credentials elsewhere; it
/// uses only public types.
pub trait AuthStorageBackend: Send + Sync + fmt::Debug {
    /// The stored document, or `None` when there is none. Never rewrites it.
    fn load(&self) -> Result<Option<AuthDotJson>, StorageError>;

    /// Replaces the stored document as a whole.
    fn save(&self, auth: &AuthDotJson) -> Result<(), StorageError>;

    /// Removes the stored document; `true` when there was one.
    fn delete(&self) -> Result<bool, StorageError>;

    /// Atomic read-modify-write: no other `update` (in any process sharing
    /// the home) runs between the read and the write. Returns the document
    /// stored afterwards.
    ///
    /// `f` runs under the home's lock, which is not reentrant: it must not
    /// call this home (or another home of the same `CODEX_HOME`).
    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StorageError>;

    /// Where this home keeps documents.
    fn location(&self) -> StorageLocation {
        StorageLocation::Other
    }

    /// Like [`load`](Self::load), also saying where the document was found
    /// (the auto home answers from the keyring or the file).
    fn load_located(&self) -> Result<Option<(AuthDotJson, StorageLocation)>, StorageError> {
        Ok(self.load()?.map(|auth| (auth, self.location())))
    }
}

impl dyn AuthStorageBackend + '_ {
    /// [`update`](AuthStorageBackend::update) whose closure also returns a
    /// value, handed back to the caller: `f` returns the document to write
    /// (or `None` to leave it) and what the caller wants to know.
    ///
    /// ```
    /// use login_storage::{AuthCredentialsStoreMode, AuthDotJson, StorageOptions, create_auth_storage};
    ///
    /// let home = tempfile::tempdir()?;
    /// let storage = create_auth_storage(home.path(), AuthCredentialsStoreMode::File, StorageOptions::default());
    /// let was_empty = storage.update_with(|current| {
    ///     let was_empty = current.is_none();
    ///     Ok((Some(AuthDotJson::default()), was_empty))
    /// })?;
    /// assert!(was_empty);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_with<T>(
        &self,
        mut f: impl FnMut(Option<AuthDotJson>) -> Result<(Option<AuthDotJson>, T), StorageError>,
    ) -> Result<T, StorageError> {
        let mut answer = None;
        self.update(&mut |current| {
            let (next, value) = f(current)?;
            answer = Some(value);
            Ok(next)
        })?;
        answer.ok_or_else(|| StorageError::Update("the home never ran the update".into()))
    }
}

/// Which home to use.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AuthCredentialsStoreMode {
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

impl AuthCredentialsStoreMode {
    /// The lowercase name (`file`, `keyring`, `auto`, `ephemeral`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthCredentialsStoreMode::File => "file",
            AuthCredentialsStoreMode::Keyring => "keyring",
            AuthCredentialsStoreMode::Auto => "auto",
            AuthCredentialsStoreMode::Ephemeral => "ephemeral",
        }
    }
}

impl fmt::Display for AuthCredentialsStoreMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown store mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown credentials store `{0}`: expected file, keyring, auto or ephemeral")]
pub struct UnknownStoreMode(String);

impl FromStr for AuthCredentialsStoreMode {
    type Err = UnknownStoreMode;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "file" => Ok(AuthCredentialsStoreMode::File),
            "keyring" => Ok(AuthCredentialsStoreMode::Keyring),
            "auto" => Ok(AuthCredentialsStoreMode::Auto),
            "ephemeral" => Ok(AuthCredentialsStoreMode::Ephemeral),
            _ => Err(UnknownStoreMode(value.to_owned())),
        }
    }
}

/// Default for [`StorageOptions::keyring_timeout`]: 5 seconds.
const DEFAULT_KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings shared by the homes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StorageOptions {
    /// How long one keyring call may take before it is abandoned.
    pub keyring_timeout: Duration,
    /// The keyring implementation; `None` uses [`DefaultKeyringStore`].
    pub keyring_store: Option<Arc<dyn KeyringStore>>,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            keyring_timeout: DEFAULT_KEYRING_TIMEOUT,
            keyring_store: None,
        }
    }
}

impl StorageOptions {
    /// Sets the keyring timeout.
    pub fn with_keyring_timeout(mut self, timeout: Duration) -> Self {
        self.keyring_timeout = timeout;
        self
    }

    /// Uses `store` instead of the OS keyring (for tests and embedders).
    pub fn with_keyring_store(mut self, store: Arc<dyn KeyringStore>) -> Self {
        self.keyring_store = Some(store);
        self
    }

    fn keyring_store(&self) -> Arc<dyn KeyringStore> {
        self.keyring_store
            .clone()
            .unwrap_or_else(|| Arc::new(DefaultKeyringStore))
    }
}

/// The home for `codex_home` in `mode`.
pub fn create_auth_storage(
    codex_home: &Path,
    mode: AuthCredentialsStoreMode,
    options: StorageOptions,
) -> Arc<dyn AuthStorageBackend> {
    match mode {
        AuthCredentialsStoreMode::File => Arc::new(FileAuthStorage::new(codex_home)),
        AuthCredentialsStoreMode::Keyring => Arc::new(KeyringAuthStorage::new(
            codex_home,
            options.keyring_store(),
            options.keyring_timeout,
        )),
        AuthCredentialsStoreMode::Auto => Arc::new(AutoAuthStorage::new(
            codex_home,
            options.keyring_store(),
            options.keyring_timeout,
        )),
        AuthCredentialsStoreMode::Ephemeral => Arc::new(EphemeralAuthStorage::new(codex_home)),
    }
}
