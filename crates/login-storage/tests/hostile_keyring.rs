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
use std::time::Duration;

use login_storage::{AuthStore, KeyringStore, OsKeyring};
use test_support::keyring_account_for_home;

use crate::support;

const TIMEOUT: Duration = Duration::from_secs(10);

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
