//! Token refresh against loopback token servers: staleness rules, the
//! request, every permanent error code in every location, transient
//! failures, the permanent-failure memo, adoption of another process's
//! tokens, and `recover_unauthorized`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_http::{
    CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR, HttpOptions, HttpTokenRefresher, RefreshConfig,
};
use core_auth::{
    AuthError, AuthManager, RefreshError, RefreshOutcome, RefreshTokenFailure, TokenRefresher,
    UnauthorizedRecovery,
};
use login_agent_identity::ExposeSecret as _;
use login_storage::{AuthStore as _, FileStore};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use test_support::loopback::{LoopbackServer, Reply, access_token, closed_port_url, unix_now};
use test_support::{TestEnv, config, id_token};

const OLD_REFRESH: &str = "rt-OLD-REFRESH-MARKER";

fn stale_access() -> String {
    access_token(unix_now() + 60, "OLD-ACCESS-stale")
}

fn fresh_access() -> String {
    access_token(unix_now() + 3600, "OLD-ACCESS-fresh")
}

/// Writes ChatGPT tokens (and an unknown key) to `home`'s `auth.json`.
fn write_tokens(home: &Path, access: &str, refresh: &str, last_refresh: Option<OffsetDateTime>) {
    let mut document = serde_json::json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": id_token("dev@example.com", "acct"),
            "access_token": access,
            "refresh_token": refresh,
            "account_id": "acct",
        },
        "future_key": {"kept": true},
    });
    if let Some(at) = last_refresh {
        document["last_refresh"] = at.format(&Rfc3339).unwrap().into();
    }
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

fn stored(home: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(home.join("auth.json")).unwrap()).unwrap()
}

fn refresher(url: &str) -> Arc<dyn TokenRefresher> {
    Arc::new(
        HttpTokenRefresher::new(
            RefreshConfig::new(url, "client-test").with_options(
                HttpOptions::default()
                    .with_timeout(Duration::from_secs(5))
                    .with_retries(2, Duration::from_millis(10)),
            ),
        )
        .unwrap(),
    )
}

async fn manager(home: &Path, url: &str) -> Arc<AuthManager> {
    AuthManager::load(config(home, &TestEnv::default()).with_token_refresher(refresher(url)))
        .await
        .unwrap()
}

/// A token answer with new tokens named by `marker`.
fn new_tokens(marker: &str) -> serde_json::Value {
    serde_json::json!({
        "id_token": id_token(&format!("{marker}@example.com"), "acct"),
        "access_token": access_token(unix_now() + 3600, &format!("NEW-ACCESS-{marker}")),
        "refresh_token": format!("rt-NEW-{marker}"),
    })
}

fn held_tokens(manager: &AuthManager) -> (String, String) {
    let auth = manager.auth().unwrap();
    let tokens = auth.tokens().unwrap();
    (
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.expose_secret().to_owned(),
    )
}

