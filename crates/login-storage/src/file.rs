//! [`FileStore`]: `$CODEX_HOME/auth.json`, written atomically and
//! updated under a cross-process lock.
//!
//! Invariants:
//! - a write goes to a temporary file in the destination's directory
//!   (`.auth.json.tmp-<pid>-<random>`, created 0600), is `fsync`ed, renamed
//!   over the destination, and the directory is `fsync`ed: a crash leaves the
//!   old or the new document, never a torn one;
//! - every write (`save`, `update`, `delete`) holds [`HomeLock`], an
//!   exclusive lock on `$CODEX_HOME/auth.json.lock` (never deleted). When
//!   `auth.json` is a symlink, a write also locks `<target>.lock` beside the
//!   file it resolves to, so homes sharing one target never interleave
//!   (locks are taken home first, then target; a target's lock is the last
//!   one taken, so the order cannot deadlock);
//! - lock files are opened without following symlinks, kept 0600, and
//!   waited for at most [`FileStore::with_lock_timeout`] (30 s by default),
//!   then [`StoreError::LockTimeout`];
//! - a temporary file is removed as stale only when the writer whose pid is
//!   in its name is gone, or when it is older than [`STALE_TEMP_AGE`];
//! - only regular files are read, moved aside or replaced: a FIFO, device,
//!   socket or directory (or a symlink to one) is [`StoreError::NotAFile`]
//!   at once, and every open is non-blocking, so nothing waits on a FIFO;
//! - nothing is written that a read would refuse: a document over
//!   [`MAX_AUTH_FILE_LEN`] is [`StoreError::DocumentTooLarge`] before any
//!   file is touched;
//! - loading never writes; a corrupt or oversized file is never overwritten
//!   or deleted implicitly: `update` refuses it, `save` moves it aside first
//!   (0600, listed by [`FileStore::corrupt_copies`]);
//! - errors name the file and a position, never content.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use zeroize::Zeroizing;

use crate::document::{parse_document, to_pretty_json};
use crate::{AuthDotJson, AuthStore, StoreError, StoreKind, UpdateFn};

/// The file name inside `CODEX_HOME`.
pub const AUTH_FILE_NAME: &str = "auth.json";

/// Files larger than this are refused before they are read whole: 1 MiB.
pub(crate) const MAX_AUTH_FILE_LEN: u64 = 1024 * 1024;

/// The lock file beside `auth.json`, shared by the file and keyring stores.
pub(crate) const LOCK_FILE_NAME: &str = "auth.json.lock";

/// The lock file held while a background task is registered.
const REGISTRATION_LOCK_FILE_NAME: &str = "auth.json.register.lock";

/// Between the destination's name and the writer's pid in a temporary file's
/// name: `.auth.json.tmp-<pid>-<random>`.
const TEMP_MARKER: &str = ".tmp-";

/// Linux gives up after 40 links too; a loop must not hang a write.
const MAX_SYMLINK_HOPS: usize = 40;

/// How long a write waits for a lock file by default: 30 s, then
/// [`StoreError::LockTimeout`].
pub(crate) const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause between two attempts to take a busy lock.
const MAX_LOCK_POLL: Duration = Duration::from_millis(20);

/// A temporary file this old is stale even if a process with its writer's
/// pid runs (the pid may have been reused, or be in another pid
/// namespace): a write takes milliseconds.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// The part of a moved-aside copy's name after the file's own name.
const CORRUPT_MARKER: &str = ".corrupt-";

/// `open(2)` flags std does not name, from `libc` (one small crate; the
/// values differ between platforms and architectures).
#[cfg(unix)]
mod oflag {
    /// Do not block on a FIFO or device (an open of a FIFO waits for a
    /// writer otherwise).
    pub(super) const NONBLOCK: i32 = libc::O_NONBLOCK;
    /// A terminal opened by mistake does not become ours.
    pub(super) const NOCTTY: i32 = libc::O_NOCTTY;
    /// Fail (`ELOOP`) instead of following a symlink in the last component.
    pub(super) const NOFOLLOW: i32 = libc::O_NOFOLLOW;
}

/// An exclusive, cross-process lock on `$CODEX_HOME/auth.json.lock`,
/// released when dropped.
///
/// Every write to a home holds it, so a read-modify-write never interleaves
/// with another writer in any process. It is not reentrant: a thread that
/// holds it must not acquire it again.
#[derive(Debug)]
pub(crate) struct HomeLock {
    // Closing the file releases the lock.
    file: File,
}

