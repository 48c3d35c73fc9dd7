//! Hostile keyring setups: homes spelled many ways (relative, trailing
//! slash, `.`/`..`, symlinked, not created yet, non-UTF-8 names) must map to
//! one keyring account per directory; a keyring call that timed out must not
//! write late nor pile up threads; the auto store must survive a keyring
//! outage without losing the newer document. The real Secret Service holds
//! the entries where one is needed; the fake injects hangs and failures.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use login_storage::{
    AuthDotJson, AuthStore, AutoStore, KEYRING_SERVICE, Keyring, KeyringError, KeyringStore,
    OsKeyring, StoreError, StoreKind,
};
use serde_json::json;
use test_support::{FakeKeyring, Fault, keyring_account_for_home};

use crate::support;

const TIMEOUT: Duration = Duration::from_secs(10);
const SHORT_TIMEOUT: Duration = Duration::from_millis(200);

/// `path` (absolute, canonical) as a path relative to the current
/// directory: `..` up to the root, then the path's components.
fn relative_to_current_dir(path: &Path) -> PathBuf {
    let current = std::env::current_dir().unwrap();
    let mut relative = PathBuf::new();
    for component in current.components() {
        if matches!(component, Component::Normal(_)) {
            relative.push("..");
        }
    }
    for component in path.components() {
        if let Component::Normal(name) = component {
            relative.push(name);
        }
    }
    assert!(relative.is_relative());
    relative
}

/// A canonical (symlink-free) home path inside a fresh temporary directory,
/// not created yet.
fn canonical_home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(dir.path()).unwrap().join("codex");
    (dir, home)
}

/// Every spelling of `home` these tests use, each naming the same
/// directory (`home`'s parent exists; `home` itself may not).
fn spellings(home: &Path) -> Vec<PathBuf> {
    let parent = home.parent().unwrap();
    let relative = relative_to_current_dir(home);
    let mut with_slash = home.as_os_str().to_owned();
    with_slash.push("/");
    let mut relative_with_slash = relative.as_os_str().to_owned();
    relative_with_slash.push("//");
    vec![
        home.to_path_buf(),
        PathBuf::from(with_slash),
        relative.clone(),
        PathBuf::from(relative_with_slash),
        Path::new(".").join(&relative),
        home.join("."),
        parent.join(".").join("codex"),
        // `a` exists: the OS resolves `a/..`.
        {
            std::fs::create_dir_all(parent.join("a")).unwrap();
            parent.join("a").join("..").join("codex")
        },
        // `missing` does not exist: `missing/..` is removed as written.
        parent.join("missing").join("..").join("codex"),
        home.join("sub").join(".."),
    ]
}

#[test]
fn every_spelling_of_an_existing_home_shares_one_keyring_account() {
    let (_dir, home) = canonical_home();
    std::fs::create_dir(&home).unwrap();
    let account = keyring_account_for_home(&home);

    for spelling in spellings(&home) {
        assert_eq!(
            keyring_account_for_home(&spelling),
            account,
            "{}",
            spelling.display()
        );
    }
}

#[test]
fn every_spelling_of_a_home_not_created_yet_keeps_its_account_once_it_exists() {
    let (_dir, home) = canonical_home();
    let before: Vec<(PathBuf, String)> = spellings(&home)
        .into_iter()
        .map(|spelling| {
            let account = keyring_account_for_home(&spelling);
            (spelling, account)
        })
        .collect();

    std::fs::create_dir(&home).unwrap();

    let account = keyring_account_for_home(&home);
    for (spelling, before) in before {
        assert_eq!(before, account, "before: {}", spelling.display());
        assert_eq!(
            keyring_account_for_home(&spelling),
            account,
            "after: {}",
            spelling.display()
        );
    }
}

#[test]
fn a_home_several_levels_below_an_existing_directory_keeps_its_account_once_created() {
    let (_dir, home) = canonical_home();
    let deep = home.join("x").join("..").join("y").join("z");
    let account = keyring_account_for_home(&deep);

    std::fs::create_dir_all(home.join("y").join("z")).unwrap();

    assert_eq!(keyring_account_for_home(&deep), account);
    assert_eq!(keyring_account_for_home(&home.join("y/z/")), account);
}

