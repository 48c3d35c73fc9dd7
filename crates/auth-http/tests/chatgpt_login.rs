//! The ChatGPT sign-in flows of the library (`BrowserLogin`,
//! `DeviceLogin`) against a fake issuer on loopback
//! (`test_support::oauth`): the tokens they return go through
//! `AuthManager::save_tokens` (restrictions first, nothing written on a
//! refusal), a runtime resolves and refreshes them, and no handle or error
//! shows a secret.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_http::{
    BrowserLogin, CancelToken, DeviceLogin, HttpOptions, HttpTokenRefresher, LoginConfig,
    LoginError, RefreshConfig,
};
use core_auth::{AuthError, AuthManager, AuthMode, UnauthorizedRecovery};
use login_agent_identity::ExposeSecret as _;
use test_support::oauth::{
    self, BROWSER_CODE, FakeIssuer, IssuerOptions, REFRESH_TOKEN, ROTATED_REFRESH_TOKEN,
};
use test_support::{TestEnv, config};

const BOUND: Duration = Duration::from_secs(20);

fn login_config(issuer: &FakeIssuer) -> LoginConfig {
    LoginConfig::new(&issuer.url()).unwrap().with_options(
        HttpOptions::default()
            .with_timeout(Duration::from_secs(5))
            .with_retries(1, Duration::from_millis(10)),
    )
}

/// A browser login completed by a "browser" on another thread; returns
/// what `wait` returned and the callback's HTTP status.
fn browser_login(issuer: &FakeIssuer) -> (Result<core_auth::TokenData, LoginError>, u16) {
    let login = BrowserLogin::start(login_config(issuer), 0).unwrap();
    let query = oauth::authorize_query(login.authorize_url());
    assert_eq!(login.redirect_uri(), query["redirect_uri"]);
    issuer.expect_challenge(&query["code_challenge"]);
    let browser = std::thread::spawn(move || {
        oauth::browser_get(&format!(
            "{}?code={BROWSER_CODE}&state={}",
            query["redirect_uri"],
            oauth::encode(&query["state"])
        ))
        .0
    });
    let result = login.wait(BOUND, &CancelToken::new());
    (result, browser.join().unwrap())
}

fn stored(home: &Path) -> Option<String> {
    std::fs::read_to_string(home.join("auth.json")).ok()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn browser_login_tokens_are_stored_then_resolved_and_refreshed_once_by_a_runtime() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (tokens, status) = browser_login(&issuer);
    assert_eq!(status, 200);
    let tokens = tokens.unwrap();
    assert_eq!(tokens.account_id.as_deref(), Some("acct-login"));
    assert_eq!(tokens.refresh_token.expose_secret(), REFRESH_TOKEN);
    block_on(async {
        let writer = AuthManager::writer(config(home.path(), &TestEnv::default()));
        writer.save_tokens(tokens).await.unwrap();

        let refresher = HttpTokenRefresher::new(RefreshConfig::new(
            format!("{}/oauth/token", issuer.url()),
            oauth::CLIENT_ID,
        ))
        .unwrap();
        let runtime = AuthManager::load(
            config(home.path(), &TestEnv::default()).with_token_refresher(Arc::new(refresher)),
        )
        .await
        .unwrap();
        let auth = runtime.auth().unwrap();
        assert_eq!(auth.mode(), AuthMode::Chatgpt);
        assert_eq!(
            auth.tokens().unwrap().refresh_token.expose_secret(),
            REFRESH_TOKEN
        );
        // A 401 from the model service: the stored refresh token is
        // redeemed once and the rotated one stored.
        assert!(matches!(
            runtime.recover_unauthorized().await,
            UnauthorizedRecovery::Refreshed
        ));
    });
    assert!(stored(home.path()).unwrap().contains(ROTATED_REFRESH_TOKEN));
}

