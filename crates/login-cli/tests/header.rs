//! `agent-login header`: the request headers for every mode, human and
//! `--json`, through the built binary against a loopback auth API.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::support::{agent_login, cli, code, json, mint, run, stderr, stdout};
use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};

const API_KEY: &str = "sk-header-test-0001";

/// The JSON inside an `AgentAssertion` header value.
fn assertion_json(value: &str) -> serde_json::Value {
    let token = value.strip_prefix("AgentAssertion ").unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap()
}

#[test]
fn header_prints_the_bearer_line_for_an_api_key() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    command.env("CODEX_API_KEY", API_KEY).args(["header"]);
    let output = run(command, "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("Authorization: Bearer {API_KEY}\n")
    );

    let mut command = agent_login(home.path());
    command
        .env("CODEX_API_KEY", API_KEY)
        .args(["header", "--json"]);
    let output = run(command, "");
    let value = json(&output);
    assert_eq!(value["mode"], "apikey");
    assert_eq!(value["source"], "env:CODEX_API_KEY");
    assert_eq!(
        value["headers"]["Authorization"],
        format!("Bearer {API_KEY}")
    );
    assert!(value["headers"].get("ChatGPT-Account-ID").is_none());
}

#[test]
fn header_registers_once_for_an_agent_identity_and_prints_the_assertion_and_workspace() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-header", "rt-header");
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": minted["jwt"] }).to_string(),
    )
    .unwrap();
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({ "task_id": "task-header-1" })),
    );
    let header = |extra: &[&str]| {
        let mut command = agent_login(home.path());
        command
            .args(["header"])
            .args(extra)
            .env("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL", server.url());
        run(command, "")
    };

    let human = header(&[]);
    assert_eq!(code(&human), 0, "{}", stderr(&human));
    let text = stdout(&human);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let assertion = lines[0].strip_prefix("Authorization: ").unwrap();
    let decoded = assertion_json(assertion);
    assert_eq!(decoded["agent_runtime_id"], "rt-header");
    assert_eq!(decoded["task_id"], "task-header-1");
    assert_eq!(lines[1], "ChatGPT-Account-ID: ws-header");

    let machine = header(&["--json"]);
    assert_eq!(code(&machine), 0, "{}", stderr(&machine));
    let value = json(&machine);
    assert_eq!(value["mode"], "agentIdentity");
    assert_eq!(value["source"], "file");
    assert_eq!(value["headers"]["ChatGPT-Account-ID"], "ws-header");
    let decoded = assertion_json(value["headers"]["Authorization"].as_str().unwrap());
    assert_eq!(decoded["task_id"], "task-header-1");
    assert_eq!(
        server.request_count(),
        1,
        "the task id is cached after the first run"
    );
}

#[test]
fn header_takes_the_auth_api_from_the_flag() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-flag", "rt-flag");
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({ "task_id": "task-flag" })),
    );
    let mut command = agent_login(home.path());
    command
        .env_remove("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL")
        .env("CODEX_AGENT_IDENTITY", minted["jwt"].as_str().unwrap())
        .args(["header", "--json", "--auth-api-base-url", &server.url()]);
    let output = run(command, "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["source"], "env:CODEX_AGENT_IDENTITY");
    assert_eq!(server.request_count(), 1);
    assert!(!home.path().join("auth.json").exists(), "nothing written");
}

#[test]
fn header_for_chatgpt_tokens_prints_the_access_token_and_account() {
    let home = tempfile::tempdir().unwrap();
    let access = access_token(unix_now() + 3600, "HEADER-ACCESS");
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({"auth_mode": "chatgpt", "tokens": {
            "id_token": "e30.e30.c2ln",
            "access_token": access,
            "refresh_token": "rt-header",
            "account_id": "acct-header",
        }})
        .to_string(),
    )
    .unwrap();
    let output = cli(home.path(), &["header", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(value["mode"], "chatgpt");
    assert_eq!(
        value["headers"]["Authorization"],
        format!("Bearer {access}")
    );
    assert_eq!(value["headers"]["ChatGPT-Account-ID"], "acct-header");
}

#[test]
fn header_exits_1_when_nobody_is_logged_in() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["header"]);
    assert_eq!(code(&output), 1);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("not logged in"));
    let output = cli(home.path(), &["header", "--json"]);
    assert_eq!(code(&output), 1);
    assert_eq!(json(&output)["logged_in"], false);
}

#[test]
fn header_without_an_auth_api_for_an_identity_exits_2_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws", "rt");
    let mut command = agent_login(home.path());
    command
        .env_remove("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL")
        .env("CODEX_AGENT_IDENTITY", minted["jwt"].as_str().unwrap())
        .args(["header"]);
    let output = run(command, "");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL"));
    assert_eq!(stdout(&output), "");
}

#[test]
fn header_help_says_it_prints_secrets_on_purpose() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["header", "--help"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("prints secrets on purpose"),
        "{}",
        stdout(&output)
    );
}
