//! A server that echoes a request secret back in an error body, in any
//! form (as sent, standard or URL-safe base64, padded or not, JSON-escaped
//! in the ways encoders write it), never gets it into an error: for the
//! refresh token (refresh and revoke) and the registration signature.

use std::time::Duration;

use auth_http::{
    HttpOptions, HttpTaskRegistrar, HttpTokenRefresher, HttpTokenRevoker, RefreshConfig,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use core_auth::TokenRefresher as _;
use login_agent_identity::{AgentIdentityKey, SecretString};

use test_support::loopback::{LoopbackServer, Reply, Request};

/// Needs JSON escaping (quote, backslash), has a `/` and a non-ASCII
/// character, and its base64 forms differ between the alphabets.
const REFRESH: &str = "rt-\"q\"\\b/s-\u{e9}-\u{1F600}-MARKER>>??";

/// Every form of `secret` a test server echoes, by name.
fn forms(secret: &str) -> Vec<(&'static str, String)> {
    let json = serde_json::to_string(secret).unwrap();
    let escaped = json[1..json.len() - 1].to_owned();
    let ascii = |upper: bool| -> String {
        escaped
            .replace('/', "\\/")
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    return c.to_string();
                }
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|unit| {
                        if upper {
                            format!("\\u{unit:04X}")
                        } else {
                            format!("\\u{unit:04x}")
                        }
                    })
                    .collect()
            })
            .collect()
    };
    vec![
        ("raw", secret.to_owned()),
        ("standard base64", STANDARD.encode(secret)),
        (
            "standard base64 without padding",
            STANDARD_NO_PAD.encode(secret),
        ),
        ("URL-safe base64", URL_SAFE.encode(secret)),
        (
            "URL-safe base64 without padding",
            URL_SAFE_NO_PAD.encode(secret),
        ),
        ("JSON-escaped", escaped.clone()),
        ("JSON-escaped with \\/", escaped.replace('/', "\\/")),
        ("JSON-escaped ASCII", ascii(false)),
        ("JSON-escaped ASCII, upper-case hex", ascii(true)),
    ]
}

/// A server that answers `status` with the `index`th form of the secret
/// `secret_of` finds in the request.
fn echoing_server(status: u16, index: usize, secret_of: fn(&Request) -> String) -> LoopbackServer {
    LoopbackServer::start(4, move |request| {
        let (name, form) = forms(&secret_of(request)).swap_remove(index);
        Reply::text(status, format!("{{\"error\": \"bad {name}: {form}\"}}"))
    })
}

fn assert_redacted(error_text: &str, secret: &str, form_name: &str) {
    assert!(
        error_text.contains("<redacted>"),
        "{form_name}: {error_text}"
    );
    for (name, form) in forms(secret) {
        assert!(
            !error_text.contains(&form),
            "{form_name}: the {name} form leaked: {error_text}"
        );
    }
}

fn fast() -> HttpOptions {
    HttpOptions::default()
        .with_timeout(Duration::from_secs(5))
        .with_retries(1, Duration::from_millis(10))
}

#[test]
fn refresh_error_bodies_echoing_the_refresh_token_in_any_form_are_redacted() {
    assert_ne!(STANDARD.encode(REFRESH), URL_SAFE.encode(REFRESH));
    let token = SecretString::from(REFRESH.to_owned());
    for (index, (name, _)) in forms(REFRESH).into_iter().enumerate() {
        let server = echoing_server(400, index, |request| {
            request.json()["refresh_token"].as_str().unwrap().to_owned()
        });
        let refresher = HttpTokenRefresher::new(
            RefreshConfig::new(server.url(), "client").with_options(fast()),
        )
        .unwrap();
        let error = refresher.refresh(&token).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(text.contains("400"), "{text}");
        assert_redacted(&text, REFRESH, name);
    }
}

#[test]
fn revoke_error_bodies_echoing_the_refresh_token_in_any_form_are_redacted() {
    let token = SecretString::from(REFRESH.to_owned());
    for (index, (name, _)) in forms(REFRESH).into_iter().enumerate() {
        let server = echoing_server(500, index, |request| {
            request.json()["token"].as_str().unwrap().to_owned()
        });
        let revoker = HttpTokenRevoker::new(&server.url(), "client")
            .unwrap()
            .with_options(fast());
        let error = revoker.revoke_token(&token).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(text.contains("500"), "{text}");
        assert_redacted(&text, REFRESH, name);
    }
}

#[test]
fn registration_error_bodies_echoing_the_signature_in_any_form_are_redacted() {
    let key = AgentIdentityKey::generate("rt-echo");
    for (index, (name, _)) in forms("signature").into_iter().enumerate() {
        let signature = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let seen = signature.clone();
        let server = LoopbackServer::start(4, move |request| {
            let sent = request.json()["signature"].as_str().unwrap().to_owned();
            *seen.lock().unwrap() = sent.clone();
            let (name, form) = forms(&sent).swap_remove(index);
            Reply::text(403, format!("bad {name}: {form}"))
        });
        let registrar = HttpTaskRegistrar::new(&server.url())
            .unwrap()
            .with_options(fast());
        let error = registrar.register(&key).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(text.contains("403"), "{text}");
        let sent = signature.lock().unwrap().clone();
        assert!(!sent.is_empty());
        assert_redacted(&text, &sent, name);
    }
}