#[tokio::test]
async fn stale_tokens_are_redeemed_and_the_result_is_stored() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(
        home.path(),
        &stale_access(),
        OLD_REFRESH,
        Some(OffsetDateTime::now_utc()),
    );
    let answer = new_tokens("a");
    let server = LoopbackServer::always(4, Reply::json(200, answer.clone()));
    let manager = manager(home.path(), &server.url()).await;

    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Refreshed
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].json(),
        serde_json::json!({"client_id": "client-test", "grant_type": "refresh_token", "refresh_token": OLD_REFRESH})
    );
    let document = stored(home.path());
    assert_eq!(document["tokens"]["access_token"], answer["access_token"]);
    assert_eq!(document["tokens"]["refresh_token"], "rt-NEW-a");
    assert_eq!(document["tokens"]["id_token"], answer["id_token"]);
    assert_eq!(document["tokens"]["account_id"], "acct");
    assert_eq!(document["future_key"]["kept"], true, "unknown keys survive");
    let last_refresh =
        OffsetDateTime::parse(document["last_refresh"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(
        (OffsetDateTime::now_utc() - last_refresh)
            .whole_seconds()
            .abs()
            < 60
    );

    let auth = manager.auth().unwrap();
    assert_eq!(held_tokens(&manager).1, "rt-NEW-a");
    assert_eq!(
        auth.account_email(),
        Some("a@example.com"),
        "id token replaced"
    );
    assert!(!auth.needs_refresh(OffsetDateTime::now_utc()));
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Fresh
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn staleness_follows_the_access_token_expiry_then_the_last_refresh() {
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    // (access token, last_refresh, stale?)
    let cases = [
        (
            access_token(unix_now() + 3600, "hour"),
            Some(now - 30 * day),
            false,
        ),
        (
            access_token(unix_now() + 6 * 60, "six-minutes"),
            Some(now),
            false,
        ),
        (
            access_token(unix_now() + 4 * 60, "four-minutes"),
            Some(now),
            true,
        ),
        (access_token(unix_now() - 3600, "expired"), Some(now), true),
        ("opaque-access-token".to_owned(), Some(now - 7 * day), false),
        ("opaque-access-token".to_owned(), Some(now - 9 * day), true),
        ("opaque-access-token".to_owned(), None, true),
        ("a.bm90IGpzb24.c2ln".to_owned(), Some(now - day), false),
    ];
    for (access, last_refresh, stale) in cases {
        let home = tempfile::tempdir().unwrap();
        write_tokens(home.path(), &access, OLD_REFRESH, last_refresh);
        let server = LoopbackServer::always(4, Reply::json(200, new_tokens("s")));
        let manager = manager(home.path(), &server.url()).await;
        assert_eq!(
            manager
                .auth()
                .unwrap()
                .needs_refresh(OffsetDateTime::now_utc()),
            stale,
            "{access} {last_refresh:?}"
        );
        let expected = if stale {
            RefreshOutcome::Refreshed
        } else {
            RefreshOutcome::Fresh
        };
        assert_eq!(
            manager.refresh_if_stale().await.unwrap(),
            expected,
            "{access}"
        );
        assert_eq!(server.request_count(), usize::from(stale));
    }
}

#[tokio::test]
async fn an_answer_replaces_only_the_tokens_it_carries() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let before = stored(home.path());
    let new_access = access_token(unix_now() + 3600, "only-access");
    let server = LoopbackServer::always(
        4,
        Reply::json(
            200,
            serde_json::json!({"access_token": new_access, "refresh_token": null}),
        ),
    );
    let manager = manager(home.path(), &server.url()).await;
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Refreshed
    );
    let after = stored(home.path());
    assert_eq!(after["tokens"]["access_token"], new_access.as_str());
    assert_eq!(after["tokens"]["refresh_token"], OLD_REFRESH);
    assert_eq!(after["tokens"]["id_token"], before["tokens"]["id_token"]);
    assert!(after["last_refresh"].is_string());
}

#[tokio::test]
async fn every_permanent_code_in_every_location_fails_with_its_own_message() {
    let mut messages = Vec::new();
    for failure in [
        RefreshTokenFailure::Expired,
        RefreshTokenFailure::Reused,
        RefreshTokenFailure::Invalidated,
    ] {
        let code = failure.code().unwrap();
        for body in [
            serde_json::json!({"error": {"code": code, "message": "nope"}}),
            serde_json::json!({"error": code, "error_description": "nope"}),
            serde_json::json!({"code": code}),
        ] {
            let home = tempfile::tempdir().unwrap();
            write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
            let before = std::fs::read(home.path().join("auth.json")).unwrap();
            let server = LoopbackServer::always(4, Reply::json(401, body.clone()));
            let manager = manager(home.path(), &server.url()).await;
            let error = manager.refresh_if_stale().await.unwrap_err();
            let AuthError::Refresh(RefreshError::Permanent(found)) = &error else {
                panic!("{body}: {error:?}");
            };
            assert_eq!(*found, failure, "{body}");
            let message = error.to_string();
            assert!(message.contains("log in again"), "{message}");
            assert!(!message.contains(OLD_REFRESH));
            assert_eq!(
                std::fs::read(home.path().join("auth.json")).unwrap(),
                before,
                "tokens are kept"
            );
            assert_eq!(held_tokens(&manager).1, OLD_REFRESH);
            assert_eq!(server.request_count(), 1, "a 401 is not retried");
            messages.push((failure, message));
        }
    }
    for (a, message_a) in &messages {
        for (b, message_b) in &messages {
            assert_eq!(
                a == b,
                message_a == message_b,
                "each code has its own message"
            );
        }
    }
}

