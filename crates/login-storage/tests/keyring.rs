//! The keyring store: entry naming, value format and what it does to
//! `auth.json` against the real keyring (skipped with a reason outside the
//! Secret Service session); chunking (a store with a small limit), errors
//! and timeouts with the fault-injecting fake.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use login_storage::{AuthDotJson, AuthStore, KEYRING_SERVICE, KeyringStore, StoreError, StoreKind};
use serde_json::{Value, json};
use test_support::{FakeKeyring, Fault, keyring_account_for_home};

use crate::support::{self, API_KEY};

fn real_home(home: &support::Home, store: &Arc<dyn login_storage::Keyring>) -> KeyringStore {
    KeyringStore::new(&home.path, store.clone(), TIMEOUT)
}

const TIMEOUT: Duration = Duration::from_secs(5);
const SHORT_TIMEOUT: Duration = Duration::from_millis(200);

/// A document whose compact JSON is several times `limit` long, with
/// multi-byte and astral characters so chunks must respect boundaries.
fn long_document() -> AuthDotJson {
    let mut document = support::full_document();
    document
        .extra
        .insert("padding".into(), json!("é😀-".repeat(200)));
    document
}

fn chunk_accounts(store: &FakeKeyring, account: &str) -> Vec<String> {
    store
        .accounts()
        .into_iter()
        .filter(|name| name.starts_with(&format!("{account}|chunk-")))
        .collect()
}

