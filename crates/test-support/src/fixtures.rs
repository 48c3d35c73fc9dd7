//! Fixtures: identities, tokens, environments, registrars, and the keyring
//! account of a home.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use core_auth::{AuthConfig, EnvSource, RegistrarError, TaskRegistrar};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityKey, ExposeSecret as _, JwtSigningKey,
    mint_agent_identity_jwt,
};
use login_storage::TokenData;

use crate::FakeKeyring;

/// Claims of a fresh agent identity: a new agent key, user `user-1`,
/// registered at the start of 2026.
pub fn identity_claims(workspace_id: &str, runtime_id: &str) -> AgentIdentityClaims {
    let private_key = AgentIdentityKey::generate(runtime_id).private_key_pkcs8_base64();
    AgentIdentityClaims::new(workspace_id, runtime_id, private_key)
        .unwrap()
        .with_chatgpt_user_id(Some("user-1".into()))
        .with_registered_at("2026-01-01T00:00:00Z")
        .unwrap()
}

/// `claims` minted as a JWT by a fresh signing key.
pub fn identity_jwt(claims: &AgentIdentityClaims) -> String {
    mint_agent_identity_jwt(claims, &JwtSigningKey::generate())
        .unwrap()
        .expose_secret()
        .to_owned()
}

/// A fresh identity as a JWT, and the identity it decodes to.
pub fn identity(workspace_id: &str, runtime_id: &str) -> (String, AgentIdentity) {
    let jwt = identity_jwt(&identity_claims(workspace_id, runtime_id));
    let identity = AgentIdentity::from_jwt_unverified(&jwt).unwrap();
    (jwt, identity)
}

/// A JWT-shaped token carrying `payload`, with a dummy signature: the code
/// under test reads such tokens' claims and never checks their signature.
pub fn jwt_with_payload(payload: &serde_json::Value) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// An id token carrying the claims ChatGPT puts there.
pub fn id_token(email: &str, account_id: &str) -> String {
    jwt_with_payload(&serde_json::json!({
        "email": email,
        "https://api.openai.com/auth": {
            "chatgpt_plan_type": "pro",
            "chatgpt_user_id": "user-1",
            "chatgpt_account_id": account_id,
        },
    }))
}

/// ChatGPT tokens for `account_id`, with distinctive secret markers.
pub fn tokens(account_id: &str) -> TokenData {
    serde_json::from_value(serde_json::json!({
        "id_token": id_token("dev@example.com", account_id),
        "access_token": "ACCESS-TOKEN-MARKER",
        "refresh_token": "REFRESH-TOKEN-MARKER",
        "account_id": account_id,
    }))
    .unwrap()
}

/// An environment tests can change while a manager runs.
#[derive(Debug, Default, Clone)]
pub struct TestEnv(Arc<Mutex<HashMap<String, String>>>);

impl TestEnv {
    pub fn set(&self, name: &str, value: &str) {
        self.0.lock().unwrap().insert(name.into(), value.into());
    }
}

impl EnvSource for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }
}

/// A config for `home` reading only `env`, with a [`FakeKeyring`] so
/// logout never touches the OS keyring of the machine running the tests,
/// and a [`CountingRegistrar`] of its own (tests that count registrations
/// set theirs with `with_task_registrar`).
pub fn config(home: &Path, env: &TestEnv) -> AuthConfig {
    AuthConfig::new(home)
        .with_env(Arc::new(env.clone()))
        .with_keyring(Arc::new(FakeKeyring::default()))
        .with_task_registrar(Arc::new(CountingRegistrar::default()))
}

/// Counts registrations; each takes a little time so concurrent callers
/// really overlap.
#[derive(Debug, Default)]
pub struct CountingRegistrar {
    pub calls: AtomicUsize,
}

impl TaskRegistrar for CountingRegistrar {
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        assert_eq!(key.agent_runtime_id(), identity.agent_runtime_id());
        std::thread::sleep(Duration::from_millis(20));
        Ok(format!("task-{}-{n}", identity.agent_runtime_id()))
    }
}

/// Always fails.
#[derive(Debug, Default)]
pub struct FailingRegistrar;

impl TaskRegistrar for FailingRegistrar {
    fn register_task(
        &self,
        _: &AgentIdentityKey,
        _: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        Err("registration service unavailable".into())
    }
}

/// The keyring account of `home` (`cli|<16 hex digits>`), as the keyring
/// home derives it.
pub fn keyring_account_for_home(home: &Path) -> String {
    login_storage::KeyringStore::new(
        home,
        Arc::new(FakeKeyring::default()),
        Duration::from_secs(5),
    )
    .account()
    .to_owned()
}
