//! An embedder's own store and task registrar, written with public
//! items only, drive a manager.

use std::sync::{Arc, Mutex};

use core_auth::{AuthConfig, AuthManager, AuthSource, MapEnv, RegistrarError, TaskRegistrar};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _};
use login_storage::{AuthDotJson, AuthStore, StoreError, UpdateFn};

/// A home that keeps the document in a mutex, as a database-backed store would.
#[derive(Debug, Default)]
struct VaultStorage(Mutex<Option<AuthDotJson>>);

impl AuthStore for VaultStorage {
    fn load(&self) -> Result<Option<AuthDotJson>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StoreError> {
        *self.0.lock().unwrap() = Some(auth.clone());
        Ok(())
    }

    fn delete(&self) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().take().is_some())
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StoreError> {
        let mut slot = self.0.lock().unwrap();
        if let Some(next) = f(slot.clone())? {
            *slot = Some(next);
        }
        Ok(slot.clone())
    }
}

/// A registrar that signs like the real service expects.
#[derive(Debug)]
struct SigningRegistrar;

impl TaskRegistrar for SigningRegistrar {
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        let signature = key.sign_task_registration("2026-01-01T00:00:00Z");
        Ok(format!(
            "task-for-{}-{}",
            identity.agent_runtime_id(),
            signature.expose_secret().len()
        ))
    }
}

#[tokio::test]
async fn custom_storage_home_and_registrar_drive_a_manager() {
    let vault = Arc::new(VaultStorage::default());
    let (_, record) = test_support::identity("ws-vault", "rt-vault");
    vault
        .save(&AuthDotJson::with_agent_identity(record))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = AuthConfig::new(home.path())
        .with_env(Arc::new(MapEnv::new()))
        .with_store(vault.clone())
        .with_task_registrar(Arc::new(SigningRegistrar));

    let manager = AuthManager::load(config).await.unwrap();
    let auth = manager.auth().unwrap();
    assert_eq!(auth.source(), AuthSource::Custom);
    assert_eq!(auth.workspace_id(), Some("ws-vault"));

    let id = manager.ensure_background_task_id().await.unwrap();
    assert_eq!(id, "task-for-rt-vault-88");
    let stored = vault
        .load()
        .unwrap()
        .unwrap()
        .validated_agent_identity()
        .unwrap()
        .unwrap();
    assert_eq!(stored.background_task_id(), Some(id.as_str()));

    assert!(manager.logout().await.unwrap());
    assert!(vault.load().unwrap().is_none());
    assert!(!home.path().join("auth.json").exists());
}
