//! `status --register-task` end to end, against an auth API on loopback:
//! the first run registers and caches `background_task_id` in auth.json,
//! the second reuses it without a request.

use crate::support::{agent_login, code, json, mint, run, stderr};
use test_support::loopback::{LoopbackServer, Reply};

#[test]
fn status_register_task_caches_the_task_id_in_auth_json_and_reuses_it() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-task", "rt-task");
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": minted["jwt"] }).to_string(),
    )
    .unwrap();
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({ "task_id": "task-e2e-1" })),
    );

    let status = |server: &LoopbackServer| {
        let mut command = agent_login(home.path());
        command
            .args(["status", "--json", "--register-task"])
            .env("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL", server.url());
        run(command, "")
    };
    let first = status(&server);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert_eq!(
        json(&first)["agent_identity"]["background_task_id"],
        "task-e2e-1"
    );
    assert_eq!(server.request_count(), 1);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/agent/rt-task/task/register");

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    assert_eq!(stored["agent_identity"]["background_task_id"], "task-e2e-1");

    let second = status(&server);
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert_eq!(
        json(&second)["agent_identity"]["background_task_id"],
        "task-e2e-1"
    );
    assert_eq!(
        server.request_count(),
        1,
        "the cached id is reused without a request"
    );
}

#[test]
fn status_register_task_without_a_base_url_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws", "rt");
    let mut command = agent_login(home.path());
    command
        .args(["status", "--register-task"])
        .env_remove("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL")
        .env("CODEX_AGENT_IDENTITY", minted["jwt"].as_str().unwrap());
    let output = run(command, "");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL"),
        "{}",
        stderr(&output)
    );
}
