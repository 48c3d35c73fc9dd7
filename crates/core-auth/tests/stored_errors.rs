//! Each way a stored document can fail startup, by its error's name: a
//! document that declares a mode without that mode's credential, an
//! unknown mode, an invalid agent identity. None of them may come out as
//! "not logged in".

use core_auth::{AuthError, AuthManager};
use serde_json::{Value, json};
use test_support::{TestEnv, config, jwt_with_payload, tokens};

/// The startup error of a home whose `auth.json` is `document`.
async fn startup_error(document: &Value) -> AuthError {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::to_vec(document).unwrap(),
    )
    .unwrap();
    match AuthManager::load(config(home.path(), &TestEnv::default())).await {
        Ok(manager) => panic!(
            "{document}: started as {:?} instead of failing",
            manager.auth().map(|auth| auth.mode())
        ),
        Err(error) => error,
    }
}

/// A JWT whose claims break the identity rules (no claim is right).
fn invalid_identity_jwt() -> String {
    jwt_with_payload(&json!({ "workspace_id": 7 }))
}

#[tokio::test]
async fn a_declared_mode_without_its_credential_is_incomplete_stored_auth() {
    for (mode, missing) in [
        ("apikey", "OPENAI_API_KEY"),
        ("chatgpt", "tokens"),
        ("agentIdentity", "agent_identity"),
    ] {
        let document = json!({ "auth_mode": mode });
        let error = startup_error(&document).await;
        match &error {
            AuthError::IncompleteStoredAuth {
                location,
                mode: named,
                missing: what,
            } => {
                assert_eq!(location, "file", "{mode}");
                assert_eq!(named, mode);
                assert_eq!(*what, missing, "{mode}");
            }
            other => panic!("{mode}: expected IncompleteStoredAuth, got {other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains(mode) && message.contains(missing),
            "{message}"
        );
    }
    // An API key mode beside tokens still needs the key itself.
    let document = json!({ "auth_mode": "apikey", "tokens": tokens("acct") });
    let error = startup_error(&document).await;
    assert!(
        matches!(&error, AuthError::IncompleteStoredAuth { missing, .. } if *missing == "OPENAI_API_KEY"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_auth_mode_is_unsupported_mode_naming_it() {
    for document in [
        json!({ "auth_mode": "futureMode", "OPENAI_API_KEY": "sk-key" }),
        json!({ "auth_mode": "futureMode" }),
        json!({ "auth_mode": "ApiKey", "OPENAI_API_KEY": "sk-key" }),
    ] {
        let error = startup_error(&document).await;
        let expected = document["auth_mode"].as_str().unwrap();
        match &error {
            AuthError::UnsupportedMode { location, mode } => {
                assert_eq!(location, "file", "{document}");
                assert_eq!(mode, expected, "{document}");
            }
            other => panic!("{document}: expected UnsupportedMode, got {other:?}"),
        }
        assert!(!error.to_string().contains("sk-key"), "{error}");
    }
}

#[tokio::test]
async fn an_invalid_stored_identity_fails_startup_beside_tokens_and_alone() {
    let jwt = invalid_identity_jwt();
    for document in [
        // Tokenless: agentIdentity mode, declared or not.
        json!({ "agent_identity": jwt }),
        json!({ "auth_mode": "agentIdentity", "agent_identity": jwt }),
        // Beside ChatGPT tokens, declared or not.
        json!({ "tokens": tokens("acct"), "agent_identity": jwt }),
        json!({ "auth_mode": "chatgpt", "tokens": tokens("acct"), "agent_identity": jwt }),
    ] {
        let error = startup_error(&document).await;
        assert!(
            matches!(&error, AuthError::InvalidStoredAgentIdentity { location, .. } if location == "file"),
            "{document}: {error:?}"
        );
        assert!(error.to_string().contains("workspace_id"), "{error}");
    }
}
