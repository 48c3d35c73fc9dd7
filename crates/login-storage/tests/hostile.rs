//! The file store in a hostile home: special files where `auth.json` or a
//! lock file should be, symlinks to them, oversized documents, homes
//! sharing one file, foreign lock holders, values that must not leak into
//! errors, and numbers that must keep their text.
//!
//! Every operation that could hang runs on its own thread and is joined
//! with a timeout ([`within`]): a regression fails the test, never hangs it.

#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::{FileTypeExt as _, symlink};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use login_agent_identity::{ExposeSecret as _, SecretString};
use login_storage::{
    AuthDotJson, AuthStore, FileStore, RegistrationLock, StoreError, StoreMode, StoreOptions,
    open_store,
};
use serde_json::{Value, json};

use crate::support::{self, Home, MAX_AUTH_FILE_LEN};

/// Far longer than any of these operations takes; only a hang reaches it.
const LIMIT: Duration = Duration::from_secs(20);

const HOME_ENV: &str = "LOGIN_STORAGE_TEST_HOME";
const LOCK_ENV: &str = "LOGIN_STORAGE_TEST_LOCK";

/// Runs `work` on its own thread and fails the test if it has not returned
/// within [`LIMIT`] (the thread is left blocked: the test has failed).
fn within<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(LIMIT) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: blocked for {LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// The kinds of special file a hostile home can hold.
#[derive(Debug, Clone, Copy)]
enum Special {
    Fifo,
    Socket,
    Directory,
    CharDevice,
    BlockDevice,
}

impl Special {
    const ALL: [Special; 5] = [
        Special::Fifo,
        Special::Socket,
        Special::Directory,
        Special::CharDevice,
        Special::BlockDevice,
    ];

    /// What `StoreError::NotAFile` calls it.
    fn kind(self) -> &'static str {
        match self {
            Special::Fifo => "a FIFO",
            Special::Socket => "a socket",
            Special::Directory => "a directory",
            Special::CharDevice => "a character device",
            Special::BlockDevice => "a block device",
        }
    }

    /// Creates it at `path`; `Err` (a reason to skip) when this machine
    /// does not let us (device nodes need root and a filesystem that
    /// allows them). A socket's listener is leaked: the node must outlive
    /// the call, and a test process is short-lived.
    fn create(self, path: &Path) -> Result<(), String> {
        match self {
            Special::Fifo => run("mkfifo", &[path.as_os_str()]),
            Special::Socket => {
                let listener = UnixListener::bind(path).map_err(|error| error.to_string())?;
                std::mem::forget(listener);
                Ok(())
            }
            Special::Directory => std::fs::create_dir(path).map_err(|error| error.to_string()),
            // The null device's numbers; a block node of loop0. Neither is
            // ever opened by a passing test.
            Special::CharDevice => run(
                "mknod",
                &[path.as_os_str(), "c".as_ref(), "1".as_ref(), "3".as_ref()],
            ),
            Special::BlockDevice => run(
                "mknod",
                &[path.as_os_str(), "b".as_ref(), "7".as_ref(), "0".as_ref()],
            ),
        }
    }

    fn is(self, path: &Path) -> bool {
        let Ok(metadata) = std::fs::symlink_metadata(path) else {
            return false;
        };
        let kind = metadata.file_type();
        match self {
            Special::Fifo => kind.is_fifo(),
            Special::Socket => kind.is_socket(),
            Special::Directory => kind.is_dir(),
            Special::CharDevice => kind.is_char_device(),
            Special::BlockDevice => kind.is_block_device(),
        }
    }
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| format!("{program}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// A created home whose `auth.json` is `special`, directly or (with
/// `through_link`) as a symlink to a special file elsewhere. Returns the
/// special file's path, or `None` after printing why it cannot be made.
fn special_home(special: Special, through_link: bool, test: &str) -> Option<(Home, PathBuf)> {
    let home = support::home();
    home.create();
    let node = if through_link {
        home.dir.path().join("elsewhere-node")
    } else {
        home.auth_file()
    };
    if let Err(reason) = special.create(&node) {
        support::print_skip(test, &format!("cannot create {}: {reason}", special.kind()));
        return None;
    }
    if through_link {
        symlink(&node, home.auth_file()).unwrap();
    }
    Some((home, node))
}

fn assert_not_a_file(
    result: Result<impl std::fmt::Debug, StoreError>,
    path: &Path,
    kind: &str,
    what: &str,
) {
    match result {
        Err(StoreError::NotAFile {
            path: named,
            kind: found,
        }) => {
            assert_eq!(named, path, "{what}: the error must name the file");
            assert_eq!(found, kind, "{what}");
        }
        other => panic!(
            "{what}: expected NotAFile({kind}) for {}, got {other:?}",
            path.display()
        ),
    }
}

/// What is in `home` besides the home's own lock file: nothing may be
/// renamed, moved aside or written.
fn assert_untouched(home: &Home, node: &Path, special: Special, what: &str) {
    assert!(
        special.is(node),
        "{what}: {} must stay {}",
        node.display(),
        special.kind()
    );
    let entries = home.entries();
    assert!(
        entries
            .iter()
            .all(|name| name == "auth.json" || name == "auth.json.lock"),
        "{what}: unexpected files (a rename or a write happened): {entries:?}"
    );
    if let Some(parent) = node.parent() {
        let beside = support::list_dir(parent);
        assert!(
            !beside
                .iter()
                .any(|name| name.contains(".corrupt-") || name.contains(".tmp-")),
            "{what}: a copy or temporary file appeared beside the node: {beside:?}"
        );
    }
}

fn every_operation_is_refused(special: Special, through_link: bool, test: &str) {
    let Some((home, node)) = special_home(special, through_link, test) else {
        return;
    };
    let what = format!("{} (through a link: {through_link})", special.kind());
    let path = home.auth_file();
    let storage = FileStore::new(&home.path);

    let load = within(&format!("load of {what}"), {
        let storage = storage.clone();
        move || storage.load()
    });
    assert_not_a_file(load, &path, special.kind(), &format!("load of {what}"));

    let save = within(&format!("save over {what}"), {
        let storage = storage.clone();
        move || storage.save(&support::api_key_document())
    });
    // Writes resolve the link first, so they name the node itself.
    assert_not_a_file(save, &node, special.kind(), &format!("save over {what}"));

    let update = within(&format!("update of {what}"), {
        let storage = storage.clone();
        move || storage.update(&mut |current| Ok(current))
    });
    assert_not_a_file(update, &node, special.kind(), &format!("update of {what}"));

    if !through_link {
        // A link is removed (its target is another home's business);
        // anything else is refused.
        let delete = within(&format!("delete of {what}"), {
            let storage = storage.clone();
            move || storage.delete()
        });
        assert_not_a_file(delete, &path, special.kind(), &format!("delete of {what}"));
    }
    assert_untouched(&home, &node, special, &what);
}

#[test]
fn file_store_refuses_a_fifo_without_blocking() {
    every_operation_is_refused(
        Special::Fifo,
        false,
        "file_store_refuses_a_fifo_without_blocking",
    );
}

/// A thread blocked opening a FIFO for writing: the open returns only once
/// a reader opens the FIFO, so it tells whether anything opened it.
struct BlockedWriter {
    fifo: PathBuf,
    opened: mpsc::Receiver<()>,
    /// Whether [`was_opened`](Self::was_opened) saw the signal.
    seen: std::cell::Cell<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockedWriter {
    /// Returns once the writer waits in the kernel for a reader (its
    /// `wchan` says so), so a later open cannot slip in before it.
    fn start(fifo: &Path) -> Self {
        let (sender, opened) = mpsc::channel();
        let (tid_sender, tid) = mpsc::channel();
        let path = fifo.to_path_buf();
        let thread = std::thread::spawn(move || {
            // `/proc/thread-self` links to `<pid>/task/<tid>`.
            let _ = tid_sender.send(std::fs::read_link("/proc/thread-self"));
            let _file = std::fs::OpenOptions::new().write(true).open(&path);
            let _ = sender.send(());
        });
        let task = tid.recv_timeout(LIMIT).unwrap().unwrap();
        let wchan = Path::new("/proc").join(task).join("wchan");
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&wchan).unwrap_or_default() != "wait_for_partner" {
            assert!(started.elapsed() < LIMIT, "the writer never blocked");
            std::thread::sleep(Duration::from_millis(5));
        }
        Self {
            fifo: fifo.to_path_buf(),
            opened,
            seen: std::cell::Cell::new(false),
            thread: Some(thread),
        }
    }

    /// Whether a reader opened the FIFO, waiting at most a second for the
    /// writer to notice (an open wakes it at once).
    fn was_opened(&self) -> bool {
        let opened = self.opened.recv_timeout(Duration::from_secs(1)).is_ok();
        self.seen.set(opened);
        opened
    }
}

impl Drop for BlockedWriter {
    fn drop(&mut self) {
        // Our own non-blocking read end lets the writer's open return.
        use std::os::unix::fs::OpenOptionsExt as _;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.fifo);
        // A FIFO removed by a broken store cannot be opened any more: its
        // writer stays blocked and is left behind, so a failing test
        // fails instead of hanging on the join.
        let released =
            self.seen.get() || (reader.is_ok() && self.opened.recv_timeout(LIMIT).is_ok());
        if let Some(thread) = self.thread.take().filter(|_| released) {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_fifo_as_auth_json_or_as_the_lock_file_is_refused_without_ever_being_opened() {
    for name in ["auth.json", "auth.json.lock"] {
        let home = support::home();
        home.create();
        let fifo = home.path.join(name);
        Special::Fifo.create(&fifo).unwrap();
        let writer = BlockedWriter::start(&fifo);
        let storage = FileStore::new(&home.path);
        let (load, save, update, delete) = within("operations on a FIFO", move || {
            (
                storage.load(),
                storage.save(&support::api_key_document()),
                storage.update(&mut |current| Ok(current)),
                storage.delete(),
            )
        });
        if name == "auth.json" {
            assert!(matches!(load, Err(StoreError::NotAFile { .. })), "{load:?}");
        }
        for (operation, result) in [
            ("save", save.err()),
            ("update", update.err()),
            ("delete", delete.err()),
        ] {
            assert!(
                matches!(&result, Some(StoreError::NotAFile { path, .. }) if path == &fifo),
                "{name}, {operation}: {result:?}"
            );
        }
        assert!(!writer.was_opened(), "{name} was opened");
    }
}

#[test]
fn file_store_refuses_every_special_file_as_auth_json_and_never_renames_it() {
    for special in Special::ALL {
        every_operation_is_refused(
            special,
            false,
            "file_store_refuses_every_special_file_as_auth_json_and_never_renames_it",
        );
    }
}

#[test]
fn file_store_refuses_a_symlink_to_every_special_file_and_never_replaces_the_node() {
    for special in Special::ALL {
        every_operation_is_refused(
            special,
            true,
            "file_store_refuses_a_symlink_to_every_special_file_and_never_replaces_the_node",
        );
    }
}

#[test]
fn a_symlink_to_a_character_device_is_never_moved_aside_nor_replaced_by_a_login() {
    let test = "a_symlink_to_a_character_device_is_never_moved_aside_nor_replaced_by_a_login";
    let Some((home, node)) = special_home(Special::CharDevice, true, test) else {
        return;
    };
    let storage = open_store(&home.path, StoreMode::File, StoreOptions::default());
    let error = within("login over a device link", move || {
        storage.save(&support::api_key_document()).unwrap_err()
    });
    let message = error.to_string();
    assert!(message.contains("a character device"), "{message}");
    assert!(message.contains(&node.display().to_string()), "{message}");
    assert!(Special::CharDevice.is(&node));
    assert!(
        std::fs::symlink_metadata(home.auth_file())
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        support::list_dir(home.dir.path()),
        ["codex", "elsewhere-node"]
    );
}

#[test]
fn a_fifo_auth_json_leaves_the_home_lock_free_after_the_refusal() {
    let Some((home, _)) = special_home(
        Special::Fifo,
        false,
        "a_fifo_auth_json_leaves_the_home_lock_free_after_the_refusal",
    ) else {
        return;
    };
    let path = home.path.clone();
    within("login over a FIFO", move || {
        FileStore::new(&path).save(&support::api_key_document())
    })
    .unwrap_err();
    // Had the failed login kept the lock, this one would time out instead
    // of being refused for the FIFO.
    let path = home.path.clone();
    let second = within("second login", move || {
        FileStore::new(&path)
            .with_lock_timeout(Duration::from_millis(100))
            .update(&mut |current| Ok(current))
    });
    assert_not_a_file(second, &home.auth_file(), "a FIFO", "second login");
}

#[test]
fn a_one_mib_api_key_is_refused_before_anything_is_written_and_the_previous_identity_survives() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::full_document()).unwrap();
    let before = home.read_auth_file();

    let huge = AuthDotJson::with_api_key(SecretString::from(format!(
        "sk-{}",
        "A".repeat(usize::try_from(MAX_AUTH_FILE_LEN).unwrap())
    )));
    for (what, result) in [
        ("save", storage.save(&huge)),
        (
            "update",
            storage.update(&mut |_| Ok(Some(huge.clone()))).map(|_| ()),
        ),
    ] {
        match result {
            Err(StoreError::DocumentTooLarge {
                destination,
                len,
                limit,
            }) => {
                assert_eq!(
                    destination,
                    home.auth_file().display().to_string(),
                    "{what}"
                );
                assert!(
                    len > limit && limit == MAX_AUTH_FILE_LEN,
                    "{what}: {len} {limit}"
                );
            }
            other => panic!("{what}: expected DocumentTooLarge, got {other:?}"),
        }
        assert_eq!(home.read_auth_file(), before, "{what}: the file changed");
        assert_eq!(home.entries(), ["auth.json", "auth.json.lock"], "{what}");
    }
    assert_eq!(storage.load().unwrap().unwrap(), support::full_document());
}

#[test]
fn the_largest_document_a_read_accepts_can_be_written() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let overhead = crate::support::api_key_document();
    let empty =
        serde_json::to_vec_pretty(&AuthDotJson::with_api_key(SecretString::from(""))).unwrap();
    drop(overhead);
    // Pretty JSON plus the trailing newline, exactly at the limit.
    let key_len = usize::try_from(MAX_AUTH_FILE_LEN).unwrap() - empty.len() - 1;
    let document = AuthDotJson::with_api_key(SecretString::from("k".repeat(key_len)));
    storage.save(&document).unwrap();
    assert_eq!(home.read_auth_file().len() as u64, MAX_AUTH_FILE_LEN);
    let loaded = storage.load().unwrap().unwrap();
    assert_eq!(
        loaded.openai_api_key.unwrap().expose_secret().len(),
        key_len
    );
}

const SHARED_HOMES: usize = 6;
const SHARED_WRITERS: usize = 30;

/// `SHARED_HOMES` homes whose `auth.json` links to one file, which starts
/// with `document`.
fn homes_sharing_one_file(document: &AuthDotJson) -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    let root = tempfile::tempdir().unwrap();
    let shared_dir = root.path().join("shared");
    std::fs::create_dir(&shared_dir).unwrap();
    let shared = shared_dir.join("auth.json");
    FileStore::new(&shared_dir).save(document).unwrap();
    let homes = (0..SHARED_HOMES)
        .map(|n| {
            let home = root.path().join(format!("home{n}"));
            std::fs::create_dir(&home).unwrap();
            symlink(&shared, home.join("auth.json")).unwrap();
            home
        })
        .collect();
    (root, shared, homes)
}