impl HomeLock {
    /// Creates `codex_home` (0700) when missing and waits for the lock, at
    /// most [`DEFAULT_LOCK_TIMEOUT`].
    pub(crate) fn acquire(codex_home: &Path) -> Result<Self, StoreError> {
        Self::acquire_within(codex_home, DEFAULT_LOCK_TIMEOUT)
    }

    /// [`acquire`](Self::acquire), waiting at most `timeout`.
    pub(crate) fn acquire_within(codex_home: &Path, timeout: Duration) -> Result<Self, StoreError> {
        create_home_dir(codex_home)?;
        Self::lock(codex_home, timeout)
    }

    /// Like [`acquire`](Self::acquire), but `None` (no lock, nothing created)
    /// when `codex_home` does not exist: there is nothing to guard.
    pub(crate) fn acquire_if_home_exists(codex_home: &Path) -> Result<Option<Self>, StoreError> {
        Self::acquire_if_home_exists_within(codex_home, DEFAULT_LOCK_TIMEOUT)
    }

    /// [`acquire_if_home_exists`](Self::acquire_if_home_exists), waiting at
    /// most `timeout`.
    pub(crate) fn acquire_if_home_exists_within(
        codex_home: &Path,
        timeout: Duration,
    ) -> Result<Option<Self>, StoreError> {
        match fs::metadata(codex_home) {
            Ok(_) => Self::lock(codex_home, timeout).map(Some),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::io("inspect", codex_home, error)),
        }
    }

    fn lock(codex_home: &Path, timeout: Duration) -> Result<Self, StoreError> {
        lock_exclusive(&codex_home.join(LOCK_FILE_NAME), timeout).map(|file| Self { file })
    }
}

/// An exclusive, cross-process lock on `$CODEX_HOME/auth.json.register.lock`,
/// held while a background task is registered for the agent identity kept
/// in that home, and released when dropped.
///
/// A holder re-reads the stored task id, registers only when there is none,
/// and caches the new id before releasing it, so runtimes starting together
/// on one home register once. It is a file of its own, not the
/// `auth.json.lock` every write takes: registration waits for the network,
/// and ordinary updates (a token refresh, a login) must not wait behind it.
/// Caching the id takes `auth.json.lock` while this one is held; nothing
/// takes them in the other order.
#[derive(Debug)]
pub struct RegistrationLock {
    // Closing the file releases the lock.
    _file: File,
}

impl RegistrationLock {
    /// Creates `codex_home` (0700) when missing and waits for the lock, at
    /// most 30 s; then [`StoreError::LockTimeout`].
    pub fn acquire(codex_home: &Path) -> Result<Self, StoreError> {
        Self::acquire_within(codex_home, DEFAULT_LOCK_TIMEOUT)
    }

    /// [`acquire`](Self::acquire), waiting at most `timeout`.
    ///
    /// A symlinked or non-regular `auth.json.register.lock` is
    /// [`StoreError::NotAFile`]; the lock file is kept 0600.
    pub fn acquire_within(codex_home: &Path, timeout: Duration) -> Result<Self, StoreError> {
        create_home_dir(codex_home)?;
        lock_exclusive(&codex_home.join(REGISTRATION_LOCK_FILE_NAME), timeout)
            .map(|file| Self { _file: file })
    }
}

/// Opens (creating 0600) and exclusively locks `path`, waiting at most
/// `timeout`.
fn lock_exclusive(path: &Path, timeout: Duration) -> Result<File, StoreError> {
    let file = open_lock_file(path)?;
    wait_for_lock(file, path, timeout)
}

