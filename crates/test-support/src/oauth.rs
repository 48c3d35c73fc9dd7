//! A fake ChatGPT OAuth issuer on a [`LoopbackServer`], and a stand-in for
//! the browser, for the sign-in tests.
//!
//! The issuer serves the token endpoint (`/oauth/token`, checking the form:
//! grant type, client id, code, redirect URI and, for the browser flow,
//! that the S256 of `code_verifier` is the challenge the test saw in the
//! authorize URL) and the device-code endpoints. Every wait is bounded.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest as _;

use crate::loopback::{LoopbackServer, Reply, Request, access_token, unix_now};

/// The code the "browser" brings back to the callback.
pub const BROWSER_CODE: &str = "BROWSER-AUTH-CODE-MARKER";
/// The authorization code the device flow's poll hands out.
pub const DEVICE_CODE: &str = "DEVICE-AUTH-CODE-MARKER";
/// The verifier the device flow's poll hands out.
pub const DEVICE_VERIFIER: &str = "DEVICE-VERIFIER-MARKER";
/// The device flow's id (a secret of the flow).
pub const DEVICE_AUTH_ID: &str = "DEVICE-AUTH-ID-MARKER";
/// The user code shown to the person (printed on purpose).
pub const USER_CODE: &str = "WXYZ-2345";
/// The refresh token the exchange returns.
pub const REFRESH_TOKEN: &str = "LOGIN-REFRESH-TOKEN-MARKER";
/// The marker inside the access token the exchange returns.
pub const ACCESS_MARKER: &str = "LOGIN-ACCESS-TOKEN-MARKER";
/// The refresh token a redemption of [`REFRESH_TOKEN`] rotates to.
pub const ROTATED_REFRESH_TOKEN: &str = "LOGIN-ROTATED-REFRESH-MARKER";
/// The public client id (as auth-http's `DEFAULT_REFRESH_CLIENT_ID`).
pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

/// How the fake issuer behaves.
#[derive(Debug, Clone)]
pub struct IssuerOptions {
    /// The ChatGPT account of the id token it issues.
    pub account_id: String,
    /// Fail the token exchange with this status (and an error body).
    pub exchange_status: Option<u16>,
    /// `None`: device login not enabled (404 at start). `Some(n)`: `n`
    /// pending polls (403, then 404, alternating) before success;
    /// `usize::MAX` never succeeds.
    pub device_pending: Option<usize>,
    /// The `interval` the device start answers, as a string.
    pub device_interval: &'static str,
}

impl Default for IssuerOptions {
    fn default() -> Self {
        Self {
            account_id: "acct-login".to_owned(),
            exchange_status: None,
            device_pending: Some(2),
            device_interval: "0",
        }
    }
}

/// What the issuer counted.
#[derive(Default)]
struct Counts {
    /// Device token polls.
    polls: usize,
    /// Redemptions of [`REFRESH_TOKEN`].
    redemptions: usize,
}

/// The fake issuer.
pub struct FakeIssuer {
    server: LoopbackServer,
    challenge: Arc<Mutex<Option<String>>>,
}

impl FakeIssuer {
    pub fn start(options: IssuerOptions) -> Self {
        let challenge: Arc<Mutex<Option<String>>> = Arc::default();
        let expected = challenge.clone();
        let mut counts = Counts::default();
        let server = LoopbackServer::start(64, move |request| {
            handle(request, &options, &expected, &mut counts)
        });
        Self { server, challenge }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The PKCE challenge the browser flow's exchange must match.
    pub fn expect_challenge(&self, challenge: &str) {
        *self.challenge.lock().unwrap() = Some(challenge.to_owned());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The requests to `path` (query ignored).
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|request| request.path.split('?').next() == Some(path))
            .collect()
    }
}

/// The id token the issuer hands out for `account_id`.
pub fn issued_id_token(account_id: &str) -> String {
    crate::id_token("dev@example.com", account_id)
}

