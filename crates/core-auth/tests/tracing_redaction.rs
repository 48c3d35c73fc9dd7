//! All tracing output, at TRACE, across a whole life cycle, holds no secret.

use core_auth::{AuthManager, CODEX_AGENT_IDENTITY_VAR};

use crate::capture::Capture;
use crate::support::{TestEnv, config, identity, tokens};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_output_of_a_whole_life_cycle_contains_no_secret() {
    let capture = Capture::install_global();

    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    let (env_jwt, env_record) = identity("ws", "rt-trace-env");
    env.set(CODEX_AGENT_IDENTITY_VAR, &env_jwt);
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    manager.ensure_background_task_id().await.unwrap();
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
    manager.ensure_background_task_id().await.unwrap();
    manager.save_tokens(tokens("acct")).await.unwrap();
    tracing::debug!(auth = ?manager.auth(), "auth after tokens");
    manager.reload().await.unwrap();
    manager.logout().await.unwrap();
    let _ = manager
        .login_with_agent_identity("x.y".parse().unwrap())
        .await;

    #[cfg(feature = "http")]
    let http_secrets = http::life_cycle().await;
    #[cfg(not(feature = "http"))]
    let http_secrets: Vec<String> = Vec::new();

    let output = capture.text();
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
    ]
    .into_iter()
    .chain(http_secrets.iter().map(String::as_str))
    {
        assert!(
            !output.contains(secret),
            "a secret reached the trace output"
        );
    }
    #[cfg(feature = "http")]
    assert!(
        output.contains("token_refresh_request") && output.contains("task_registration_request"),
        "the HTTP clients traced"
    );
}

/// Token refresh (redeemed, forced, refused for good) and task
/// registration (refused, then successful) against loopback servers; returns
/// every secret that crossed the wire.
#[cfg(feature = "http")]
mod http {
    use std::sync::Arc;

    use core_auth::{AuthManager, HttpTaskRegistrar, HttpTokenRefresher, RefreshConfig};
    use login_agent_identity::AgentIdentityKey;

    use crate::loopback::{LoopbackServer, Reply, access_token, unix_now};
    use crate::support::{TestEnv, config, id_token};

    pub async fn life_cycle() -> Vec<String> {
        let mut secrets = Vec::new();
        let token_server = LoopbackServer::start(8, |request| {
            let presented = request.json()["refresh_token"].as_str().unwrap().to_owned();
            if presented.contains("DEAD") {
                return Reply::text(
                    401,
                    format!(
                        r#"{{"error":"refresh_token_reused","echo":{}}}"#,
                        request.body
                    ),
                );
            }
            Reply::json(
                200,
                serde_json::json!({
                    "access_token": access_token(unix_now() + 3600, &format!("TRACE-ACCESS-{presented}")),
                    "refresh_token": format!("TRACE-REFRESH-NEXT-{presented}"),
                    "id_token": id_token("trace@example.com", "acct"),
                }),
            )
        });
        for first_refresh in ["TRACE-REFRESH-LIVE", "TRACE-REFRESH-DEAD"] {
            let home = tempfile::tempdir().unwrap();
            let stale = access_token(unix_now() - 10, "TRACE-ACCESS-STALE");
            let document = serde_json::json!({
                "tokens": {
                    "id_token": id_token("trace@example.com", "acct"),
                    "access_token": stale,
                    "refresh_token": first_refresh,
                },
            });
            std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();
            let refresher =
                HttpTokenRefresher::new(RefreshConfig::new(token_server.url(), "client-trace"))
                    .unwrap();
            let manager = AuthManager::load(
                config(home.path(), &TestEnv::default()).with_token_refresher(Arc::new(refresher)),
            )
            .await
            .unwrap();
            let refreshed = manager.refresh_if_stale().await;
            tracing::debug!(?refreshed, auth = ?manager.auth(), "after refresh");
            let recovery = manager.recover_unauthorized().await;
            tracing::debug!(?recovery, "after recovery");
            secrets.push(stale);
            let auth = manager.auth().unwrap();
            let tokens = auth.tokens().unwrap();
            secrets.push(tokens.access_token.expose_secret().to_owned());
            secrets.push(tokens.refresh_token.expose_secret().to_owned());
            secrets.push(tokens.id_token.raw().expose_secret().to_owned());
        }
        for request in token_server.requests() {
            secrets.push(request.json()["refresh_token"].as_str().unwrap().to_owned());
        }

        let registration_server = LoopbackServer::sequence(vec![
            Reply::text(400, "bad request"),
            Reply::json(200, serde_json::json!({"task_id": "task-trace"})),
        ]);
        let key = AgentIdentityKey::generate("rt-trace-http");
        let registrar = HttpTaskRegistrar::new(&registration_server.url()).unwrap();
        let refused = registrar.register(&key).await;
        tracing::debug!(?refused, ?registrar, "refused registration");
        registrar.register(&key).await.unwrap();
        for request in registration_server.requests() {
            secrets.push(request.json()["signature"].as_str().unwrap().to_owned());
        }
        secrets.push(key.private_key_pkcs8_base64().expose_secret().to_owned());
        secrets
    }
}
