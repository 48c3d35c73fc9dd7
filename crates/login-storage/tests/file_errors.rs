//! The file store's error paths and exact limits: what cannot be removed,
//! opened or resolved is an error (never "nothing there", never logged
//! out); 1 MiB is accepted and one byte more refused, also when the file
//! grows after its size was checked; a sticky shared home keeps its mode;
//! a home that cannot be inspected, or an `auth.json` that cannot be
//! opened (no descriptor left), is an error naming it, and so is a home
//! where no temporary file can be created, or a corrupt file whose copy
//! could not be named (it stays where it is); a lock file is
//! taken once even when the target's lock is the home's own, and left
//! untouched once it is 0600.

use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use login_agent_identity::SecretString;
use login_storage::{AuthDotJson, AuthStore, FileStore, StoreError};

use crate::support::{self, MAX_AUTH_FILE_LEN};

/// A valid document padded with trailing whitespace to exactly `len` bytes.
fn document_of_len(len: u64) -> Vec<u8> {
    let mut bytes = br#"{"OPENAI_API_KEY":"sk-padded"}"#.to_vec();
    bytes.resize(usize::try_from(len).unwrap(), b' ');
    bytes
}

#[test]
fn a_file_of_exactly_1_mib_loads_and_one_byte_more_is_too_large() {
    let home = support::home();
    home.write_auth_file(&document_of_len(MAX_AUTH_FILE_LEN));
    let storage = FileStore::new(&home.path);
    let loaded = storage.load().unwrap().unwrap();
    assert!(loaded.openai_api_key.is_some());

    home.write_auth_file(&document_of_len(MAX_AUTH_FILE_LEN + 1));
    let error = storage.load().unwrap_err();
    assert!(
        matches!(error, StoreError::TooLarge { len, limit, .. }
            if len == MAX_AUTH_FILE_LEN + 1 && limit == MAX_AUTH_FILE_LEN),
        "{error:?}"
    );
}

/// Pretty JSON of an API key document, with the trailing newline.
fn saved_len(key_len: usize) -> u64 {
    let document = AuthDotJson::with_api_key(SecretString::from("k".repeat(key_len)));
    serde_json::to_vec_pretty(&document).unwrap().len() as u64 + 1
}

#[test]
fn a_document_of_1_mib_plus_one_byte_is_refused_before_anything_is_written() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let overhead = saved_len(0);
    let key_len = usize::try_from(MAX_AUTH_FILE_LEN - overhead).unwrap();
    assert_eq!(saved_len(key_len), MAX_AUTH_FILE_LEN);
    let at_limit = AuthDotJson::with_api_key(SecretString::from("k".repeat(key_len)));
    storage.save(&at_limit).unwrap();
    let before = home.read_auth_file();
    assert_eq!(before.len() as u64, MAX_AUTH_FILE_LEN);

    let over = AuthDotJson::with_api_key(SecretString::from("k".repeat(key_len + 1)));
    let error = storage.save(&over).unwrap_err();
    assert!(
        matches!(error, StoreError::DocumentTooLarge { len, limit, .. }
            if len == MAX_AUTH_FILE_LEN + 1 && limit == MAX_AUTH_FILE_LEN),
        "{error:?}"
    );
    let error = storage.update(&mut |_| Ok(Some(over.clone()))).unwrap_err();
    assert!(
        matches!(error, StoreError::DocumentTooLarge { .. }),
        "{error:?}"
    );
    assert_eq!(home.read_auth_file(), before);
}

/// A child process whose environment is larger than 1 MiB, killed and
/// reaped when dropped.
struct BigEnvironment(Child);

impl BigEnvironment {
    fn spawn() -> Self {
        let mut command = Command::new("cat");
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .env_clear();
        // Each string stays under the kernel's 128 KiB limit per string.
        for i in 0..9 {
            command.env(format!("BIG{i}"), "x".repeat(120 * 1024));
        }
        Self(command.spawn().unwrap())
    }

    fn environ(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/environ", self.0.id()))
    }
}