fn run_writers(homes: &[PathBuf], write: fn(&FileStore, usize) -> Result<(), StoreError>) {
    let handles: Vec<_> = (0..SHARED_WRITERS)
        .map(|writer| {
            let home = homes[writer % homes.len()].clone();
            std::thread::spawn(move || write(&FileStore::new(&home), writer))
        })
        .collect();
    let results = within("30 writers", move || {
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect::<Vec<_>>()
    });
    let failures: Vec<_> = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} writers failed: {failures:?}",
        failures.len()
    );
}

fn assert_clean_target(shared: &Path) {
    let beside = support::list_dir(shared.parent().unwrap());
    assert_eq!(
        beside,
        ["auth.json", "auth.json.lock"],
        "temporary files left"
    );
}

#[test]
fn six_homes_linked_to_one_file_take_30_concurrent_logins_without_a_failure() {
    let (_root, shared, homes) = homes_sharing_one_file(&support::api_key_document());
    run_writers(&homes, |storage, writer| {
        storage.save(&AuthDotJson::with_api_key(SecretString::from(format!(
            "sk-writer-{writer}"
        ))))
    });
    let document = FileStore::new(shared.parent().unwrap())
        .load()
        .unwrap()
        .unwrap();
    let key = document.openai_api_key.unwrap();
    assert!(
        key.expose_secret().starts_with("sk-writer-"),
        "a whole login won"
    );
    assert_clean_target(&shared);
    for home in &homes {
        assert!(
            std::fs::symlink_metadata(home.join("auth.json"))
                .unwrap()
                .is_symlink()
        );
    }
}

