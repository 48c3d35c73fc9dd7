//! The keyring store: [`Keyring`] (service + account → value) and
//! [`KeyringStore`], which keeps the document there. The OS store
//! itself is [`OsKeyring`](crate::OsKeyring), in
//! `os_keyring`.
//!
//! Entry: service [`KEYRING_SERVICE`], account [`keyring_account_for_home`],
//! value the compact JSON of the document, the same as the mirrored CLI.
//!
//! Chunking: a value longer than [`Keyring::max_value_len`] is split,
//! at character boundaries, into entries `<account>|chunk-1` ...
//! `<account>|chunk-N`, and the main entry holds the header
//! `{"codex_chunked":N,"sha256":"<hex of the whole value>"}`. Chunks are
//! written before the header and removed after it, and a reader checks the
//! digest, so a missing chunk or one read during a concurrent write is a
//! [`StoreError::Corrupt`] error, never a wrong document. A store without
//! a limit never gets chunks (our documents never start like a header:
//! `OPENAI_API_KEY` is always written first or second).
//!
//! Timeouts: each operation (a load, save or delete with all its chunk
//! calls) runs on a new thread; the caller waits on a channel for at most
//! the configured timeout and then returns [`StoreError::KeyringTimeout`].
//! A thread stuck in a hung Secret Service is left detached: it holds no
//! lock of ours and ends when the call returns or the process exits. The
//! caller's thread never blocks on an executor, so calling from inside a
//! tokio runtime is safe.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::document::{parse_document, to_compact_json};
use crate::file::HomeLock;
use crate::{
    AuthDotJson, AuthStore, FileStore, MAX_AUTH_FILE_LEN, StoreError, StoreKind, UpdateFn,
};

/// The keyring service every entry lives under.
pub const KEYRING_SERVICE: &str = "Codex Auth";

/// The Windows Credential Manager holds at most 2560 bytes per secret
/// (`CRED_MAX_CREDENTIAL_BLOB_SIZE`), and the `keyring` crate stores a
/// password as UTF-16: 1280 UTF-16 code units.
pub(crate) const WINDOWS_MAX_VALUE_LEN: usize = 2560 / 2;

/// Chunk headers start like this; no document we write does.
const CHUNK_HEADER_PREFIX: &str = "{\"codex_chunked\":";

/// More chunks than this (or a value larger than an `auth.json` may be) is
/// refused rather than looped over.
const MAX_CHUNKS: usize = 1024;

/// The keyring account for a home: `cli|` and the first 16 hex digits of
/// the SHA-256 of the raw bytes of its [stable absolute form](stable_home).
///
/// For an existing home whose canonical path is UTF-8 this is exactly the
/// account the mirrored CLI (and earlier versions) derive, so entries
/// written before keep their account.
pub(crate) fn keyring_account_for_home(codex_home: &Path) -> String {
    account_for_path_bytes(stable_home(codex_home).as_os_str().as_encoded_bytes())
}

/// `cli|` and the first 16 hex digits of the SHA-256 of `bytes`. The
/// bytes are the path's own (on Unix, [`std::os::unix::ffi::OsStrExt::as_bytes`];
/// UTF-8 for a Unicode path everywhere), never a lossy conversion: two paths
/// that differ in one non-UTF-8 byte get different accounts.
fn account_for_path_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("cli|{}", &lower_hex(&digest)[..16])
}

/// The one absolute form of a home, however it was spelled: a relative
/// path is taken against the current directory; the longest prefix that
/// exists is canonicalized (symlinks, `.` and `..` resolved by the OS); the
/// components that do not exist yet are appended with `.` dropped and `..`
/// removing the previous component. A home that does not exist yet thus
/// maps to the path `canonicalize` gives once it is created (as a real
/// directory), and `rel`, `rel/`, `./rel` and `x/../rel` are one home.
fn stable_home(codex_home: &Path) -> PathBuf {
    let absolute = if codex_home.is_absolute() {
        codex_home.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(current) => current.join(codex_home),
            // No current directory to resolve against: the path as given.
            Err(_) => codex_home.to_path_buf(),
        }
    };
    let components: Vec<Component<'_>> = absolute.components().collect();
    for existing in (1..=components.len()).rev() {
        let prefix: PathBuf = components[..existing].iter().collect();
        let Ok(mut stable) = std::fs::canonicalize(&prefix) else {
            continue;
        };
        for component in &components[existing..] {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    stable.pop();
                }
                other => stable.push(other.as_os_str()),
            }
        }
        return stable;
    }
    absolute
}
/// A keyring failure. Messages come from the platform store and name no
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The platform store refused or failed.
    #[error("{0}")]
    Platform(String),
    /// The store cannot be reached or is locked (no Secret Service on the
    /// bus, a locked collection, a denied access).
    #[error("no access to the keyring: {0}")]
    NoAccess(String),
}

