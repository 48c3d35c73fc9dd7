//! [`fetch_jwk_set`]: a JWK set over HTTP, for verifying agent identity JWTs
//! as a JWK set file would.

use login_agent_identity::JwkSet;

use crate::{HttpError, HttpOptions, JsonClient, describe_body_error, normalize_url};

/// Largest JWK set body read: 1 MiB. A real key set holds a few keys of at
/// most a few KiB each (a 4096-bit RSA JWK is under 1 KiB), so this leaves
/// ample room while bounding the memory a hostile or broken server can make
/// us use. A longer body is an error, never a truncated parse.
pub const MAX_JWKS_BYTES: u64 = 1024 * 1024;

const SERVICE: &str = "JWK set fetch";

const ACCEPT: &str = "application/jwk-set+json, application/json";

/// Fetches the JWK set at `url` (blocking) for
/// [`verify_agent_identity_jwt`](login_agent_identity::verify_agent_identity_jwt).
///
/// Rules, all checked before any connection unless noted:
/// - `url` is trimmed and used as given otherwise; it must be `https://`
///   to any host, or plain `http://` to a loopback host only (`127.0.0.0/8`,
///   `[::1]`, `localhost`), else [`HttpError::InsecureUrl`];
/// - it must not carry credentials, a query or a fragment
///   ([`HttpError::InvalidUrl`], which never repeats the URL), so every
///   other error can name the URL without leaking either;
/// - one `GET` takes at most [`HttpOptions::timeout`]; redirects are not
///   followed; refused connections and 5xx answers are retried up to
///   [`HttpOptions::max_attempts`] in all, a 4xx never;
/// - an unsuccessful status is [`HttpError::Status`];
/// - a body over [`MAX_JWKS_BYTES`] bytes, or one that is not a JWK set
///   (`{"keys": [...]}` of JWKs `jsonwebtoken` understands), is
///   [`HttpError::InvalidResponse`] naming the URL and, for a bad body,
///   only the line and column where parsing stopped: the body is never
///   quoted.
///
/// Proxies from the environment (`HTTPS_PROXY`, ...) apply, except to
/// loopback hosts. The call blocks the thread: from async code, run it with
/// `tokio::task::spawn_blocking`.
///
/// ```no_run
/// use auth_http::{HttpOptions, fetch_jwk_set};
/// use login_agent_identity::{VerifyOptions, verify_agent_identity_jwt};
///
/// # fn run(jwt: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let jwks = fetch_jwk_set("https://auth.example.com/.well-known/jwks.json", HttpOptions::default())?;
/// let identity = verify_agent_identity_jwt(jwt, &jwks, &VerifyOptions::default())?;
/// println!("verified an identity of workspace {}", identity.workspace_id());
/// # Ok(())
/// # }
/// ```
pub fn fetch_jwk_set(url: &str, options: HttpOptions) -> Result<JwkSet, HttpError> {
    let url = checked_url(url, "configuration")?;
    let _span = tracing::info_span!("jwk_set_request", url = %url).entered();
    let client = JsonClient::new(SERVICE, &url, options);
    let reply = client.get(&url, ACCEPT, MAX_JWKS_BYTES)?;
    if !(200..300).contains(&reply.status) {
        return Err(client.status_error(&url, &reply));
    }
    let jwks: JwkSet = serde_json::from_str(&reply.body).map_err(|error| {
        client.invalid_response(
            &url,
            describe_body_error(&error, reply.body.len(), "a JWK set"),
        )
    })?;
    // jsonwebtoken keeps a key of an unknown type (`kty`) as `Other`; such
    // a set is not one we can verify with, and saying so by position keeps
    // the body out of the error.
    if let Some(index) = jwks.keys.iter().position(|key| {
        matches!(
            key.algorithm,
            jsonwebtoken::jwk::AlgorithmParameters::Other(_)
        )
    }) {
        return Err(client.invalid_response(
            &url,
            format!("the body is JSON but not a JWK set: key {index} has an unknown key type"),
        ));
    }
    tracing::debug!(
        status = reply.status,
        attempts = reply.attempts,
        keys = jwks.keys.len(),
        "JWK set fetched"
    );
    Ok(jwks)
}

/// `raw` trimmed, once [`normalize_url`] accepts it (which refuses plain
/// `http` to a host that is not loopback). The path is kept as given (a
/// trailing `/` included): this is the resource itself, not a base URL.
fn checked_url(raw: &str, origin: &'static str) -> Result<String, HttpError> {
    normalize_url(raw, SERVICE, origin)?;
    Ok(raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_host(url: &str) -> Option<String> {
        match checked_url(url, "test") {
            Err(HttpError::InsecureUrl { host, .. }) => Some(host),
            _ => None,
        }
    }

    #[test]
    fn plain_http_is_allowed_to_loopback_hosts_only() {
        for url in [
            "http://127.0.0.1:8080/jwks.json",
            "http://127.8.9.10/jwks.json",
            "http://[::1]:9/jwks",
            "http://localhost/jwks",
            "HTTP://LOCALHOST/jwks",
            "https://auth.example.com/.well-known/jwks.json",
            "https://10.0.0.1/jwks",
        ] {
            assert!(checked_url(url, "test").is_ok(), "{url}");
        }
        for (url, host) in [
            ("http://example.com/jwks.json", "example.com"),
            ("http://10.0.0.1/jwks", "10.0.0.1"),
            ("http://[::2]/jwks", "::2"),
            ("http://localhost.example.com/jwks", "localhost.example.com"),
            ("http://127.0.0.1.example.com/jwks", "127.0.0.1.example.com"),
            ("http://0.0.0.0/jwks", "0.0.0.0"),
        ] {
            assert_eq!(refused_host(url).as_deref(), Some(host), "{url}");
        }
    }

    #[test]
    fn the_path_is_kept_as_given() {
        assert_eq!(
            checked_url(" https://a.example/keys/ ", "test").unwrap(),
            "https://a.example/keys/"
        );
    }

    #[test]
    fn credentials_and_queries_are_refused_without_repeating_them() {
        for url in [
            "https://user:hunter2@a.example/jwks",
            "https://a.example/jwks?token=hunter2",
            "https://a.example/jwks#hunter2",
        ] {
            let error = checked_url(url, "test").unwrap_err();
            assert!(matches!(error, HttpError::InvalidUrl { .. }), "{error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn body_errors_give_positions_not_content() {
        let error = serde_json::from_str::<JwkSet>(r#"{"keys": "SECRETKTY"}"#).unwrap_err();
        let reason = describe_body_error(&error, 33, "a JWK set");
        assert!(reason.contains("not a JWK set"), "{reason}");
        assert!(!reason.contains("SECRETKTY"), "{reason}");
        let error = serde_json::from_str::<JwkSet>("<html>").unwrap_err();
        assert!(describe_body_error(&error, 6, "a JWK set").contains("not JSON"));
    }
}
