//! `AuthManager::request_headers` per mode, on the steady-state path: an
//! API key from the environment, ChatGPT tokens whose access token is fresh
//! (no refresh), and an agent identity whose `auth.json` already holds a
//! background task id in object form (no registration; the assertion is
//! signed on every call). No network: the refresher and registrar
//! configured here refuse, and are checked never to have been called.

// Bench setup uses known-good inputs; a failure there should abort loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use core_auth::{
    AuthConfig, AuthManager, CODEX_API_KEY_VAR, MapEnv, RefreshError, RefreshedTokens,
    RegistrarError, TaskRegistrar, TokenRefresher,
};
use criterion::{Criterion, criterion_group, criterion_main};
use login_agent_identity::{AgentIdentity, AgentIdentityClaims, AgentIdentityKey, SecretString};
use serde_json::json;
use test_support::id_token;
use test_support::loopback::{access_token, unix_now};

/// Refuses, and counts how often it was asked (it must never be).
#[derive(Debug, Default)]
struct Offline {
    calls: AtomicUsize,
}

impl TokenRefresher for Offline {
    fn refresh(&self, _refresh_token: &SecretString) -> Result<RefreshedTokens, RefreshError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(RefreshError::Transient("the bench never refreshes".into()))
    }
}

impl TaskRegistrar for Offline {
    fn register_task(
        &self,
        _key: &AgentIdentityKey,
        _identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err("the bench never registers".into())
    }
}

fn write_document(home: &Path, document: &serde_json::Value) {
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

fn request_headers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let offline = Arc::new(Offline::default());
    let config = |home: &Path, env: MapEnv| {
        AuthConfig::new(home)
            .with_env(Arc::new(env))
            .with_token_refresher(offline.clone())
            .with_task_registrar(offline.clone())
    };
    let load = |config: AuthConfig| runtime.block_on(AuthManager::load(config)).unwrap();

    // API key from the environment; the home is empty.
    let api_key_home = tempfile::tempdir().unwrap();
    let api_key = load(config(
        api_key_home.path(),
        MapEnv::new().with(CODEX_API_KEY_VAR, "sk-bench-key"),
    ));

    // ChatGPT tokens whose access token expires in a day: fresh.
    let chatgpt_home = tempfile::tempdir().unwrap();
    write_document(
        chatgpt_home.path(),
        &json!({"tokens": {
            "id_token": id_token("bench@example.com", "acct-bench"),
            "access_token": access_token(unix_now() + 24 * 3600, "bench"),
            "refresh_token": "rt-bench",
            "account_id": "acct-bench",
        }}),
    );
    let chatgpt = load(config(chatgpt_home.path(), MapEnv::new()));

    // An agent identity stored as an object that already carries its task id.
    let identity_home = tempfile::tempdir().unwrap();
    let claims = AgentIdentityClaims::new(
        "ws-bench",
        "rt-bench",
        AgentIdentityKey::generate("rt-bench").private_key_pkcs8_base64(),
    )
    .unwrap()
    .with_chatgpt_user_id(Some("user-bench".into()))
    .with_registered_at("2026-01-01T00:00:00Z")
    .unwrap();
    let mut record = serde_json::to_value(claims).unwrap();
    record["background_task_id"] = json!("task-bench");
    write_document(identity_home.path(), &json!({ "agent_identity": record }));
    let agent_identity = load(config(identity_home.path(), MapEnv::new()));

    let mut group = c.benchmark_group("request_headers");
    for (name, manager, expected) in [
        ("api_key", &api_key, 1),
        ("chatgpt", &chatgpt, 2),
        ("agent_identity", &agent_identity, 2),
    ] {
        assert_eq!(
            runtime.block_on(manager.request_headers()).unwrap().len(),
            expected,
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(manager.request_headers()).unwrap());
        });
    }
    group.finish();
    assert_eq!(
        offline.calls.load(Ordering::SeqCst),
        0,
        "the bench refreshed or registered"
    );
}

criterion_group!(benches, request_headers);
criterion_main!(benches);
