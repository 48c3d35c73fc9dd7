//! [`BrowserLogin`]: the authorization-code flow with PKCE and a callback
//! server on `127.0.0.1`.
//!
//! The callback server is `tiny_http` (small, blocking, already what the
//! workspace's tests serve HTTP with): it parses requests for us, so no
//! hand-written HTTP parser faces whatever connects to the port.

use std::fmt;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use core_auth::TokenData;
use login_agent_identity::{ExposeSecret as _, SecretString};

use super::{
    CancelToken, LoginConfig, LoginError, POLL, Pkce, SCOPE, decode_pairs, encode_pairs,
    exchange_code, random_base64url, time_left,
};

/// The callback port the mirrored CLI listens on.
pub const DEFAULT_CALLBACK_PORT: u16 = 1455;

/// The callback path of `redirect_uri`.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// How long a browser login waits for its callback by default.
pub const DEFAULT_BROWSER_TIMEOUT: Duration = Duration::from_secs(10 * 60);

const SUCCESS_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in</title></head><body><h1>Signed in</h1><p>You can close this window and return to the terminal.</p></body></html>";

const FAILURE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head><body><h1>Sign-in failed</h1><p>Return to the terminal for details.</p></body></html>";

const WRONG_STATE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unexpected callback</title></head><body><h1>Unexpected callback</h1><p>This callback does not belong to the login in progress; it was ignored.</p></body></html>";

/// A browser login in progress: listening for its callback.
///
/// [`BrowserLogin::start`] binds the callback server and builds the
/// authorize URL; the front end shows (and may open) it; then
/// [`BrowserLogin::wait`] serves callbacks until one carries the right
/// `state`, exchanges its code and returns the tokens. A callback with
/// another `state` gets HTTP 400 and the wait goes on; one with `error`
/// ends it. The server stops listening when the wait returns.
pub struct BrowserLogin {
    config: LoginConfig,
    server: tiny_http::Server,
    port: u16,
    redirect_uri: String,
    authorize_url: String,
    state: SecretString,
    pkce: Pkce,
}

/// The port and issuer only: `state` and the verifier are secrets.
impl fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("issuer", &self.config.issuer())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl BrowserLogin {
    /// Listens on `127.0.0.1:port` (`0` picks a free port) and prepares a
    /// fresh PKCE pair and `state`. A port in use is
    /// [`LoginError::PortInUse`].
    pub fn start(config: LoginConfig, port: u16) -> Result<Self, LoginError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|error| {
            if error.kind() == std::io::ErrorKind::AddrInUse {
                LoginError::PortInUse { port }
            } else {
                LoginError::Listen {
                    port,
                    reason: error.to_string(),
                }
            }
        })?;
        let listen = |reason: String| LoginError::Listen { port, reason };
        let port = listener
            .local_addr()
            .map_err(|error| listen(error.to_string()))?
            .port();
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|error| listen(error.to_string()))?;
        let pkce = Pkce::generate()?;
        let state = random_base64url::<32>()?;
        let redirect_uri = format!("http://localhost:{port}{CALLBACK_PATH}");
        let query = encode_pairs(&[
            ("response_type", "code"),
            ("client_id", &config.client_id),
            ("redirect_uri", &redirect_uri),
            ("scope", SCOPE),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
            ("state", state.expose_secret()),
            ("id_token_add_organizations", "true"),
            ("codex_cli_simplified_flow", "true"),
        ]);
        let authorize_url = format!("{}/oauth/authorize?{query}", config.issuer());
        tracing::info!(port, issuer = config.issuer(), "browser login listening");
        Ok(Self {
            config,
            server,
            port,
            redirect_uri,
            authorize_url,
            state,
            pkce,
        })
    }

    /// The URL to open in a browser. It carries the PKCE challenge and
    /// `state` (meant for the browser; neither is a credential on its own).
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// The port the callback server listens on (the one picked for `0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://localhost:{port}/auth/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Serves callbacks until one completes the login, for at most
    /// `timeout` ([`LoginError::TimedOut`]) or until `cancel` is cancelled
    /// ([`LoginError::Cancelled`]). Returns the exchanged tokens; stores
    /// nothing.
    pub fn wait(self, timeout: Duration, cancel: &CancelToken) -> Result<TokenData, LoginError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = time_left(deadline, timeout, cancel)?;
            let request = match self.server.recv_timeout(POLL.min(left)) {
                Ok(Some(request)) => request,
                Ok(None) => continue,
                Err(error) => {
                    return Err(LoginError::Listen {
                        port: self.port,
                        reason: error.to_string(),
                    });
                }
            };
            if let Some(result) = self.handle(request) {
                return result;
            }
        }
    }

    /// Answers one request; `Some` when it ends the login.
    fn handle(&self, request: tiny_http::Request) -> Option<Result<TokenData, LoginError>> {
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        if request.method() != &tiny_http::Method::Get || path != CALLBACK_PATH {
            respond(request, 404, "<!doctype html><p>Not found</p>");
            return None;
        }
        let pairs = decode_pairs(query);
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        if get("state") != Some(self.state.expose_secret()) {
            // Another page (or an attacker) calling the callback must not
            // end, or complete, this login.
            tracing::warn!("callback with a wrong or missing state ignored");
            respond(request, 400, WRONG_STATE_PAGE);
            return None;
        }
        if let Some(error) = get("error") {
            let error = LoginError::Denied {
                error: error.to_owned(),
                description: get("error_description").map(str::to_owned),
            };
            respond(request, 400, FAILURE_PAGE);
            return Some(Err(error));
        }
        let Some(code) = get("code").filter(|code| !code.is_empty()) else {
            respond(request, 400, FAILURE_PAGE);
            return Some(Err(LoginError::MissingCode));
        };
        let code = SecretString::from(code.to_owned());
        let result = exchange_code(&self.config, &code, &self.pkce.verifier, &self.redirect_uri);
        match &result {
            Ok(_) => respond(request, 200, SUCCESS_PAGE),
            Err(_) => respond(request, 500, FAILURE_PAGE),
        }
        Some(result)
    }
}

/// Answers `request` with an HTML page; a browser that went away is no
/// error.
fn respond(request: tiny_http::Request, status: u16, page: &str) {
    let mut response = tiny_http::Response::from_string(page).with_status_code(status);
    if let Ok(header) =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/html; charset=utf-8"[..])
    {
        response = response.with_header(header);
    }
    if let Ok(header) = tiny_http::Header::from_bytes(&b"Connection"[..], &b"close"[..]) {
        response = response.with_header(header);
    }
    let _ = request.respond(response);
}