#[test]
fn a_symlinked_home_shares_the_account_of_its_target() {
    let (dir, home) = canonical_home();
    std::fs::create_dir(&home).unwrap();
    let link = dir.path().join("link-to-codex");
    std::os::unix::fs::symlink(&home, &link).unwrap();
    let parent_link = dir.path().join("link-to-parent");
    std::os::unix::fs::symlink(home.parent().unwrap(), &parent_link).unwrap();

    let account = keyring_account_for_home(&home);
    assert_eq!(keyring_account_for_home(&link), account);
    assert_eq!(
        keyring_account_for_home(&parent_link.join("codex")),
        account
    );
    // A home below a symlinked parent that does not exist yet.
    assert_eq!(
        keyring_account_for_home(&link.join("child")),
        keyring_account_for_home(&home.join("child"))
    );
}

#[test]
fn homes_differing_only_in_one_non_utf8_byte_get_different_accounts() {
    let (_dir, home) = canonical_home();
    std::fs::create_dir(&home).unwrap();
    let mut first = home.as_os_str().as_bytes().to_vec();
    first.extend_from_slice(b"/codex-\xff");
    let mut second = home.as_os_str().as_bytes().to_vec();
    second.extend_from_slice(b"/codex-\xfe");
    let first = PathBuf::from(OsStr::from_bytes(&first));
    let second = PathBuf::from(OsStr::from_bytes(&second));
    // Lossy conversion would make them one path.
    assert_eq!(first.to_string_lossy(), second.to_string_lossy());

    assert_ne!(
        keyring_account_for_home(&first),
        keyring_account_for_home(&second)
    );
    std::fs::create_dir(&first).unwrap();
    std::fs::create_dir(&second).unwrap();
    assert_ne!(
        keyring_account_for_home(&first),
        keyring_account_for_home(&second)
    );
}

#[test]
fn a_login_through_one_spelling_is_found_and_removed_through_the_others() {
    let test = "a_login_through_one_spelling_is_found_and_removed_through_the_others";
    if !support::secret_service_available(test) {
        return;
    }
    let (_dir, home) = canonical_home();
    let keyring = |path: &Path| KeyringStore::new(path, Arc::new(OsKeyring), TIMEOUT);
    let document = support::api_key_document();

    // Saved through a relative spelling of a home that does not exist yet.
    keyring(&relative_to_current_dir(&home))
        .save(&document)
        .unwrap();

    for spelling in spellings(&home) {
        assert_eq!(
            keyring(&spelling).load().unwrap(),
            Some(document.clone()),
            "{}",
            spelling.display()
        );
    }
    let mut with_slash = home.as_os_str().to_owned();
    with_slash.push("/");
    assert!(keyring(Path::new(&with_slash)).delete().unwrap());
    assert_eq!(keyring(&home).load().unwrap(), None);
}

/// Waits (bounded) until `done` holds; a test never hangs.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the keyring's stuck call has returned and calls through it
/// start again.
fn wait_until_unstuck(home: &Path, store: &Arc<FakeKeyring>) {
    let probe = KeyringStore::new(home, store.clone(), TIMEOUT);
    wait_until("the stuck keyring call returned", || {
        !matches!(probe.load(), Err(StoreError::KeyringBusy { .. }))
    });
}

fn hang() -> Fault {
    Fault::Hang(Duration::from_secs(60))
}

#[test]
fn a_hung_keyring_keeps_one_stuck_call_and_later_calls_fail_fast_without_a_thread() {
    let home = support::home();
    let store = FakeKeyring::with_fault(hang());
    let storage = support::keyring_home(&home, &store, SHORT_TIMEOUT);

    let first = storage.load().unwrap_err();
    assert!(
        matches!(first, StoreError::KeyringTimeout { .. }),
        "{first:?}"
    );
    let other_home = support::home();
    let other = support::keyring_home(&other_home, &store, TIMEOUT);
    let later = [
        storage.load().unwrap_err(),
        storage.save(&support::api_key_document()).unwrap_err(),
        storage.delete().unwrap_err(),
        storage.update(&mut |_| Ok(None)).unwrap_err(),
        // Another store on the same keyring shares the guard.
        other.load().unwrap_err(),
    ];

    for error in &later {
        assert!(
            matches!(error, StoreError::KeyringBusy { entry } if entry.starts_with("Codex Auth/cli|")),
            "{error:?}"
        );
        support::assert_no_secret(&error.to_string(), None);
    }
    assert_eq!(store.started_calls(), 1, "one thread stuck, no more");
    assert_eq!(store.finished_calls(), 0);

    store.set_fault(Fault::None);
    wait_until_unstuck(&home.path, &store);
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(storage.load().unwrap(), Some(support::api_key_document()));
}