#[test]
fn six_homes_linked_to_one_file_take_30_concurrent_updates_and_lose_none() {
    let (_root, shared, homes) = homes_sharing_one_file(&support::api_key_document());
    run_writers(&homes, |storage, writer| {
        storage
            .update(&mut |current| {
                let mut document = current.unwrap_or_default();
                document
                    .extra
                    .insert(format!("writer-{writer}"), json!(writer));
                Ok(Some(document))
            })
            .map(|_| ())
    });
    let document = FileStore::new(shared.parent().unwrap())
        .load()
        .unwrap()
        .unwrap();
    for writer in 0..SHARED_WRITERS {
        assert_eq!(
            document.extra.get(&format!("writer-{writer}")),
            Some(&json!(writer)),
            "the update of writer {writer} was lost"
        );
    }
    assert_eq!(
        document.openai_api_key.unwrap().expose_secret(),
        support::API_KEY
    );
    assert_clean_target(&shared);
}

/// A process that runs until killed (`sleep`), killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_temporary_file_of_a_running_writer_survives_another_writer_and_a_gone_ones_does_not() {
    let home = support::home();
    home.create();
    let running = Running(Command::new("sleep").arg("60").spawn().unwrap());
    let live = format!(".auth.json.tmp-{}-00000000000000aa", running.0.id());
    let gone = format!(".auth.json.tmp-{}-00000000000000bb", support::exited_pid());
    for name in [&live, &gone] {
        std::fs::write(home.path.join(name), b"{").unwrap();
    }

    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();

    assert_eq!(
        home.entries(),
        [live.as_str(), "auth.json", "auth.json.lock"]
    );
    drop(running);
}

