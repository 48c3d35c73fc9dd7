//! The account guard: a refresh or a 401 recovery never adopts (nor
//! redeems) stored tokens of another ChatGPT account, as the mirrored CLI's
//! `refresh_token_errors_on_account_mismatch` and
//! `unauthorized_recovery_errors_on_account_mismatch` expect: an error, no
//! request to the token server, the stored document untouched and the
//! tokens in memory kept.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_http::{HttpOptions, HttpTokenRefresher, RefreshConfig};
use core_auth::{AuthError, AuthManager, RefreshOutcome, UnauthorizedRecovery};
use login_agent_identity::ExposeSecret as _;
use serde_json::{Value, json};

use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};
use test_support::{TestEnv, config, id_token};

/// A ChatGPT document; `account_id` `None` leaves the key out.
fn document(access: &str, refresh: &str, account_id: Option<&str>, id_account: &str) -> Value {
    let mut tokens = json!({
        "id_token": id_token("dev@example.com", id_account),
        "access_token": access,
        "refresh_token": refresh,
    });
    if let Some(account_id) = account_id {
        tokens["account_id"] = json!(account_id);
    }
    json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": tokens,
        "last_refresh": "2026-01-01T00:00:00Z",
    })
}

fn write(home: &Path, document: &Value) {
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

fn stored(home: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join("auth.json")).unwrap()).unwrap()
}

/// A token server that would answer with new tokens, counting requests.
fn token_server() -> LoopbackServer {
    LoopbackServer::always(
        4,
        Reply::json(
            200,
            json!({
                "access_token": access_token(unix_now() + 3600, "RECOVERED-ACCESS"),
                "refresh_token": "rt-RECOVERED",
            }),
        ),
    )
}

async fn manager(home: &Path, url: &str) -> Arc<AuthManager> {
    let refresher = HttpTokenRefresher::new(
        RefreshConfig::new(url, "client-test").with_options(
            HttpOptions::default()
                .with_timeout(Duration::from_secs(5))
                .with_retries(0, Duration::from_millis(10)),
        ),
    )
    .unwrap();
    AuthManager::load(config(home, &TestEnv::default()).with_token_refresher(Arc::new(refresher)))
        .await
        .unwrap()
}

fn held(manager: &AuthManager) -> (String, String, Option<String>) {
    let auth = manager.auth().unwrap();
    let tokens = auth.tokens().unwrap();
    (
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.expose_secret().to_owned(),
        tokens.account_id.clone(),
    )
}

/// A home logged in as `account_id` (the id token names `acct`) with an
/// access token valid for `lifetime` more seconds, and a manager reading
/// it whose refreshes go to a loopback token server.
async fn logged_in(
    lifetime: i64,
    account_id: Option<&str>,
) -> (tempfile::TempDir, LoopbackServer, Arc<AuthManager>) {
    let home = tempfile::tempdir().unwrap();
    let access = access_token(unix_now() + lifetime, "INITIAL-ACCESS");
    write(
        home.path(),
        &document(&access, "rt-INITIAL", account_id, "acct"),
    );
    let server = token_server();
    let manager = manager(home.path(), &server.url()).await;
    (home, server, manager)
}

#[tokio::test]
async fn refresh_token_errors_on_account_mismatch() {
    let (home, server, manager) = logged_in(60, Some("acct")).await;
    let before = held(&manager);

    // Another process logs in with another account.
    let other = document(
        &access_token(unix_now() + 60, "DISK-ACCESS"),
        "rt-DISK",
        Some("other-account"),
        "acct",
    );
    write(home.path(), &other);

    let error = manager.refresh_if_stale().await.unwrap_err();
    assert!(matches!(error, AuthError::AccountChanged), "{error:?}");
    assert!(!error.to_string().contains("other-account"), "{error}");
    assert_eq!(server.request_count(), 0, "no refresh request");
    assert_eq!(
        stored(home.path()),
        other,
        "the stored document is untouched"
    );
    assert_eq!(held(&manager), before, "the tokens in memory are kept");
}

#[tokio::test]
async fn unauthorized_recovery_errors_on_account_mismatch() {
    let (home, server, manager) = logged_in(3600, Some("acct")).await;
    let before = held(&manager);

    let other = document(
        &access_token(unix_now() + 3600, "DISK-ACCESS"),
        "rt-DISK",
        Some("other-account"),
        "acct",
    );
    write(home.path(), &other);

    let recovery = manager.recover_unauthorized().await;
    assert!(
        matches!(
            recovery,
            UnauthorizedRecovery::GaveUp(AuthError::AccountChanged)
        ),
        "{recovery:?}"
    );
    assert_eq!(server.request_count(), 0, "no refresh request");
    assert_eq!(
        stored(home.path()),
        other,
        "the stored document is untouched"
    );
    assert_eq!(held(&manager), before, "the tokens in memory are kept");
}

#[tokio::test]
async fn the_guard_uses_the_id_token_account_when_account_id_is_absent() {
    let (home, server, manager) = logged_in(60, None).await;
    let before = held(&manager);

    let other = document(
        &access_token(unix_now() + 3600, "DISK-ACCESS"),
        "rt-DISK",
        None,
        "acct-other",
    );
    write(home.path(), &other);

    assert!(matches!(
        manager.refresh_if_stale().await,
        Err(AuthError::AccountChanged)
    ));
    assert!(matches!(
        manager.recover_unauthorized().await,
        UnauthorizedRecovery::GaveUp(AuthError::AccountChanged)
    ));
    assert_eq!(server.request_count(), 0);
    assert_eq!(stored(home.path()), other);
    assert_eq!(held(&manager), before);

    // An explicit reload still switches accounts.
    assert!(manager.reload().await.unwrap());
    assert_eq!(held(&manager).1, "rt-DISK");
}

#[tokio::test]
async fn tokens_of_the_same_account_rotated_elsewhere_are_still_adopted() {
    let (home, server, manager) = logged_in(60, Some("acct")).await;

    // Same account, new id token without `account_id`: the fallback
    // names the same account.
    let rotated = document(
        &access_token(unix_now() + 3600, "ROTATED-ACCESS"),
        "rt-ROTATED",
        None,
        "acct",
    );
    write(home.path(), &rotated);

    assert_eq!(
        manager.refresh_if_stale().await.unwrap(),
        RefreshOutcome::Adopted
    );
    assert_eq!(server.request_count(), 0);
    assert_eq!(held(&manager).1, "rt-ROTATED");
}
