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
//! The caller's thread never blocks on an executor, so calling from inside a
//! tokio runtime is safe.
//!
//! A timed-out call cannot write late (the late result is discarded): the
//! worker checks, under the same mutex the caller uses to give up, before
//! every platform call, and an abandoned operation starts no further call
//! (no next chunk, no header, no cleanup); its result, if it ever comes, is
//! dropped. A platform call already in progress when the timeout struck
//! cannot be recalled, so, per keyring (the same `Arc`; every default store
//! shares one [`OsKeyring`](crate::OsKeyring)), while an abandoned call is
//! still running no new call starts: it fails at once with
//! [`StoreError::KeyringBusy`]. So a hung Secret Service holds at most the
//! threads that were waiting on it when it hung, never one more per call,
//! and nothing this process writes to the keyring afterwards can be
//! overtaken by the stuck call: that call lands (if at all) before any later
//! keyring write. The auto store additionally marks a document it had to
//! write to the file as newer than the keyring entry (see `auto`). What is
//! not covered: another process that takes the home lock after we released
//! it may write before the stuck call lands (holding the lock in the worker
//! instead would block every store of the home, the file store included,
//! for as long as the keyring hangs).

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak, mpsc};
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
    gate: Arc<Gate>,
    file: FileStore,
    account: String,
    timeout: Duration,
}

impl KeyringStore {
    /// The keyring store of `codex_home`.
    pub fn new(codex_home: &Path, store: Arc<dyn Keyring>, timeout: Duration) -> Self {
        Self {
            gate: Gate::of(&store),
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
    /// the timeout for it; fails at once while an earlier call through the
    /// same keyring is stuck (see the module docs).
    fn run<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&dyn Keyring, &str) -> Result<T, OperationError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.gate.stuck() > 0 {
            return Err(StoreError::KeyringBusy {
                entry: self.entry_name(),
            });
        }
        // Capacity 1: the worker's send never blocks, even after we left.
        let (sender, receiver) = mpsc::sync_channel(1);
        let call = Arc::new(Call {
            state: Mutex::default(),
            gate: Arc::clone(&self.gate),
        });
        let store = Arc::clone(&self.store);
        let account = self.account.clone();
        let worker_call = Arc::clone(&call);
        std::thread::Builder::new()
            .name("login-storage-keyring".to_owned())
            .spawn(move || {
                // Runs even if `operation` panics.
                let finished = Finished(&worker_call);
                let guarded = Guarded {
                    store: store.as_ref(),
                    call: &worker_call,
                };
                let _ = sender.send(operation(&guarded, &account));
                drop(finished);
            })
            .map_err(|error| StoreError::Keyring {
                entry: self.entry_name(),
                reason: format!("cannot start the keyring thread: {error}"),
            })?;
        let received = match receiver.recv_timeout(self.timeout) {
            Ok(result) => Some(result),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let mut state = call.state();
                match receiver.try_recv() {
                    // It answered just as the timeout expired: take it.
                    Ok(result) => Some(result),
                    Err(mpsc::TryRecvError::Disconnected) => None,
                    Err(mpsc::TryRecvError::Empty) => {
                        // Give up under the lock the worker checks before
                        // each platform call: from now on it starts none.
                        state.abandoned = true;
                        *self.gate.lock() += 1;
                        return Err(StoreError::KeyringTimeout {
                            entry: self.entry_name(),
                            timeout: self.timeout,
                        });
                    }
                }
            }
        };
        match received {
            Some(result) => result.map_err(|error| error.into_storage_error(&self.account)),
            None => Err(StoreError::Keyring {
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
        // The entry is now the newest document: no longer stale (before the
        // leftover goes, so a crash in between never hides the entry).
        clear_keyring_stale(self.codex_home(), lock)?;
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
        let value = to_compact_json(auth, &self.entry_name())?;
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
        if let Some(lock) = &lock {
            clear_keyring_stale(self.codex_home(), lock)?;
        }
        Ok(entry_existed || file_existed)
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire(self.codex_home())?;
        let current = self.load()?;
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        let value = to_compact_json(&next, &self.entry_name())?;
        self.save_locked(&lock, value)?;
        Ok(Some(next))
    }

    fn location(&self) -> StoreKind {
        StoreKind::Keyring
    }
}

/// Present in a home when its keyring entry is older than what the auto
/// store wrote past it (a document written to `auth.json`, or a logout,
/// while the keyring could not be reached): the entry must not be read
/// until a keyring write replaces it. See `auto`.
pub(crate) const KEYRING_STALE_MARKER: &str = "auth.json.keyring-stale";

/// Whether `codex_home`'s keyring entry is marked stale. Anything at the
/// marker's name counts (it is never opened, so a planted FIFO or symlink
/// cannot block or redirect us).
pub(crate) fn keyring_is_marked_stale(codex_home: &Path) -> bool {
    std::fs::symlink_metadata(codex_home.join(KEYRING_STALE_MARKER)).is_ok()
}

/// Marks `codex_home`'s keyring entry stale, durably. The caller holds the
/// home lock.
pub(crate) fn mark_keyring_stale(codex_home: &Path, _lock: &HomeLock) -> Result<(), StoreError> {
    let path = codex_home.join(KEYRING_STALE_MARKER);
    let mut options = std::fs::OpenOptions::new();
    // `create_new` (O_EXCL) never follows a symlink planted at the name.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(error) => return Err(StoreError::io("create", path, error)),
    }
    // Make the new name durable, as the document's own write is.
    std::fs::File::open(codex_home)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| StoreError::io("sync", codex_home, error))
}

