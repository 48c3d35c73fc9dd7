//! All tracing output, at TRACE, across a whole life cycle, holds no secret.

use core_auth::{AuthManager, CODEX_AGENT_IDENTITY_VAR};
use login_agent_identity::ExposeSecret as _;

use test_support::Capture;
use test_support::{TestEnv, config, identity, tokens};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_output_of_a_whole_life_cycle_contains_no_secret() {
    let capture = Capture::install_global();

    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let (env_jwt, env_record) = identity("ws", "rt-trace-env");
    env.set(CODEX_AGENT_IDENTITY_VAR, &env_jwt);
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    manager.ensure_background_task_id().await.unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after env start");

    let quiet_env = TestEnv::default();
    let manager = AuthManager::load(config(home.path(), &quiet_env))
        .await
        .unwrap();
    manager
        .login_with_api_key("sk-TRACE-API-KEY-MARKER".into())
        .await
        .unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after api key login");
    let (file_jwt, file_record) = identity("ws", "rt-trace-file");
    manager
        .login_with_agent_identity(file_jwt.parse().unwrap())
        .await
        .unwrap();
    manager.ensure_background_task_id().await.unwrap();
    manager.save_tokens(tokens("acct")).await.unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after tokens");
    manager.reload().await.unwrap();
    manager.logout().await.unwrap();
    let _ = manager
        .login_with_agent_identity("x.y".parse().unwrap())
        .await;

    let output = capture.text();
    assert!(
        output.contains("load") && output.contains("registration") && output.contains("logout"),
        "{output}"
    );
    for secret in [
        "sk-TRACE-API-KEY-MARKER",
        "ACCESS-TOKEN-MARKER",
        "REFRESH-TOKEN-MARKER",
        env_record.agent_private_key().expose_secret(),
        file_record.agent_private_key().expose_secret(),
        env_jwt.as_str(),
        file_jwt.as_str(),
    ] {
        assert!(
            !output.contains(secret),
            "a secret reached the trace output"
        );
    }
}