/// A credential store addressed by service and account.
pub trait Keyring: Send + Sync + fmt::Debug {
    /// The value, or `None` when there is no entry.
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError>;
    /// Creates or replaces the entry.
    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError>;
    /// Removes the entry; `true` when there was one.
    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError>;
    /// The longest value one entry holds, in UTF-16 code units (the unit of
    /// the Windows limit; equal to bytes for ASCII); `None` when unlimited.
    /// [`KeyringStore`] splits longer values into chunk entries.
    fn max_value_len(&self) -> Option<usize> {
        None
    }
}

/// The keyring store: one entry (plus chunks for long values on limited
/// stores) per `CODEX_HOME`. Every call runs off the caller's thread and
/// gives up after the timeout.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    store: Arc<dyn Keyring>,
    file: FileStore,
    account: String,
    timeout: Duration,
}

impl KeyringStore {
    /// The keyring store of `codex_home`.
    pub fn new(codex_home: &Path, store: Arc<dyn Keyring>, timeout: Duration) -> Self {
        Self {
            store,
            file: FileStore::new(codex_home),
            account: keyring_account_for_home(codex_home),
            timeout,
        }
    }

    /// The account of the main entry (`cli|<16 hex digits>`).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// `Codex Auth/cli|...`: how errors name the main entry.
    pub fn entry_name(&self) -> String {
        entry_name(&self.account)
    }

    fn codex_home(&self) -> &Path {
        self.file.codex_home()
    }