#[test]
fn a_login_refused_by_a_workspace_restriction_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        r#"{"OPENAI_API_KEY":"sk-before-1234"}"#,
    )
    .unwrap();
    let before = stored(home.path()).unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (tokens, _) = browser_login(&issuer);
    let tokens = tokens.unwrap();
    let error = block_on(async {
        let writer = AuthManager::writer(
            config(home.path(), &TestEnv::default()).with_forced_workspace_id("acct-required"),
        );
        writer.save_tokens(tokens).await.unwrap_err()
    });
    assert!(
        matches!(error, AuthError::WorkspaceRestriction { ref found, .. } if found.as_deref() == Some("acct-login")),
        "{error:?}"
    );
    assert_eq!(stored(home.path()).unwrap(), before);
}

#[test]
fn device_login_accepts_usercode_and_an_interval_sent_as_a_string() {
    let issuer = FakeIssuer::start(IssuerOptions {
        device_interval: "7",
        ..IssuerOptions::default()
    });
    let login = DeviceLogin::start(login_config(&issuer)).unwrap();
    assert_eq!(login.user_code().expose_secret(), oauth::USER_CODE);
    assert_eq!(login.interval(), Duration::from_secs(7));
    assert_eq!(
        login.verification_url(),
        format!("{}/codex/device", issuer.url())
    );
    let debug = format!("{login:?}");
    assert!(!debug.contains(oauth::USER_CODE) && !debug.contains(oauth::DEVICE_AUTH_ID));
}

#[test]
fn device_login_polls_until_the_code_is_entered() {
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let login = DeviceLogin::start(login_config(&issuer)).unwrap();
    let tokens = login.wait(BOUND, &CancelToken::new()).unwrap();
    assert_eq!(tokens.account_id.as_deref(), Some("acct-login"));
    assert_eq!(
        issuer.requests_to("/api/accounts/deviceauth/token").len(),
        3
    );
}

#[test]
fn a_cancelled_login_ends_at_once_with_nothing_exchanged() {
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let cancel = CancelToken::new();
    cancel.cancel();
    let login = DeviceLogin::start(login_config(&issuer)).unwrap();
    assert!(matches!(
        login.wait(BOUND, &cancel),
        Err(LoginError::Cancelled)
    ));
    let login = BrowserLogin::start(login_config(&issuer), 0).unwrap();
    assert!(matches!(
        login.wait(BOUND, &cancel),
        Err(LoginError::Cancelled)
    ));
    assert!(issuer.requests_to("/oauth/token").is_empty());
}

#[test]
fn device_login_reports_a_server_without_it() {
    let issuer = FakeIssuer::start(IssuerOptions {
        device_pending: None,
        ..IssuerOptions::default()
    });
    let error = DeviceLogin::start(login_config(&issuer)).unwrap_err();
    assert!(
        matches!(error, LoginError::DeviceNotEnabled { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("not enabled"));
}

#[test]
fn the_browser_login_handle_and_its_errors_show_no_secret() {
    let issuer = FakeIssuer::start(IssuerOptions {
        exchange_status: Some(400),
        ..IssuerOptions::default()
    });
    let login = BrowserLogin::start(login_config(&issuer), 0).unwrap();
    let query = oauth::authorize_query(login.authorize_url());
    let debug = format!("{login:?}");
    assert!(!debug.contains(query["state"].as_str()), "{debug}");
    drop(login);
    let (result, status) = browser_login(&issuer);
    assert_eq!(status, 500);
    let error = result.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("HTTP 400"), "{shown}");
    assert!(!shown.contains(BROWSER_CODE), "{shown}");
}

#[test]
fn an_issuer_over_plain_http_to_another_host_is_refused_before_connecting() {
    let error = LoginConfig::new("http://auth.example").unwrap_err();
    assert!(error.to_string().contains("not a loopback host"), "{error}");
    let env = TestEnv::default();
    env.set(auth_http::CODEX_LOGIN_ISSUER_VAR, "http://127.0.0.1:1/");
    let config = LoginConfig::from_env(&env, None).unwrap();
    assert_eq!(config.issuer(), "http://127.0.0.1:1");
    let config = LoginConfig::from_env(&TestEnv::default(), None).unwrap();
    assert_eq!(config.issuer(), auth_http::DEFAULT_ISSUER);
}
