//! The HTTP clients' tracing output, at TRACE, holds no secret that
//! crossed the wire.

use std::sync::Arc;

use auth_http::{HttpTaskRegistrar, HttpTokenRefresher, RefreshConfig};
use core_auth::AuthManager;
use login_agent_identity::{AgentIdentityKey, ExposeSecret as _};
use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};
use test_support::{Capture, TestEnv, config, id_token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_output_of_the_http_clients_contains_no_secret() {
    let capture = Capture::install_global();
    let secrets = life_cycle().await;
    let output = capture.text();
    assert!(
        output.contains("token_refresh_request") && output.contains("task_registration_request"),
        "the HTTP clients traced"
    );
    for secret in &secrets {
        assert!(
            !output.contains(secret.as_str()),
            "a secret reached the trace output"
        );
    }
}

/// Token refresh (redeemed, forced, refused for good) and task
/// registration (refused, then successful) against loopback servers; returns
/// every secret that crossed the wire.
async fn life_cycle() -> Vec<String> {
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
        if let Some(id_token) = &tokens.id_token {
            secrets.push(id_token.raw().expose_secret().to_owned());
        }
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
    let refused = registrar.register(&key);
    tracing::debug!(?refused, ?registrar, "refused registration");
    registrar.register(&key).unwrap();
    for request in registration_server.requests() {
        secrets.push(request.json()["signature"].as_str().unwrap().to_owned());
    }
    secrets.push(key.private_key_pkcs8_base64().expose_secret().to_owned());
    secrets
}
