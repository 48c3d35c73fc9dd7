//! The auto store (keyring first, file as fallback), store modes and
//! `open_store`. Ordinary behaviour runs against the real keyring
//! (skipped with a reason outside the Secret Service session); keyring
//! failures and hangs use the fault-injecting fake.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use login_storage::{
    AuthStore, AutoStore, FileStore, KEYRING_SERVICE, Keyring, KeyringStore, StoreError, StoreKind,
    StoreMode, StoreOptions, open_store,
};
use serde_json::json;
use test_support::{FakeKeyring, Fault};

use crate::support::{self, Home};

const TIMEOUT: Duration = Duration::from_secs(5);
const SHORT_TIMEOUT: Duration = Duration::from_millis(200);

fn auto(home: &Home, store: Arc<dyn Keyring>, timeout: Duration) -> AutoStore {
    AutoStore::new(&home.path, store, timeout)
}

fn file_document(home: &Home) -> login_storage::AuthDotJson {
    let mut document = support::api_key_document();
    document.extra.insert("from".into(), json!("file"));
    home.write_auth_file(&serde_json::to_vec(&document).unwrap());
    document
}

#[test]
fn auto_loads_from_the_keyring_first() {
    let home = support::home();
    let Some(store) = support::real_store("auto_loads_from_the_keyring_first") else {
        return;
    };
    file_document(&home);
    let keyring_document = support::full_document();
    KeyringStore::new(&home.path, store.clone(), TIMEOUT)
        .save(&keyring_document)
        .unwrap();
    file_document(&home);

    let located = auto(&home, store.clone(), TIMEOUT).load_located().unwrap();

    assert_eq!(located, Some((keyring_document, StoreKind::Keyring)));
}

#[test]
fn auto_falls_back_to_the_file_when_the_keyring_is_empty() {
    let home = support::home();
    let Some(store) = support::real_store("auto_falls_back_to_the_file_when_the_keyring_is_empty")
    else {
        return;
    };
    let document = file_document(&home);

    let storage = auto(&home, store.clone(), TIMEOUT);

    assert_eq!(
        storage.load_located().unwrap(),
        Some((document.clone(), StoreKind::File))
    );
    assert_eq!(storage.load().unwrap(), Some(document));
}

#[test]
fn auto_falls_back_to_the_file_when_the_keyring_fails() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    let document = file_document(&home);

    let located = auto(&home, store.clone(), TIMEOUT).load_located().unwrap();

    assert_eq!(located, Some((document, StoreKind::File)));
}

#[test]
fn auto_falls_back_to_the_file_when_the_keyring_times_out() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Hang(Duration::from_secs(60)));
    let document = file_document(&home);
    let storage = auto(&home, store.clone(), SHORT_TIMEOUT);

    let located = storage.load_located().unwrap();

    // It fell back while the keyring still hung.
    assert_eq!(store.finished_calls(), 0);
    store.set_fault(Fault::None);
    assert_eq!(located, Some((document, StoreKind::File)));
}

#[test]
fn auto_with_nothing_anywhere_loads_none() {
    let home = support::home();
    let Some(store) = support::real_store("auto_with_nothing_anywhere_loads_none") else {
        return;
    };
    assert_eq!(
        auto(&home, store.clone(), TIMEOUT).load_located().unwrap(),
        None
    );
}

#[test]
fn auto_save_goes_to_the_keyring_and_removes_the_file() {
    let home = support::home();
    let Some(store) = support::real_store("auto_save_goes_to_the_keyring_and_removes_the_file")
    else {
        return;
    };
    file_document(&home);
    let storage = auto(&home, store.clone(), TIMEOUT);

    storage.save(&support::full_document()).unwrap();

    assert!(!home.auth_file().exists());
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::full_document(), StoreKind::Keyring))
    );
}