#[test]
fn a_running_writers_temporary_file_is_stale_at_ten_minutes_and_not_before() {
    // This process runs, so only age can make its files stale.
    let home = support::home();
    home.create();
    let pid = std::process::id();
    let young = format!(".auth.json.tmp-{pid}-00000000000000cc");
    let old = format!(".auth.json.tmp-{pid}-00000000000000dd");
    for (name, age) in [(&young, 9 * 60 + 50), (&old, 10 * 60 + 10)] {
        let path = home.path.join(name);
        std::fs::write(&path, b"{").unwrap();
        support::age_file(&path, Duration::from_secs(age));
    }

    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();

    assert_eq!(
        home.entries(),
        [young.as_str(), "auth.json", "auth.json.lock"]
    );
}

#[test]
fn a_symlinked_lock_file_is_refused_naming_it_and_its_target_is_not_created() {
    let home = support::home();
    home.create();
    let victim = home.dir.path().join("victim");
    for name in ["auth.json.lock", "auth.json.register.lock"] {
        symlink(&victim, home.path.join(name)).unwrap();
    }
    let storage = FileStore::new(&home.path);

    let save = storage.save(&support::api_key_document());
    assert_not_a_file(save, &home.lock_file(), "a symbolic link", "save");
    let update = storage.update(&mut |current| Ok(current));
    assert_not_a_file(update, &home.lock_file(), "a symbolic link", "update");
    let register = RegistrationLock::acquire(&home.path);
    assert_not_a_file(
        register,
        &home.path.join("auth.json.register.lock"),
        "a symbolic link",
        "registration lock",
    );

    assert!(!victim.exists(), "the link's target was created");
    assert!(!home.auth_file().exists());
    let message = storage
        .save(&support::api_key_document())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("auth.json.lock") && message.contains("symbolic link"),
        "{message}"
    );
}