impl Drop for BigEnvironment {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_larger_than_its_reported_size_is_cut_at_1_mib_plus_one_byte_and_refused() {
    // A /proc file reports size 0 yet holds more: the same as a file that
    // grew between the size check and the read.
    let child = BigEnvironment::spawn();
    let environ = child.environ();
    assert_eq!(std::fs::metadata(&environ).unwrap().len(), 0);
    let home = support::home();
    home.create();
    symlink(&environ, home.auth_file()).unwrap();
    let error = FileStore::new(&home.path).load().unwrap_err();
    assert!(
        matches!(error, StoreError::TooLarge { len, limit, .. }
            if len == MAX_AUTH_FILE_LEN + 1 && limit == MAX_AUTH_FILE_LEN),
        "{error:?}"
    );
}

#[test]
fn a_symlink_loop_is_an_error_for_every_operation_not_a_logged_out_home() {
    for links in [&["auth.json"][..], &["a", "b"]] {
        let home = support::home();
        home.create();
        // auth.json -> auth.json, or auth.json -> a -> b -> a.
        let mut chain: Vec<PathBuf> = std::iter::once(home.auth_file())
            .chain(links.iter().map(|name| home.path.join(name)))
            .collect();
        if links.len() > 1 {
            chain.push(home.path.join(links[0]));
        }
        for pair in chain.windows(2) {
            symlink(&pair[1], &pair[0]).unwrap();
        }
        let storage = FileStore::new(&home.path);
        let error = storage.load().unwrap_err();
        assert!(
            matches!(error, StoreError::Io { .. }),
            "{links:?}: {error:?}"
        );
        let error = storage.update(&mut |_| Ok(None)).unwrap_err();
        assert!(
            matches!(error, StoreError::Io { .. }),
            "{links:?}: {error:?}"
        );
        let error = storage.save(&support::api_key_document()).unwrap_err();
        assert!(
            matches!(error, StoreError::Io { .. }),
            "{links:?}: {error:?}"
        );
        // Logging out removes the link itself.
        assert!(storage.delete().unwrap(), "{links:?}");
        assert!(std::fs::symlink_metadata(home.auth_file()).is_err());
    }
}

#[test]
fn an_auth_json_that_cannot_be_inspected_is_an_error_not_a_logged_out_home() {
    // The link's target sits below a regular file: ENOTDIR, not ENOENT.
    let home = support::home();
    home.create();
    let not_a_dir = home.dir.path().join("plain-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    symlink(not_a_dir.join("auth.json"), home.auth_file()).unwrap();
    let storage = FileStore::new(&home.path);
    let error = storage.load().unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { path, .. } if path == &home.auth_file()),
        "{error:?}"
    );
    let error = storage.update(&mut |_| Ok(None)).unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "inspect" && path == &not_a_dir.join("auth.json")),
        "{error:?}"
    );
}

/// `chattr +i` on a path, undone when dropped (an immutable file would
/// outlive the temporary directory).
struct Immutable(PathBuf);

impl Immutable {
    /// `None` when this filesystem or process cannot make files immutable.
    fn set(path: &Path) -> Option<Self> {
        let status = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .stderr(Stdio::null())
            .status();
        status
            .is_ok_and(|status| status.success())
            .then(|| Self(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn a_file_that_cannot_be_removed_is_an_error_not_nothing_there() {
    let test = "a_file_that_cannot_be_removed_is_an_error_not_nothing_there";
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();
    // Root removes read-only files from read-only directories: only an
    // immutable file refuses it.
    let Some(_immutable) = Immutable::set(&home.auth_file()) else {
        support::print_skip(test, "chattr +i is not available here");
        return;
    };
    let error = storage.delete().unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "remove" && path == &home.auth_file()),
        "{error:?}"
    );
    assert_eq!(
        storage.load().unwrap().unwrap(),
        support::api_key_document()
    );
}

#[test]
fn a_home_where_no_file_can_be_created_fails_the_write_naming_the_temporary_file() {
    let test = "a_home_where_no_file_can_be_created_fails_the_write_naming_the_temporary_file";
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();
    let Some(_immutable) = Immutable::set(&home.path) else {
        support::print_skip(test, "chattr +i is not available here");
        return;
    };
    let error = storage.save(&support::full_document()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "create"
                && path.parent() == Some(home.path.as_path())
                && path.file_name().unwrap().to_string_lossy().starts_with(".auth.json.tmp-")),
        "{error:?}"
    );
    assert_eq!(
        storage.load().unwrap().unwrap(),
        support::api_key_document()
    );
}

#[test]
fn a_corrupt_target_whose_copy_name_would_be_too_long_fails_the_save_and_stays() {
    // A 250-byte target name plus `.corrupt-<timestamp>` is over NAME_MAX.
    let home = support::home();
    home.create();
    let target = home.dir.path().join("t".repeat(250));
    std::fs::write(&target, b"{not json").unwrap();
    symlink(&target, home.auth_file()).unwrap();
    let error = FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "move aside" && path == &target),
        "{error:?}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"{not json");
}

#[test]
fn a_sticky_shared_home_and_a_private_one_keep_their_mode_and_the_file_is_still_0600() {
    // CODEX_HOME pointing at a /tmp-like directory: shared on purpose.
    for shared in [0o1777, 0o1770, 0o1755] {
        let home = support::home();
        home.create();
        std::fs::set_permissions(&home.path, std::fs::Permissions::from_mode(shared)).unwrap();
        let storage = FileStore::new(&home.path);
        storage.save(&support::api_key_document()).unwrap();
        storage.update(&mut |current| Ok(current)).unwrap();
        assert_eq!(support::mode(&home.path), shared, "{shared:o}");
        assert_eq!(support::mode(&home.auth_file()), 0o600, "{shared:o}");
    }
    // A private home is left as it is, extra bits (setgid) included.
    for private in [0o2700, 0o700, 0o500 | 0o200] {
        let home = support::home();
        home.create();
        std::fs::set_permissions(&home.path, std::fs::Permissions::from_mode(private)).unwrap();
        FileStore::new(&home.path)
            .save(&support::api_key_document())
            .unwrap();
        assert_eq!(support::mode(&home.path), private, "{private:o}");
    }
    // Without the sticky bit the same modes are tightened to 0700.
    for open in [0o777, 0o770, 0o705] {
        let home = support::home();
        home.create();
        support::set_mode(&home.path, open);
        FileStore::new(&home.path)
            .save(&support::api_key_document())
            .unwrap();
        assert_eq!(support::mode(&home.path), 0o700, "{open:o}");
    }
}

#[test]
fn a_home_that_cannot_be_inspected_is_an_error_naming_it_for_delete_save_and_update() {
    // The home sits below a regular file: ENOTDIR, not "no home, nothing
    // to delete".
    let home = support::home();
    home.create();
    let not_a_dir = home.path.join("plain-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let inner = not_a_dir.join("home");
    let storage = FileStore::new(&inner);
    let error = storage.delete().unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "inspect" && path == &inner),
        "{error:?}"
    );
    let error = storage.save(&support::api_key_document()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Io { operation, path, .. }
            if *operation == "create directory" && path == &inner),
        "{error:?}"
    );
    assert!(storage.update(&mut |current| Ok(current)).is_err());
    assert_eq!(std::fs::read(&not_a_dir).unwrap(), b"x");
}