/// Opens a lock file without following a symlink and without blocking
/// (a FIFO planted there must not hang us), creating it 0600; anything but
/// a regular file is [`StoreError::NotAFile`]. An existing lock file with
/// another mode is made 0600 (logged if that fails: it holds no secret).
fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    // Checked before the open too: a device node is never opened, and a
    // platform without `oflag` values still refuses a planted link.
    match fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.is_file() => return Err(not_a_file(path, metadata.file_type())),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(0o600)
            .custom_flags(oflag::NOFOLLOW | oflag::NONBLOCK | oflag::NOCTTY);
    }
    // A symlink or directory swapped in after the check fails the open
    // (`ELOOP`, `EISDIR`): an I/O error naming the lock file.
    let file = options
        .open(path)
        .map_err(|error| StoreError::io("open", path, error))?;
    let metadata = file
        .metadata()
        .map_err(|error| StoreError::io("inspect", path, error))?;
    if !metadata.is_file() {
        return Err(not_a_file(path, metadata.file_type()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if metadata.permissions().mode() & 0o777 != 0o600
            && let Err(error) = file.set_permissions(fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(file = %path.display(), %error, "cannot make the lock file 0600");
        }
    }
    Ok(file)
}

/// Takes the exclusive lock on `file`, polling (so the wait is bounded
/// and nothing is left blocked in the kernel when we give up).
fn wait_for_lock(file: File, path: &Path, timeout: Duration) -> Result<File, StoreError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(error)) => {
                return Err(StoreError::io("lock", path, error));
            }
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(StoreError::LockTimeout {
                path: path.to_path_buf(),
                waited: timeout,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(MAX_LOCK_POLL);
    }
}

fn not_a_file(path: &Path, kind: fs::FileType) -> StoreError {
    StoreError::NotAFile {
        path: path.to_path_buf(),
        kind: kind_name(kind),
    }
}

/// "a FIFO", "a directory", ...: what a path is when it is not a file.
fn kind_name(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "an unknown kind of file"
    }
}

