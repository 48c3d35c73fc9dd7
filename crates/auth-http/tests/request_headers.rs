//! Request credentials for every mode (`AuthManager::request_headers`), the
//! tokenless shape of a stored document, and the self-healing of a task id
//! the model service rejected, against loopback servers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_http::{HttpOptions, HttpTaskRegistrar, HttpTokenRefresher, RefreshConfig};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use core_auth::{
    AuthError, AuthManager, AuthSource, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR,
    UnauthorizedRecovery,
};
use ed25519_dalek::{Signature, Verifier as _};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _};
use login_storage::AuthMode;
use serde_json::{Value, json};

use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};
use test_support::{CountingRegistrar, TestEnv, config, id_token, identity};

/// A task registration service on loopback that hands out `task-1`,
/// `task-2`, ... and counts the registrations.
fn registration_service() -> (LoopbackServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = LoopbackServer::start(16, move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(200, json!({ "task_id": format!("task-{n}") }))
    });
    (server, issued)
}

fn http_registrar(server: &LoopbackServer) -> Arc<HttpTaskRegistrar> {
    Arc::new(
        HttpTaskRegistrar::new(&server.url())
            .unwrap()
            .with_options(HttpOptions::default().with_timeout(Duration::from_secs(10))),
    )
}

fn write_document(home: &Path, document: &Value) {
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

fn stored(home: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join("auth.json")).unwrap()).unwrap()
}

fn header<'a>(
    headers: &'a [(&'static str, login_agent_identity::SecretString)],
    name: &str,
) -> Option<&'a str> {
    headers
        .iter()
        .find(|(header, _)| *header == name)
        .map(|(_, value)| value.expose_secret())
}

/// The JSON object inside `AgentAssertion <token>`, with its signature
/// checked against `record`'s key.
fn verified_assertion(value: &str, record: &AgentIdentity) -> Value {
    let token = value.strip_prefix("AgentAssertion ").unwrap();
    let object: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap();
    let message = format!(
        "{}:{}:{}",
        object["agent_runtime_id"].as_str().unwrap(),
        object["task_id"].as_str().unwrap(),
        object["timestamp"].as_str().unwrap()
    );
    let signature = STANDARD
        .decode(object["signature"].as_str().unwrap())
        .unwrap();
    AgentIdentityKey::from_claims(record.claims())
        .unwrap()
        .verifying_key()
        .verify(
            message.as_bytes(),
            &Signature::from_slice(&signature).unwrap(),
        )
        .unwrap();
    object
}

#[tokio::test]
async fn api_key_auth_sends_a_bearer_header_only() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_API_KEY_VAR, "sk-headers-key");
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    let headers = manager.request_headers().await.unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(
        header(&headers, "Authorization"),
        Some("Bearer sk-headers-key")
    );
}

#[tokio::test]
async fn chatgpt_auth_sends_the_access_token_and_the_account_id() {
    let home = tempfile::tempdir().unwrap();
    let access = access_token(unix_now() + 3600, "FRESH-ACCESS");
    write_document(
        home.path(),
        &json!({"tokens": {
            "id_token": id_token("dev@example.com", "acct-id-token"),
            "access_token": access,
            "refresh_token": "rt-unused",
            "account_id": "acct-tokens",
        }}),
    );
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let headers = manager.request_headers().await.unwrap();
    assert_eq!(
        header(&headers, "Authorization"),
        Some(format!("Bearer {access}").as_str())
    );
    assert_eq!(header(&headers, "ChatGPT-Account-ID"), Some("acct-tokens"));
}

#[tokio::test]
async fn chatgpt_auth_refreshes_stale_tokens_before_building_the_header() {
    let home = tempfile::tempdir().unwrap();
    write_document(
        home.path(),
        &json!({"tokens": {
            "id_token": id_token("dev@example.com", "acct-from-id-token"),
            "access_token": access_token(unix_now() + 10, "STALE-ACCESS"),
            "refresh_token": "rt-stale",
        }}),
    );
    let new_access = access_token(unix_now() + 3600, "NEW-ACCESS");
    let server = LoopbackServer::always(
        4,
        Reply::json(
            200,
            json!({"access_token": new_access, "refresh_token": "rt-new"}),
        ),
    );
    let refresher =
        HttpTokenRefresher::new(RefreshConfig::new(server.url(), "client-test")).unwrap();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_token_refresher(Arc::new(refresher)),
    )
    .await
    .unwrap();
    let headers = manager.request_headers().await.unwrap();
    assert_eq!(server.request_count(), 1, "refreshed once");
    assert_eq!(
        header(&headers, "Authorization"),
        Some(format!("Bearer {new_access}").as_str())
    );
    assert_eq!(
        header(&headers, "ChatGPT-Account-ID"),
        Some("acct-from-id-token")
    );
    assert_eq!(stored(home.path())["tokens"]["refresh_token"], "rt-new");
}

