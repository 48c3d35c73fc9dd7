//! ChatGPT tokens without an `id_token`, as the mirrored CLI may write
//! them: they load, the account comes from `tokens.account_id`, and the
//! restrictions and request headers use it.

use core_auth::{ACCOUNT_ID_HEADER, AUTHORIZATION_HEADER, AuthError, AuthManager};
use login_agent_identity::ExposeSecret as _;
use login_storage::AuthMode;
use serde_json::json;

use test_support::loopback::{access_token, unix_now};
use test_support::{TestEnv, config};

fn write_without_id_token(home: &std::path::Path, access: &str) {
    let document = json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "access_token": access,
            "refresh_token": "rt-NO-ID",
            "account_id": "acct-no-id",
        },
        "last_refresh": "2026-01-01T00:00:00Z",
    });
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

#[tokio::test]
async fn chatgpt_tokens_without_an_id_token_load_with_the_account_from_account_id() {
    let home = tempfile::tempdir().unwrap();
    let access = access_token(unix_now() + 3600, "NO-ID-ACCESS");
    write_without_id_token(home.path(), &access);
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let auth = manager.auth().unwrap();
    assert_eq!(auth.mode(), AuthMode::Chatgpt);
    assert!(auth.id_token_claims().is_none());
    assert_eq!(auth.account_email(), None);
    assert_eq!(auth.workspace_id(), Some("acct-no-id"));

    let headers = manager.request_headers().await.unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.expose_secret().to_owned())
    };
    assert_eq!(
        header(AUTHORIZATION_HEADER),
        Some(format!("Bearer {access}"))
    );
    assert_eq!(header(ACCOUNT_ID_HEADER).as_deref(), Some("acct-no-id"));
}

#[tokio::test]
async fn the_workspace_restriction_reads_account_id_when_there_is_no_id_token() {
    let home = tempfile::tempdir().unwrap();
    let access = access_token(unix_now() + 3600, "NO-ID-ACCESS");
    write_without_id_token(home.path(), &access);
    let allowed = config(home.path(), &TestEnv::default()).with_forced_workspace_id("acct-no-id");
    assert!(AuthManager::load(allowed).await.unwrap().auth().is_some());

    let refused =
        config(home.path(), &TestEnv::default()).with_forced_workspace_id("acct-required");
    let error = AuthManager::load(refused).await.unwrap_err();
    match error {
        AuthError::WorkspaceRestriction { required, found } => {
            assert_eq!(required, "acct-required");
            assert_eq!(found.as_deref(), Some("acct-no-id"));
        }
        other => panic!("unexpected error: {other:?}"),
    }
}