#[test]
fn a_timed_out_delete_deletes_nothing_once_the_hang_ends() {
    let home = support::home();
    // A limited store: a delete reads the header, then deletes.
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, SHORT_TIMEOUT);
    storage.save(&support::api_key_document()).unwrap();
    let before: Vec<(String, Option<String>)> = store
        .accounts()
        .into_iter()
        .map(|account| {
            let value = store.get(KEYRING_SERVICE, &account);
            (account, value)
        })
        .collect();
    store.set_fault(hang());

    let error = storage.delete().unwrap_err();
    assert!(
        matches!(error, StoreError::KeyringTimeout { .. }),
        "{error:?}"
    );
    let started = store.started_calls();
    // The hang ends: the read in flight completes late, and nothing follows.
    store.set_fault(Fault::None);
    wait_until("the late read returned", || {
        store.finished_calls() >= started
    });
    wait_until_unstuck(&home.path, &store);

    let after: Vec<(String, Option<String>)> = store
        .accounts()
        .into_iter()
        .map(|account| {
            let value = store.get(KEYRING_SERVICE, &account);
            (account, value)
        })
        .collect();
    assert_eq!(after, before);
    assert_eq!(storage.load().unwrap(), Some(support::api_key_document()));
}

#[test]
fn a_timed_out_chunked_save_starts_no_call_after_the_one_in_flight() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, SHORT_TIMEOUT);
    let mut older = support::full_document();
    older.extra.insert("padding".into(), json!("a".repeat(600)));
    storage.save(&older).unwrap();
    let header = store.get(KEYRING_SERVICE, storage.account()).unwrap();
    let mut newer = support::full_document();
    newer.extra.insert("padding".into(), json!("b".repeat(900)));
    store.set_fault(hang());

    let error = storage.save(&newer).unwrap_err();
    assert!(
        matches!(error, StoreError::KeyringTimeout { .. }),
        "{error:?}"
    );
    let started = store.started_calls();
    store.set_fault(Fault::None);
    wait_until("the late chunk write returned", || {
        store.finished_calls() >= started
    });
    wait_until_unstuck(&home.path, &store);

    // Only the call in flight (the first chunk) ran; the probe loads of
    // `wait_until_unstuck` are the only other calls.
    let late_calls = store.started_calls() - started;
    let probe_calls = store.finished_calls() - started;
    assert_eq!(
        late_calls, probe_calls,
        "no further call of the abandoned save"
    );
    assert_eq!(
        store.get(KEYRING_SERVICE, storage.account()).unwrap(),
        header,
        "the header was never rewritten"
    );
    // Readers see the older document or a digest mismatch, never the
    // abandoned one.
    assert_ne!(storage.load().ok().flatten(), Some(newer));
}

#[test]
fn a_keyring_write_that_lands_late_cannot_shadow_the_newer_file_in_auto_mode() {
    let home = support::home();
    let store = FakeKeyring::default();
    let store = Arc::new(store);
    let storage = AutoStore::new(&home.path, store.clone(), SHORT_TIMEOUT);
    storage.save(&document_named("a")).unwrap();
    store.set_fault(hang());

    // Times out with the write in flight: falls back to the file.
    storage.save(&document_named("b")).unwrap();
    // The keyring is stuck: fails fast, to the file again.
    storage.save(&document_named("c")).unwrap();
    assert_eq!(store.started_calls(), 2, "one save and the stuck one");

    // The hang ends: the older "b" lands in the keyring, after "c".
    store.set_fault(Fault::None);
    wait_until_unstuck(&home.path, &store);
    let account = keyring_account_for_home(&home.path);
    assert!(
        store
            .get(KEYRING_SERVICE, &account)
            .unwrap()
            .contains("\"b\"")
    );

    // The next keyring write makes the keyring current again.
    the_file_wins_until_the_next_update(&storage, "c", "d");
    assert!(!home.auth_file().exists());
    assert_eq!(home.entries(), ["auth.json.lock"]);
}