#[tokio::test]
async fn failures_other_than_a_401_are_transient_keep_the_tokens_and_are_not_remembered() {
    // Ten times the client's 500 ms timeout, so the answer is always late.
    let slow = Reply::json(200, new_tokens("late")).delayed(Duration::from_secs(5));
    let cases: Vec<(&str, Option<Reply>)> = vec![
        ("server error", Some(Reply::text(500, "upstream down"))),
        (
            "400 invalid grant",
            Some(Reply::json(
                400,
                serde_json::json!({"error": "invalid_grant"}),
            )),
        ),
        ("2xx that is not JSON", Some(Reply::text(200, "<html>"))),
        (
            "2xx without a token",
            Some(Reply::json(200, serde_json::json!({}))),
        ),
        ("timeout", Some(slow)),
        ("refused connection", None),
    ];
    for (name, reply) in cases {
        let home = tempfile::tempdir().unwrap();
        write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
        let before = std::fs::read(home.path().join("auth.json")).unwrap();
        let server = reply.map(|reply| LoopbackServer::always(8, reply));
        let url = server
            .as_ref()
            .map_or_else(closed_port_url, LoopbackServer::url);
        let refresher = HttpTokenRefresher::new(
            RefreshConfig::new(&url, "client-test").with_options(
                HttpOptions::default()
                    .with_timeout(Duration::from_millis(500))
                    .with_retries(2, Duration::from_millis(10)),
            ),
        )
        .unwrap();
        let manager = AuthManager::load(
            config(home.path(), &TestEnv::default()).with_token_refresher(Arc::new(refresher)),
        )
        .await
        .unwrap();
        for attempt in 1..=2 {
            let error = manager.refresh_if_stale().await.unwrap_err();
            assert!(
                matches!(error, AuthError::Refresh(RefreshError::Transient(_))),
                "{name}: {error:?}"
            );
            let text = format!("{error} {error:?}");
            assert!(text.contains("current tokens are kept"), "{name}: {text}");
            assert!(!text.contains(OLD_REFRESH), "{name}: {text}");
            assert_eq!(
                std::fs::read(home.path().join("auth.json")).unwrap(),
                before,
                "{name}"
            );
            assert_eq!(held_tokens(&manager).1, OLD_REFRESH, "{name}");
            if let Some(server) = &server {
                // The server records a request on its own thread: wait
                // (bounded) until it has, then count.
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while server.request_count() < attempt && std::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                assert_eq!(server.request_count(), attempt, "{name}: asked again");
            }
        }
    }
}

/// A 401 with `body` fails for good with the generic "log in again"
/// failure, keeps the stored tokens, and is remembered: the server is
/// asked once.
async fn assert_401_is_permanent_and_generic(body: Reply) {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let before = std::fs::read(home.path().join("auth.json")).unwrap();
    let server = LoopbackServer::always(4, body);
    let manager = manager(home.path(), &server.url()).await;
    for _ in 0..2 {
        let error = manager.refresh_if_stale().await.unwrap_err();
        let AuthError::Refresh(RefreshError::Permanent(failure)) = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*failure, RefreshTokenFailure::Other);
        assert_eq!(failure.code(), None);
        let message = error.to_string();
        assert!(message.contains("log in again"), "{message}");
        assert!(!message.contains(OLD_REFRESH), "{message}");
    }
    assert_eq!(server.request_count(), 1, "remembered, not asked again");
    assert_eq!(
        std::fs::read(home.path().join("auth.json")).unwrap(),
        before,
        "tokens are kept"
    );
}