#[test]
fn a_target_lock_that_is_the_home_lock_itself_does_not_make_a_write_wait_on_itself() {
    // `auth.json` links into another directory whose `auth.json.lock` is a
    // hard link to this home's lock file: one lock, taken once.
    let home = support::home();
    let storage = FileStore::new(&home.path).with_lock_timeout(Duration::from_secs(5));
    storage.save(&support::api_key_document()).unwrap();
    let shared = home.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::rename(home.auth_file(), shared.join("auth.json")).unwrap();
    symlink(shared.join("auth.json"), home.auth_file()).unwrap();
    std::fs::hard_link(home.lock_file(), shared.join("auth.json.lock")).unwrap();

    storage.save(&support::full_document()).unwrap();
    storage
        .update(&mut support::add_extra("kept", serde_json::json!(1)))
        .unwrap();
    let stored = std::fs::read(shared.join("auth.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored["kept"], 1);
    assert!(home.auth_file().is_symlink());
}

#[test]
fn a_lock_file_already_0600_is_left_untouched_by_later_writes() {
    use std::os::unix::fs::MetadataExt as _;
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(storage.lock_file(), home.lock_file());
    assert_eq!(support::mode(&home.lock_file()), 0o600);
    let changed = |path: &Path| {
        let metadata = std::fs::metadata(path).unwrap();
        (metadata.ctime(), metadata.ctime_nsec())
    };
    let before = changed(&home.lock_file());
    // Longer than the coarsest inode clock tick, so a `chmod` would show.
    std::thread::sleep(Duration::from_millis(50));

    storage.save(&support::api_key_document()).unwrap();
    storage.update(&mut |current| Ok(current)).unwrap();
    storage.delete().unwrap();

    assert_eq!(changed(&home.lock_file()), before);
}

const HOME_ENV: &str = "LOGIN_STORAGE_TEST_HOME";

#[test]
fn a_home_out_of_descriptors_is_an_error_neither_logged_out_nor_free_of_corrupt_copies() {
    let test_path = "file_errors::a_home_out_of_descriptors_is_an_error_neither_logged_out_nor_free_of_corrupt_copies";
    if support::is_worker("no-descriptors") {
        // Every descriptor this process may have is taken: the open of an
        // existing auth.json fails with EMFILE.
        let home = PathBuf::from(std::env::var_os(HOME_ENV).unwrap());
        let mut taken = Vec::new();
        let error = loop {
            match std::fs::File::open("/dev/null") {
                Ok(file) => taken.push(file),
                Err(error) => break error,
            }
            assert!(taken.len() < 100_000, "no descriptor limit");
        };
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE));
        let storage = FileStore::new(&home);
        let load = storage.load();
        let copies = storage.corrupt_copies();
        drop(taken);
        assert!(
            matches!(&load, Err(StoreError::Io { operation, path, .. })
                if *operation == "open" && path == &home.join("auth.json")),
            "{load:?}"
        );
        // Nor is a home that cannot be listed free of corrupt copies.
        assert!(
            matches!(&copies, Err(StoreError::Io { operation, path, .. })
                if *operation == "list" && path == &home),
            "{copies:?}"
        );
        println!("worker: the open error was reported");
        return;
    }
    let home = support::home();
    home.write_auth_file(br#"{"OPENAI_API_KEY":"sk-x"}"#);
    // A low descriptor limit, so the worker runs out quickly.
    let output = Command::new("sh")
        .args(["-c", r#"ulimit -n 128 && exec "$0" "$@""#])
        .arg(std::env::current_exe().unwrap())
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .env(support::WORKER_ENV, "no-descriptors")
        .env(HOME_ENV, &home.path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("worker: the open error was reported"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