#[test]
fn a_special_lock_file_is_refused_without_blocking() {
    for special in Special::ALL {
        let home = support::home();
        home.create();
        if let Err(reason) = special.create(&home.lock_file()) {
            support::print_skip(
                "a_special_lock_file_is_refused_without_blocking",
                &format!("cannot create {}: {reason}", special.kind()),
            );
            continue;
        }
        let path = home.path.clone();
        let save = within(
            &format!("save with {} as the lock", special.kind()),
            move || FileStore::new(&path).save(&support::api_key_document()),
        );
        assert_not_a_file(save, &home.lock_file(), special.kind(), special.kind());
        assert!(special.is(&home.lock_file()));
        assert!(!home.auth_file().exists());
    }
}

#[test]
fn lock_files_are_created_0600_and_a_0644_one_is_made_0600() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(support::mode(&home.lock_file()), 0o600);

    support::set_mode(&home.lock_file(), 0o644);
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(support::mode(&home.lock_file()), 0o600);

    let register = home.path.join("auth.json.register.lock");
    std::fs::write(&register, b"").unwrap();
    support::set_mode(&register, 0o666);
    drop(RegistrationLock::acquire(&home.path).unwrap());
    assert_eq!(support::mode(&register), 0o600);
}

/// A worker process holding one of the home's locks (`LOCK_ENV`: `home`
/// or `registration`) until its stdin closes.
struct LockHolder(Child);

