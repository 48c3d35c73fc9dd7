//! The keyring through the binary, from hostile angles: one home spelled
//! several ways (relative, trailing slash, symlink) is one keyring entry;
//! `--store auto logout` without a reachable keyring succeeds and says so;
//! a corrupt keyring value in auto mode is an error, not "logged out".

use std::path::Path;
use std::sync::Arc;

use login_storage::{KEYRING_SERVICE, Keyring, OsKeyring};
use test_support::secret_service_available;

use crate::support::{agent_login, cli, code, json, run, stderr, stdout};

fn login_api_key(home: &Path, store: &str) -> std::process::Output {
    let mut command = agent_login(home);
    command.args(["--store", store, "login", "--api-key-stdin"]);
    run(command, "sk-store-key-0000000042")
}

#[test]
fn keyring_login_through_a_relative_home_is_seen_and_removed_through_other_spellings() {
    let test = "keyring_login_through_a_relative_home_is_seen_and_removed_through_other_spellings";
    if !secret_service_available(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let parent = std::fs::canonicalize(dir.path()).unwrap();
    let home = parent.join("codex");

    // `--codex-home codex` from the parent: relative, not created yet.
    let mut login = agent_login(&home);
    login
        .current_dir(&parent)
        .args(["--codex-home", "codex", "--store", "keyring"])
        .args(["login", "--api-key-stdin"]);
    let output = run(login, "sk-store-key-0000000042");
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let with_slash = format!("{}/", home.display());
    let status = cli(
        Path::new(&with_slash),
        &["--store", "keyring", "status", "--json"],
    );
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert_eq!(json(&status)["source"], "keyring");

    let link = parent.join("link");
    std::os::unix::fs::symlink(&home, &link).unwrap();
    let logout = cli(&link, &["--store", "keyring", "logout", "--json"]);
    assert_eq!(code(&logout), 0, "{}", stderr(&logout));
    assert_eq!(json(&logout)["removed"], true);

    let mut status = agent_login(&home);
    status
        .current_dir(&parent)
        .args(["--codex-home", "./codex/", "--store", "keyring", "status"]);
    assert_eq!(code(&run(status, "")), 1, "logged out for every spelling");
}

#[test]
fn auto_logout_without_a_reachable_keyring_succeeds_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("codex");
    assert_eq!(code(&login_api_key(&home, "file")), 0);
    let no_bus = format!("unix:path={}", dir.path().join("no-bus").display());
    let logout = |json_output: bool| {
        let mut command = agent_login(&home);
        command
            .env("DBUS_SESSION_BUS_ADDRESS", &no_bus)
            .args(["--store", "auto", "logout"]);
        if json_output {
            command.arg("--json");
        }
        run(command, "")
    };

    let first = logout(true);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let answer = json(&first);
    assert_eq!(answer["removed"], true);
    assert!(answer["keyring_unreachable"].is_string(), "{answer}");
    assert!(!home.join("auth.json").exists());

    let again = logout(false);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let text = stdout(&again);
    assert!(text.contains("Nothing to remove"), "{text}");
    assert!(text.contains("keyring was not reachable"), "{text}");
    assert!(!text.contains("sk-store-key"), "{text}");
}

#[test]
fn auto_status_with_a_corrupt_keyring_value_is_a_corrupt_auth_error() {
    let test = "auto_status_with_a_corrupt_keyring_value_is_a_corrupt_auth_error";
    if !secret_service_available(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("codex");
    let account = test_support::keyring_account_for_home(&home);
    let keyring: Arc<dyn Keyring> = Arc::new(OsKeyring);
    keyring
        .save(KEYRING_SERVICE, &account, "{ corrupt")
        .unwrap();

    let status = cli(&home, &["--store", "auto", "status"]);

    keyring.delete(KEYRING_SERVICE, &account).unwrap();
    assert_eq!(code(&status), 2, "{}", stderr(&status));
    assert!(stderr(&status).contains("corrupt"), "{}", stderr(&status));
}
