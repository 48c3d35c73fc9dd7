//! `HttpTokenRevoker` against loopback servers, and
//! `AuthManager::revoke_and_logout`: the request, success, a server error,
//! a server that never answers, and the local delete in every case.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_http::{
    CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, DEFAULT_REFRESH_CLIENT_ID, HttpError, HttpOptions,
    HttpTokenRevoker, REVOKE_TIMEOUT, with_http_clients,
};
use core_auth::{AuthManager, RevokeOutcome};
use login_agent_identity::SecretString;

use test_support::loopback::{LoopbackServer, Reply, access_token, closed_port_url, unix_now};
use test_support::{TestEnv, config, id_token};

const REFRESH: &str = "rt-REVOKE-ME-MARKER";

fn write_tokens(home: &Path, refresh: &str) {
    let document = serde_json::json!({
        "auth_mode": "chatgpt",
        "tokens": {
            "id_token": id_token("dev@example.com", "acct"),
            "access_token": access_token(unix_now() + 3600, "ACCESS"),
            "refresh_token": refresh,
            "account_id": "acct",
        },
    });
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

fn revoker(url: &str, timeout: Duration) -> HttpTokenRevoker {
    HttpTokenRevoker::new(url, DEFAULT_REFRESH_CLIENT_ID)
        .unwrap()
        .with_options(
            HttpOptions::default()
                .with_timeout(timeout)
                .with_retries(2, Duration::from_millis(10)),
        )
}

async fn manager(home: &Path, revoker: HttpTokenRevoker) -> Arc<AuthManager> {
    AuthManager::load(config(home, &TestEnv::default()).with_token_revoker(Arc::new(revoker)))
        .await
        .unwrap()
}

#[test]
fn revoke_posts_the_refresh_token_with_its_hint_and_the_refresh_client_id() {
    let server = LoopbackServer::always(4, Reply::text(200, ""));
    revoker(&server.url(), Duration::from_secs(5))
        .revoke_token(&SecretString::from(REFRESH))
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert!(
        requests[0]
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        requests[0].json(),
        serde_json::json!({
            "token": REFRESH,
            "token_type_hint": "refresh_token",
            "client_id": DEFAULT_REFRESH_CLIENT_ID,
        })
    );
}

#[test]
fn revoke_waits_five_seconds_at_most_by_default_and_reads_its_override() {
    assert_eq!(REVOKE_TIMEOUT, Duration::from_secs(5));
    let server = LoopbackServer::always(1, Reply::text(200, ""));
    let env = core_auth::MapEnv::new().with(CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, server.url());
    let revoker = HttpTokenRevoker::from_env(&env).unwrap();
    assert_eq!(revoker.url(), server.url());
    // with_http_clients wires the same one.
    let home = tempfile::tempdir().unwrap();
    let config = core_auth::AuthConfig::new(home.path()).with_env(Arc::new(env));
    let config = with_http_clients(config).unwrap();
    assert!(format!("{:?}", config.token_revoker).contains("HttpTokenRevoker"));
}

#[test]
fn a_server_error_is_reported_not_retried_and_quotes_no_token() {
    let server = LoopbackServer::start(4, |request| Reply::text(503, request.body.clone()));
    let error = revoker(&server.url(), Duration::from_secs(5))
        .revoke_token(&SecretString::from(REFRESH))
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    let text = format!("{error} {error:?}");
    assert!(text.contains("token revoke"), "{text}");
    assert!(!text.contains(REFRESH), "{text}");
    assert_eq!(server.request_count(), 1, "an answer is not retried");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = LoopbackServer::always(4, Reply::text(200, "").delayed(Duration::from_secs(60)));
    let error = revoker(&server.url(), Duration::from_millis(300))
        .revoke_token(&SecretString::from(REFRESH))
        .unwrap_err();
    assert!(matches!(error, HttpError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn revoke_and_logout_revokes_then_deletes() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), REFRESH);
    let server = LoopbackServer::always(4, Reply::text(200, "{}"));
    let manager = manager(home.path(), revoker(&server.url(), Duration::from_secs(5))).await;
    let report = manager.revoke_and_logout().await.unwrap();
    assert!(
        matches!(report.revoke, RevokeOutcome::Revoked),
        "{report:?}"
    );
    assert_eq!(report.revoke.revoked(), Some(true));
    assert!(report.removed);
    assert!(!home.path().join("auth.json").exists());
    assert!(manager.auth().is_none());
    assert_eq!(server.requests()[0].json()["token"], REFRESH);
}

#[tokio::test]
async fn revoke_and_logout_deletes_whatever_the_revoke_outcome() {
    let cases: Vec<(&str, Option<Reply>)> = vec![
        ("server error", Some(Reply::text(500, "down"))),
        (
            "401",
            Some(Reply::text(401, "{\"error\": \"invalid_token\"}")),
        ),
        (
            "never answers",
            Some(Reply::text(200, "").delayed(Duration::from_secs(60))),
        ),
        ("refused connection", None),
    ];
    for (name, reply) in cases {
        let home = tempfile::tempdir().unwrap();
        write_tokens(home.path(), REFRESH);
        let server = reply.map(|reply| LoopbackServer::always(4, reply));
        let url = server
            .as_ref()
            .map_or_else(closed_port_url, LoopbackServer::url);
        let manager = manager(home.path(), revoker(&url, Duration::from_millis(300))).await;
        let report = manager.revoke_and_logout().await.unwrap();
        let RevokeOutcome::Failed(error) = &report.revoke else {
            panic!("{name}: {report:?}");
        };
        assert!(!format!("{error} {error:?}").contains(REFRESH), "{name}");
        assert_eq!(report.revoke.revoked(), Some(false));
        assert!(report.removed, "{name}");
        assert!(!home.path().join("auth.json").exists(), "{name}");
    }
}

#[tokio::test]
async fn api_keys_agent_identities_and_nothing_stored_have_nothing_to_revoke() {
    let server = LoopbackServer::always(4, Reply::text(200, ""));
    let home = tempfile::tempdir().unwrap();
    let manager = manager(home.path(), revoker(&server.url(), Duration::from_secs(5))).await;
    let report = manager.revoke_and_logout().await.unwrap();
    assert!(matches!(report.revoke, RevokeOutcome::NothingToRevoke));
    assert_eq!(report.revoke.revoked(), None);
    assert!(!report.removed);

    manager
        .login_with_api_key("sk-no-revoke".into())
        .await
        .unwrap();
    let report = manager.revoke_and_logout().await.unwrap();
    assert!(matches!(report.revoke, RevokeOutcome::NothingToRevoke));
    assert!(report.removed);

    let (jwt, _) = test_support::identity("ws", "rt-no-revoke");
    manager
        .login_with_agent_identity(jwt.parse().unwrap())
        .await
        .unwrap();
    let report = manager.revoke_and_logout().await.unwrap();
    assert!(matches!(report.revoke, RevokeOutcome::NothingToRevoke));
    assert!(report.removed);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn without_a_revoker_tokens_are_deleted_unrevoked() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), REFRESH);
    let manager = AuthManager::load(config(home.path(), &TestEnv::default()))
        .await
        .unwrap();
    let report = manager.revoke_and_logout().await.unwrap();
    assert!(matches!(report.revoke, RevokeOutcome::NoRevoker));
    assert_eq!(report.revoke.revoked(), None);
    assert!(report.removed);
    assert!(!home.path().join("auth.json").exists());
}