impl LockHolder {
    fn start(home: &Path, lock: &str) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "hostile::lock_holder_worker",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(support::WORKER_ENV, "hold-lock")
            .env(HOME_ENV, home)
            .env(LOCK_ENV, lock)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The harness prints `test ... ` before the worker's line.
                if line.trim_end().ends_with("LOCKED") {
                    let _ = sender.send(());
                    break;
                }
            }
        });
        let holder = Self(child);
        receiver
            .recv_timeout(LIMIT)
            .expect("the worker did not take the lock");
        holder
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_lock_held_by_another_process_ends_in_a_lock_timeout_naming_the_lock_file() {
    let home = support::home();
    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();
    let before = home.read_auth_file();
    let holder = LockHolder::start(&home.path, "home");

    let path = home.path.clone();
    let results = within("writes behind a held lock", move || {
        let storage = FileStore::new(&path).with_lock_timeout(Duration::from_millis(200));
        let opened = open_store(
            &path,
            StoreMode::File,
            StoreOptions::default().with_lock_timeout(Duration::from_millis(200)),
        );
        vec![
            storage.save(&support::api_key_document()),
            storage.update(&mut |current| Ok(current)).map(|_| ()),
            storage.delete().map(|_| ()),
            opened.save(&support::api_key_document()),
        ]
    });
    for result in results {
        match result {
            Err(StoreError::LockTimeout { path, waited }) => {
                assert_eq!(path, home.lock_file());
                assert_eq!(waited, Duration::from_millis(200));
            }
            other => panic!("expected LockTimeout, got {other:?}"),
        }
    }
    assert_eq!(home.read_auth_file(), before);
    drop(holder);
    // Released: the next write goes through.
    FileStore::new(&home.path)
        .with_lock_timeout(Duration::from_secs(10))
        .save(&support::api_key_document())
        .unwrap();
}