/// Whether two open handles are the same file (so locking both from one
/// process would wait on itself). Always `false` off Unix.
fn same_file(a: &File, b: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (a.metadata(), b.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// `$CODEX_HOME/auth.json`.
///
/// `save` and `update` write atomically under the home lock (see the module
/// docs); a symlinked `auth.json` keeps its link and its target is replaced
/// under a second lock beside the target. `delete` removes `auth.json`
/// itself (the link, for a symlink, so a target shared with other homes
/// survives) and temporary files left by killed writers, never the lock
/// file or `auth.json.corrupt-*` copies (see
/// [`corrupt_copies`](Self::corrupt_copies)).
#[derive(Debug, Clone)]
pub struct FileStore {
    codex_home: PathBuf,
    lock_timeout: Duration,
}

impl FileStore {
    /// The file store of `codex_home`.
    pub fn new(codex_home: &Path) -> Self {
        Self {
            codex_home: codex_home.to_path_buf(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Waits at most `timeout` (30 s by default) for each lock file a
    /// write takes; a lock held longer (by a stuck or foreign process)
    /// ends the write with [`StoreError::LockTimeout`], changing nothing.
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// `$CODEX_HOME/auth.json`.
    pub fn auth_file(&self) -> PathBuf {
        self.codex_home.join(AUTH_FILE_NAME)
    }

    /// `$CODEX_HOME/auth.json.lock`, the lock every write holds. It is
    /// never deleted: deleting it would let two writers lock different files.
    pub fn lock_file(&self) -> PathBuf {
        self.codex_home.join(LOCK_FILE_NAME)
    }

    /// The copies a `save` moved aside because they were corrupt
    /// (`auth.json.corrupt-<timestamp>`, 0600), sorted by name (so oldest
    /// first): in the home, and beside the file a symlinked `auth.json`
    /// points to. Nothing ever deletes them; a `logout` lists them so the
    /// user can.
    pub fn corrupt_copies(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut places = vec![self.auth_file()];
        let target = resolve_symlinks(&self.auth_file())?;
        if target != self.auth_file() {
            places.push(target);
        }
        let mut copies = Vec::new();
        for place in places {
            let (dir, name) = split_target(&place)?;
            let prefix = format!("{}{CORRUPT_MARKER}", name.to_string_lossy());
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(StoreError::io("list", dir, error)),
            };
            for entry in entries {
                let entry = entry.map_err(|error| StoreError::io("list", &dir, error))?;
                let is_copy = entry
                    .file_name()
                    .to_str()
                    .is_some_and(|file_name| file_name.starts_with(&prefix));
                if is_copy {
                    copies.push(entry.path());
                }
            }
        }
        copies.sort();
        copies.dedup();
        Ok(copies)
    }

    pub(crate) fn codex_home(&self) -> &Path {
        &self.codex_home
    }

    /// Reads the document without locking; `warn_exposed` logs a warning
    /// when the file is accessible by group or others.
    pub(crate) fn read(&self, warn_exposed: bool) -> Result<Option<AuthDotJson>, StoreError> {
        let path = self.auth_file();
        let Some(bytes) = read_bounded(&path, warn_exposed)? else {
            return Ok(None);
        };
        parse_document(&path, &bytes).map(Some)
    }

    /// The bytes `save` and `update` write, refused when a read could not
    /// take them back.
    fn serialize(&self, auth: &AuthDotJson) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let bytes = to_pretty_json(auth)?;
        let len = bytes.len() as u64;
        if len > MAX_AUTH_FILE_LEN {
            return Err(StoreError::DocumentTooLarge {
                destination: self.auth_file().display().to_string(),
                len,
                limit: MAX_AUTH_FILE_LEN,
            });
        }
        Ok(bytes)
    }

    /// `save` with the lock already held.
    pub(crate) fn save_locked(
        &self,
        lock: &HomeLock,
        auth: &AuthDotJson,
    ) -> Result<(), StoreError> {
        let bytes = self.serialize(auth)?;
        self.save_bytes_locked(lock, &bytes)
    }

    fn save_bytes_locked(&self, lock: &HomeLock, bytes: &[u8]) -> Result<(), StoreError> {
        let target = resolve_symlinks(&self.auth_file())?;
        let _target_lock = self.lock_target(lock, &target)?;
        move_aside_if_corrupt(&target)?;
        self.write_locked(&target, bytes)
    }

    /// `update` with the lock already held.
    pub(crate) fn update_locked(
        &self,
        lock: &HomeLock,
        f: &mut UpdateFn<'_>,
    ) -> Result<Option<AuthDotJson>, StoreError> {
        let target = resolve_symlinks(&self.auth_file())?;
        // Held across the read and the write: another home sharing the
        // target must not write in between.
        let _target_lock = self.lock_target(lock, &target)?;
        let current = self.read(false)?;
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        let bytes = self.serialize(&next)?;
        self.write_locked(&target, &bytes)?;
        Ok(Some(next))
    }

    /// Locks `<target>.lock` beside the file a symlinked `auth.json`
    /// resolves to, so every home sharing that file writes in turn. `None`
    /// when `auth.json` is not a symlink, or the target's lock is the home
    /// lock itself (the link points into another home whose lock we hold).
    fn lock_target(&self, home_lock: &HomeLock, target: &Path) -> Result<Option<File>, StoreError> {
        if target == self.auth_file() {
            return Ok(None);
        }
        // No lock file is created beside a device node or a FIFO.
        check_replaceable(target)?;
        let (dir, name) = split_target(target)?;
        let mut lock_name = name;
        lock_name.push(".lock");
        let path = dir.join(lock_name);
        let file = open_lock_file(&path)?;
        if same_file(&file, &home_lock.file) {
            return Ok(None);
        }
        wait_for_lock(file, &path, self.lock_timeout).map(Some)
    }

    /// `delete` with the lock already held (or no home directory at all).
    pub(crate) fn delete_locked(&self, _lock: Option<&HomeLock>) -> Result<bool, StoreError> {
        let path = self.auth_file();
        // A link is removed whatever it points to (its target is another
        // home's business); anything but a file or a link is refused.
        match fs::symlink_metadata(&path) {
            Ok(metadata) if !metadata.is_file() && !metadata.is_symlink() => {
                return Err(not_a_file(&path, metadata.file_type()));
            }
            _ => {}
        }
        // A temporary file holds a copy of the credentials: a logout
        // removes those left by killed writers too.
        remove_stale_temp_files(&self.codex_home, OsStr::new(AUTH_FILE_NAME));
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(StoreError::io("remove", path, error)),
        }
    }

    /// Removes an `auth.json` left beside a document now kept elsewhere (a
    /// corrupt one is moved aside instead). Failures are logged: the
    /// document itself is already stored.
    pub(crate) fn remove_leftover_locked(&self, lock: &HomeLock) {
        let path = self.auth_file();
        let removed = resolve_symlinks(&path)
            .and_then(|target| {
                let _target_lock = self.lock_target(lock, &target)?;
                move_aside_if_corrupt(&target)
            })
            .and_then(|()| self.delete_locked(Some(lock)));
        match removed {
            Ok(true) => tracing::debug!(file = %path.display(), "removed leftover auth.json"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot remove leftover auth.json"),
        }
    }

    /// Replaces `target` atomically with `bytes`, only if it is a regular
    /// file or missing (a rename would replace a FIFO or device node).
    fn write_locked(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        check_replaceable(target)?;
        let (dir, name) = split_target(target)?;
        remove_stale_temp_files(&dir, &name);
        #[cfg(unix)]
        tighten_dir_mode(&self.codex_home);
        write_atomically(&dir, &name, target, bytes)
    }
}

impl AuthStore for FileStore {
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError> {
        self.read(true)
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError> {
        // Serialize first: a document that cannot be written changes nothing.
        let bytes = self.serialize(auth)?;
        let lock = HomeLock::acquire_within(&self.codex_home, self.lock_timeout)?;
        self.save_bytes_locked(&lock, &bytes)
    }

    fn delete(&self) -> Result<bool, StoreError> {
        let lock = HomeLock::acquire_if_home_exists_within(&self.codex_home, self.lock_timeout)?;
        self.delete_locked(lock.as_ref())
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire_within(&self.codex_home, self.lock_timeout)?;
        self.update_locked(&lock, f)
    }

    fn location(&self) -> StoreKind {
        StoreKind::File
    }
}

/// [`StoreError::NotAFile`] when `target` (a resolved path, not a link)
/// exists and is not a regular file: only a regular file may be replaced.
///
/// A path that cannot be inspected passes: `resolve_symlinks` inspected it
/// a moment ago, and the write that follows fails on it with its own error.
fn check_replaceable(target: &Path) -> Result<(), StoreError> {
    match fs::symlink_metadata(target) {
        Ok(metadata) if !metadata.is_file() => Err(not_a_file(target, metadata.file_type())),
        _ => Ok(()),
    }
}

fn create_home_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|error| StoreError::io("create directory", dir, error))
}

/// Reads at most [`MAX_AUTH_FILE_LEN`] bytes; `None` when there is no file.
///
/// Only a regular file is opened: the type is checked before the open (a
/// device node is never opened) and again on the opened handle (it may
/// have been swapped in between). The open is non-blocking, so a FIFO
/// swapped in cannot hang it either.
fn read_bounded(path: &Path, warn_exposed: bool) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
    match fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => return Err(not_a_file(path, metadata.file_type())),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StoreError::io("inspect", path, error)),
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, oflag::NONBLOCK | oflag::NOCTTY);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StoreError::io("open", path, error)),
    };
    let metadata = file
        .metadata()
        .map_err(|error| StoreError::io("inspect", path, error))?;
    if !metadata.is_file() {
        return Err(not_a_file(path, metadata.file_type()));
    }
    let too_large = |len| StoreError::TooLarge {
        path: path.to_path_buf(),
        len,
        limit: MAX_AUTH_FILE_LEN,
    };
    if metadata.len() > MAX_AUTH_FILE_LEN {
        return Err(too_large(metadata.len()));
    }
    #[cfg(unix)]
    if warn_exposed {
        warn_if_exposed(path, &metadata);
    }
    #[cfg(not(unix))]
    let _ = warn_exposed;
    let capacity = usize::try_from(metadata.len()).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    // The file may grow after the size check: read one byte past the limit
    // to notice without reading it whole.
    file.take(MAX_AUTH_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| StoreError::io("read", path, error))?;
    let len = bytes.len() as u64;
    if len > MAX_AUTH_FILE_LEN {
        return Err(too_large(len));
    }
    Ok(Some(bytes))
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path, metadata: &fs::Metadata) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            file = %path.display(),
            mode = format_args!("{mode:o}"),
            "auth.json is accessible by group or others; the next save rewrites it 0600",
        );
    }
}

