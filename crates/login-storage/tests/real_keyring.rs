//! The keyring store against the real OS keyring: the private Secret Service
//! (gnome-keyring) and kernel session keyring that `cargo xtask test` starts
//! through `scripts/with-secret-service.sh`. Each test uses its own home,
//! hence its own account, and deletes its entry.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use login_storage::{
    AuthStore, AutoStore, KEYRING_SERVICE, Keyring, KeyringError, KeyringStore, OsKeyring,
    StoreKind,
};

use crate::support::{self, Home};

const TIMEOUT: Duration = Duration::from_secs(10);

fn real_keyring(home: &Home) -> KeyringStore {
    KeyringStore::new(&home.path, Arc::new(OsKeyring), TIMEOUT)
}

fn secret_tool(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("secret-tool is installed with the Secret Service test tools");
    let mut input = child.stdin.take().unwrap();
    if let Some(stdin) = stdin {
        input.write_all(stdin.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn secret_service_round_trip_through_the_keyring_home() {
    if !support::secret_service_available("secret_service_round_trip_through_the_keyring_home") {
        return;
    }
    let home = support::home();
    let storage = real_keyring(&home);
    let document = support::full_document();

    storage.save(&document).unwrap();
    assert_eq!(storage.load().unwrap(), Some(document.clone()));

    let mut updated = document;
    updated.extra.insert("updated".into(), serde_json::json!(1));
    storage.save(&updated).unwrap();
    assert_eq!(storage.load().unwrap(), Some(updated));

    assert!(storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
    assert!(!storage.delete().unwrap());
}

#[test]
fn secret_tool_reads_the_entry_the_keyring_home_saved() {
    if !support::secret_service_available("secret_tool_reads_the_entry_the_keyring_home_saved") {
        return;
    }
    let home = support::home();
    let storage = real_keyring(&home);
    let document = support::full_document();
    storage.save(&document).unwrap();

    let output = secret_tool(
        &[
            "lookup",
            "service",
            KEYRING_SERVICE,
            "username",
            storage.account(),
        ],
        None,
    );

    storage.delete().unwrap();
    assert!(output.status.success(), "{output:?}");
    let value = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        value.trim_end_matches('\n'),
        serde_json::to_string(&document).unwrap()
    );
}

#[test]
fn keyring_home_reads_an_entry_written_by_secret_tool() {
    if !support::secret_service_available("keyring_home_reads_an_entry_written_by_secret_tool") {
        return;
    }
    let home = support::home();
    let storage = real_keyring(&home);
    let document = support::api_key_document();
    let value = serde_json::to_string(&document).unwrap();

    let output = secret_tool(
        &[
            "store",
            "--label=written by secret-tool",
            "service",
            KEYRING_SERVICE,
            "username",
            storage.account(),
        ],
        Some(&value),
    );
    assert!(output.status.success(), "{output:?}");

    assert_eq!(storage.load().unwrap(), Some(document));
    assert!(storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
}

#[test]
fn auto_home_with_the_real_keyring_saves_there_and_removes_the_file() {
    if !support::secret_service_available(
        "auto_home_with_the_real_keyring_saves_there_and_removes_the_file",
    ) {
        return;
    }
    let home = support::home();
    home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
    let storage = AutoStore::new(&home.path, Arc::new(OsKeyring), TIMEOUT);

    storage.save(&support::full_document()).unwrap();

    assert!(!home.auth_file().exists());
    assert_eq!(
        storage.load_located().unwrap(),
        Some((support::full_document(), StoreKind::Keyring))
    );
    assert!(storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
}

#[test]
fn default_keyring_store_works_from_inside_tokio_runtimes() {
    if !support::secret_service_available("default_keyring_store_works_from_inside_tokio_runtimes")
    {
        return;
    }
    let runtimes = [
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    ];
    for runtime in runtimes {
        let home = support::home();
        runtime.block_on(async {
            let storage = real_keyring(&home);
            storage.save(&support::api_key_document()).unwrap();
            assert_eq!(storage.load().unwrap(), Some(support::api_key_document()));
            assert!(storage.delete().unwrap());
        });
    }
}

#[test]
fn default_keyring_store_limits_values_only_on_windows() {
    if cfg!(windows) {
        assert_eq!(OsKeyring.max_value_len(), Some(1280));
    } else {
        assert_eq!(OsKeyring.max_value_len(), None);
    }
}

/// The kernel keyring (keyutils) as a [`Keyring`]. keyring 3.6's
/// default Linux store builds Secret Service credentials only, so the
/// kernel keyring is reached through its own credential type.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct KernelKeyring;

#[cfg(target_os = "linux")]
impl KernelKeyring {
    fn entry(service: &str, account: &str) -> Result<keyring::Entry, keyring::Error> {
        let credential =
            keyring::keyutils::KeyutilsCredential::new_with_target(None, service, account)?;
        Ok(keyring::Entry::new_with_credential(Box::new(credential)))
    }
}

#[cfg(target_os = "linux")]
impl Keyring for KernelKeyring {
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        match Self::entry(service, account).and_then(|entry| entry.get_password()) {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(KeyringError::Platform(error.to_string())),
        }
    }

    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        Self::entry(service, account)
            .and_then(|entry| entry.set_password(value))
            .map_err(|error| KeyringError::Platform(error.to_string()))
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        match Self::entry(service, account).and_then(|entry| entry.delete_credential()) {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(KeyringError::Platform(error.to_string())),
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn keyring_home_round_trips_through_the_kernel_keyring_readable_by_keyctl() {
    let test = "keyring_home_round_trips_through_the_kernel_keyring_readable_by_keyctl";
    if !support::secret_service_available(test) {
        return;
    }
    // Containers may forbid the keyctl syscalls: an environment limit, not
    // a failure of ours, outside CI.
    let probe = KernelKeyring
        .save(KEYRING_SERVICE, "login-storage-probe", "probe")
        .and_then(|()| KernelKeyring.delete(KEYRING_SERVICE, "login-storage-probe"));
    if let Err(error) = probe {
        assert!(
            !std::env::var("CI").is_ok_and(|value| value == "true"),
            "{test}: the kernel keyring is unusable under CI=true: {error}"
        );
        support::print_skip(
            test,
            &format!("the kernel keyring (keyutils) is unusable here: {error}"),
        );
        return;
    }
    let home = support::home();
    let storage = KeyringStore::new(&home.path, Arc::new(KernelKeyring), TIMEOUT);
    let document = support::full_document();

    storage.save(&document).unwrap();
    assert_eq!(storage.load().unwrap(), Some(document.clone()));

    // keyutils names the key `keyring-rs:<user>@<service>`; keyctl, a
    // client we did not write, reads the same value.
    let description = format!("keyring-rs:{}@{KEYRING_SERVICE}", storage.account());
    let search = Command::new("keyctl")
        .args(["search", "@s", "user", &description])
        .output()
        .expect("keyctl is installed with the Secret Service test tools");
    assert!(search.status.success(), "{search:?}");
    let id = String::from_utf8(search.stdout).unwrap();
    let pipe = Command::new("keyctl")
        .args(["pipe", id.trim()])
        .output()
        .unwrap();
    assert!(pipe.status.success(), "{pipe:?}");
    assert_eq!(
        String::from_utf8(pipe.stdout).unwrap(),
        serde_json::to_string(&document).unwrap()
    );

    assert!(storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
}