#[test]
fn a_registration_lock_held_by_another_process_ends_in_a_lock_timeout() {
    let home = support::home();
    let holder = LockHolder::start(&home.path, "registration");
    let path = home.path.clone();
    let result = within("registration behind a held lock", move || {
        RegistrationLock::acquire_within(&path, Duration::from_millis(200))
    });
    match result {
        Err(error @ StoreError::LockTimeout { .. }) => {
            assert!(
                error.to_string().contains("auth.json.register.lock"),
                "{error}"
            );
        }
        other => panic!("expected LockTimeout, got {other:?}"),
    }
    drop(holder);
    let path = home.path.clone();
    within("registration after release", move || {
        RegistrationLock::acquire_within(&path, Duration::from_secs(10))
    })
    .unwrap();
}

/// Worker of the lock-timeout tests; idle unless started by them.
#[test]
fn lock_holder_worker() {
    if !support::is_worker("hold-lock") {
        return;
    }
    let home = PathBuf::from(std::env::var(HOME_ENV).unwrap());
    let wait_for_parent = || {
        println!("LOCKED");
        // Until the parent closes stdin (or dies).
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    };
    if std::env::var(LOCK_ENV).unwrap() == "registration" {
        let _lock = RegistrationLock::acquire(&home).unwrap();
        wait_for_parent();
    } else {
        FileStore::new(&home)
            .update(&mut |_| {
                wait_for_parent();
                Ok(None)
            })
            .unwrap();
    }
}

#[test]
fn a_type_error_names_the_position_and_kind_but_never_the_value() {
    let home = support::home();
    for (value, kind) in [
        ("12345678901234", "integer"),
        ("-98765432109876", "integer"),
        // Numbers beyond u64/i64 or with a fraction keep their text
        // (`arbitrary_precision`), and serde calls them `number`.
        ("3.14159265358979", "number"),
        ("true", "boolean"),
        ("18446744073709551616", "number"),
        ("1e400", "number"),
        (r#"["SECRETMARKER", 424242424242]"#, "sequence"),
        (r#"{"SECRETMARKER": 424242424242}"#, "map"),
    ] {
        home.write_auth_file(format!("{{\"OPENAI_API_KEY\":{value}}}").as_bytes());
        let error = FileStore::new(&home.path).load().unwrap_err();
        let message = error.to_string();
        let StoreError::Corrupt {
            line,
            column,
            reason,
            ..
        } = &error
        else {
            panic!("{value}: expected Corrupt, got {error:?}");
        };
        assert_eq!(*line, 1, "{value}");
        assert!(*column > 0, "{value}");
        assert!(
            reason.contains(kind),
            "{value}: `{reason}` should name {kind}"
        );
        assert!(reason.contains("expected"), "{value}: `{reason}`");
        assert!(
            reason.chars().count() <= 163,
            "{value}: unbounded reason `{reason}`"
        );
        let digits = value.trim_start_matches('-');
        for leaked in [digits, "SECRETMARKER", "424242424242", "14159", "true"] {
            if value.contains(leaked) {
                assert!(
                    !reason.contains(leaked),
                    "{value}: `{message}` echoes {leaked}"
                );
            }
        }
    }
}

#[test]
fn a_string_in_the_wrong_place_is_not_quoted_however_it_is_escaped() {
    let home = support::home();
    for value in [
        r#""sk-SECRETMARKER""#,
        r#""sk-\"SECRETMARKER\", expected x""#,
        r#""sk-`SECRETMARKER`""#,
    ] {
        home.write_auth_file(format!("{{\"tokens\":{value}}}").as_bytes());
        let message = FileStore::new(&home.path).load().unwrap_err().to_string();
        assert!(!message.contains("SECRETMARKER"), "{message}");
        assert!(message.contains("string"), "{message}");
    }
}

#[test]
fn a_corrupt_0644_auth_json_is_moved_aside_0600_and_listed() {
    let home = support::home();
    home.write_auth_file(b"{\"OPENAI_API_KEY\": \"sk-half");
    support::set_mode(&home.auth_file(), 0o644);
    let storage = FileStore::new(&home.path);
    assert!(storage.corrupt_copies().unwrap().is_empty());

    storage.save(&support::api_key_document()).unwrap();

    let copies = storage.corrupt_copies().unwrap();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].starts_with(&home.path));
    assert_eq!(support::mode(&copies[0]), 0o600);
    assert_eq!(
        std::fs::read(&copies[0]).unwrap(),
        b"{\"OPENAI_API_KEY\": \"sk-half"
    );
    assert_eq!(support::mode(&home.auth_file()), 0o600);
}