#[tokio::test]
async fn agent_identity_registers_once_then_sends_a_verifiable_assertion_and_the_workspace() {
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws-headers", "rt-headers");
    write_document(home.path(), &json!({ "agent_identity": jwt }));
    let (server, issued) = registration_service();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(http_registrar(&server)),
    )
    .await
    .unwrap();

    let first = manager.request_headers().await.unwrap();
    let second = manager.request_headers().await.unwrap();

    assert_eq!(issued.load(Ordering::SeqCst), 1, "one registration");
    for headers in [&first, &second] {
        assert_eq!(headers.len(), 2);
        assert_eq!(header(headers, "ChatGPT-Account-ID"), Some("ws-headers"));
        let assertion = verified_assertion(header(headers, "Authorization").unwrap(), &record);
        assert_eq!(assertion["agent_runtime_id"], "rt-headers");
        assert_eq!(assertion["task_id"], "task-1");
    }
    assert_eq!(
        stored(home.path())["agent_identity"]["background_task_id"],
        "task-1"
    );
}

#[tokio::test]
async fn env_identity_headers_need_no_home_and_cache_the_task_in_memory() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("not-created-yet");
    let env = TestEnv::default();
    let (jwt, record) = identity("ws-env", "rt-env-headers");
    env.set(CODEX_AGENT_IDENTITY_VAR, &jwt);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager = AuthManager::load(config(&missing, &env).with_task_registrar(registrar.clone()))
        .await
        .unwrap();
    let headers = manager.request_headers().await.unwrap();
    manager.request_headers().await.unwrap();
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 1);
    verified_assertion(header(&headers, "Authorization").unwrap(), &record);
    assert!(
        !missing.exists(),
        "an environment identity never touches the home"
    );
}

#[tokio::test]
async fn no_auth_and_no_registrar_are_typed_errors() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    assert!(matches!(
        manager.request_headers().await.unwrap_err(),
        AuthError::NotLoggedIn
    ));

    let env = TestEnv::default();
    env.set(
        CODEX_AGENT_IDENTITY_VAR,
        &identity("ws", "rt-no-registrar").0,
    );
    let mut bare = config(home.path(), &env);
    bare.task_registrar = None;
    let manager = AuthManager::load(bare).await.unwrap();
    let error = manager.request_headers().await.unwrap_err();
    assert!(matches!(error, AuthError::NoTaskRegistrar), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL")
    );
}

#[tokio::test]
async fn a_failed_registration_is_a_typed_error_without_secrets() {
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws", "rt-refused");
    write_document(home.path(), &json!({ "agent_identity": jwt }));
    let server = LoopbackServer::always(4, Reply::text(503, "try later"));
    let registrar = Arc::new(
        HttpTaskRegistrar::new(&server.url())
            .unwrap()
            .with_options(HttpOptions::default().with_retries(1, Duration::from_millis(1))),
    );
    let manager =
        AuthManager::load(config(home.path(), &TestEnv::default()).with_task_registrar(registrar))
            .await
            .unwrap();
    let error = manager.request_headers().await.unwrap_err();
    assert!(matches!(error, AuthError::Registration(_)), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("503"), "{text}");
    assert!(!text.contains(record.agent_private_key().expose_secret()));
}

#[tokio::test]
async fn a_control_character_in_a_header_value_is_refused_without_showing_it() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_API_KEY_VAR, "sk-line\r\nX-Injected: 1");
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    let error = manager.request_headers().await.unwrap_err();
    assert!(
        matches!(
            error,
            AuthError::InvalidHeaderValue {
                header: "Authorization"
            }
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains("sk-line"));
}