/// The account before homes were resolved to a stable form (and the
/// mirrored CLI's): the canonical path, else the path as given, hashed as
/// UTF-8 text.
fn account_as_the_mirrored_cli_derives_it(home: &Path) -> String {
    use sha2::Digest as _;
    let path = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
    let digest = sha2::Sha256::digest(path.to_string_lossy().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("cli|{}", &hex[..16])
}

/// The mirrored CLI's test vector (`cli|940db7b1d0e4eb40` for the raw
/// bytes `~/.codex`) is checked on the hash itself by the unit test
/// `the_account_hash_matches_the_mirrored_cli_test_vector`: as a home,
/// `~/.codex` is a relative path, taken against the current directory.
/// Canonical UTF-8 homes, existing or not, keep the account they had.
#[test]
fn keyring_account_of_a_canonical_utf8_home_is_the_one_the_mirrored_cli_derives() {
    let home = support::home();
    let canonical_parent = std::fs::canonicalize(home.dir.path()).unwrap();
    let not_yet = canonical_parent.join(".codex");
    assert_eq!(
        keyring_account_for_home(&not_yet),
        account_as_the_mirrored_cli_derives_it(&not_yet)
    );
    std::fs::create_dir(&not_yet).unwrap();
    assert_eq!(
        keyring_account_for_home(&not_yet),
        account_as_the_mirrored_cli_derives_it(&not_yet)
    );
    let root_codex = Path::new("/root/.codex");
    if std::fs::canonicalize("/root").is_ok_and(|root| root == Path::new("/root")) {
        assert_eq!(
            keyring_account_for_home(root_codex),
            account_as_the_mirrored_cli_derives_it(root_codex)
        );
    }
}

#[test]
fn keyring_account_uses_the_canonicalized_home() {
    let home = support::home();
    home.create();
    let dotted = home.path.join(".").join("..").join("codex");
    let canonical = std::fs::canonicalize(&home.path).unwrap();
    let account = keyring_account_for_home(&home.path);
    assert_eq!(keyring_account_for_home(&dotted), account);
    assert_eq!(keyring_account_for_home(&canonical), account);
    assert!(account.starts_with("cli|"));
    assert_eq!(account.len(), "cli|".len() + 16);
    assert!(
        account[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn keyring_home_stores_compact_json_under_codex_auth_and_the_home_account() {
    let Some(store) = support::real_store(
        "keyring_home_stores_compact_json_under_codex_auth_and_the_home_account",
    ) else {
        return;
    };
    let home = support::home();
    let storage = real_home(&home, &store);
    let document = support::full_document();

    storage.save(&document).unwrap();

    let account = keyring_account_for_home(&home.path);
    assert_eq!(storage.account(), account);
    assert_eq!(storage.entry_name(), format!("Codex Auth/{account}"));
    let value = support::stored_value(&store, &account).unwrap();
    assert_eq!(value, serde_json::to_string(&document).unwrap());
    assert!(!value.contains('\n'));
    assert_eq!(storage.load().unwrap(), Some(document));
    assert_eq!(storage.location(), StoreKind::Keyring);
    assert!(!home.auth_file().exists());
    storage.delete().unwrap();
}

#[test]
fn keyring_save_removes_a_leftover_auth_json() {
    let Some(store) = support::real_store("keyring_save_removes_a_leftover_auth_json") else {
        return;
    };
    let home = support::home();
    home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
    let storage = real_home(&home, &store);

    storage.save(&support::full_document()).unwrap();

    assert!(!home.auth_file().exists());
    storage.delete().unwrap();
}

#[test]
fn keyring_save_moves_a_corrupt_leftover_auth_json_aside_instead_of_deleting_it() {
    let Some(store) = support::real_store(
        "keyring_save_moves_a_corrupt_leftover_auth_json_aside_instead_of_deleting_it",
    ) else {
        return;
    };
    let home = support::home();
    home.write_auth_file(b"{ corrupt");
    let storage = real_home(&home, &store);

    storage.save(&support::full_document()).unwrap();

    assert!(!home.auth_file().exists());
    assert!(
        home.entries()
            .iter()
            .any(|name| name.starts_with("auth.json.corrupt-")),
        "{:?}",
        home.entries()
    );
    storage.delete().unwrap();
}

#[test]
fn failed_keyring_save_keeps_auth_json() {
    let home = support::home();
    home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
    let store = FakeKeyring::with_fault(Fault::Fail);

    let error = support::keyring_home(&home, &store, TIMEOUT)
        .save(&support::full_document())
        .unwrap_err();

    assert!(matches!(error, StoreError::Keyring { .. }), "{error:?}");
    assert!(home.auth_file().exists());
}

#[test]
fn keyring_delete_removes_the_entry_and_the_file() {
    let Some(store) = support::real_store("keyring_delete_removes_the_entry_and_the_file") else {
        return;
    };
    let home = support::home();
    let storage = real_home(&home, &store);
    storage.save(&support::api_key_document()).unwrap();
    home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());

    assert!(storage.delete().unwrap());

    assert_eq!(support::stored_value(&store, storage.account()), None);
    assert!(!home.auth_file().exists());
    assert!(storage.load().unwrap().is_none());
    assert!(!storage.delete().unwrap());
}

#[test]
fn keyring_delete_of_a_home_that_never_existed_is_false_and_creates_nothing() {
    let Some(store) = support::real_store(
        "keyring_delete_of_a_home_that_never_existed_is_false_and_creates_nothing",
    ) else {
        return;
    };
    let home = support::home();
    assert!(!real_home(&home, &store).delete().unwrap());
    assert!(!home.path.exists());
}

#[test]
fn values_within_the_limit_are_one_plain_entry() {
    let home = support::home();
    let document = support::api_key_document();
    let len = serde_json::to_string(&document).unwrap().len();
    let store = FakeKeyring::with_limit(len);
    let storage = support::keyring_home(&home, &store, TIMEOUT);

    storage.save(&document).unwrap();

    assert_eq!(store.accounts(), [storage.account()]);
    assert_eq!(storage.load().unwrap(), Some(document));
}

#[test]
fn long_values_are_chunked_and_round_trip_on_a_limited_store() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, TIMEOUT);
    let document = long_document();

    storage.save(&document).unwrap();

    let account = storage.account().to_owned();
    let header: Value =
        serde_json::from_str(&store.get(KEYRING_SERVICE, &account).unwrap()).unwrap();
    let count = header["codex_chunked"].as_u64().unwrap() as usize;
    assert!(count > 1, "{header}");
    assert_eq!(chunk_accounts(&store, &account).len(), count);
    let joined: String = (1..=count)
        .map(|index| {
            let chunk = store
                .get(KEYRING_SERVICE, &format!("{account}|chunk-{index}"))
                .unwrap();
            assert!(chunk.encode_utf16().count() <= 200);
            chunk
        })
        .collect();
    assert_eq!(joined, serde_json::to_string(&document).unwrap());
    assert_eq!(storage.load().unwrap(), Some(document));
}

#[test]
fn saving_a_shorter_value_removes_stale_chunks() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, TIMEOUT);
    storage.save(&long_document()).unwrap();

    let mut medium = support::full_document();
    medium
        .extra
        .insert("padding".into(), json!("x".repeat(300)));
    storage.save(&medium).unwrap();
    let account = storage.account().to_owned();
    let header: Value =
        serde_json::from_str(&store.get(KEYRING_SERVICE, &account).unwrap()).unwrap();
    let count = header["codex_chunked"].as_u64().unwrap() as usize;
    assert_eq!(chunk_accounts(&store, &account).len(), count);
    assert_eq!(storage.load().unwrap(), Some(medium));

    storage.save(&support::api_key_document()).unwrap();
    assert_eq!(store.accounts(), [account]);
    assert_eq!(storage.load().unwrap(), Some(support::api_key_document()));
}