#[test]
fn corrupt_copies_lists_the_copies_beside_a_symlink_target_and_none_on_a_missing_home() {
    let missing = support::home();
    assert!(
        FileStore::new(&missing.path)
            .corrupt_copies()
            .unwrap()
            .is_empty()
    );
    assert!(!missing.path.exists());

    let home = support::home();
    home.create();
    let elsewhere = home.dir.path().join("secrets");
    std::fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("real.json");
    std::fs::write(&target, b"not json").unwrap();
    symlink(&target, home.auth_file()).unwrap();
    let storage = FileStore::new(&home.path);

    storage.save(&support::api_key_document()).unwrap();

    let copies = storage.corrupt_copies().unwrap();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].starts_with(&elsewhere), "{copies:?}");
    assert!(
        copies[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("real.json.corrupt-")
    );
    assert_eq!(support::mode(&copies[0]), 0o600);
}

#[test]
fn unknown_numbers_keep_their_exact_text_through_an_update() {
    let home = support::home();
    let numbers = [
        "18446744073709551616",
        "1e400",
        "0.1000000000000000055511151231257827",
        "-0.0",
        "123456789012345678901234567890",
        "-1.5E-400",
    ];
    // Every digit is kept; serde_json writes an exponent as `e`, with its
    // sign (`1e400` is written `1e+400`, the same number).
    let expected = [
        "18446744073709551616",
        "1e+400",
        "0.1000000000000000055511151231257827",
        "-0.0",
        "123456789012345678901234567890",
        "-1.5e-400",
    ];
    let mut tokens = serde_json::to_value(support::tokens()).unwrap();
    let list = numbers.join(", ");
    let text = format!(
        r#"{{"OPENAI_API_KEY": null, "tokens": {{"id_token": {}, "access_token": {}, "refresh_token": {}, "future_token_number": {}}}, "future": [{list}], "big": {}}}"#,
        tokens["id_token"].take(),
        tokens["access_token"].take(),
        tokens["refresh_token"].take(),
        numbers[2],
        numbers[0],
    );
    home.write_auth_file(text.as_bytes());
    let storage = FileStore::new(&home.path);

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("touched".into(), json!(true));
            Ok(Some(document))
        })
        .unwrap();

    let written = String::from_utf8(home.read_auth_file()).unwrap();
    let value: Value = serde_json::from_str(&written).unwrap();
    let future: Vec<String> = value["future"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    assert_eq!(future, expected);
    assert_eq!(value["big"].to_string(), numbers[0]);
    assert_eq!(
        value["tokens"]["future_token_number"].to_string(),
        numbers[2]
    );
    for number in expected {
        assert!(written.contains(number), "{number} changed: {written}");
    }
    assert!(!written.contains("e+19"), "{written}");
}