fn document_named(name: &str) -> AuthDotJson {
    let mut document = support::api_key_document();
    document.extra.insert("name".into(), json!(name));
    document
}

/// The document named `current` is read from the file (the keyring entry
/// is stale) until an update replaces it with `next`: that update reads the
/// file, writes the keyring, and the keyring is current again.
fn the_file_wins_until_the_next_update(storage: &AutoStore, current: &str, next: &str) {
    assert_eq!(
        storage.load_located().unwrap(),
        Some((document_named(current), StoreKind::File))
    );
    storage
        .update(&mut |stored| {
            assert_eq!(stored, Some(document_named(current)));
            Ok(Some(document_named(next)))
        })
        .unwrap();
    assert_eq!(
        storage.load_located().unwrap(),
        Some((document_named(next), StoreKind::Keyring))
    );
}

/// A keyring that is the real Secret Service until it is switched off
/// (an outage), for the auto store's fallback against the real keyring.
#[derive(Debug, Default)]
struct SwitchableKeyring {
    down: AtomicBool,
}

impl SwitchableKeyring {
    fn reachable(&self) -> Result<(), KeyringError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(KeyringError::NoAccess("switched off by the test".into()));
        }
        Ok(())
    }
}

impl Keyring for SwitchableKeyring {
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        self.reachable()?;
        OsKeyring.load(service, account)
    }

    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        self.reachable()?;
        OsKeyring.save(service, account, value)
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        self.reachable()?;
        OsKeyring.delete(service, account)
    }
}

#[test]
fn after_a_keyring_outage_the_newer_file_wins_until_the_keyring_is_written_again() {
    let test = "after_a_keyring_outage_the_newer_file_wins_until_the_keyring_is_written_again";
    if !support::secret_service_available(test) {
        return;
    }
    let home = support::home();
    let keyring = Arc::new(SwitchableKeyring::default());
    let storage = AutoStore::new(&home.path, keyring.clone(), TIMEOUT);
    storage.save(&document_named("old")).unwrap();

    // The outage forces the write to the file.
    keyring.down.store(true, Ordering::SeqCst);
    storage.save(&document_named("new")).unwrap();
    keyring.down.store(false, Ordering::SeqCst);

    // The keyring answers again with the older document; the file wins.
    let account = keyring_account_for_home(&home.path);
    assert!(
        OsKeyring
            .load(KEYRING_SERVICE, &account)
            .unwrap()
            .unwrap()
            .contains("\"old\"")
    );
    // An update reads the newer file and writes it back to the keyring.
    the_file_wins_until_the_next_update(&storage, "new", "newest");
    assert_eq!(home.entries(), ["auth.json.lock"]);
    assert!(storage.delete().unwrap());
}

#[test]
fn auto_logout_with_an_unreachable_keyring_succeeds_and_says_so() {
    for fault in [Fault::Fail, hang()] {
        let home = support::home();
        let store = FakeKeyring::with_fault(fault);
        let storage = AutoStore::new(&home.path, store.clone(), SHORT_TIMEOUT);

        // Nothing stored anywhere, no home: still a successful logout.
        let outcome = storage.delete_with_outcome().unwrap();
        assert!(!outcome.removed, "{fault:?}");
        let error = outcome.keyring_unreachable.unwrap();
        assert!(
            matches!(
                error,
                StoreError::Keyring { .. } | StoreError::KeyringTimeout { .. }
            ),
            "{error:?}"
        );
        assert!(!home.path.exists(), "a logout creates no home");

        // A file alone is removed, and the trait's delete agrees.
        home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
        assert!(storage.delete().unwrap(), "{fault:?}");
        assert!(!home.auth_file().exists());
        store.set_fault(Fault::None);
    }
}