#[test]
fn delete_removes_every_chunk() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, TIMEOUT);
    storage.save(&long_document()).unwrap();
    assert!(store.accounts().len() > 2);

    assert!(storage.delete().unwrap());

    assert!(store.accounts().is_empty(), "{:?}", store.accounts());
}

#[test]
fn missing_chunk_is_a_corrupt_error_naming_the_entry_not_a_panic() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, TIMEOUT);
    storage.save(&long_document()).unwrap();
    store.remove(KEYRING_SERVICE, &format!("{}|chunk-2", storage.account()));

    let error = storage.load().unwrap_err();

    let StoreError::Corrupt { path, reason, .. } = &error else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert_eq!(
        path.to_string_lossy(),
        format!("keyring:Codex Auth/{}", storage.account())
    );
    assert!(reason.contains("chunk 2"), "{reason}");
    support::assert_no_secret(&error.to_string(), None);

    // The damaged entry can still be deleted completely.
    assert!(storage.delete().unwrap());
    assert!(store.accounts().is_empty(), "{:?}", store.accounts());
}

#[test]
fn chunks_that_do_not_match_their_header_are_a_corrupt_error() {
    let home = support::home();
    let store = FakeKeyring::with_limit(200);
    let storage = support::keyring_home(&home, &store, TIMEOUT);
    storage.save(&long_document()).unwrap();
    let chunk = format!("{}|chunk-1", storage.account());
    let mut value = store.get(KEYRING_SERVICE, &chunk).unwrap();
    value.replace_range(0..1, "[");
    store.put(KEYRING_SERVICE, &chunk, &value);

    let error = storage.load().unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
}

#[test]
fn corrupt_keyring_value_is_a_corrupt_error_naming_the_entry_without_content() {
    let Some(store) = support::real_store(
        "corrupt_keyring_value_is_a_corrupt_error_naming_the_entry_without_content",
    ) else {
        return;
    };
    let home = support::home();
    let storage = real_home(&home, &store);
    let corrupt = format!("{{\"OPENAI_API_KEY\":\"{API_KEY}\" broken");
    store
        .save(KEYRING_SERVICE, storage.account(), &corrupt)
        .unwrap();

    let error = storage.load().unwrap_err();

    let StoreError::Corrupt { path, line, .. } = &error else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert_eq!(
        path.to_string_lossy(),
        format!("keyring:Codex Auth/{}", storage.account())
    );
    assert_eq!(*line, 1);
    support::assert_no_secret(&error.to_string(), None);

    let error = storage.update(&mut |_| Ok(None)).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert_eq!(
        support::stored_value(&store, storage.account()).as_deref(),
        Some(corrupt.as_str())
    );
    storage.delete().unwrap();
}

