//! `HttpTaskRegistrar` against loopback servers: plain and sealed ids,
//! missing ids, 4xx, 5xx then success, timeouts, refused connections, the
//! signature, the base URL, and no secret in any error.

use std::sync::Arc;
use std::time::Duration;

use auth_http::{
    CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR, HttpError, HttpOptions, HttpTaskRegistrar,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use core_auth::{AuthManager, MapEnv, TaskRegistrar};
use ed25519_dalek::{Signature, Verifier as _};
use login_agent_identity::{AgentIdentityKey, ExposeSecret as _};
use sha2::{Digest as _, Sha512};

use test_support::loopback::{LoopbackServer, Reply, Request, closed_port_url};
use test_support::{TestEnv, config, identity};

fn fast(registrar: HttpTaskRegistrar) -> HttpTaskRegistrar {
    registrar.with_options(
        HttpOptions::default()
            .with_timeout(Duration::from_secs(5))
            .with_retries(3, Duration::from_millis(10)),
    )
}

fn registrar_for(server: &LoopbackServer) -> HttpTaskRegistrar {
    fast(HttpTaskRegistrar::new(&server.url()).unwrap())
}

/// The agent's X25519 public key, derived here independently of the crate:
/// SHA-512 of the Ed25519 seed, first 32 bytes, clamped.
fn sealed_box_public_key(key: &AgentIdentityKey) -> crypto_box::PublicKey {
    let digest = Sha512::digest(key.seed().as_slice());
    let mut scalar = [0u8; 32];
    scalar.copy_from_slice(&digest[..32]);
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
    crypto_box::SecretKey::from_bytes(scalar).public_key()
}

fn seal(key: &AgentIdentityKey, task_id: &str) -> String {
    let sealed = sealed_box_public_key(key)
        .seal(&mut crypto_box::aead::OsRng, task_id.as_bytes())
        .unwrap();
    STANDARD.encode(sealed)
}

/// Checks the request's path, timestamp and signature; returns the
/// signature (a secret no error may contain).
fn check_signed_request(request: &Request, key: &AgentIdentityKey) -> String {
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v1/agent/{}/task/register", key.agent_runtime_id())
    );
    assert!(
        request
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = request.json();
    let timestamp = body["timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), "2026-01-01T00:00:00Z".len(), "{timestamp}");
    assert!(timestamp.ends_with('Z'), "{timestamp}");
    let parsed =
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let skew = (time::OffsetDateTime::now_utc() - parsed)
        .whole_seconds()
        .abs();
    assert!(skew < 120, "timestamp {timestamp} is not now");
    let signature = body["signature"].as_str().unwrap();
    let bytes: [u8; 64] = STANDARD.decode(signature).unwrap().try_into().unwrap();
    let message = format!("{}:{timestamp}", key.agent_runtime_id());
    key.verifying_key()
        .verify(message.as_bytes(), &Signature::from_bytes(&bytes))
        .expect("the signature verifies with the identity's public key");
    signature.to_owned()
}

fn assert_no_secret(text: &str, key: &AgentIdentityKey, signatures: &[String]) {
    for signature in signatures {
        assert!(
            !text.contains(signature.as_str()),
            "signature leaked: {text}"
        );
    }
    assert!(
        !text.contains(key.private_key_pkcs8_base64().expose_secret()),
        "private key leaked"
    );
    assert!(
        !text.contains(&STANDARD.encode(key.seed().as_slice())),
        "seed leaked"
    );
}

#[tokio::test]
async fn plain_task_id_is_returned_and_the_signature_verifies() {
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({"task_id": "task-plain"})),
    );
    let key = AgentIdentityKey::generate("rt-plain");
    let task_id = registrar_for(&server).register(&key).unwrap();
    assert_eq!(task_id, "task-plain");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    check_signed_request(&requests[0], &key);
}

#[tokio::test]
async fn camel_case_task_id_is_accepted() {
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({"taskId": "task-camel"})),
    );
    let key = AgentIdentityKey::generate("rt-camel");
    assert_eq!(registrar_for(&server).register(&key).unwrap(), "task-camel");
}

#[tokio::test]
async fn runtime_id_is_one_encoded_path_segment() {
    let server = LoopbackServer::always(4, Reply::json(200, serde_json::json!({"task_id": "t"})));
    let key = AgentIdentityKey::generate("rt/with space");
    registrar_for(&server).register(&key).unwrap();
    assert_eq!(
        server.requests()[0].path,
        "/v1/agent/rt%2Fwith%20space/task/register"
    );
}

#[tokio::test]
async fn encrypted_task_id_is_opened_with_the_key_derived_from_the_seed() {
    for field in ["encrypted_task_id", "encryptedTaskId"] {
        let key = AgentIdentityKey::generate("rt-sealed");
        let sealed = seal(&key, "task-sealed-42");
        let server =
            LoopbackServer::always(4, Reply::json(200, serde_json::json!({ field: sealed })));
        let task_id = registrar_for(&server).register(&key).unwrap();
        assert_eq!(task_id, "task-sealed-42", "{field}");
        check_signed_request(&server.requests()[0], &key);
    }
}