#[tokio::test]
async fn a_rejected_task_id_is_dropped_and_the_next_request_registers_a_new_one() {
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws-heal", "rt-heal");
    write_document(home.path(), &json!({ "agent_identity": jwt, "future": 1 }));
    let (server, issued) = registration_service();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(http_registrar(&server)),
    )
    .await
    .unwrap();
    manager.request_headers().await.unwrap();
    assert_eq!(
        stored(home.path())["agent_identity"]["background_task_id"],
        "task-1"
    );

    // The model service answered 401 to the assertion for task-1.
    let recovery = manager.recover_unauthorized().await;
    assert!(
        matches!(recovery, UnauthorizedRecovery::TaskIdDropped),
        "{recovery:?}"
    );
    let after = stored(home.path());
    assert!(
        after["agent_identity"].get("background_task_id").is_none(),
        "{after}"
    );
    assert_eq!(after["future"], 1, "other keys kept");

    let headers = manager.request_headers().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2, "a new registration");
    let assertion = verified_assertion(header(&headers, "Authorization").unwrap(), &record);
    assert_eq!(assertion["task_id"], "task-2");
    assert_eq!(
        stored(home.path())["agent_identity"]["background_task_id"],
        "task-2"
    );
}

#[tokio::test]
async fn a_rejected_task_id_already_replaced_by_another_runtime_is_not_dropped() {
    let home = tempfile::tempdir().unwrap();
    let (jwt, _) = identity("ws-heal", "rt-replaced");
    write_document(home.path(), &json!({ "agent_identity": jwt }));
    let (server, issued) = registration_service();
    let a = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(http_registrar(&server)),
    )
    .await
    .unwrap();
    let b = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(http_registrar(&server)),
    )
    .await
    .unwrap();
    a.request_headers().await.unwrap();
    b.request_headers().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 1, "b adopted a's id");

    // Both got a 401 for task-1; a recovers first, registers task-2.
    assert!(matches!(
        a.recover_unauthorized().await,
        UnauthorizedRecovery::TaskIdDropped
    ));
    a.request_headers().await.unwrap();
    assert_eq!(
        stored(home.path())["agent_identity"]["background_task_id"],
        "task-2"
    );

    // b's recovery finds task-2 stored: it adopts it, and drops nothing.
    assert!(matches!(
        b.recover_unauthorized().await,
        UnauthorizedRecovery::Reloaded
    ));
    assert_eq!(
        stored(home.path())["agent_identity"]["background_task_id"],
        "task-2"
    );
    let cached = b
        .auth()
        .unwrap()
        .agent_identity()
        .unwrap()
        .background_task_id()
        .map(str::to_owned);
    assert_eq!(cached.as_deref(), Some("task-2"));
    b.request_headers().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2, "no third registration");
}

#[tokio::test]
async fn env_identity_recovery_drops_the_task_id_in_memory() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt-env-heal").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager =
        AuthManager::load(config(home.path(), &env).with_task_registrar(registrar.clone()))
            .await
            .unwrap();
    manager.request_headers().await.unwrap();
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::TaskIdDropped
    ));
    manager.request_headers().await.unwrap();
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "nothing on disk"
    );
}

#[tokio::test]
async fn tokenless_document_starts_as_an_agent_identity_whatever_auth_mode_says() {
    for declared in [Some("chatgpt"), Some("agentIdentity"), None] {
        let home = tempfile::tempdir().unwrap();
        let (jwt, _) = identity("ws-shape", "rt-shape");
        let mut document = json!({ "agent_identity": jwt });
        if let Some(mode) = declared {
            document["auth_mode"] = json!(mode);
        }
        write_document(home.path(), &document);
        let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
            .await
            .unwrap_or_else(|error| panic!("{declared:?}: {error}"));
        let auth = manager.auth().unwrap();
        assert_eq!(auth.mode(), AuthMode::AgentIdentity, "{declared:?}");
        assert_eq!(auth.source(), AuthSource::File);
        assert_eq!(auth.workspace_id(), Some("ws-shape"));

        // Caching a task id keeps auth_mode as read and stores the object.
        manager.ensure_background_task_id().await.unwrap();
        let written = stored(home.path());
        assert_eq!(
            written.get("auth_mode").and_then(Value::as_str),
            declared,
            "auth_mode kept"
        );
        assert!(written["agent_identity"].is_object());
    }
}