/// Makes `codex_home` 0700 when it is group- or world-accessible. A sticky
/// directory (such as `/tmp`) is shared on purpose and left alone. Failure
/// is logged, not fatal: the file itself is always created 0600.
#[cfg(unix)]
fn tighten_dir_mode(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(metadata) = fs::metadata(dir) else {
        return;
    };
    let mode = metadata.permissions().mode();
    if mode & 0o077 == 0 || mode & 0o1000 != 0 {
        return;
    }
    if let Err(error) = fs::set_permissions(dir, fs::Permissions::from_mode(0o700)) {
        tracing::warn!(dir = %dir.display(), %error, "cannot make the auth directory 0700");
    }
}

/// Follows `path`'s symlinks to the file a write must replace (which may
/// not exist yet), so the links themselves survive.
fn resolve_symlinks(path: &Path) -> Result<PathBuf, StoreError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = fs::read_link(&current)
                    .map_err(|error| StoreError::io("read link", &current, error))?;
                // A relative target is relative to the link's directory;
                // `join` keeps an absolute one as it is.
                current = match current.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(error) => return Err(StoreError::io("inspect", current, error)),
        }
    }
    Err(StoreError::io(
        "resolve",
        path,
        io::Error::other("too many levels of symbolic links"),
    ))
}