#[test]
fn keyring_errors_name_the_entry_and_never_the_value() {
    let home = support::home();
    let store = FakeKeyring::with_fault(Fault::Fail);
    let storage = support::keyring_home(&home, &store, TIMEOUT);

    for error in [
        storage.save(&support::full_document()).unwrap_err(),
        storage.load().unwrap_err(),
        storage.delete().unwrap_err(),
    ] {
        let StoreError::Keyring { entry, .. } = &error else {
            panic!("expected Keyring, got {error:?}");
        };
        assert_eq!(entry, &format!("Codex Auth/{}", storage.account()));
        support::assert_no_secret(&error.to_string(), None);
        support::assert_no_secret(&format!("{error:?}"), None);
    }
}

#[test]
fn hung_keyring_times_out_with_the_configured_timeout() {
    let home = support::home();
    // One keyring per operation: after a timeout, later calls through the
    // same keyring fail fast instead (see `hostile_keyring`).
    let stores: Vec<Arc<FakeKeyring>> = (0..3)
        .map(|_| FakeKeyring::with_fault(Fault::Hang(Duration::from_secs(60))))
        .collect();
    let storage = |index: usize| support::keyring_home(&home, &stores[index], SHORT_TIMEOUT);

    let load = storage(0).load().unwrap_err();
    let save = storage(1).save(&support::api_key_document()).unwrap_err();
    let delete = storage(2).delete().unwrap_err();

    // The calls returned on the timeout while the keyring still hung.
    for store in &stores {
        assert_eq!(store.finished_calls(), 0);
        store.set_fault(Fault::None);
    }
    for error in [load, save, delete] {
        assert!(
            matches!(&error, StoreError::KeyringTimeout { entry, timeout }
                if entry.starts_with("Codex Auth/cli|") && *timeout == SHORT_TIMEOUT),
            "{error:?}"
        );
    }
}

#[test]
fn keyring_update_keeps_unknown_fields_and_loses_no_concurrent_update() {
    let Some(store) =
        support::real_store("keyring_update_keeps_unknown_fields_and_loses_no_concurrent_update")
    else {
        return;
    };
    let home = support::home();
    let storage = Arc::new(real_home(&home, &store));
    storage.save(&support::full_document()).unwrap();

    std::thread::scope(|scope| {
        for thread in 0..4 {
            let storage = storage.clone();
            scope.spawn(move || {
                for i in 0..10 {
                    storage
                        .update(&mut |current| {
                            let mut document = current.unwrap();
                            document.extra.insert(format!("t{thread}-{i}"), json!(i));
                            Ok(Some(document))
                        })
                        .unwrap();
                }
            });
        }
    });

    let document = storage.load().unwrap().unwrap();
    assert_eq!(document.extra.len(), 41, "40 new keys and future_top_level");
    let record = document.validated_agent_identity().unwrap().unwrap();
    assert!(record.extra().contains_key("future_identity_key"));
    assert!(home.lock_file().exists(), "update holds the home lock");
    storage.delete().unwrap();
}

#[test]
fn hung_keyring_inside_a_tokio_runtime_times_out_without_panicking() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let home = support::home();
    let hung = FakeKeyring::with_fault(Fault::Hang(Duration::from_secs(2)));

    runtime.block_on(async {
        let storage = KeyringStore::new(&home.path, hung.clone(), SHORT_TIMEOUT);
        assert!(matches!(
            storage.load(),
            Err(StoreError::KeyringTimeout { .. })
        ));
    });
}