#[tokio::test]
async fn refresh_401_without_code_is_permanent() {
    assert_401_is_permanent_and_generic(Reply::json(
        401,
        serde_json::json!({"error": {"message": "unauthorized"}}),
    ))
    .await;
}

#[tokio::test]
async fn refresh_401_with_unknown_code_is_permanent() {
    assert_401_is_permanent_and_generic(Reply::json(
        401,
        serde_json::json!({"error": {"code": "token_expired"}}),
    ))
    .await;
}

#[tokio::test]
async fn refresh_401_without_a_body_is_permanent() {
    assert_401_is_permanent_and_generic(Reply::text(401, "")).await;
}

#[tokio::test]
async fn refresh_401_with_a_body_that_is_not_json_is_permanent() {
    assert_401_is_permanent_and_generic(Reply::text(401, "<html>denied</html>")).await;
}

#[test]
fn the_generic_401_message_differs_from_the_three_known_ones() {
    let other = RefreshTokenFailure::Other.to_string();
    for known in [
        RefreshTokenFailure::Expired,
        RefreshTokenFailure::Reused,
        RefreshTokenFailure::Invalidated,
    ] {
        assert_ne!(known.to_string(), other);
        assert_eq!(
            RefreshTokenFailure::from_code(known.code().unwrap()),
            Some(known)
        );
    }
    assert_eq!(RefreshTokenFailure::from_code("token_expired"), None);
}

#[tokio::test]
async fn echoed_refresh_token_never_reaches_an_error() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::start(4, |request| {
        Reply::text(502, format!("bad gateway for {}", request.body))
    });
    let manager = manager(home.path(), &server.url()).await;
    let error = manager.refresh_if_stale().await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("502") && text.contains("<redacted>"),
        "{text}"
    );
    assert!(!text.contains(OLD_REFRESH), "{text}");
}

#[tokio::test]
async fn permanent_failure_is_remembered_so_the_next_call_fails_fast() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::always(
        4,
        Reply::json(
            401,
            serde_json::json!({"error": {"code": "refresh_token_reused"}}),
        ),
    );
    let manager = manager(home.path(), &server.url()).await;
    for _ in 0..3 {
        let error = manager.refresh_if_stale().await.unwrap_err();
        assert!(matches!(
            error,
            AuthError::Refresh(RefreshError::Permanent(RefreshTokenFailure::Reused))
        ));
    }
    assert_eq!(server.request_count(), 1, "the server is asked once");
    // A reload that finds the same tokens keeps the memo.
    assert!(!manager.reload().await.unwrap());
    assert!(manager.refresh_if_stale().await.is_err());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn reload_with_new_tokens_clears_the_memo() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::start(8, |request| {
        if request.json()["refresh_token"] == OLD_REFRESH {
            Reply::json(401, serde_json::json!({"code": "refresh_token_expired"}))
        } else {
            Reply::json(200, new_tokens("after-login"))
        }
    });
    let manager = manager(home.path(), &server.url()).await;
    assert!(manager.refresh_if_stale().await.is_err());
    assert!(manager.refresh_if_stale().await.is_err());
    assert_eq!(server.request_count(), 1);

    // The user logs in again in another process: new (stale) tokens.
    write_tokens(home.path(), &stale_access(), "rt-from-new-login", None);
    assert!(manager.reload().await.unwrap());
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Refreshed
    );
    assert_eq!(server.request_count(), 2);
    assert_eq!(
        server.requests()[1].json()["refresh_token"],
        "rt-from-new-login"
    );
    assert_eq!(held_tokens(&manager).1, "rt-NEW-after-login");
}