#[test]
fn an_entry_the_logout_could_not_reach_stays_hidden_when_the_keyring_answers_again() {
    let home = support::home();
    let store = Arc::new(FakeKeyring::default());
    let storage = AutoStore::new(&home.path, store.clone(), TIMEOUT);
    storage.save(&support::full_document()).unwrap();
    store.set_fault(Fault::Fail);

    let outcome = storage.delete_with_outcome().unwrap();
    assert!(outcome.keyring_unreachable.is_some());
    store.set_fault(Fault::None);

    assert!(
        !store.accounts().is_empty(),
        "the entry could not be removed"
    );
    assert_eq!(storage.load().unwrap(), None, "logged out stays logged out");
    // Reachable again: the next logout removes the entry for good.
    let outcome = storage.delete_with_outcome().unwrap();
    assert!(outcome.removed);
    assert!(outcome.keyring_unreachable.is_none());
    assert!(store.accounts().is_empty());
    assert_eq!(home.entries(), ["auth.json.lock"]);
    // And a new login is read from the keyring again.
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::api_key_document(), StoreKind::Keyring))
    );
}

#[test]
fn a_corrupt_keyring_value_in_auto_mode_is_an_error_not_logged_out() {
    let test = "a_corrupt_keyring_value_in_auto_mode_is_an_error_not_logged_out";
    let Some(store) = support::real_store(test) else {
        return;
    };
    let home = support::home();
    let storage = AutoStore::new(&home.path, store.clone(), TIMEOUT);
    let account = keyring_account_for_home(&home.path);
    let corrupt = format!("{{\"OPENAI_API_KEY\":\"{}\" broken", support::API_KEY);
    store.save(KEYRING_SERVICE, &account, &corrupt).unwrap();

    for with_file in [false, true] {
        if with_file {
            home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
        }
        let error = storage.load().unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
        support::assert_no_secret(&error.to_string(), None);
        let error = storage.load_located().unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    }
    // A logout still removes it.
    assert!(storage.delete().unwrap());
    assert_eq!(support::stored_value(&store, &account), None);
}

#[test]
fn a_marker_planted_as_a_fifo_or_symlink_is_never_opened() {
    let home = support::home();
    home.create();
    let target = home.dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, home.path.join("auth.json.keyring-stale")).unwrap();
    let store = FakeKeyring::with_fault(Fault::Fail);
    let storage = AutoStore::new(&home.path, store.clone(), TIMEOUT);

    storage.save(&support::api_key_document()).unwrap();

    assert!(!target.exists(), "the symlink was not followed");
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::api_key_document(), StoreKind::File))
    );
    std::fs::remove_file(home.path.join("auth.json.keyring-stale")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(home.path.join("auth.json.keyring-stale"))
        .status()
        .unwrap();
    assert!(status.success());
    // A FIFO with no writer would block an open; the save must not.
    storage.save(&support::full_document()).unwrap();
    store.set_fault(Fault::None);
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::full_document(), StoreKind::File))
    );
    // A keyring write clears the mark, whatever it is.
    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(home.entries(), ["auth.json.lock"]);
}

#[test]
fn a_document_over_the_read_limit_is_refused_before_the_keyring_or_auto_store_writes() {
    let test = "a_document_over_the_read_limit_is_refused_before_the_keyring_or_auto_store_writes";
    if !support::secret_service_available(test) {
        return;
    }
    let (_dir, home) = canonical_home();
    std::fs::create_dir_all(&home).unwrap();
    let keyring = KeyringStore::new(&home, Arc::new(OsKeyring), TIMEOUT);
    let auto = AutoStore::new(&home, Arc::new(OsKeyring), TIMEOUT);
    let document = support::api_key_document();
    keyring.save(&document).unwrap();
    // One MiB of key: the JSON around it takes the document over the limit.
    let huge = AuthDotJson::with_api_key(login_agent_identity::SecretString::from(
        "k".repeat(1 << 20),
    ));
    let stores: [(&str, &dyn AuthStore); 2] = [("keyring", &keyring), ("auto", &auto)];
    for (what, store) in stores {
        for result in [
            store.save(&huge),
            store.update(&mut |_| Ok(Some(huge.clone()))).map(|_| ()),
        ] {
            match result {
                Err(StoreError::DocumentTooLarge { destination, .. }) => {
                    assert_eq!(destination, keyring.entry_name(), "{what}");
                }
                other => panic!("{what}: expected DocumentTooLarge, got {other:?}"),
            }
            assert_eq!(keyring.load().unwrap(), Some(document.clone()), "{what}");
            assert!(!home.join("auth.json").exists(), "{what}: no file fallback");
        }
    }
    assert!(keyring.delete().unwrap());
}
