//! All tracing output, at TRACE, across a whole life cycle, holds no secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use core_auth::{AuthManager, CODEX_AGENT_IDENTITY_VAR};
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{CountingRegistrar, TestEnv, config, identity, tokens};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_output_of_a_whole_life_cycle_contains_no_secret() {
    let capture = Capture::default();
    // Global: storage work runs on the blocking pool's threads.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let (env_jwt, env_record) = identity("ws", "rt-trace-env");
    env.set(CODEX_AGENT_IDENTITY_VAR, &env_jwt);
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    manager
        .ensure_background_task_id(&CountingRegistrar::default())
        .await
        .unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after env start");

    let quiet_env = TestEnv::default();
    let manager = AuthManager::load(config(home.path(), &quiet_env))
        .await
        .unwrap();
    manager
        .login_with_api_key("sk-TRACE-API-KEY-MARKER".into())
        .await
        .unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after api key login");
    let (file_jwt, file_record) = identity("ws", "rt-trace-file");
    manager
        .login_with_agent_identity(file_jwt.parse().unwrap())
        .await
        .unwrap();
    manager
        .ensure_background_task_id(&CountingRegistrar::default())
        .await
        .unwrap();
    manager.save_tokens(tokens("acct")).await.unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after tokens");
    manager.reload().await.unwrap();
    manager.logout().await.unwrap();
    let _ = manager
        .login_with_agent_identity("x.y".parse().unwrap())
        .await;

    let output = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        output.contains("load") && output.contains("registration") && output.contains("logout"),
        "{output}"
    );
    for secret in [
        "sk-TRACE-API-KEY-MARKER",
        "ACCESS-TOKEN-MARKER",
        "REFRESH-TOKEN-MARKER",
        env_record.agent_private_key.expose_secret(),
        file_record.agent_private_key.expose_secret(),
        env_jwt.as_str(),
        file_jwt.as_str(),
    ] {
        assert!(
            !output.contains(secret),
            "a secret reached the trace output"
        );
    }
}