#[test]
fn auto_save_falls_back_to_the_file_when_the_keyring_fails() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    let storage = auto(&home, store.clone(), TIMEOUT);

    storage.save(&support::full_document()).unwrap();

    assert!(store.accounts().is_empty());
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::full_document(), StoreKind::File))
    );
}

#[test]
fn auto_save_falls_back_to_the_file_when_the_keyring_times_out() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Hang(Duration::from_secs(3)));
    let storage = auto(&home, store.clone(), SHORT_TIMEOUT);

    storage.save(&support::api_key_document()).unwrap();

    assert!(home.auth_file().exists());
}

/// The fallback warning is once per process, so it is observed in a fresh
/// process: this test re-runs the binary as `fallback_warning_worker`.
#[test]
fn auto_fallback_warns_once_per_process_without_secrets() {
    let output = support::run_worker("auto::fallback_warning_worker", "fallback-warning", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("fallback warnings: 1"),
        "{stdout}\n{stderr}"
    );
}

/// Worker of `auto_fallback_warns_once_per_process_without_secrets`; idle
/// unless started by it.
#[test]
fn fallback_warning_worker() {
    if !support::is_worker("fallback-warning") {
        return;
    }
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    let storage = auto(&home, store.clone(), TIMEOUT);

    let ((), logs) = support::capture_logs(|| {
        storage.save(&support::full_document()).unwrap();
        storage.save(&support::full_document()).unwrap();
        storage.load().unwrap();
    });

    let warnings = support::warnings(&logs);
    support::assert_no_secret(&logs.join("\n"), None);
    assert!(warnings[0].contains("keyring"), "{warnings:?}");
    println!("fallback warnings: {}", warnings.len());
}

#[test]
fn auto_delete_removes_both_and_reports_whether_either_existed() {
    let home = support::home();
    let Some(store) =
        support::real_store("auto_delete_removes_both_and_reports_whether_either_existed")
    else {
        return;
    };
    let storage = auto(&home, store.clone(), TIMEOUT);
    storage.save(&support::full_document()).unwrap();
    file_document(&home);

    let account = test_support::keyring_account_for_home(&home.path);
    assert!(storage.delete().unwrap());
    assert_eq!(support::stored_value(&store, &account), None);
    assert!(!home.auth_file().exists());
    assert!(!storage.delete().unwrap());

    file_document(&home);
    assert!(storage.delete().unwrap(), "a file alone counts");
}

#[test]
fn auto_delete_removes_the_file_even_when_the_keyring_fails_and_reports_the_failure() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    file_document(&home);

    // An unreachable keyring holds nothing for a logout: it succeeds once
    // the file is gone, and the outcome reports the keyring's failure.
    let outcome = auto(&home, store.clone(), TIMEOUT)
        .delete_with_outcome()
        .unwrap();

    assert!(outcome.removed);
    let error = outcome.keyring_unreachable.unwrap();
    assert!(matches!(error, StoreError::Keyring { .. }), "{error:?}");
    assert!(!home.auth_file().exists());
    file_document(&home);
    assert!(auto(&home, store.clone(), TIMEOUT).delete().unwrap());
    assert!(!home.auth_file().exists());
}

#[test]
fn auto_update_reads_the_keyring_and_writes_it_back_there() {
    let home = support::home();
    let Some(store) = support::real_store("auto_update_reads_the_keyring_and_writes_it_back_there")
    else {
        return;
    };
    let storage = auto(&home, store.clone(), TIMEOUT);
    storage.save(&support::full_document()).unwrap();

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("updated".into(), json!(true));
            Ok(Some(document))
        })
        .unwrap();

    let (document, location) = storage.load_located().unwrap().unwrap();
    assert_eq!(location, StoreKind::Keyring);
    assert_eq!(document.extra["updated"], json!(true));
    assert!(document.extra.contains_key("future_top_level"));
    assert!(!home.auth_file().exists());
}