    /// Runs `operation` against the store on a new thread and waits at most
    /// the timeout for it.
    fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&dyn Keyring, &str) -> Result<T, OperationError> + Send + 'static,
    ) -> Result<T, StoreError> {
        // Capacity 1: the worker's send never blocks, even after we left.
        let (sender, receiver) = mpsc::sync_channel(1);
        let store = Arc::clone(&self.store);
        let account = self.account.clone();
        std::thread::Builder::new()
            .name("login-storage-keyring".to_owned())
            .spawn(move || {
                let _ = sender.send(operation(store.as_ref(), &account));
            })
            .map_err(|error| StoreError::Keyring {
                entry: self.entry_name(),
                reason: format!("cannot start the keyring thread: {error}"),
            })?;
        match receiver.recv_timeout(self.timeout) {
            Ok(result) => result.map_err(|error| error.into_storage_error(&self.account)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(StoreError::KeyringTimeout {
                entry: self.entry_name(),
                timeout: self.timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(StoreError::Keyring {
                entry: self.entry_name(),
                reason: "the keyring call panicked".to_owned(),
            }),
        }
    }

    fn parse(&self, value: &str) -> Result<AuthDotJson, StoreError> {
        let source = PathBuf::from(format!("keyring:{}", self.entry_name()));
        parse_document(&source, value.as_bytes())
    }

    /// Writes an already serialized document, then removes a leftover
    /// `auth.json`. The caller holds the home lock.
    pub(crate) fn save_locked(
        &self,
        lock: &HomeLock,
        value: Zeroizing<String>,
    ) -> Result<(), StoreError> {
        self.run(move |store, account| save_value(store, account, &value))?;
        self.file.remove_leftover_locked(lock);
        Ok(())
    }

    /// Removes the entry and its chunks (not the file); `true` when the
    /// entry existed.
    pub(crate) fn delete_entry(&self) -> Result<bool, StoreError> {
        self.run(delete_value)
    }
}

impl AuthStore for KeyringStore {
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError> {
        let value = self.run(load_value)?;
        value.map(|value| self.parse(&value)).transpose()
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError> {
        let value = to_compact_json(auth)?;
        let lock = HomeLock::acquire(self.codex_home())?;
        self.save_locked(&lock, value)
    }

    /// Removes the entry, its chunks and a leftover `auth.json`; `true`
    /// when any of them existed. The file goes first, so a failing keyring
    /// still leaves no file behind.
    fn delete(&self) -> Result<bool, StoreError> {
        let lock = HomeLock::acquire_if_home_exists(self.codex_home())?;
        let file_existed = self.file.delete_locked(lock.as_ref())?;
        let entry_existed = self.delete_entry()?;
        Ok(entry_existed || file_existed)
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire(self.codex_home())?;
        let current = self.load()?;
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        let value = to_compact_json(&next)?;
        self.save_locked(&lock, value)?;
        Ok(Some(next))
    }

    fn location(&self) -> StoreKind {
        StoreKind::Keyring
    }
}

fn entry_name(account: &str) -> String {
    format!("{KEYRING_SERVICE}/{account}")
}

fn chunk_account(account: &str, index: usize) -> String {
    format!("{account}|chunk-{index}")
}

/// A failure inside a keyring operation, turned into a [`StoreError`] on
/// the caller's thread.
#[derive(Debug)]
enum OperationError {
    /// The store failed on this account (the main entry or a chunk).
    Store {
        account: String,
        error: KeyringError,
    },
    /// The chunks do not make up a value.
    Chunks { reason: String },
}

impl OperationError {
    fn store(account: &str) -> impl FnOnce(KeyringError) -> Self + '_ {
        move |error| OperationError::Store {
            account: account.to_owned(),
            error,
        }
    }

    fn into_storage_error(self, main_account: &str) -> StoreError {
        match self {
            OperationError::Store { account, error } => StoreError::Keyring {
                entry: entry_name(&account),
                reason: error.to_string(),
            },
            OperationError::Chunks { reason } => StoreError::Corrupt {
                path: PathBuf::from(format!("keyring:{}", entry_name(main_account))),
                line: 1,
                column: 0,
                reason,
            },
        }
    }
}

/// The main entry's value when the document is chunked.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChunkHeader {
    codex_chunked: usize,
    sha256: String,
}

impl ChunkHeader {
    /// `None` when `main` is a plain document.
    fn parse(main: &str) -> Result<Option<Self>, OperationError> {
        if !main.starts_with(CHUNK_HEADER_PREFIX) {
            return Ok(None);
        }
        let header: Self = serde_json::from_str(main).map_err(|_| OperationError::Chunks {
            reason: "the chunk header is malformed".to_owned(),
        })?;
        if header.codex_chunked == 0 || header.codex_chunked > MAX_CHUNKS {
            return Err(OperationError::Chunks {
                reason: format!(
                    "the chunk header announces {} chunks (1 to {MAX_CHUNKS} allowed)",
                    header.codex_chunked
                ),
            });
        }
        Ok(Some(header))
    }
}

fn sha256_hex(value: &str) -> String {
    lower_hex(&Sha256::digest(value.as_bytes()))
}

fn utf16_len(value: &str) -> usize {
    value.chars().map(char::len_utf16).sum()
}

/// Splits `value` at character boundaries into pieces of at most `limit`
/// UTF-16 code units.
fn split_utf16(value: &str, limit: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut units = 0;
    for (index, ch) in value.char_indices() {
        let width = ch.len_utf16();
        if units + width > limit && index > start {
            pieces.push(&value[start..index]);
            start = index;
            units = 0;
        }
        units += width;
    }
    if start < value.len() {
        pieces.push(&value[start..]);
    }
    pieces
}

fn load_value(
    store: &dyn Keyring,
    account: &str,
) -> Result<Option<Zeroizing<String>>, OperationError> {
    let Some(main) = store
        .load(KEYRING_SERVICE, account)
        .map_err(OperationError::store(account))?
    else {
        return Ok(None);
    };
    let main = Zeroizing::new(main);
    let Some(header) = ChunkHeader::parse(&main)? else {
        return Ok(Some(main));
    };
    let count = header.codex_chunked;
    let mut value = Zeroizing::new(String::new());
    for index in 1..=count {
        let chunk_account = chunk_account(account, index);
        let Some(chunk) = store
            .load(KEYRING_SERVICE, &chunk_account)
            .map_err(OperationError::store(&chunk_account))?
        else {
            return Err(OperationError::Chunks {
                reason: format!("chunk {index} of {count} is missing"),
            });
        };
        value.push_str(&Zeroizing::new(chunk));
        if value.len() as u64 > MAX_AUTH_FILE_LEN {
            return Err(OperationError::Chunks {
                reason: format!("the chunks exceed {MAX_AUTH_FILE_LEN} bytes"),
            });
        }
    }
    if sha256_hex(&value) != header.sha256 {
        return Err(OperationError::Chunks {
            reason: format!(
                "the {count} chunks do not match their header (written concurrently or damaged)"
            ),
        });
    }
    Ok(Some(value))
}

fn save_value(store: &dyn Keyring, account: &str, value: &str) -> Result<(), OperationError> {
    let Some(limit) = store.max_value_len() else {
        return store
            .save(KEYRING_SERVICE, account, value)
            .map_err(OperationError::store(account));
    };
    if utf16_len(value) <= limit {
        store
            .save(KEYRING_SERVICE, account, value)
            .map_err(OperationError::store(account))?;
        return remove_chunks_from(store, account, 1);
    }
    let pieces = split_utf16(value, limit);
    let header = ChunkHeader {
        codex_chunked: pieces.len(),
        sha256: sha256_hex(value),
    };
    let header = serde_json::to_string(&header).map_err(|_| OperationError::Chunks {
        reason: "cannot write the chunk header".to_owned(),
    })?;
    let refuse = |reason: String| OperationError::Store {
        account: account.to_owned(),
        error: KeyringError::Platform(reason),
    };
    if pieces.len() > MAX_CHUNKS {
        return Err(refuse(format!(
            "the value needs {} chunks, more than {MAX_CHUNKS}",
            pieces.len()
        )));
    }
    if utf16_len(&header) > limit {
        return Err(refuse(format!(
            "the store's value limit ({limit}) is too small for a chunk header"
        )));
    }
    // Chunks first: until the header is written, readers see the old value.
    for (offset, piece) in pieces.iter().enumerate() {
        let chunk_account = chunk_account(account, offset + 1);
        store
            .save(KEYRING_SERVICE, &chunk_account, piece)
            .map_err(OperationError::store(&chunk_account))?;
    }
    store
        .save(KEYRING_SERVICE, account, &header)
        .map_err(OperationError::store(account))?;
    remove_chunks_from(store, account, pieces.len() + 1)
}

/// Deletes `<account>|chunk-<first>` and the following chunks, up to the
/// first that does not exist: stale chunks of a longer earlier value.
fn remove_chunks_from(
    store: &dyn Keyring,
    account: &str,
    first: usize,
) -> Result<(), OperationError> {
    for index in first..=MAX_CHUNKS {
        let chunk_account = chunk_account(account, index);
        let existed = store
            .delete(KEYRING_SERVICE, &chunk_account)
            .map_err(OperationError::store(&chunk_account))?;
        if !existed {
            break;
        }
    }
    Ok(())
}

fn delete_value(store: &dyn Keyring, account: &str) -> Result<bool, OperationError> {
    if store.max_value_len().is_none() {
        return store
            .delete(KEYRING_SERVICE, account)
            .map_err(OperationError::store(account));
    }
    // The header says how many chunks to remove even if one is missing; a
    // malformed header still lets the entry be deleted.
    let main = store
        .load(KEYRING_SERVICE, account)
        .map_err(OperationError::store(account))?
        .map(Zeroizing::new);
    let count = main
        .as_deref()
        .and_then(|main| ChunkHeader::parse(main).ok().flatten())
        .map_or(0, |header| header.codex_chunked);
    // The main entry first: once it is gone no reader sees a partial value.
    let existed = store
        .delete(KEYRING_SERVICE, account)
        .map_err(OperationError::store(account))?;
    for index in 1..=count {
        let chunk_account = chunk_account(account, index);
        store
            .delete(KEYRING_SERVICE, &chunk_account)
            .map_err(OperationError::store(&chunk_account))?;
    }
    remove_chunks_from(store, account, count + 1)?;
    Ok(existed)
}

/// Lower-case hex of `bytes` (a digest: 32 bytes, so not worth a crate).
fn lower_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::account_for_path_bytes;

    /// The mirrored CLI's own test vector for its account derivation
    /// (`compute_store_key("~/.codex")`): the hash is the same function.
    #[test]
    fn the_account_hash_matches_the_mirrored_cli_test_vector() {
        assert_eq!(account_for_path_bytes(b"~/.codex"), "cli|940db7b1d0e4eb40");
    }
}