fn handle(
    request: &Request,
    options: &IssuerOptions,
    challenge: &Mutex<Option<String>>,
    counts: &mut Counts,
) -> Reply {
    let error = |status, code: &str| Reply::json(status, serde_json::json!({ "error": code }));
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/oauth/token") if request.header("content-type") == Some("application/json") => {
            // The refresher's grant (JSON, as the mirrored CLI sends it):
            // [`REFRESH_TOKEN`] is redeemed once, then it is reused.
            let body = request.json();
            if body["grant_type"] != "refresh_token" || body["refresh_token"] != REFRESH_TOKEN {
                return error(400, "invalid_request");
            }
            counts.redemptions += 1;
            if counts.redemptions > 1 {
                return Reply::json(
                    401,
                    serde_json::json!({ "error": { "code": "refresh_token_reused" } }),
                );
            }
            Reply::json(
                200,
                serde_json::json!({
                    "access_token": access_token(unix_now() + 7200, "LOGIN-REFRESHED-ACCESS"),
                    "refresh_token": ROTATED_REFRESH_TOKEN,
                }),
            )
        }
        ("POST", "/oauth/token") => {
            let form = query_pairs(&request.body);
            let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
            if request.header("content-type") != Some("application/x-www-form-urlencoded")
                || field("grant_type") != "authorization_code"
                || field("client_id") != CLIENT_ID
            {
                return error(400, "invalid_request");
            }
            let pkce_ok = match field("code") {
                BROWSER_CODE => {
                    let expected = challenge.lock().unwrap().clone();
                    field("redirect_uri").starts_with("http://localhost:")
                        && field("redirect_uri").ends_with("/auth/callback")
                        && expected.as_deref() == Some(s256(field("code_verifier")).as_str())
                }
                DEVICE_CODE => {
                    field("redirect_uri").ends_with("/deviceauth/callback")
                        && field("code_verifier") == DEVICE_VERIFIER
                }
                _ => false,
            };
            if !pkce_ok {
                return error(400, "invalid_grant");
            }
            if let Some(status) = options.exchange_status {
                return error(status, "server_error");
            }
            Reply::json(
                200,
                serde_json::json!({
                    "id_token": issued_id_token(&options.account_id),
                    "access_token": access_token(unix_now() + 3600, ACCESS_MARKER),
                    "refresh_token": REFRESH_TOKEN,
                }),
            )
        }
        ("POST", "/api/accounts/deviceauth/usercode") => {
            if options.device_pending.is_none() {
                return Reply::text(404, "Not Found");
            }
            if request.json()["client_id"] != CLIENT_ID {
                return error(400, "invalid_client");
            }
            // `usercode`, the other spelling the mirrored CLI accepts.
            Reply::json(
                200,
                serde_json::json!({
                    "device_auth_id": DEVICE_AUTH_ID,
                    "usercode": USER_CODE,
                    "interval": options.device_interval,
                }),
            )
        }
        ("POST", "/api/accounts/deviceauth/token") => {
            let body = request.json();
            if body["device_auth_id"] != DEVICE_AUTH_ID || body["user_code"] != USER_CODE {
                return error(400, "invalid_request");
            }
            counts.polls += 1;
            let polled = counts.polls;
            if polled <= options.device_pending.unwrap_or(usize::MAX) {
                let status = if polled % 2 == 1 { 403 } else { 404 };
                return error(status, "deviceauth_authorization_pending");
            }
            Reply::json(
                200,
                serde_json::json!({
                    "authorization_code": DEVICE_CODE,
                    "code_challenge": s256(DEVICE_VERIFIER),
                    "code_verifier": DEVICE_VERIFIER,
                }),
            )
        }
        _ => Reply::text(404, "Not Found"),
    }
}

/// base64url of the SHA-256 of `verifier`: its S256 challenge.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Percent-decodes `text` (`+` is a space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The pairs of a query string or form body, decoded.
pub fn query_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// The authorize URL's query, decoded (panics when `url` has none).
pub fn authorize_query(url: &str) -> HashMap<String, String> {
    query_pairs(url.split_once('?').expect("a query").1)
}

/// A percent-encoding of `value` for a query string.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The browser: GETs `url` (its `localhost` taken as 127.0.0.1) and
/// returns the status and body. Bounded by a 20 s read timeout.
pub fn browser_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = authority.replace("localhost", "127.0.0.1");
    let mut stream = TcpStream::connect(&authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}