fn split_target(target: &Path) -> Result<(PathBuf, std::ffi::OsString), StoreError> {
    let Some(name) = target.file_name() else {
        return Err(StoreError::io(
            "write",
            target,
            io::Error::other("the path does not name a file"),
        ));
    };
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// `.<name>.tmp-`: the prefix of every temporary file written for `name`.
fn temp_prefix(name: &OsStr) -> String {
    format!(".{}{TEMP_MARKER}", name.to_string_lossy())
}

/// Removes temporary files left in `dir` by writers killed mid-write.
///
/// Called by the lock holder. A file whose writer (the pid in its name)
/// still runs is left alone unless it is older than [`STALE_TEMP_AGE`]:
/// it may belong to a writer that reached this directory through another
/// lock (another home's symlink, an older version of this code), and
/// deleting it would fail that writer's rename.
fn remove_stale_temp_files(dir: &Path, name: &OsStr) {
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|file_name| file_name.strip_prefix(&prefix))
        else {
            continue;
        };
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if !metadata.is_file() {
            continue;
        }
        let old = metadata
            .modified()
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        let writer_gone = writer_pid(rest).is_some_and(|pid| !process_alive(pid));
        if !old && !writer_gone {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => {
                tracing::debug!(file = %entry.path().display(), "removed a stale temporary file");
            }
            Err(error) => {
                tracing::debug!(file = %entry.path().display(), %error, "cannot remove a stale temporary file");
            }
        }
    }
}

/// The writer's pid in `<pid>-<random>`, the end of a temporary file's name.
fn writer_pid(rest: &str) -> Option<u32> {
    rest.split_once('-')?.0.parse().ok()
}

/// Whether process `pid` runs (a zombie does not). This process always
/// runs; elsewhere, without `/proc`, every writer is taken to run and only
/// age makes its file stale.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            // `pid (comm) S ...`: the state follows the last `)`.
            Ok(stat) => !stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_some_and(|state| matches!(state, 'Z' | 'X' | 'x')),
            // No /proc at all: we cannot tell.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                !Path::new("/proc/self").exists()
            }
            Err(_) => true,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Unique per process and call; `create_new` catches the unlikely clash.
fn random_suffix() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}

