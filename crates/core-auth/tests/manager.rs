//! The manager's life cycle: reload, subscribe, login, logout.

use std::sync::Arc;

use core_auth::{AuthError, AuthManager, AuthSource};
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::{AuthDotJson, AuthStore, EphemeralStore, FileStore, OsKeyring, StoreMode};
#[cfg(feature = "keyring")]
use login_storage::{KEYRING_SERVICE, Keyring};
use test_support::{TestEnv, config, identity, tokens};
#[cfg(feature = "keyring")]
use test_support::{keyring_account_for_home, secret_service_available};

#[tokio::test]
async fn reload_reports_a_login_by_another_process() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    assert!(!manager.reload().await.unwrap(), "nothing changed yet");
    FileStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-other".into()))
        .unwrap();
    assert!(manager.reload().await.unwrap());
    assert_eq!(manager.auth().unwrap().source(), AuthSource::File);
    assert!(!manager.reload().await.unwrap());
}

#[tokio::test]
async fn subscribers_are_notified_of_login_and_logout() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let mut changes = manager.subscribe();
    manager.login_with_api_key("sk-sub".into()).await.unwrap();
    changes.changed().await.unwrap();
    assert!(changes.borrow_and_update().is_some());
    manager.logout().await.unwrap();
    changes.changed().await.unwrap();
    assert!(changes.borrow_and_update().is_none());
}

#[tokio::test]
async fn login_with_agent_identity_stores_the_object_form() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let (jwt, record) = identity("ws-login", "rt-login");
    let auth = manager
        .login_with_agent_identity(jwt.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(auth.agent_identity(), Some(&record));
    let text = std::fs::read_to_string(home.path().join("auth.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stored["agent_identity"]["agent_runtime_id"], "rt-login");
    assert_eq!(stored["auth_mode"], "agentIdentity");
}

#[tokio::test]
async fn save_tokens_stores_chatgpt_auth() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let auth = manager.save_tokens(tokens("acct-1")).await.unwrap();
    assert_eq!(auth.workspace_id(), Some("acct-1"));
    let stored = FileStore::new(home.path()).load().unwrap().unwrap();
    assert!(stored.last_refresh.is_some());
}

#[tokio::test]
async fn failed_login_never_deletes_the_previous_credentials() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    manager.login_with_api_key("sk-old".into()).await.unwrap();
    let before = std::fs::read(home.path().join("auth.json")).unwrap();

    let invalid: AgentIdentityInput = "a.b".parse().unwrap();
    assert!(matches!(
        manager.login_with_agent_identity(invalid).await,
        Err(AuthError::InvalidAgentIdentity(_))
    ));
    assert!(matches!(
        manager.login_with_api_key("   ".into()).await,
        Err(AuthError::EmptyApiKey)
    ));

    assert_eq!(
        std::fs::read(home.path().join("auth.json")).unwrap(),
        before
    );
    assert_eq!(
        manager.auth().unwrap().api_key().unwrap().expose_secret(),
        "sk-old"
    );
}

#[tokio::test]
async fn logout_from_the_file_home_removes_auth_json() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    manager.login_with_api_key("sk-file".into()).await.unwrap();
    assert!(manager.logout().await.unwrap());
    assert!(!home.path().join("auth.json").exists());
    assert!(manager.auth().is_none());
    assert!(!manager.logout().await.unwrap(), "nothing left to remove");
}

#[tokio::test]
async fn logout_from_the_ephemeral_home_clears_memory() {
    let home = tempfile::tempdir().unwrap();
    let config = config(home.path(), &TestEnv::default()).with_store_mode(StoreMode::Ephemeral);
    let manager = AuthManager::load(config).await.unwrap();
    manager.login_with_api_key("sk-mem".into()).await.unwrap();
    assert_eq!(manager.auth().unwrap().source(), AuthSource::Ephemeral);
    assert!(!home.path().join("auth.json").exists());
    assert!(manager.logout().await.unwrap());
    assert!(EphemeralStore::new(home.path()).load().unwrap().is_none());
}

#[cfg(feature = "keyring")]
#[tokio::test]
async fn logout_from_the_keyring_home_removes_the_entry_and_a_leftover_file() {
    let test = "logout_from_the_keyring_home_removes_the_entry_and_a_leftover_file";
    if !secret_service_available(test) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(OsKeyring);
    let config = config(home.path(), &TestEnv::default())
        .with_store_mode(StoreMode::Keyring)
        .with_keyring(keyring.clone());
    let manager = AuthManager::load(config).await.unwrap();
    manager.login_with_api_key("sk-ring".into()).await.unwrap();
    let account = keyring_account_for_home(home.path());
    assert!(keyring.load(KEYRING_SERVICE, &account).unwrap().is_some());
    FileStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-leftover".into()))
        .unwrap();
    assert!(manager.logout().await.unwrap());
    assert!(keyring.load(KEYRING_SERVICE, &account).unwrap().is_none());
    assert!(!home.path().join("auth.json").exists());
}

#[cfg(feature = "keyring")]
#[tokio::test]
async fn logout_from_the_real_keyring_home_removes_the_entry() {
    if !secret_service_available("logout_from_the_real_keyring_home_removes_the_entry") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let config = config(home.path(), &TestEnv::default())
        .with_store_mode(StoreMode::Keyring)
        .with_keyring(Arc::new(OsKeyring));
    let manager = AuthManager::load(config.clone()).await.unwrap();
    manager
        .login_with_api_key("sk-real-ring".into())
        .await
        .unwrap();
    let account = keyring_account_for_home(home.path());
    assert!(OsKeyring.load(KEYRING_SERVICE, &account).unwrap().is_some());
    assert_eq!(
        AuthManager::load(config)
            .await
            .unwrap()
            .auth()
            .unwrap()
            .source(),
        AuthSource::Keyring
    );
    assert!(manager.logout().await.unwrap());
    assert!(OsKeyring.load(KEYRING_SERVICE, &account).unwrap().is_none());
}

#[cfg(not(feature = "keyring"))]
#[tokio::test]
async fn without_the_keyring_feature_keyring_mode_fails_naming_the_feature_and_auto_keeps_to_the_file()
 {
    let home = tempfile::tempdir().unwrap();
    let keyring = config(home.path(), &TestEnv::default())
        .with_store_mode(StoreMode::Keyring)
        .with_keyring(Arc::new(OsKeyring));
    let error = AuthManager::load(keyring.clone()).await.unwrap_err();
    assert!(error.to_string().contains("`keyring` feature"), "{error}");
    let error = AuthManager::writer(keyring)
        .login_with_api_key("sk-no-keyring".into())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("`keyring` feature"), "{error}");
    assert!(!home.path().join("auth.json").exists(), "nothing written");

    let auto = config(home.path(), &TestEnv::default())
        .with_store_mode(StoreMode::Auto)
        .with_keyring(Arc::new(OsKeyring));
    let manager = AuthManager::load(auto).await.unwrap();
    manager
        .login_with_api_key("sk-auto-file".into())
        .await
        .unwrap();
    assert!(home.path().join("auth.json").exists());
}

#[tokio::test]
async fn logout_clears_a_home_that_is_not_configured() {
    let home = tempfile::tempdir().unwrap();
    FileStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-old-file".into()))
        .unwrap();
    let config = config(home.path(), &TestEnv::default()).with_store_mode(StoreMode::Ephemeral);
    let manager = AuthManager::load(config).await.unwrap();
    assert!(manager.logout().await.unwrap());
    assert!(!home.path().join("auth.json").exists());
}