#[tokio::test]
async fn tokens_another_process_stored_are_adopted_without_asking_the_server() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::always(
        4,
        Reply::json(
            401,
            serde_json::json!({"error": {"code": "refresh_token_reused"}}),
        ),
    );
    let manager = manager(home.path(), &server.url()).await;
    // Another process refreshes (rotating the refresh token) meanwhile.
    let rotated_access = fresh_access();
    write_tokens(
        home.path(),
        &rotated_access,
        "rt-rotated-elsewhere",
        Some(OffsetDateTime::now_utc()),
    );

    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Adopted
    );
    assert_eq!(server.request_count(), 0);
    assert_eq!(
        held_tokens(&manager),
        (rotated_access, "rt-rotated-elsewhere".to_owned())
    );
}

#[tokio::test]
async fn recover_unauthorized_reloads_then_refreshes_then_gives_up() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(
        home.path(),
        &fresh_access(),
        OLD_REFRESH,
        Some(OffsetDateTime::now_utc()),
    );
    let server = LoopbackServer::start(8, |request| {
        match request.json()["refresh_token"].as_str().unwrap() {
            "rt-second" => Reply::json(200, new_tokens("forced")),
            _ => Reply::json(
                401,
                serde_json::json!({"error": "refresh_token_invalidated"}),
            ),
        }
    });
    let manager = manager(home.path(), &server.url()).await;

    // 1. Another process stored other tokens: reloading is enough.
    write_tokens(
        home.path(),
        &fresh_access(),
        "rt-second",
        Some(OffsetDateTime::now_utc()),
    );
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::Reloaded
    ));
    assert_eq!(server.request_count(), 0);

    // 2. Same tokens after a reload: refresh, even though they look fresh.
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::Refreshed
    ));
    assert_eq!(server.request_count(), 1);
    assert_eq!(held_tokens(&manager).1, "rt-NEW-forced");

    // 3. The refresh token is dead: give up with a log-in-again error.
    let recovery = manager.recover_unauthorized().await;
    let UnauthorizedRecovery::GaveUp(AuthError::Refresh(RefreshError::Permanent(failure))) =
        recovery
    else {
        panic!("{recovery:?}");
    };
    assert_eq!(failure, RefreshTokenFailure::Invalidated);
    assert_eq!(server.request_count(), 2);
    // Remembered: giving up again does not ask the server.
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::GaveUp(_)
    ));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn api_key_auth_has_nothing_to_refresh() {
    let home = tempfile::tempdir().unwrap();
    let server = LoopbackServer::always(4, Reply::json(200, new_tokens("never")));
    let manager = manager(home.path(), &server.url()).await;
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::NotApplicable
    );
    manager
        .login_with_api_key("sk-refresh-none".into())
        .await
        .unwrap();
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::NotApplicable
    );
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::GaveUp(AuthError::NotRefreshable)
    ));
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn with_http_clients_refresher_uses_the_url_override_from_the_environment() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::always(4, Reply::json(200, new_tokens("env")));
    let env = TestEnv::default();
    env.set(
        CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR,
        &format!(" {}/oauth/token ", server.url()),
    );
    let configured = auth_http::with_http_clients(config(home.path(), &env)).unwrap();
    let manager = AuthManager::load(configured).await.unwrap();
    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Refreshed
    );
    let requests = server.requests();
    assert_eq!(requests[0].path, "/oauth/token");
    assert_eq!(
        requests[0].json()["client_id"],
        auth_http::DEFAULT_REFRESH_CLIENT_ID
    );
}

#[tokio::test]
async fn invalid_url_override_is_reported_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let env = TestEnv::default();
    env.set(CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR, "not a url");
    let error = auth_http::with_http_clients(config(home.path(), &env)).unwrap_err();
    assert!(
        matches!(error, auth_http::HttpError::InvalidUrl { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR)
    );
}

