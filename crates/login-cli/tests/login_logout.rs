//! `login` from stdin and files, `logout`, and what invalid input leaves behind.

use crate::support::{agent_login, cli, code, json, mint, run, stderr, stdout};

fn login_stdin(
    home: &std::path::Path,
    flag: &str,
    input: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut command = agent_login(home);
    command.args(["login", flag]).args(extra);
    run(command, input)
}

#[test]
fn login_with_api_key_from_stdin_stores_it_and_status_masks_it() {
    let home = tempfile::tempdir().unwrap();
    let output = login_stdin(
        home.path(),
        "--api-key-stdin",
        "sk-stdin-key-000000001234\n",
        &["--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["mode"], "apikey");
    let status = json(&cli(home.path(), &["status", "--json"]));
    assert_eq!(status["api_key"], "sk-...1234");
    assert_eq!(status["source"], "file");
}

#[test]
fn login_with_agent_identity_from_stdin_accepts_jwt_and_object() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-1", "rt-1");
    let jwt = minted["jwt"].as_str().unwrap();
    assert_eq!(
        code(&login_stdin(
            home.path(),
            "--agent-identity-stdin",
            &format!("{jwt}\n"),
            &[]
        )),
        0
    );
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    let object = stored["agent_identity"].to_string();

    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&login_stdin(
            other.path(),
            "--agent-identity-stdin",
            &object,
            &[]
        )),
        0
    );
    let status = json(&cli(other.path(), &["status", "--json"]));
    assert_eq!(status["agent_identity"]["public_key"], minted["public_key"]);
}

#[test]
fn login_with_agent_identity_from_a_file() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-f", "rt-f");
    let file = home.path().join("identity.jwt");
    std::fs::write(&file, format!("{}\n", minted["jwt"].as_str().unwrap())).unwrap();
    let output = cli(
        home.path(),
        &["login", "--agent-identity-file", file.to_str().unwrap()],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        json(&cli(home.path(), &["status", "--json"]))["agent_identity"]["workspace_id"],
        "ws-f"
    );
}

#[test]
fn login_with_invalid_input_writes_nothing_and_keeps_the_old_credentials() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&login_stdin(
            home.path(),
            "--api-key-stdin",
            "sk-old-key-00000000",
            &[]
        )),
        0
    );
    let before = std::fs::read(home.path().join("auth.json")).unwrap();
    for (flag, input) in [
        ("--agent-identity-stdin", "a.b.c"),
        ("--agent-identity-stdin", "{\"workspace_id\": 1}"),
        ("--api-key-stdin", "  \n"),
    ] {
        let output = login_stdin(home.path(), flag, input, &["--json"]);
        assert_eq!(code(&output), 2, "{flag} {input}");
        assert_eq!(json(&output)["error"]["kind"], "invalid_input");
        assert_eq!(stderr(&output).lines().count(), 1);
    }
    let missing = cli(
        home.path(),
        &[
            "login",
            "--agent-identity-file",
            "/nonexistent/identity.jwt",
        ],
    );
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("/nonexistent/identity.jwt"));
    assert_eq!(
        std::fs::read(home.path().join("auth.json")).unwrap(),
        before
    );
}

#[test]
fn login_over_a_corrupt_auth_json_moves_it_aside() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("auth.json"), "{ not json").unwrap();
    let output = login_stdin(home.path(), "--api-key-stdin", "sk-new-key-00000000", &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let aside: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("auth.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(code(&cli(home.path(), &["status"])), 0);
}

#[test]
fn logout_lists_the_corrupt_copies_it_leaves_and_says_they_may_hold_credentials() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("auth.json"), "{ \"OPENAI_API_KEY\": ").unwrap();
    let login = login_stdin(home.path(), "--api-key-stdin", "sk-new-key-00000000", &[]);
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let aside: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains("auth.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");

    let output = cli(home.path(), &["logout"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("1 corrupt copy of auth.json that may hold credentials"),
        "{text}"
    );
    assert!(text.contains(&*aside[0].to_string_lossy()), "{text}");
    assert!(aside[0].exists(), "a logout never deletes a corrupt copy");

    let output = cli(home.path(), &["logout", "--json"]);
    assert_eq!(
        json(&output)["corrupt_copies"],
        serde_json::json!([aside[0]])
    );
}

#[test]
fn logout_removes_stored_credentials_and_succeeds_when_there_are_none() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&login_stdin(
            home.path(),
            "--api-key-stdin",
            "sk-bye-key-00000000",
            &[]
        )),
        0
    );
    let output = cli(home.path(), &["logout", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        json(&output),
        serde_json::json!({ "schema_version": 1, "removed": true, "revoked": null, "still_authenticated_by": [] })
    );
    assert!(!home.path().join("auth.json").exists());
    assert_eq!(code(&cli(home.path(), &["status"])), 1);
    let again = cli(home.path(), &["logout"]);
    assert_eq!(code(&again), 0);
    assert!(stdout(&again).contains("Nothing to remove"));
    assert_eq!(
        json(&cli(home.path(), &["logout", "--json"])),
        serde_json::json!({ "schema_version": 1, "removed": false, "revoked": null, "still_authenticated_by": [] })
    );
}
