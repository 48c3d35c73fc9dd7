//! Startup resolution: each numbered step, and every precedence pair.

use std::sync::Arc;

use core_auth::{
    AuthConfig, AuthError, AuthManager, AuthSource, CODEX_AGENT_IDENTITY_VAR, CODEX_HOME_VAR,
    MapEnv,
};
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::{AuthDotJson, AuthMode, AuthStore, EphemeralStore, FileStore, StoreMode};

use test_support::{TestEnv, config, identity, tokens};

fn write_file(home: &std::path::Path, document: &AuthDotJson) {
    FileStore::new(home).save(document).unwrap();
}

#[tokio::test]
async fn step1_env_api_key_authenticates_from_the_environment() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set("CODEX_API_KEY", " sk-env-key \n");
    let auth = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.mode(), AuthMode::ApiKey);
    assert_eq!(auth.source(), AuthSource::EnvApiKey);
    assert_eq!(auth.api_key().unwrap().expose_secret(), "sk-env-key");
}

#[tokio::test]
async fn step2_env_agent_identity_starts_tokenless_and_is_never_written_to_disk() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let (jwt, record) = identity("ws-env", "rt-env");
    env.set("CODEX_AGENT_IDENTITY", &jwt);
    let auth = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.mode(), AuthMode::AgentIdentity);
    assert_eq!(auth.source(), AuthSource::EnvAgentIdentity);
    assert_eq!(auth.agent_identity().unwrap(), &record);
    assert_eq!(auth.workspace_id(), Some("ws-env"));
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "nothing may be written to the home"
    );
}

#[tokio::test]
async fn step2_env_agent_identity_accepts_the_object_form() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let (_, record) = identity("ws-obj", "rt-obj");
    env.set(
        "CODEX_AGENT_IDENTITY",
        &serde_json::to_string(&record).unwrap(),
    );
    let auth = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.agent_identity().unwrap(), &record);
}

#[tokio::test]
async fn step2_invalid_env_agent_identity_fails_startup_instead_of_falling_through() {
    let home = tempfile::tempdir().unwrap();
    write_file(home.path(), &AuthDotJson::with_api_key("sk-stored".into()));
    let env = TestEnv::default();
    env.set("CODEX_AGENT_IDENTITY", "header.payload");
    let error = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::InvalidEnvAgentIdentity(_)));
    let message = error.to_string();
    assert!(
        message.contains("CODEX_AGENT_IDENTITY") && message.contains("segment"),
        "{message}"
    );
}

#[tokio::test]
async fn step3_ephemeral_store_is_used_when_the_environment_is_empty() {
    let home = tempfile::tempdir().unwrap();
    EphemeralStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-memory".into()))
        .unwrap();
    write_file(home.path(), &AuthDotJson::with_api_key("sk-file".into()));
    let auth = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.source(), AuthSource::Ephemeral);
    assert_eq!(auth.api_key().unwrap().expose_secret(), "sk-memory");
}

#[tokio::test]
async fn step4_stored_identity_without_tokens_starts_tokenless() {
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws-file", "rt-file");
    let document = AuthDotJson {
        agent_identity: Some(jwt.parse().unwrap()),
        ..AuthDotJson::default()
    };
    // Written by hand so the JWT stays a string, as a launcher would leave it.
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({"agent_identity": jwt}).to_string(),
    )
    .unwrap();
    assert_eq!(document.resolved_mode(), Some(AuthMode::AgentIdentity));
    let auth = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.mode(), AuthMode::AgentIdentity);
    assert_eq!(auth.source(), AuthSource::File);
    assert_eq!(auth.agent_identity().unwrap(), &record);
}

#[tokio::test]
async fn step4_stored_chatgpt_tokens_expose_workspace_and_email() {
    let home = tempfile::tempdir().unwrap();
    let (_, record) = identity("ws-beside", "rt-beside");
    let document = AuthDotJson {
        tokens: Some(tokens("acct-7")),
        agent_identity: Some(AgentIdentityInput::Object(record.clone())),
        ..AuthDotJson::default()
    };
    write_file(home.path(), &document);
    let auth = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.mode(), AuthMode::Chatgpt);
    assert_eq!(auth.workspace_id(), Some("acct-7"));
    assert_eq!(auth.account_email(), Some("dev@example.com"));
    assert_eq!(auth.agent_identity(), Some(&record));
}

/// Against the real Secret Service of `cargo xtask test` (elsewhere it
/// prints why it skips).
#[cfg(feature = "keyring")]
#[tokio::test]
async fn step4_keyring_home_is_read_in_keyring_mode() {
    if !test_support::secret_service_available("step4_keyring_home_is_read_in_keyring_mode") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let config = config(home.path(), &env)
        .with_store_mode(StoreMode::Keyring)
        .with_keyring(Arc::new(login_storage::OsKeyring));
    let first = AuthManager::load(config.clone()).await.unwrap();
    first.login_with_api_key("sk-keyring".into()).await.unwrap();
    assert!(!home.path().join("auth.json").exists());
    let second = AuthManager::load(config).await.unwrap();
    assert_eq!(second.auth().unwrap().source(), AuthSource::Keyring);
    assert!(second.logout().await.unwrap(), "the entry is removed again");
}

#[tokio::test]
async fn step5_nothing_found_is_not_logged_in() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    assert!(manager.auth().is_none());
}

#[tokio::test]
async fn corrupt_auth_json_fails_startup_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        "{\"OPENAI_API_KEY\": \"sk-half",
    )
    .unwrap();
    let error = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("auth.json") && message.contains("line 1"),
        "{message}"
    );
    assert!(!message.contains("sk-half"), "{message}");
}

