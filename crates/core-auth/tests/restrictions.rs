//! Workspace and login-method restrictions, at load and at login.

use core_auth::{AuthError, AuthManager, ForcedLoginMethod};
use login_agent_identity::AgentIdentityInput;
use login_storage::{AuthDotJson, AuthStore, FileStore};

use test_support::{TestEnv, config, identity, tokens};

fn store_identity(home: &std::path::Path, workspace: &str) {
    let (_, record) = identity(workspace, "rt");
    FileStore::new(home)
        .save(&AuthDotJson::with_agent_identity(record))
        .unwrap();
}

#[tokio::test]
async fn forced_workspace_matching_the_identity_passes() {
    let home = tempfile::tempdir().unwrap();
    store_identity(home.path(), "ws-ok");
    let config = config(home.path(), &TestEnv::default()).with_forced_workspace_id("ws-ok");
    assert!(AuthManager::load(config).await.unwrap().auth().is_some());
}

#[tokio::test]
async fn forced_workspace_mismatch_at_load_logs_out_of_every_home_and_names_both() {
    let home = tempfile::tempdir().unwrap();
    store_identity(home.path(), "ws-other");
    let config = config(home.path(), &TestEnv::default()).with_forced_workspace_id("ws-required");
    let error = AuthManager::load(config).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, AuthError::WorkspaceRestriction { .. }));
    assert!(
        message.contains("ws-required") && message.contains("ws-other"),
        "{message}"
    );
    assert!(
        !home.path().join("auth.json").exists(),
        "the violating credentials are removed"
    );
}

#[tokio::test]
async fn forced_workspace_compares_chatgpt_account_id_for_tokens() {
    let home = tempfile::tempdir().unwrap();
    let document = AuthDotJson {
        tokens: Some(tokens("acct-a")),
        ..AuthDotJson::default()
    };
    FileStore::new(home.path()).save(&document).unwrap();
    let ok = config(home.path(), &TestEnv::default()).with_forced_workspace_id("acct-a");
    assert!(AuthManager::load(ok).await.unwrap().auth().is_some());
    let bad = config(home.path(), &TestEnv::default()).with_forced_workspace_id("acct-b");
    let message = AuthManager::load(bad).await.unwrap_err().to_string();
    assert!(
        message.contains("acct-b") && message.contains("acct-a"),
        "{message}"
    );
}

#[tokio::test]
async fn api_key_passes_a_workspace_restriction() {
    let home = tempfile::tempdir().unwrap();
    FileStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-x".into()))
        .unwrap();
    let config = config(home.path(), &TestEnv::default()).with_forced_workspace_id("ws-any");
    assert!(AuthManager::load(config).await.unwrap().auth().is_some());
}

#[tokio::test]
async fn api_key_fails_a_workspace_restriction_when_chatgpt_is_forced() {
    let home = tempfile::tempdir().unwrap();
    FileStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-x".into()))
        .unwrap();
    let config = config(home.path(), &TestEnv::default())
        .with_forced_workspace_id("ws-any")
        .with_forced_login_method(ForcedLoginMethod::Chatgpt);
    let error = AuthManager::load(config).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuthError::LoginMethodRestriction {
                required: "ChatGPT",
                ..
            }
        ),
        "{error}"
    );
    assert!(!home.path().join("auth.json").exists());
}

#[tokio::test]
async fn forced_api_key_method_refuses_an_agent_identity() {
    let home = tempfile::tempdir().unwrap();
    store_identity(home.path(), "ws");
    let config = config(home.path(), &TestEnv::default())
        .with_forced_login_method(ForcedLoginMethod::ApiKey);
    let message = AuthManager::load(config).await.unwrap_err().to_string();
    assert!(
        message.contains("API key") && message.contains("agent identity"),
        "{message}"
    );
}

#[tokio::test]
async fn login_violating_a_restriction_is_refused_and_keeps_the_old_credentials() {
    let home = tempfile::tempdir().unwrap();
    store_identity(home.path(), "ws-good");
    let before = std::fs::read(home.path().join("auth.json")).unwrap();
    let config = config(home.path(), &TestEnv::default()).with_forced_workspace_id("ws-good");
    let manager = AuthManager::load(config).await.unwrap();
    let (jwt, _) = identity("ws-evil", "rt");
    let input: AgentIdentityInput = jwt.parse().unwrap();
    let error = manager.login_with_agent_identity(input).await.unwrap_err();
    assert!(matches!(error, AuthError::WorkspaceRestriction { .. }));
    assert_eq!(
        std::fs::read(home.path().join("auth.json")).unwrap(),
        before
    );
    assert_eq!(manager.auth().unwrap().workspace_id(), Some("ws-good"));
}