fn create_temp_file(dir: &Path, name: &OsStr) -> Result<(PathBuf, File), StoreError> {
    let prefix = temp_prefix(name);
    let pid = std::process::id();
    let mut last_error = None;
    for _ in 0..8 {
        let path = dir.join(format!("{prefix}{pid}-{:016x}", random_suffix()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(StoreError::io("create", path, error)),
        }
    }
    let error = last_error.unwrap_or_else(|| io::Error::other("no free temporary file name"));
    Err(StoreError::io("create", dir, error))
}

fn write_atomically(
    dir: &Path,
    name: &OsStr,
    target: &Path,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let (temp_path, file) = create_temp_file(dir, name)?;
    if let Err(error) = fill_and_rename(file, &temp_path, target, bytes) {
        let _ = fs::remove_file(&temp_path);
        return Err(error);
    }
    sync_dir(dir);
    Ok(())
}

fn fill_and_rename(
    mut file: File,
    temp_path: &Path,
    target: &Path,
    bytes: &[u8],
) -> Result<(), StoreError> {
    file.write_all(bytes)
        .map_err(|error| StoreError::io("write", temp_path, error))?;
    file.sync_all()
        .map_err(|error| StoreError::io("sync", temp_path, error))?;
    drop(file);
    fs::rename(temp_path, target).map_err(|error| StoreError::io("replace", target, error))
}

/// Makes the rename durable. The new document is already in place, so a
/// failure (some filesystems refuse to sync directories) is only logged.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(error) = File::open(dir).and_then(|handle| handle.sync_all()) {
        tracing::debug!(dir = %dir.display(), %error, "cannot sync the directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Moves `target` to `<name>.corrupt-<UTC timestamp>` when it exists but is
/// not a valid document (or is too large to be one), so an explicit save
/// never destroys it. The copy is made 0600 first: it may hold a secret.
/// Anything but a regular file is refused, never moved.
fn move_aside_if_corrupt(target: &Path) -> Result<(), StoreError> {
    let problem = match read_bounded(target, false) {
        Ok(None) => return Ok(()),
        Ok(Some(bytes)) => match parse_document(target, &bytes) {
            Ok(_) => return Ok(()),
            Err(error) => error,
        },
        Err(error @ StoreError::TooLarge { .. }) => error,
        Err(error) => return Err(error),
    };
    let aside = corrupt_backup_path(target)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(target, fs::Permissions::from_mode(0o600))
            .map_err(|error| StoreError::io("make private", target, error))?;
    }
    fs::rename(target, &aside).map_err(|error| StoreError::io("move aside", target, error))?;
    tracing::warn!(
        file = %target.display(),
        moved_to = %aside.display(),
        problem = %problem,
        "auth.json was not a valid document; moved it aside before saving",
    );
    Ok(())
}

fn corrupt_backup_path(target: &Path) -> Result<PathBuf, StoreError> {
    let (dir, name) = split_target(target)?;
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let base = format!("{}{CORRUPT_MARKER}{stamp}", name.to_string_lossy());
    // Two corrupt files within one second must not overwrite each other.
    for attempt in 0..100u32 {
        let candidate = match attempt {
            0 => dir.join(&base),
            n => dir.join(format!("{base}-{n}")),
        };
        // Anything but "exists" makes the name free to try: a name that
        // cannot be used (too long, say) fails the move, naming the file.
        if fs::symlink_metadata(&candidate).is_err() {
            return Ok(candidate);
        }
    }
    Err(StoreError::io(
        "move aside",
        target,
        io::Error::other("too many corrupt copies with this timestamp"),
    ))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    //! The leftover removal a keyring or auto save does, tested directly:
    //! outside the Secret Service session the stores that call it are
    //! only reachable through fakes.

    use super::*;

    /// A home holding `auth.json` with `bytes` and a temporary file of a
    /// writer that is gone.
    fn home_with_leftovers(bytes: &[u8]) -> (tempfile::TempDir, FileStore, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        fs::write(store.auth_file(), bytes).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let temp = dir.path().join(format!(
            "{}{gone}-0123456789abcdef",
            temp_prefix(OsStr::new(AUTH_FILE_NAME))
        ));
        fs::write(&temp, b"{}").unwrap();
        (dir, store, temp)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn leftover_removal_removes_auth_json_and_the_temporary_files_of_gone_writers() {
        let (dir, store, temp) = home_with_leftovers(br#"{"OPENAI_API_KEY":"sk-x"}"#);
        let lock = HomeLock::acquire(dir.path()).unwrap();
        store.remove_leftover_locked(&lock);
        assert!(!store.auth_file().exists());
        assert!(!temp.exists());
        assert_eq!(names(dir.path()), [LOCK_FILE_NAME]);
    }

    #[test]
    fn leftover_removal_moves_a_corrupt_auth_json_aside_instead_of_deleting_it() {
        let (dir, store, _temp) = home_with_leftovers(b"{not json");
        let lock = HomeLock::acquire(dir.path()).unwrap();
        store.remove_leftover_locked(&lock);
        assert!(!store.auth_file().exists());
        let copies = store.corrupt_copies().unwrap();
        assert_eq!(copies.len(), 1, "{:?}", names(dir.path()));
        assert_eq!(fs::read(&copies[0]).unwrap(), b"{not json");
    }

    #[test]
    fn leftover_removal_removes_a_symlinked_auth_json_but_not_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        let shared = dir.path().join("shared.json");
        fs::write(&shared, br#"{"OPENAI_API_KEY":"sk-x"}"#).unwrap();
        let store = FileStore::new(&home);
        std::os::unix::fs::symlink(&shared, store.auth_file()).unwrap();
        let lock = HomeLock::acquire(&home).unwrap();
        store.remove_leftover_locked(&lock);
        assert!(fs::symlink_metadata(store.auth_file()).is_err());
        assert_eq!(fs::read(&shared).unwrap(), br#"{"OPENAI_API_KEY":"sk-x"}"#);
    }

    #[test]
    fn leftover_removal_leaves_a_special_file_alone_and_does_not_fail() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        fs::create_dir(store.auth_file()).unwrap();
        let lock = HomeLock::acquire(dir.path()).unwrap();
        store.remove_leftover_locked(&lock);
        assert!(store.auth_file().is_dir());
    }
}