#[tokio::test]
async fn env_api_key_takes_precedence_over_env_identity() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set("CODEX_API_KEY", "sk-env");
    env.set("CODEX_AGENT_IDENTITY", &identity("ws", "rt").0);
    let auth = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.source(), AuthSource::EnvApiKey);
}

#[tokio::test]
async fn env_identity_takes_precedence_over_storage() {
    let home = tempfile::tempdir().unwrap();
    write_file(home.path(), &AuthDotJson::with_api_key("sk-file".into()));
    EphemeralStore::new(home.path())
        .save(&AuthDotJson::with_api_key("sk-memory".into()))
        .unwrap();
    let env = TestEnv::default();
    env.set("CODEX_AGENT_IDENTITY", &identity("ws", "rt").0);
    let auth = AuthManager::load(config(home.path(), &env))
        .await
        .unwrap()
        .auth()
        .unwrap();
    assert_eq!(auth.source(), AuthSource::EnvAgentIdentity);
    EphemeralStore::new(home.path()).delete().unwrap();
}

#[tokio::test]
async fn env_auth_is_ignored_when_disabled_or_blank() {
    let home = tempfile::tempdir().unwrap();
    write_file(home.path(), &AuthDotJson::with_api_key("sk-file".into()));
    let env = TestEnv::default();
    env.set("CODEX_API_KEY", "sk-env");
    let disabled = config(home.path(), &env).with_env_auth(false);
    assert_eq!(
        AuthManager::load(disabled)
            .await
            .unwrap()
            .auth()
            .unwrap()
            .source(),
        AuthSource::File
    );
    let blank = TestEnv::default();
    blank.set("CODEX_API_KEY", "  ");
    blank.set("CODEX_AGENT_IDENTITY", "\n");
    assert_eq!(
        AuthManager::load(config(home.path(), &blank))
            .await
            .unwrap()
            .auth()
            .unwrap()
            .source(),
        AuthSource::File
    );
}

#[tokio::test]
async fn openai_api_key_variable_is_not_a_startup_source() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set("OPENAI_API_KEY", "sk-shell");
    assert!(
        AuthManager::load(config(home.path(), &env))
            .await
            .unwrap()
            .auth()
            .is_none()
    );
}

#[test]
fn config_from_env_takes_a_missing_codex_home_as_an_empty_home_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("not-created-yet");
    let env = MapEnv::new().with(CODEX_HOME_VAR, missing.to_string_lossy());
    let config = AuthConfig::from_env_source(Arc::new(env)).unwrap();
    assert_eq!(config.codex_home, missing);
    assert!(!missing.exists());
}

#[test]
fn config_refuses_a_codex_home_that_is_a_file_from_the_environment_or_given() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("file");
    std::fs::write(&file, "").unwrap();
    let env = MapEnv::new().with(CODEX_HOME_VAR, file.to_string_lossy());
    let message = AuthConfig::from_env_source(Arc::new(env))
        .unwrap_err()
        .to_string();
    assert!(message.contains("CODEX_HOME"), "{message}");
    assert!(message.contains("is not a directory"), "{message}");
    let given = AuthConfig::from_env_source_with_home(Arc::new(MapEnv::new()), Some(file.clone()))
        .unwrap_err()
        .to_string();
    assert!(given.contains("is not a directory"), "{given}");
}

#[test]
fn config_with_a_given_home_follows_the_same_rule_and_takes_precedence() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("given-missing");
    let env = MapEnv::new().with(CODEX_HOME_VAR, home.path().to_string_lossy());
    let config =
        AuthConfig::from_env_source_with_home(Arc::new(env), Some(missing.clone())).unwrap();
    assert_eq!(config.codex_home, missing);
    assert!(!missing.exists());
}

#[tokio::test]
async fn missing_home_loads_as_logged_out_and_environment_identity_never_creates_it() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("not-created-yet");
    let env = TestEnv::default();
    let manager = AuthManager::load(config(&missing, &env)).await.unwrap();
    assert!(manager.auth().is_none());
    assert!(!missing.exists(), "reading must not create the home");

    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws-env", "rt-env").0);
    let manager = AuthManager::load(config(&missing, &env)).await.unwrap();
    assert!(manager.auth().is_some());
    assert!(
        !missing.exists(),
        "an environment identity never touches the home"
    );
    manager.logout().await.unwrap();
    assert!(
        !missing.exists(),
        "a logout with nothing stored creates nothing"
    );

    manager
        .login_with_api_key("sk-first-write".into())
        .await
        .unwrap();
    let mode = std::fs::metadata(&missing).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o700,
        "created 0700 on the first write"
    );
}

#[test]
fn config_from_env_reads_home_and_store() {
    let home = tempfile::tempdir().unwrap();
    let env = MapEnv::new()
        .with(CODEX_HOME_VAR, home.path().to_string_lossy())
        .with("CODEX_AUTH_STORE", "keyring");
    let config = AuthConfig::from_env_source(Arc::new(env)).unwrap();
    assert_eq!(config.codex_home, home.path());
    assert_eq!(config.store_mode, StoreMode::Keyring);
    let bad = MapEnv::new()
        .with(CODEX_HOME_VAR, home.path().to_string_lossy())
        .with("CODEX_AUTH_STORE", "cloud");
    let message = AuthConfig::from_env_source(Arc::new(bad))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("CODEX_AUTH_STORE") && message.contains("cloud"),
        "{message}"
    );
}

#[test]
fn config_from_env_defaults_to_dot_codex_in_the_home_directory() {
    let config = AuthConfig::from_env_source(Arc::new(MapEnv::new())).unwrap();
    assert!(config.codex_home.ends_with(".codex"));
    assert_eq!(config.store_mode, StoreMode::File);
}
