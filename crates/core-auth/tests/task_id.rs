//! Background task id caching: single flight, persistence, staleness.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use core_auth::{AuthError, AuthManager, CODEX_AGENT_IDENTITY_VAR};
use login_storage::{AuthStore, FileStore};

use test_support::{CountingRegistrar, FailingRegistrar, TestEnv, config, identity};

fn write_jwt_identity(home: &std::path::Path, jwt: &str) {
    let document = serde_json::json!({"agent_identity": jwt, "future_top_level": {"kept": true}});
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_share_one_registration() {
    let home = tempfile::tempdir().unwrap();
    write_jwt_identity(home.path(), &identity("ws", "rt-50").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    let mut callers = Vec::new();
    for _ in 0..50 {
        let manager = manager.clone();
        callers.push(tokio::spawn(async move {
            manager.ensure_background_task_id().await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for caller in callers {
        ids.push(caller.await.unwrap());
    }
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 1);
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
}

#[tokio::test]
async fn cached_task_id_persists_across_a_restart_for_a_file_identity() {
    let home = tempfile::tempdir().unwrap();
    write_jwt_identity(home.path(), &identity("ws", "rt-persist").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let first = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    let id = first.ensure_background_task_id().await.unwrap();
    assert_eq!(
        first
            .auth()
            .unwrap()
            .agent_identity()
            .unwrap()
            .background_task_id(),
        Some(id.as_str())
    );

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    assert_eq!(
        stored["agent_identity"]["background_task_id"],
        id.as_str(),
        "converted to the object form"
    );
    assert_eq!(
        stored["future_top_level"]["kept"], true,
        "unknown keys survive"
    );

    let restarted = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    assert_eq!(restarted.ensure_background_task_id().await.unwrap(), id);
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn task_id_cached_by_another_process_is_adopted_instead_of_registering_again() {
    let home = tempfile::tempdir().unwrap();
    write_jwt_identity(home.path(), &identity("ws", "rt-adopt").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let a = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    let b = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    let id_a = a.ensure_background_task_id().await.unwrap();
    let id_b = b.ensure_background_task_id().await.unwrap();
    assert_eq!(id_a, id_b);
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn env_identity_caches_its_task_id_in_memory_only() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt-env").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager =
        AuthManager::load(config(home.path(), &env).with_task_registrar(registrar.clone()))
            .await
            .unwrap();
    let id = manager.ensure_background_task_id().await.unwrap();
    assert!(manager.reload().await.is_ok());
    assert_eq!(
        manager.ensure_background_task_id().await.unwrap(),
        id,
        "kept across reload"
    );
    assert_eq!(registrar.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "nothing on disk"
    );
}

#[tokio::test]
async fn stale_task_id_is_dropped_when_the_identity_changes() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt-old").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager =
        AuthManager::load(config(home.path(), &env).with_task_registrar(registrar.clone()))
            .await
            .unwrap();
    let old = manager.ensure_background_task_id().await.unwrap();

    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt-new").0);
    assert!(manager.reload().await.unwrap());
    assert_eq!(
        manager
            .auth()
            .unwrap()
            .agent_identity()
            .unwrap()
            .background_task_id(),
        None
    );
    let new = manager.ensure_background_task_id().await.unwrap();
    assert_ne!(new, old);
    assert!(new.starts_with("task-rt-new"), "{new}");
}

#[tokio::test]
async fn stale_task_id_in_the_file_is_not_reused_after_a_new_login() {
    let home = tempfile::tempdir().unwrap();
    write_jwt_identity(home.path(), &identity("ws", "rt-a").0);
    let registrar = Arc::new(CountingRegistrar::default());
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(registrar.clone()),
    )
    .await
    .unwrap();
    let old = manager.ensure_background_task_id().await.unwrap();
    let (jwt, _) = identity("ws", "rt-b");
    manager
        .login_with_agent_identity(jwt.parse().unwrap())
        .await
        .unwrap();
    let new = manager.ensure_background_task_id().await.unwrap();
    assert_ne!(old, new);
    let stored = FileStore::new(home.path()).load().unwrap().unwrap();
    assert_eq!(
        stored
            .validated_agent_identity()
            .unwrap()
            .unwrap()
            .background_task_id(),
        Some(new.as_str())
    );
}

#[tokio::test]
async fn failed_registration_caches_nothing() {
    let home = tempfile::tempdir().unwrap();
    write_jwt_identity(home.path(), &identity("ws", "rt-fail").0);
    let before = std::fs::read(home.path().join("auth.json")).unwrap();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_task_registrar(Arc::new(FailingRegistrar)),
    )
    .await
    .unwrap();
    let error = manager.ensure_background_task_id().await.unwrap_err();
    assert!(matches!(error, AuthError::Registration(_)));
    assert!(
        error
            .to_string()
            .contains("registration service unavailable")
    );
    assert_eq!(
        std::fs::read(home.path().join("auth.json")).unwrap(),
        before
    );
    assert_eq!(
        manager
            .auth()
            .unwrap()
            .agent_identity()
            .unwrap()
            .background_task_id(),
        None
    );
}

#[tokio::test]
async fn task_id_needs_an_agent_identity() {
    let home = tempfile::tempdir().unwrap();
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default())
            .with_task_registrar(Arc::new(CountingRegistrar::default())),
    )
    .await
    .unwrap();
    manager
        .login_with_api_key("sk-no-identity".into())
        .await
        .unwrap();
    let error = manager.ensure_background_task_id().await.unwrap_err();
    assert!(matches!(error, AuthError::NoAgentIdentity));
}