#[tokio::test]
async fn debug_of_the_manager_and_stored_secrets_stays_redacted() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let answer = new_tokens("dbg");
    let server = LoopbackServer::always(4, Reply::json(200, answer.clone()));
    let refresher = refresher(&server.url());
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default()).with_token_refresher(refresher.clone()),
    )
    .await
    .unwrap();
    manager.refresh_if_stale().await.unwrap();
    let text = format!("{manager:?} {:?} {refresher:?}", manager.auth());
    for secret in [
        OLD_REFRESH,
        answer["access_token"].as_str().unwrap(),
        answer["refresh_token"].as_str().unwrap(),
        answer["id_token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "a token reached Debug");
    }
    let stored = FileStore::new(home.path()).load().unwrap().unwrap();
    assert!(!format!("{stored:?}").contains("rt-NEW-dbg"));
}

#[tokio::test]
async fn background_task_refreshes_stale_tokens_and_stops_with_the_manager() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path(), &stale_access(), OLD_REFRESH, None);
    let server = LoopbackServer::always(4, Reply::json(200, new_tokens("background")));
    let manager = manager(home.path(), &server.url()).await;
    let mut changes = manager.subscribe();
    let task = manager.spawn_background_refresh(Duration::from_millis(20));
    tokio::time::timeout(Duration::from_secs(10), changes.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held_tokens(&manager).1, "rt-NEW-background");
    drop(manager);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(server.request_count(), 1);
}

/// A home whose writes fail after the closure ran (a full disk).
#[derive(Debug)]
struct FailingWrites(login_storage::EphemeralStore);

impl login_storage::AuthStore for FailingWrites {
    fn load(&self) -> Result<Option<login_storage::AuthDotJson>, login_storage::StoreError> {
        self.0.load()
    }

    fn save(&self, auth: &login_storage::AuthDotJson) -> Result<(), login_storage::StoreError> {
        self.0.save(auth)
    }

    fn delete(&self) -> Result<bool, login_storage::StoreError> {
        self.0.delete()
    }

    fn update(
        &self,
        f: &mut login_storage::UpdateFn<'_>,
    ) -> Result<Option<login_storage::AuthDotJson>, login_storage::StoreError> {
        let current = self.0.load()?;
        match f(current.clone())? {
            Some(_) => Err(login_storage::StoreError::Update("disk full".into())),
            None => Ok(current),
        }
    }
}

#[tokio::test]
async fn redeemed_tokens_that_cannot_be_stored_are_kept_in_memory_and_reported() {
    let home = tempfile::tempdir().unwrap();
    let storage = Arc::new(FailingWrites(login_storage::EphemeralStore::scoped(
        home.path(),
        "failing-writes",
    )));
    let document: login_storage::AuthDotJson = serde_json::from_value(serde_json::json!({
        "tokens": {
            "id_token": id_token("dev@example.com", "acct"),
            "access_token": stale_access(),
            "refresh_token": OLD_REFRESH,
        },
    }))
    .unwrap();
    storage.0.save(&document).unwrap();
    let server = LoopbackServer::always(4, Reply::json(200, new_tokens("unsaved")));
    let manager = AuthManager::load(
        config(home.path(), &TestEnv::default())
            .with_store(storage.clone())
            .with_token_refresher(refresher(&server.url())),
    )
    .await
    .unwrap();
    let error = manager.refresh_if_stale().await.unwrap_err();
    assert!(matches!(error, AuthError::Store(_)), "{error:?}");
    assert_eq!(held_tokens(&manager).1, "rt-NEW-unsaved");
    let stored = storage.0.load().unwrap().unwrap().tokens.unwrap();
    assert_eq!(stored.refresh_token.expose_secret(), OLD_REFRESH);
}