#[test]
fn auto_update_moves_a_file_document_into_the_keyring() {
    let home = support::home();
    let Some(store) = support::real_store("auto_update_moves_a_file_document_into_the_keyring")
    else {
        return;
    };
    file_document(&home);
    let storage = auto(&home, store.clone(), TIMEOUT);

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("updated".into(), json!(true));
            Ok(Some(document))
        })
        .unwrap();

    let (document, location) = storage.load_located().unwrap().unwrap();
    assert_eq!(location, StoreKind::Keyring);
    assert_eq!(document.extra["from"], json!("file"));
    assert!(!home.auth_file().exists());
}

#[test]
fn auto_update_with_a_failing_keyring_reads_and_writes_the_file_only() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    file_document(&home);
    let storage = auto(&home, store.clone(), TIMEOUT);

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("updated".into(), json!(true));
            Ok(Some(document))
        })
        .unwrap();

    store.set_fault(Fault::None);
    assert!(
        store.accounts().is_empty(),
        "nothing written to the keyring"
    );
    let document = FileStore::new(&home.path).load().unwrap().unwrap();
    assert_eq!(document.extra["updated"], json!(true));
}

#[test]
fn auto_update_refuses_a_corrupt_keyring_value() {
    let home = support::home();
    let Some(store) = support::real_store("auto_update_refuses_a_corrupt_keyring_value") else {
        return;
    };
    let storage = auto(&home, store.clone(), TIMEOUT);
    let account = test_support::keyring_account_for_home(&home.path);
    store.save(KEYRING_SERVICE, &account, "{ corrupt").unwrap();
    file_document(&home);

    let error = storage
        .update(&mut |_| Ok(Some(support::api_key_document())))
        .unwrap_err();

    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert_eq!(
        support::stored_value(&store, &account).as_deref(),
        Some("{ corrupt")
    );
    assert!(home.auth_file().exists());
    storage.delete().unwrap();
}

#[test]
fn open_store_picks_the_store_for_each_mode() {
    let home = support::home();
    let mut cases = vec![
        (StoreMode::File, StoreKind::File),
        (StoreMode::Ephemeral, StoreKind::Ephemeral),
    ];
    // The keyring modes use the OS keyring of `StoreOptions::default()`.
    if support::secret_service_available("open_store_picks_the_store_for_each_mode") {
        cases.push((StoreMode::Keyring, StoreKind::Keyring));
        cases.push((StoreMode::Auto, StoreKind::Keyring));
    }
    for (mode, location) in cases {
        let storage = open_store(&home.path, mode, StoreOptions::default());
        assert_eq!(storage.location(), location, "{mode}");
        storage.save(&support::api_key_document()).unwrap();
        assert_eq!(
            storage.load_located().unwrap(),
            Some((support::api_key_document(), location)),
            "{mode}"
        );
        assert!(storage.delete().unwrap(), "{mode}");
        assert!(storage.load().unwrap().is_none(), "{mode}");
    }
}

#[test]
fn store_mode_parses_case_insensitively_serializes_lowercase_and_defaults_to_file() {
    assert_eq!(StoreMode::default(), StoreMode::File);
    for (text, mode) in [
        ("file", StoreMode::File),
        (" Keyring ", StoreMode::Keyring),
        ("AUTO", StoreMode::Auto),
        ("ephemeral", StoreMode::Ephemeral),
    ] {
        assert_eq!(StoreMode::from_str(text).unwrap(), mode);
        assert_eq!(
            serde_json::to_value(mode).unwrap(),
            json!(text.trim().to_lowercase())
        );
    }
    assert!(StoreMode::from_str("vault").is_err());
}

#[test]
fn default_options_use_a_five_second_keyring_timeout() {
    let options = StoreOptions::default();
    assert_eq!(options.keyring_timeout, Duration::from_secs(5));
    assert!(options.keyring.is_none());
    let options = options.with_keyring_timeout(SHORT_TIMEOUT);
    assert_eq!(options.keyring_timeout, SHORT_TIMEOUT);
}
