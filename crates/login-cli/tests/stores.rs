//! Each store through the binary: file, ephemeral, keyring (real Secret
//! Service), auto; and `CODEX_AUTH_STORE`.

use crate::support::{agent_login, cli, code, json, run, stderr};
use test_support::secret_service_available;

fn login_api_key(home: &std::path::Path, store: &str) -> std::process::Output {
    let mut command = agent_login(home);
    command.args(["--store", store, "login", "--api-key-stdin"]);
    run(command, "sk-store-key-0000000042")
}

#[test]
fn file_store_keeps_auth_json_with_mode_0600() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(code(&login_api_key(home.path(), "file")), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home.path().join("auth.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn login_refuses_the_ephemeral_store_which_would_not_outlive_the_process() {
    let home = tempfile::tempdir().unwrap();
    let output = login_api_key(home.path(), "ephemeral");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("inside one runtime's process")
            && stderr(&output).contains("CODEX_AGENT_IDENTITY"),
        "{}",
        stderr(&output)
    );
    assert!(!home.path().join("auth.json").exists());
    let mut from_env = agent_login(home.path());
    from_env
        .args(["login", "--api-key-stdin", "--json"])
        .env("CODEX_AUTH_STORE", "ephemeral");
    let output = run(from_env, "sk-store-key-0000000042");
    assert_eq!(code(&output), 2);
    assert_eq!(json(&output)["error"]["kind"], "invalid_input");
    assert_eq!(
        code(&cli(home.path(), &["--store", "ephemeral", "status"])),
        1
    );
}

#[test]
fn store_comes_from_codex_auth_store_when_no_flag_is_given() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    command
        .args(["status", "--json"])
        .env("CODEX_AUTH_STORE", "ephemeral");
    assert_eq!(json(&run(command, ""))["store"], "ephemeral");
    let mut bad = agent_login(home.path());
    bad.args(["status"]).env("CODEX_AUTH_STORE", "cloud");
    let output = run(bad, "");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("CODEX_AUTH_STORE"));
}

#[test]
fn keyring_store_round_trips_through_the_secret_service_available() {
    if !secret_service_available("keyring_store_round_trips_through_the_real_secret_service") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let output = login_api_key(home.path(), "keyring");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!home.path().join("auth.json").exists());
    let status = json(&cli(
        home.path(),
        &["--store", "keyring", "status", "--json"],
    ));
    assert_eq!(status["source"], "keyring");
    assert_eq!(status["api_key"], "sk-...0042");
    let logout = cli(home.path(), &["--store", "keyring", "logout", "--json"]);
    assert_eq!(json(&logout)["removed"], true);
    assert_eq!(
        code(&cli(home.path(), &["--store", "keyring", "status"])),
        1
    );
}

#[test]
fn auto_store_uses_the_real_keyring_when_it_works() {
    if !secret_service_available("auto_store_uses_the_real_keyring_when_it_works") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    assert_eq!(code(&login_api_key(home.path(), "auto")), 0);
    let status = json(&cli(home.path(), &["--store", "auto", "status", "--json"]));
    assert_eq!(status["source"], "keyring");
    assert_eq!(
        json(&cli(home.path(), &["--store", "auto", "logout", "--json"]))["removed"],
        true
    );
}
