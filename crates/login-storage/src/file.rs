//! [`FileStore`]: `$CODEX_HOME/auth.json`, written atomically and
//! updated under a cross-process lock.
//!
//! Invariants:
//! - a write goes to a temporary file in the destination's directory
//!   (`.auth.json.tmp-<pid>-<random>`, created 0600), is `fsync`ed, renamed
//!   over the destination, and the directory is `fsync`ed: a crash leaves the
//!   old or the new document, never a torn one;
//! - every write (`save`, `update`, `delete`) holds [`HomeLock`], an
//!   exclusive lock on `$CODEX_HOME/auth.json.lock` (never deleted). Only the
//!   lock holder creates temporary files, so any temporary file found by the
//!   lock holder was left by a killed writer and is removed;
//! - a symlinked `auth.json` keeps its link: the file it points to is
//!   replaced, with the temporary file in the target's directory;
//! - loading never writes; a corrupt or oversized file is never overwritten
//!   or deleted implicitly: `update` refuses it, `save` moves it aside first;
//! - errors name the file and a position, never content.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

/// An exclusive, cross-process lock on `$CODEX_HOME/auth.json.lock`,
/// released when dropped.
///
/// Every write to a home holds it, so a read-modify-write never interleaves
/// with another writer in any process. It is not reentrant: a thread that
/// holds it must not acquire it again.
#[derive(Debug)]
pub(crate) struct HomeLock {
    // Closing the file releases the lock.
    _file: File,
}

impl HomeLock {
    /// Creates `codex_home` (0700) when missing and waits for the lock.
    pub(crate) fn acquire(codex_home: &Path) -> Result<Self, StoreError> {
        create_home_dir(codex_home)?;
        Self::lock(codex_home)
    }

    /// Like [`acquire`](Self::acquire), but `None` (no lock, nothing created)
    /// when `codex_home` does not exist: there is nothing to guard.
    pub(crate) fn acquire_if_home_exists(codex_home: &Path) -> Result<Option<Self>, StoreError> {
        match fs::metadata(codex_home) {
            Ok(_) => Self::lock(codex_home).map(Some),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::io("inspect", codex_home, error)),
        }
    }

    fn lock(codex_home: &Path) -> Result<Self, StoreError> {
        lock_exclusive(&codex_home.join(LOCK_FILE_NAME)).map(|file| Self { _file: file })
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
    /// Creates `codex_home` (0700) when missing and waits for the lock.
    pub fn acquire(codex_home: &Path) -> Result<Self, StoreError> {
        create_home_dir(codex_home)?;
        lock_exclusive(&codex_home.join(REGISTRATION_LOCK_FILE_NAME))
            .map(|file| Self { _file: file })
    }
}

/// Opens (creating 0600) and exclusively locks `path`, waiting for it.
fn lock_exclusive(path: &Path) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|error| StoreError::io("open", path, error))?;
    file.lock()
        .map_err(|error| StoreError::io("lock", path, error))?;
    Ok(file)
}

/// `$CODEX_HOME/auth.json`.
///
/// `save` and `update` write atomically under the home lock (see the module
/// docs); a symlinked `auth.json` keeps its link and its target is replaced.
/// `delete` removes `auth.json` itself (the link, for a symlink, so a
/// target shared with other homes survives) and temporary files left by
/// killed writers, never the lock file or `auth.json.corrupt-*` copies.
#[derive(Debug, Clone)]
pub struct FileStore {
    codex_home: PathBuf,
}

impl FileStore {
    /// The file store of `codex_home`.
    pub fn new(codex_home: &Path) -> Self {
        Self {
            codex_home: codex_home.to_path_buf(),
        }
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

    /// `save` with the lock already held.
    pub(crate) fn save_locked(
        &self,
        lock: &HomeLock,
        auth: &AuthDotJson,
    ) -> Result<(), StoreError> {
        let bytes = to_pretty_json(auth)?;
        self.save_bytes_locked(lock, &bytes)
    }

    fn save_bytes_locked(&self, _lock: &HomeLock, bytes: &[u8]) -> Result<(), StoreError> {
        let target = resolve_symlinks(&self.auth_file())?;
        move_aside_if_corrupt(&target)?;
        self.write_locked(&target, bytes)
    }

    /// `update` with the lock already held.
    pub(crate) fn update_locked(
        &self,
        _lock: &HomeLock,
        f: &mut UpdateFn<'_>,
    ) -> Result<Option<AuthDotJson>, StoreError> {
        let current = self.read(false)?;
        let Some(next) = f(current.clone())? else {
            return Ok(current);
        };
        let bytes = to_pretty_json(&next)?;
        let target = resolve_symlinks(&self.auth_file())?;
        self.write_locked(&target, &bytes)?;
        Ok(Some(next))
    }

    /// `delete` with the lock already held (or no home directory at all).
    pub(crate) fn delete_locked(&self, _lock: Option<&HomeLock>) -> Result<bool, StoreError> {
        let path = self.auth_file();
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
            .and_then(|target| move_aside_if_corrupt(&target))
            .and_then(|()| self.delete_locked(Some(lock)));
        match removed {
            Ok(true) => tracing::debug!(file = %path.display(), "removed leftover auth.json"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot remove leftover auth.json"),
        }
    }

    /// Replaces `target` atomically with `bytes`.
    fn write_locked(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
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
        let bytes = to_pretty_json(auth)?;
        let lock = HomeLock::acquire(&self.codex_home)?;
        self.save_bytes_locked(&lock, &bytes)
    }

    fn delete(&self) -> Result<bool, StoreError> {
        let lock = HomeLock::acquire_if_home_exists(&self.codex_home)?;
        self.delete_locked(lock.as_ref())
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let lock = HomeLock::acquire(&self.codex_home)?;
        self.update_locked(&lock, f)
    }

    fn location(&self) -> StoreKind {
        StoreKind::File
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
fn read_bounded(path: &Path, warn_exposed: bool) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StoreError::io("open", path, error)),
    };
    let metadata = file
        .metadata()
        .map_err(|error| StoreError::io("inspect", path, error))?;
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
/// Called only by the lock holder, and only the lock holder creates
/// temporary files, so every file with our prefix is stale.
fn remove_stale_temp_files(dir: &Path, name: &OsStr) {
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let is_ours = file_name
            .to_str()
            .is_some_and(|file_name| file_name.starts_with(&prefix));
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if !is_ours || !is_file {
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
/// never destroys it.
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
    let base = format!("{}.corrupt-{stamp}", name.to_string_lossy());
    // Two corrupt files within one second must not overwrite each other.
    for attempt in 0..100u32 {
        let candidate = match attempt {
            0 => dir.join(&base),
            n => dir.join(format!("{base}-{n}")),
        };
        match fs::symlink_metadata(&candidate) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(candidate),
            Err(error) => return Err(StoreError::io("inspect", candidate, error)),
            Ok(_) => {}
        }
    }
    Err(StoreError::io(
        "move aside",
        target,
        io::Error::other("too many corrupt copies with this timestamp"),
    ))
}