/// Removes the stale mark after the entry was rewritten or deleted. The
/// caller holds the home lock.
pub(crate) fn clear_keyring_stale(codex_home: &Path, _lock: &HomeLock) -> Result<(), StoreError> {
    let path = codex_home.join(KEYRING_STALE_MARKER);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(StoreError::io("remove", path, error)),
    }
}

/// Per keyring (per `Arc`): how many calls timed out and have not returned.
#[derive(Debug, Default)]
struct Gate {
    stuck: Mutex<usize>,
}

impl Gate {
    /// The gate of `store`, shared by every store built on the same `Arc`.
    fn of(store: &Arc<dyn Keyring>) -> Arc<Gate> {
        static GATES: OnceLock<Mutex<HashMap<usize, Weak<Gate>>>> = OnceLock::new();
        // The address identifies the keyring while any store (or stuck
        // worker, which holds the `Arc`) uses it, so it cannot be reused
        // while its gate matters.
        let key = Arc::as_ptr(store).cast::<()>().addr();
        let mut gates = GATES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
            return gate;
        }
        gates.retain(|_, gate| gate.strong_count() > 0);
        let gate = Arc::new(Gate::default());
        gates.insert(key, Arc::downgrade(&gate));
        gate
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // A counter stays meaningful after a panic elsewhere.
        self.stuck.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stuck(&self) -> usize {
        *self.lock()
    }
}

/// One operation's worker, as its caller and the worker see it.
#[derive(Debug)]
struct Call {
    state: Mutex<CallState>,
    gate: Arc<Gate>,
}

#[derive(Debug, Default)]
struct CallState {
    /// The caller timed out: start no further platform call.
    abandoned: bool,
}

impl Call {
    fn state(&self) -> MutexGuard<'_, CallState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Err` once the caller gave up: the operation must stop here.
    fn proceed(&self) -> Result<(), KeyringError> {
        if self.state().abandoned {
            return Err(KeyringError::Platform(
                "the caller stopped waiting for this keyring operation".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Drop guard of a worker: when the caller had given up on its call, the
/// call is no longer stuck once the worker ends.
struct Finished<'a>(&'a Call);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let state = self.0.state();
        if state.abandoned {
            let mut stuck = self.0.gate.lock();
            *stuck = stuck.saturating_sub(1);
        }
    }
}

/// The keyring as an operation sees it: every call first checks that the
/// caller is still waiting.
#[derive(Debug)]
struct Guarded<'a> {
    store: &'a dyn Keyring,
    call: &'a Call,
}

impl Keyring for Guarded<'_> {
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        self.call.proceed()?;
        self.store.load(service, account)
    }

    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        self.call.proceed()?;
        self.store.save(service, account, value)
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        self.call.proceed()?;
        self.store.delete(service, account)
    }

    fn max_value_len(&self) -> Option<usize> {
        self.store.max_value_len()
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
