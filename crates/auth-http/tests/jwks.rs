//! `fetch_jwk_set` against loopback servers: a served key set verifies a
//! minted JWT; 404, oversized and non-JWK-set bodies are errors naming the
//! URL; plain http to a non-loopback host and URLs with credentials or a
//! query are refused before any connection.

use std::time::Duration;

use auth_http::{HttpError, HttpOptions, MAX_JWKS_BYTES, fetch_jwk_set};
use login_agent_identity::{
    AgentIdentityError, ExposeSecret as _, JwtSigningKey, VerifyOptions, mint_agent_identity_jwt,
    verify_agent_identity_jwt,
};

use test_support::identity_claims;
use test_support::loopback::{LoopbackServer, Reply};

const PATH: &str = "/.well-known/jwks.json";

fn fast() -> HttpOptions {
    HttpOptions::default()
        .with_timeout(Duration::from_secs(5))
        .with_retries(3, Duration::from_millis(10))
}

fn jwks_url(server: &LoopbackServer) -> String {
    format!("{}{PATH}", server.url())
}

/// A JWT minted by a fresh signing key, and that key's public JWK set.
fn minted() -> (String, serde_json::Value) {
    let signer = JwtSigningKey::generate();
    let claims = identity_claims("ws-jwks", "rt-jwks");
    let jwt = mint_agent_identity_jwt(&claims, &signer).unwrap();
    (
        jwt.expose_secret().to_owned(),
        serde_json::json!({ "keys": [signer.public_jwk()] }),
    )
}

#[test]
fn jwks_fetch_verifies_with_a_served_key_set() {
    let (jwt, jwks) = minted();
    let server = LoopbackServer::always(2, Reply::json(200, jwks));
    let url = jwks_url(&server);

    let fetched = fetch_jwk_set(&url, fast()).unwrap();
    let claims = verify_agent_identity_jwt(&jwt, &fetched, &VerifyOptions::default()).unwrap();
    assert_eq!(claims.workspace_id(), "ws-jwks");
    assert_eq!(claims.agent_runtime_id(), "rt-jwks");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, PATH);
    assert!(
        requests[0]
            .header("accept")
            .unwrap()
            .contains("application/jwk-set+json")
    );
}

#[test]
fn jwks_fetch_from_another_key_set_does_not_verify() {
    let (jwt, _) = minted();
    let (_, other_jwks) = minted();
    let server = LoopbackServer::always(2, Reply::json(200, other_jwks));
    let fetched = fetch_jwk_set(&jwks_url(&server), fast()).unwrap();
    let error = verify_agent_identity_jwt(&jwt, &fetched, &VerifyOptions::default()).unwrap_err();
    assert!(matches!(error, AgentIdentityError::UnknownKid), "{error:?}");
}

#[test]
fn jwks_fetch_of_a_404_is_a_status_error_naming_the_url_without_retrying() {
    let server = LoopbackServer::always(4, Reply::text(404, "no such key set"));
    let url = jwks_url(&server);
    let error = fetch_jwk_set(&url, fast()).unwrap_err();
    assert_eq!(error.status(), Some(404), "{error}");
    assert!(
        matches!(error, HttpError::Status { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&url), "{error}");
    assert_eq!(server.request_count(), 1, "a 4xx is not retried");
}

#[test]
fn jwks_fetch_retries_a_server_error_then_succeeds() {
    let (jwt, jwks) = minted();
    let server = LoopbackServer::sequence(vec![Reply::text(503, "busy"), Reply::json(200, jwks)]);
    let fetched = fetch_jwk_set(&jwks_url(&server), fast()).unwrap();
    verify_agent_identity_jwt(&jwt, &fetched, &VerifyOptions::default()).unwrap();
    assert_eq!(server.request_count(), 2);
}

/// A valid key set padded with trailing spaces to `len` bytes: a parse of
/// its first `MAX_JWKS_BYTES` bytes would succeed, so only an enforced
/// limit refuses it.
fn padded_key_set(jwks: &serde_json::Value, len: u64) -> String {
    let mut body = jwks.to_string();
    let pad = usize::try_from(len).unwrap() - body.len();
    body.push_str(&" ".repeat(pad));
    body
}

#[test]
fn jwks_fetch_refuses_a_body_over_the_size_limit_instead_of_truncating_it() {
    let (_, jwks) = minted();
    let body = padded_key_set(&jwks, MAX_JWKS_BYTES + 1);
    let server = LoopbackServer::always(4, Reply::text(200, body));
    let url = jwks_url(&server);
    let error = fetch_jwk_set(&url, fast()).unwrap_err();
    assert!(
        matches!(error, HttpError::InvalidResponse { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains(&MAX_JWKS_BYTES.to_string()), "{message}");
    assert_eq!(
        server.request_count(),
        1,
        "an oversized body is not retried"
    );
}

#[test]
fn jwks_fetch_accepts_a_body_of_exactly_the_size_limit() {
    let (jwt, jwks) = minted();
    let body = padded_key_set(&jwks, MAX_JWKS_BYTES);
    let server = LoopbackServer::always(2, Reply::text(200, body));
    let fetched = fetch_jwk_set(&jwks_url(&server), fast()).unwrap();
    verify_agent_identity_jwt(&jwt, &fetched, &VerifyOptions::default()).unwrap();
}

#[test]
fn jwks_fetch_of_a_body_that_is_not_a_jwk_set_names_the_url_without_quoting_the_body() {
    let marker = "BODY-MARKER-7f3a";
    for body in [
        format!("<html>{marker}</html>"),
        serde_json::json!({ "keys": [{ "kty": marker, "kid": marker }] }).to_string(),
        serde_json::json!({ "issuer": marker }).to_string(),
    ] {
        let server = LoopbackServer::always(2, Reply::text(200, body.clone()));
        let url = jwks_url(&server);
        let error = fetch_jwk_set(&url, fast()).unwrap_err();
        assert!(
            matches!(error, HttpError::InvalidResponse { .. }),
            "{body}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&url), "{message}");
        assert!(!message.contains(marker), "the body is quoted: {message}");
        assert!(!format!("{error:?}").contains(marker), "{error:?}");
    }
}

#[test]
fn jwks_fetch_refuses_plain_http_to_a_non_loopback_host_before_connecting() {
    // Refused by the URL check itself: no resolution, no connection (the
    // InsecureUrl variant is only ever produced before a client exists).
    for (url, host) in [
        ("http://example.com/.well-known/jwks.json", "example.com"),
        ("http://192.0.2.1/jwks.json", "192.0.2.1"),
        (
            "http://localhost.example.com/jwks.json",
            "localhost.example.com",
        ),
    ] {
        let error = fetch_jwk_set(url, fast()).unwrap_err();
        match &error {
            HttpError::InsecureUrl { host: named, .. } => assert_eq!(named, host),
            other => panic!("{url}: expected InsecureUrl, got {other:?}"),
        }
        assert!(error.to_string().contains("https"), "{error}");
    }
}

#[test]
fn jwks_fetch_refuses_urls_with_credentials_or_a_query_without_repeating_them() {
    let server = LoopbackServer::always(4, Reply::text(200, "{}"));
    let base = server.url();
    let authority = base.trim_start_matches("http://");
    for url in [
        format!("http://user:hunter2@{authority}{PATH}"),
        format!("{base}{PATH}?access_token=hunter2"),
        format!("{base}{PATH}#hunter2"),
    ] {
        let error = fetch_jwk_set(&url, fast()).unwrap_err();
        assert!(matches!(error, HttpError::InvalidUrl { .. }), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
    assert_eq!(server.request_count(), 0, "refused before any request");
}
