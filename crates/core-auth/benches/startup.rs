//! Startup cost: `AuthManager::load` with a file-stored JWT identity, and
//! `auth()` on the hot path.

// Bench setup uses known-good inputs; a failure there should abort loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;

use core_auth::{AuthConfig, AuthManager, MapEnv};
use criterion::{Criterion, criterion_group, criterion_main};
use login_agent_identity::{
    AgentIdentityClaims, AgentIdentityKey, ExposeSecret as _, JwtSigningKey,
    mint_agent_identity_jwt,
};

fn startup(c: &mut Criterion) {
    let home = tempfile::tempdir().unwrap();
    let claims = AgentIdentityClaims::new(
        "ws-bench",
        "rt-bench",
        AgentIdentityKey::generate("rt-bench").private_key_pkcs8_base64(),
    )
    .unwrap()
    .with_chatgpt_user_id(Some("user-bench".into()))
    .with_registered_at("2026-01-01T00:00:00Z")
    .unwrap();
    let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": jwt.expose_secret() }).to_string(),
    )
    .unwrap();
    let config = AuthConfig::new(home.path()).with_env(Arc::new(MapEnv::new()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("startup");
    group.bench_function("load_file_jwt_identity", |b| {
        b.iter(|| runtime.block_on(AuthManager::load(config.clone())).unwrap());
    });
    let manager = runtime.block_on(AuthManager::load(config.clone())).unwrap();
    assert!(manager.auth().is_some());
    group.bench_function("auth_hot_path", |b| b.iter(|| manager.auth()));
    group.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
