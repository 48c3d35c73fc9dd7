//! Every URL the crate requests, configured or from an environment
//! override, is `https`, or plain `http` to a loopback host only: refused
//! with `InsecureUrl` naming the service and where the URL came from.

use auth_http::{
    CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR, CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR,
    CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, HttpError, HttpOptions, HttpTaskRegistrar,
    HttpTokenRefresher, HttpTokenRevoker, RefreshConfig, fetch_jwk_set, with_http_clients,
};
use core_auth::{AuthConfig, MapEnv};

const REMOTE: [(&str, &str); 4] = [
    ("http://auth.example.com/api", "auth.example.com"),
    ("http://10.0.0.1:8080/api", "10.0.0.1"),
    ("http://[::2]/api", "::2"),
    ("http://localhost.example.com/api", "localhost.example.com"),
];

const LOOPBACK: [&str; 5] = [
    "http://127.0.0.1:9/api",
    "http://127.8.9.10/api",
    "http://[::1]:9/api",
    "http://localhost:9/api",
    "https://auth.example.com/api",
];

/// A client's constructor from a configured URL.
type Build = Box<dyn Fn(&str) -> Result<(), HttpError>>;

/// The URL check of each client, by its constructor from configuration.
fn constructors() -> Vec<(&'static str, Build)> {
    vec![
        (
            "task registration",
            Box::new(|url| HttpTaskRegistrar::new(url).map(drop)),
        ),
        (
            "token refresh",
            Box::new(|url| HttpTokenRefresher::new(RefreshConfig::new(url, "client")).map(drop)),
        ),
        (
            "token revoke",
            Box::new(|url| HttpTokenRevoker::new(url, "client").map(drop)),
        ),
    ]
}

fn assert_insecure(error: &HttpError, service: &str, origin: &str, host: &str) {
    let HttpError::InsecureUrl {
        service: named_service,
        origin: named_origin,
        host: named_host,
    } = error
    else {
        panic!("{service} from {origin}: expected InsecureUrl, got {error:?}");
    };
    assert_eq!(*named_service, service);
    assert_eq!(*named_origin, origin);
    assert_eq!(named_host, host);
    let message = error.to_string();
    assert!(message.contains("https"), "{message}");
    assert!(message.contains(origin), "{message}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused_for_every_configured_url() {
    for (service, build) in constructors() {
        for (url, host) in REMOTE {
            assert_insecure(&build(url).unwrap_err(), service, "configuration", host);
        }
        for url in LOOPBACK {
            build(url).unwrap_or_else(|error| panic!("{service} {url}: {error}"));
        }
    }
    for (url, host) in REMOTE {
        let error = fetch_jwk_set(&format!("{url}/jwks.json"), HttpOptions::default()).unwrap_err();
        assert_insecure(&error, "JWK set fetch", "configuration", host);
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused_in_every_environment_override() {
    for (variable, service) in [
        (CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR, "token refresh"),
        (CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, "token revoke"),
        (
            CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR,
            "task registration",
        ),
    ] {
        for (url, host) in REMOTE {
            let env = MapEnv::new().with(variable, url);
            let home = tempfile::tempdir().unwrap();
            let config = AuthConfig::new(home.path()).with_env(std::sync::Arc::new(env));
            let error = with_http_clients(config).unwrap_err();
            assert_insecure(&error, service, variable, host);
        }
        let env = MapEnv::new().with(variable, "http://127.0.0.1:9/x");
        let home = tempfile::tempdir().unwrap();
        let config = AuthConfig::new(home.path()).with_env(std::sync::Arc::new(env));
        with_http_clients(config).unwrap_or_else(|error| panic!("{variable}: {error}"));
    }
    // Each client's own reader of its variable says the same.
    let env = MapEnv::new()
        .with(CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, REMOTE[0].0)
        .with(CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR, REMOTE[0].0);
    assert_insecure(
        &HttpTokenRevoker::from_env(&env).unwrap_err(),
        "token revoke",
        CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR,
        REMOTE[0].1,
    );
    assert_insecure(
        &HttpTaskRegistrar::from_env(&env, Some("https://ok.example")).unwrap_err(),
        "task registration",
        CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR,
        REMOTE[0].1,
    );
}

#[test]
fn refused_urls_never_repeat_credentials_or_a_query() {
    for (service, build) in constructors() {
        for url in [
            "http://user:hunter2@auth.example.com/api",
            "https://user:hunter2@auth.example.com/api",
            "https://auth.example.com/api?token=hunter2",
            "http://auth.example.com/api?token=hunter2",
        ] {
            let error = build(url).unwrap_err();
            assert!(
                matches!(error, HttpError::InvalidUrl { .. }),
                "{service} {url}: {error:?}"
            );
            assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
        }
    }
}

#[test]
fn the_defaults_are_https() {
    let env = MapEnv::new();
    assert!(
        HttpTokenRevoker::from_env(&env)
            .unwrap()
            .url()
            .starts_with("https://")
    );
    assert!(
        HttpTokenRefresher::new(RefreshConfig::from_env(&env))
            .unwrap()
            .url()
            .starts_with("https://")
    );
}
