//! `status`: exit codes, the `--json` shape, and environment precedence.

use crate::support::{agent_login, cli, code, json, mint, run, stderr, stdout};

const STATUS_KEYS: [&str; 13] = [
    "schema_version",
    "looked_in",
    "shadowed",
    "hint",
    "logged_in",
    "mode",
    "source",
    "codex_home",
    "store",
    "agent_identity",
    "api_key",
    "account",
    "warnings",
];

#[test]
fn status_without_credentials_says_where_it_looked_and_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["status"]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    assert!(
        text.contains("Not logged in")
            && text.contains("CODEX_API_KEY")
            && text.contains("auth.json"),
        "{text}"
    );
}

#[test]
fn status_json_has_every_key_with_null_for_no_value() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["status", "--json"]);
    assert_eq!(code(&output), 1);
    let value = json(&output);
    let object = value.as_object().unwrap();
    assert_eq!(object.len(), STATUS_KEYS.len());
    for key in STATUS_KEYS {
        assert!(object.contains_key(key), "missing {key}");
    }
    assert_eq!(value["logged_in"], false);
    assert!(
        value["mode"].is_null() && value["source"].is_null() && value["agent_identity"].is_null()
    );
    assert_eq!(value["store"], "file");
    assert_eq!(value["codex_home"], home.path().to_str().unwrap());
    assert_eq!(value["warnings"], serde_json::json!([]));
}

#[test]
fn status_json_on_a_startup_only_auth_json_with_a_jwt_reports_agent_identity_from_file() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-file", "rt-file");
    let document = serde_json::json!({ "agent_identity": minted["jwt"] });
    std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();
    let output = cli(home.path(), &["status", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(value["mode"], "agentIdentity");
    assert_eq!(value["source"], "file");
    let identity = &value["agent_identity"];
    assert_eq!(identity["workspace_id"], "ws-file");
    assert_eq!(identity["agent_runtime_id"], "rt-file");
    assert_eq!(identity["public_key"], minted["public_key"]);
    assert!(identity["chatgpt_user_id"].is_null() && identity["background_task_id"].is_null());
    let before = std::fs::read_to_string(home.path().join("auth.json")).unwrap();
    assert_eq!(
        before,
        document.to_string(),
        "status never rewrites auth.json"
    );
}

#[test]
fn status_json_masks_the_api_key_from_the_environment() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    command
        .args(["status", "--json"])
        .env("CODEX_API_KEY", "sk-proj-abcdefghijklmnop-WXYZ");
    let output = run(command, "");
    assert_eq!(code(&output), 0);
    let value = json(&output);
    assert_eq!(value["api_key"], "sk-...WXYZ");
    assert_eq!(value["source"], "env:CODEX_API_KEY");
    assert_eq!(value["mode"], "apikey");
}

#[test]
fn status_prefers_env_api_key_over_env_identity_over_the_file() {
    let home = tempfile::tempdir().unwrap();
    let stored = mint(home.path(), "ws-stored", "rt-stored");
    let mut login = agent_login(home.path());
    login.args(["login", "--agent-identity-stdin"]);
    assert_eq!(code(&run(login, stored["jwt"].as_str().unwrap())), 0);

    let env_identity = mint(home.path(), "ws-env", "rt-env");
    let mut command = agent_login(home.path());
    command.args(["status", "--json"]).env(
        "CODEX_AGENT_IDENTITY",
        env_identity["jwt"].as_str().unwrap(),
    );
    let value = json(&run(command, ""));
    assert_eq!(value["source"], "env:CODEX_AGENT_IDENTITY");
    assert_eq!(value["agent_identity"]["workspace_id"], "ws-env");

    let mut command = agent_login(home.path());
    command
        .args(["status", "--json"])
        .env(
            "CODEX_AGENT_IDENTITY",
            env_identity["jwt"].as_str().unwrap(),
        )
        .env("CODEX_API_KEY", "sk-env-key-0123456789");
    assert_eq!(json(&run(command, ""))["source"], "env:CODEX_API_KEY");

    assert_eq!(
        json(&cli(home.path(), &["status", "--json"]))["source"],
        "file"
    );
}

#[test]
fn status_with_invalid_env_identity_exits_2_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    command
        .args(["status", "--json"])
        .env("CODEX_AGENT_IDENTITY", "not.a");
    let output = run(command, "");
    assert_eq!(code(&output), 2);
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "invalid_input");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("CODEX_AGENT_IDENTITY")
    );
    assert_eq!(
        stderr(&output).lines().count(),
        1,
        "one line on stderr: {}",
        stderr(&output)
    );
}

#[test]
fn status_with_corrupt_auth_json_exits_2_naming_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("auth.json");
    std::fs::write(&file, "{\n  \"OPENAI_API_KEY\": \"sk-corrupt\",\n  oops\n}").unwrap();
    // 0600, so the only line on stderr is the error (a looser mode adds a warning).
    #[cfg(unix)]
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let output = cli(home.path(), &["status"]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("auth.json") && message.contains("line 3") && message.contains("column"),
        "{message}"
    );
    assert!(!message.contains("sk-corrupt"));
    assert_eq!(message.lines().count(), 1);
}

#[test]
fn status_with_a_codex_home_that_is_a_file_exits_2_from_the_variable_or_the_flag() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let mut command = agent_login(home.path());
    command.env("CODEX_HOME", &file).args(["status"]);
    let output = run(command, "");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("CODEX_HOME"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("is not a directory"));

    let output = cli(
        home.path(),
        &["status", "--codex-home", file.to_str().unwrap()],
    );
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("is not a directory"));
}

#[test]
fn status_with_a_missing_codex_home_is_logged_out_from_the_variable_or_the_flag() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("not-created-yet");
    let mut command = agent_login(&missing);
    command.args(["status"]);
    let output = run(command, "");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stdout(&output).contains("Not logged in"));

    let output = cli(
        parent.path(),
        &["status", "--codex-home", missing.to_str().unwrap()],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(!missing.exists(), "reading never creates the home");
}

#[test]
fn env_identity_with_a_missing_codex_home_starts_and_never_creates_it() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("not-created-yet");
    let minted = mint(parent.path(), "ws-env", "rt-env");
    let mut command = agent_login(&missing);
    command
        .env("CODEX_AGENT_IDENTITY", minted["jwt"].as_str().unwrap())
        .args(["status"]);
    let output = run(command, "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("env:CODEX_AGENT_IDENTITY"));
    assert!(!missing.exists());
}

#[test]
fn usage_errors_exit_2_and_help_shows_an_example() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(code(&cli(home.path(), &["frobnicate"])), 2);
    let output = cli(home.path(), &["login", "--api-key", "sk-in-argv"]);
    assert_eq!(code(&output), 2);
    let output = cli(home.path(), &["status", "--json", "--bogus"]);
    assert_eq!(code(&output), 2);
    assert_eq!(json(&output)["error"]["kind"], "usage");
    for args in [
        &["--help"][..],
        &["status", "--help"],
        &["login", "--help"],
        &["logout", "--help"],
        &["identity", "decode", "--help"],
        &["identity", "mint", "--help"],
    ] {
        let output = cli(home.path(), args);
        assert_eq!(code(&output), 0);
        assert!(
            stdout(&output).contains("Example"),
            "{args:?}: {}",
            stdout(&output)
        );
    }
}