#[tokio::test]
async fn task_id_sealed_to_another_agent_is_refused() {
    let key = AgentIdentityKey::generate("rt-mine");
    let other = AgentIdentityKey::generate("rt-other");
    let server = LoopbackServer::always(
        4,
        Reply::json(
            200,
            serde_json::json!({"encrypted_task_id": seal(&other, "task-x")}),
        ),
    );
    let error = registrar_for(&server).register(&key).unwrap_err();
    assert!(
        matches!(error, HttpError::InvalidResponse { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("cannot be opened"), "{error}");
    assert_no_secret(&format!("{error} {error:?}"), &key, &[]);
}

#[tokio::test]
async fn answer_without_a_task_id_is_an_error() {
    for body in [
        serde_json::json!({"status": "ok"}),
        serde_json::json!({"task_id": ""}),
        serde_json::json!({"task_id": null}),
    ] {
        let server = LoopbackServer::always(4, Reply::json(200, body.clone()));
        let key = AgentIdentityKey::generate("rt-missing");
        let error = registrar_for(&server).register(&key).unwrap_err();
        assert!(
            matches!(error, HttpError::InvalidResponse { .. }),
            "{body}: {error:?}"
        );
        assert!(error.to_string().contains("task_id"), "{error}");
        assert_eq!(server.request_count(), 1, "a 2xx is never retried");
    }
}

#[tokio::test]
async fn client_error_is_not_retried_and_its_body_is_cut_and_redacted() {
    // The server echoes the request (signature included) in a long body.
    let server = LoopbackServer::start(8, |request| {
        Reply::text(
            403,
            format!("forbidden: {} {}", request.body, "x".repeat(2000)),
        )
    });
    let key = AgentIdentityKey::generate("rt-403");
    let registrar = registrar_for(&server);
    let error = registrar.register(&key).unwrap_err();
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "a 4xx is not retried");
    let signature = check_signed_request(&requests[0], &key);
    let HttpError::Status {
        status,
        attempts,
        body,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!((*status, *attempts), (403, 1));
    assert!(body.starts_with("forbidden: "), "{body}");
    assert!(body.chars().count() <= auth_http::MAX_ERROR_BODY_CHARS + 1);
    assert!(body.contains("<redacted>"), "{body}");
    let text = format!("{error} {error:?} {registrar:?}");
    assert_no_secret(&text, &key, &[signature]);
}

#[tokio::test]
async fn server_error_then_success_is_retried_with_a_fresh_signature() {
    let server = LoopbackServer::sequence(vec![
        Reply::text(503, "busy"),
        Reply::json(200, serde_json::json!({"task_id": "task-after-retry"})),
    ]);
    let key = AgentIdentityKey::generate("rt-503");
    let task_id = registrar_for(&server).register(&key).unwrap();
    assert_eq!(task_id, "task-after-retry");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        check_signed_request(request, &key);
    }
}

#[tokio::test]
async fn server_errors_stop_after_the_bounded_attempts() {
    let server = LoopbackServer::always(10, Reply::text(500, "down"));
    let key = AgentIdentityKey::generate("rt-500");
    let error = registrar_for(&server).register(&key).unwrap_err();
    assert_eq!(server.request_count(), 3);
    assert!(
        matches!(
            error,
            HttpError::Status {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn slow_server_times_out_without_retry() {
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({"task_id": "too-late"}))
            .delayed(Duration::from_secs(2)),
    );
    let key = AgentIdentityKey::generate("rt-slow");
    let registrar = HttpTaskRegistrar::new(&server.url()).unwrap().with_options(
        HttpOptions::default()
            .with_timeout(Duration::from_millis(300))
            .with_retries(3, Duration::from_millis(10)),
    );
    // Without the timeout the server's late answer would be a success.
    let error = registrar.register(&key).unwrap_err();
    assert!(matches!(error, HttpError::Timeout { .. }), "{error:?}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    let registrar = fast(HttpTaskRegistrar::new(&closed_port_url()).unwrap());
    let key = AgentIdentityKey::generate("rt-refused");
    let error = registrar.register(&key).unwrap_err();
    assert!(
        matches!(error, HttpError::Connect { attempts: 3, .. }),
        "{error:?}"
    );
}

#[test]
fn base_url_comes_from_configuration_with_the_environment_overriding_it() {
    let empty = MapEnv::new();
    let configured =
        HttpTaskRegistrar::from_env(&empty, Some("https://auth.example.com/api/")).unwrap();
    assert_eq!(configured.base_url(), "https://auth.example.com/api");
    assert_eq!(configured.options().timeout, Duration::from_secs(30));
    let server = LoopbackServer::always(
        2,
        Reply::json(200, serde_json::json!({"task_id": "task-url"})),
    );
    let prefixed =
        HttpTaskRegistrar::from_env(&empty, Some(&format!("{}/api/", server.url()))).unwrap();
    fast(prefixed)
        .register(&AgentIdentityKey::generate("rt-1"))
        .unwrap();
    assert_eq!(
        server.requests()[0].path,
        "/api/v1/agent/rt-1/task/register",
        "the base URL's path is kept and its trailing slash dropped"
    );

    let env = MapEnv::new().with(
        CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR,
        "  http://127.0.0.1:9/base//  ",
    );
    let overridden = HttpTaskRegistrar::from_env(&env, Some("https://auth.example.com")).unwrap();
    assert_eq!(overridden.base_url(), "http://127.0.0.1:9/base");

    let blank = MapEnv::new().with(CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR, "   ");
    assert_eq!(
        HttpTaskRegistrar::from_env(&blank, Some("https://a.example"))
            .unwrap()
            .base_url(),
        "https://a.example"
    );

    let missing = HttpTaskRegistrar::from_env(&empty, None).unwrap_err();
    assert!(matches!(missing, HttpError::MissingUrl { .. }));
    assert!(
        missing
            .to_string()
            .contains(CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR)
    );

    let invalid_env = MapEnv::new().with(
        CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR,
        "https://user:hunter2@a.example",
    );
    let invalid = HttpTaskRegistrar::from_env(&invalid_env, None).unwrap_err();
    let message = invalid.to_string();
    assert!(
        message.contains(CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn manager_caches_the_task_id_the_http_registrar_returns() {
    let server = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({"taskId": "task-cached"})),
    );
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws", "rt-manager");
    let document = serde_json::json!({ "agent_identity": jwt });
    std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();
    let registrar = registrar_for(&server);
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(Arc::new(registrar.clone())),
    )
    .await
    .unwrap();
    assert_eq!(
        manager.ensure_background_task_id().await.unwrap(),
        "task-cached"
    );
    assert_eq!(
        manager.ensure_background_task_id().await.unwrap(),
        "task-cached"
    );
    assert_eq!(server.request_count(), 1, "the cached id is reused");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    assert_eq!(
        stored["agent_identity"]["background_task_id"],
        "task-cached"
    );

    // Through the trait too, as any registrar.
    let key = AgentIdentityKey::from_claims(record.claims()).unwrap();
    let id = tokio::task::spawn_blocking(move || {
        TaskRegistrar::register_task(&registrar, &key, &record).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(id, "task-cached");
}

#[tokio::test]
async fn numeric_task_id_is_a_protocol_error_and_nothing_is_cached() {
    for field in ["task_id", "taskId"] {
        let server = LoopbackServer::always(8, Reply::json(200, serde_json::json!({field: 123})));
        let key = AgentIdentityKey::generate("rt-numeric");
        let error = registrar_for(&server).register(&key).unwrap_err();
        let HttpError::InvalidResponse { reason, .. } = &error else {
            panic!("{field}: {error:?}");
        };
        assert!(reason.contains("JSON string"), "{reason}");
        assert!(reason.contains("a number"), "{reason}");
        assert_eq!(server.request_count(), 1, "a protocol error is not retried");

        // Through the manager: an error, and no id (nor a float) cached.
        let home = tempfile::tempdir().unwrap();
        let (jwt, _) = identity("ws", "rt-numeric-manager");
        let document = serde_json::json!({ "agent_identity": jwt });
        std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();
        let manager = AuthManager::load(
            config(home.path(), &TestEnv::default())
                .with_task_registrar(Arc::new(registrar_for(&server))),
        )
        .await
        .unwrap();
        let error = manager.ensure_background_task_id().await.unwrap_err();
        assert!(error.to_string().contains("JSON string"), "{error}");
        let stored = std::fs::read_to_string(home.path().join("auth.json")).unwrap();
        assert!(!stored.contains("background_task_id"), "{stored}");
    }
}

#[tokio::test]
async fn registration_failure_through_the_manager_names_the_status_but_no_secret() {
    let server = LoopbackServer::start(4, |request| Reply::text(401, request.body.clone()));
    let home = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws", "rt-denied");
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": jwt }).to_string(),
    )
    .unwrap();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default())
            .with_task_registrar(Arc::new(registrar_for(&server))),
    )
    .await
    .unwrap();
    let error = manager.ensure_background_task_id().await.unwrap_err();
    let key = AgentIdentityKey::from_claims(record.claims()).unwrap();
    let signature = check_signed_request(&server.requests()[0], &key);
    let text = format!("{error} {error:?}");
    assert!(text.contains("401"), "{text}");
    assert_no_secret(&text, &key, &[signature]);
    assert!(!text.contains(jwt.as_str()));
}
