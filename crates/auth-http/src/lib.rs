//! HTTP clients for `core-auth`: [`HttpTaskRegistrar`] (a
//! [`TaskRegistrar`](core_auth::TaskRegistrar)), [`HttpTokenRefresher`] (a
//! [`TokenRefresher`](core_auth::TokenRefresher)), [`HttpTokenRevoker`] (a
//! [`TokenRevoker`](core_auth::TokenRevoker)) and [`fetch_jwk_set`], on a
//! blocking `ureq` agent with rustls; and the two ways to sign in with
//! ChatGPT, [`BrowserLogin`] (PKCE and a loopback callback) and
//! [`DeviceLogin`] (a device code), which return tokens for
//! [`AuthManager::save_tokens`](core_auth::AuthManager::save_tokens).
//!
//! `core-auth` defines the plug-in traits and never builds an HTTP client;
//! this crate implements them. [`with_http_clients`] wires them into an
//! [`AuthConfig`] the way the `agent-login` CLI does:
//!
//! ```no_run
//! use core_auth::{AuthConfig, AuthManager};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = auth_http::with_http_clients(AuthConfig::from_env()?)?;
//! let manager = AuthManager::load(config).await?;
//! let headers = manager.request_headers().await?;
//! # let _ = headers;
//! # Ok(())
//! # }
//! ```
//!
//! Shared rules, enforced here once:
//! - one request takes at most [`HttpOptions::timeout`] (30 s by default);
//! - a 4xx is never retried; a refused connection (and, where the caller
//!   allows it, a 5xx) is retried at most [`HttpOptions::max_attempts`]
//!   times in all, with exponential backoff;
//! - every URL (configured or from an environment override) is `https`,
//!   or plain `http` to a loopback host only (`127.0.0.0/8`, `::1`,
//!   `localhost`): [`HttpError::InsecureUrl`] otherwise, before connecting;
//! - redirects are not followed (a request body holds a signature or a
//!   refresh token, which must not be replayed elsewhere);
//! - an error quotes at most [`MAX_ERROR_BODY_CHARS`] characters of a
//!   response body, after removing every request secret from it, as sent
//!   and in standard and URL-safe base64 and JSON-escaped forms; a
//!   successful body (which may hold tokens) is never quoted;
//! - environment proxies (`HTTPS_PROXY`, ...) apply, except to loopback
//!   hosts.

mod chatgpt_login;
mod jwks;
mod refresher;
mod registrar;
mod revoker;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use core_auth::AuthConfig;
use login_agent_identity::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub use chatgpt_login::{
    BrowserLogin, CALLBACK_PATH, CODEX_LOGIN_ISSUER_VAR, CancelToken, DEFAULT_BROWSER_TIMEOUT,
    DEFAULT_CALLBACK_PORT, DEFAULT_DEVICE_TIMEOUT, DEFAULT_ISSUER, DeviceLogin, LoginConfig,
    LoginError,
};
pub use jwks::{MAX_JWKS_BYTES, fetch_jwk_set};
pub use refresher::{
    CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR, DEFAULT_REFRESH_CLIENT_ID, DEFAULT_REFRESH_TOKEN_URL,
    HttpTokenRefresher, RefreshConfig,
};
pub use registrar::{CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR, HttpTaskRegistrar};
pub use revoker::{
    CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR, DEFAULT_REVOKE_TOKEN_URL, HttpTokenRevoker, REVOKE_TIMEOUT,
};

/// `config` with the HTTP clients in every slot it left empty: an
/// [`HttpTokenRefresher`] for [`RefreshConfig::from_env`] (the mirrored
/// CLI's token endpoint, or `CODEX_REFRESH_TOKEN_URL_OVERRIDE`), and, when
/// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` is set, an [`HttpTaskRegistrar`]
/// for it (without it an agent identity cannot register a task, and
/// registering fails naming the variable); and an [`HttpTokenRevoker`] for
/// [`HttpTokenRevoker::from_env`] (`CODEX_REVOKE_TOKEN_URL_OVERRIDE`), used
/// by [`AuthManager::revoke_and_logout`](core_auth::AuthManager::revoke_and_logout).
/// Variables are read from `config.env`.
///
/// Errors when a variable holds an unusable URL, naming the variable.
pub fn with_http_clients(mut config: AuthConfig) -> Result<AuthConfig, HttpError> {
    if config.token_refresher.is_none() {
        let refresher = HttpTokenRefresher::new(RefreshConfig::from_env(&*config.env))?;
        config.token_refresher = Some(Arc::new(refresher));
    }
    if config.token_revoker.is_none() {
        let revoker = HttpTokenRevoker::from_env(&*config.env)?;
        config.token_revoker = Some(Arc::new(revoker));
    }
    if config.task_registrar.is_none() {
        match HttpTaskRegistrar::from_env(&*config.env, None) {
            Ok(registrar) => config.task_registrar = Some(Arc::new(registrar)),
            Err(HttpError::MissingUrl { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(config)
}

/// Longest excerpt of a response body an error message quotes.
pub const MAX_ERROR_BODY_CHARS: usize = 512;

/// Largest response body read; task ids and tokens are far smaller.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

const USER_AGENT: &str = concat!("core-auth/", env!("CARGO_PKG_VERSION"));

/// Why an HTTP call failed. Messages name the service and URL (never a
/// query string or credentials: configured URLs may not carry either) and
/// quote at most [`MAX_ERROR_BODY_CHARS`] characters of an error body, with
/// request secrets removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No URL is configured for a service.
    #[error("no {service} URL is configured; set {variable}")]
    MissingUrl {
        /// The service ("task registration", "token refresh").
        service: &'static str,
        /// The variable that can provide it.
        variable: &'static str,
    },
    /// A configured URL is unusable.
    #[error("the {service} URL from {origin} is invalid: {reason}")]
    InvalidUrl {
        /// The service.
        service: &'static str,
        /// Where the URL came from (a variable's name or "configuration").
        origin: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A URL asks for plain `http` to a host that is not loopback, where
    /// anyone on the path could read or change the answer. Refused before
    /// any connection.
    #[error(
        "the {service} URL from {origin} uses plain http to {host}, which is not a loopback host; \
         use https (plain http is allowed only to 127.0.0.0/8, ::1 and localhost)"
    )]
    InsecureUrl {
        /// The service.
        service: &'static str,
        /// Where the URL came from.
        origin: &'static str,
        /// The host it names.
        host: String,
    },
    /// The server could not be reached.
    #[error("{service}: cannot connect to {url} ({attempts} attempt(s)): {reason}")]
    Connect {
        /// The service.
        service: &'static str,
        /// The URL requested.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// What the transport said.
        reason: String,
    },
    /// No complete answer arrived in time.
    #[error("{service}: no answer from {url} within {timeout:?}")]
    Timeout {
        /// The service.
        service: &'static str,
        /// The URL requested.
        url: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The server answered with an unsuccessful status.
    #[error("{service}: {url} answered HTTP {status} ({attempts} attempt(s)): {body}")]
    Status {
        /// The service.
        service: &'static str,
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// At most [`MAX_ERROR_BODY_CHARS`] characters of the body, request
        /// secrets removed.
        body: String,
    },
    /// The server answered 2xx with something unusable.
    #[error("{service}: invalid answer from {url}: {reason}")]
    InvalidResponse {
        /// The service.
        service: &'static str,
        /// The URL requested.
        url: String,
        /// What is wrong (never the body).
        reason: String,
    },
    /// Any other transport failure (TLS, protocol).
    #[error("{service}: request to {url} failed: {reason}")]
    Transport {
        /// The service.
        service: &'static str,
        /// The URL requested.
        url: String,
        /// What the transport said.
        reason: String,
    },
}

impl HttpError {
    /// The HTTP status, for [`HttpError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Timeout and retries of one HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The longest one request may take, from connecting to reading the
    /// whole body. Default 30 s.
    pub timeout: Duration,
    /// Attempts in all (at least 1) for refused connections and, where the
    /// client retries them, 5xx answers. Default 3.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each later one (at most
    /// 8 s). Default 250 ms.
    pub initial_backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
        }
    }
}

impl HttpOptions {
    /// Sets the timeout of one request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the attempts in all (0 counts as 1) and the first backoff.
    pub fn with_retries(mut self, max_attempts: u32, initial_backoff: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.initial_backoff = initial_backoff;
        self
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial_backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// A URL from configuration or the environment: trimmed, trailing `/`
/// removed; `https`, or plain `http` to a loopback host only
/// ([`HttpError::InsecureUrl`] otherwise, refused before any connection);
/// with a host, without credentials, query or fragment. Every URL this
/// crate requests goes through here (registration, refresh, revoke, JWK
/// set), environment overrides included.
pub(crate) fn normalize_url(
    raw: &str,
    service: &'static str,
    origin: &'static str,
) -> Result<String, HttpError> {
    let invalid = |reason| HttpError::InvalidUrl {
        service,
        origin,
        reason,
    };
    let url = raw.trim().trim_end_matches('/');
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace"));
    }
    // Parsed by the `http` crate (ureq's own URI type), not by hand.
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return Err(invalid("it is not a URL"));
    };
    let scheme = uri.scheme_str().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(invalid("it does not start with http:// or https://"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(invalid("it must not have a query or fragment"));
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid("it must not contain credentials"));
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("it has no host"));
    }
    // Plain http lets anyone on the path read the refresh token or
    // signature we send and forge the answer; only loopback is exempt.
    if scheme.eq_ignore_ascii_case("http") && !is_loopback_host(host) {
        return Err(HttpError::InsecureUrl {
            service,
            origin,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        });
    }
    Ok(url.to_owned())
}

/// Whether `host` (as `Uri::host` gives it: an IPv6 address in brackets)
/// is `localhost` or a loopback address.
fn is_loopback_host(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` (already normalized) names a loopback host.
fn is_loopback_url(url: &str) -> bool {
    url.parse::<ureq::http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(is_loopback_host))
        .unwrap_or(false)
}

/// Everything but RFC 3986's unreserved characters.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment (everything but RFC 3986 unreserved).
pub(crate) fn encode_path_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, NOT_UNRESERVED).to_string()
}

/// `body` with every secret, in every form a server may echo it in (see
/// [`secret_forms`]), replaced by `<redacted>`, control characters turned
/// into spaces, cut to [`MAX_ERROR_BODY_CHARS`] characters.
pub(crate) fn error_excerpt(body: &str, secrets: &[&str]) -> String {
    let mut forms: Vec<Zeroizing<String>> = secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .flat_map(|secret| secret_forms(secret))
        .collect();
    // Longest first: a form may contain a shorter one (padded base64 holds
    // the unpadded form), and the whole of it must go.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    let mut redacted = Zeroizing::new(body.to_owned());
    for form in &forms {
        if redacted.contains(form.as_str()) {
            *redacted = redacted.replace(form.as_str(), login_agent_identity::REDACTED);
        }
    }
    let mut excerpt: String = redacted
        .chars()
        .take(MAX_ERROR_BODY_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if redacted.chars().nth(MAX_ERROR_BODY_CHARS).is_some() {
        excerpt.push('…');
    }
    excerpt
}

/// The forms of `secret` a server may echo in an error body: as sent; in
/// standard and URL-safe base64, padded or not; and JSON-escaped inside a
/// string, as serde_json writes it, with `/` escaped too, and with every
/// non-ASCII character as `\uXXXX` (either hex case), as other encoders do.
/// Each is wiped on drop.
fn secret_forms(secret: &str) -> Vec<Zeroizing<String>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use std::fmt::Write as _;
    let mut forms = vec![Zeroizing::new(secret.to_owned())];
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        forms.push(Zeroizing::new(engine.encode(secret)));
    }
    let json = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    let escaped = json
        .strip_prefix('"')
        .and_then(|json| json.strip_suffix('"'))
        .unwrap_or_default();
    forms.push(Zeroizing::new(escaped.to_owned()));
    forms.push(Zeroizing::new(escaped.replace('/', "\\/")));
    for upper in [false, true] {
        let mut ascii = Zeroizing::new(String::with_capacity(escaped.len() * 2));
        for c in escaped.chars() {
            match c {
                '/' => ascii.push_str("\\/"),
                c if c.is_ascii() => ascii.push(c),
                c => {
                    let mut units = [0u16; 2];
                    // Written straight into the wiped buffer: no
                    // temporary copy of the secret's characters.
                    for unit in c.encode_utf16(&mut units) {
                        let _ = if upper {
                            write!(ascii, "\\u{unit:04X}")
                        } else {
                            write!(ascii, "\\u{unit:04x}")
                        };
                    }
                }
            }
        }
        forms.push(ascii);
    }
    forms.retain(|form| !form.is_empty());
    forms.dedup_by(|a, b| a.as_str() == b.as_str());
    forms
}

/// Why a body is not the `expected` answer, by position only: serde's own
/// messages can quote what they read (a token, an unknown `kty`).
pub(crate) fn describe_body_error(error: &serde_json::Error, len: usize, expected: &str) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Data => format!("JSON but not {expected}"),
        Category::Eof => "truncated JSON".to_owned(),
        Category::Syntax | Category::Io => "not JSON".to_owned(),
    };
    format!(
        "the body ({len} bytes) is {what} (at line {}, column {})",
        error.line(),
        error.column()
    )
}

/// A response that ended the attempts: any status but a retried 5xx.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) attempts: u32,
    /// Wiped on drop: a successful body may hold tokens.
    pub(crate) body: Zeroizing<String>,
    /// The secrets the request held, removed from quoted bodies.
    secrets: Vec<SecretString>,
}

/// A request body (JSON, or a form for the OAuth token endpoint) and the
/// secrets it holds.
pub(crate) struct JsonBody {
    pub(crate) json: Zeroizing<String>,
    pub(crate) secrets: Vec<SecretString>,
    content_type: &'static str,
}

impl JsonBody {
    /// Serializes `body` for `service` at `url`; `secrets` are the values
    /// in it that must never appear in an error or log line.
    pub(crate) fn new(
        service: &'static str,
        url: &str,
        body: &impl serde::Serialize,
        secrets: Vec<SecretString>,
    ) -> Result<Self, HttpError> {
        let json = serde_json::to_string(body).map_err(|_| HttpError::Transport {
            service,
            url: url.to_owned(),
            reason: "cannot serialize the request".to_owned(),
        })?;
        Ok(Self {
            json: Zeroizing::new(json),
            secrets,
            content_type: "application/json",
        })
    }

    /// An `application/x-www-form-urlencoded` body of `pairs`; `secrets`
    /// are the values in it that must never appear in an error or log line.
    pub(crate) fn form(pairs: &[(&str, &str)], secrets: Vec<SecretString>) -> Self {
        Self {
            json: Zeroizing::new(chatgpt_login::encode_pairs(pairs)),
            secrets,
            content_type: "application/x-www-form-urlencoded",
        }
    }
}

/// A blocking JSON client with one agent (connection pool) per client.
#[derive(Clone)]
pub(crate) struct JsonClient {
    agent: ureq::Agent,
    options: HttpOptions,
    service: &'static str,
}

/// Shows the service and options only: the agent's configuration holds the
/// environment's proxy URL, which may carry credentials.
impl fmt::Debug for JsonClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonClient")
            .field("service", &self.service)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

enum Failure {
    /// The request may be sent again: it never reached the server.
    Retryable(String),
    Final(HttpError),
}

impl JsonClient {
    /// A client for requests to `url`'s host (proxies from the environment
    /// apply unless it is a loopback host).
    pub(crate) fn new(service: &'static str, url: &str, options: HttpOptions) -> Self {
        let proxy = if is_loopback_url(url) {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .proxy(proxy)
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            options,
            service,
        }
    }

    pub(crate) fn options(&self) -> HttpOptions {
        self.options
    }

    /// POSTs the body `make_body` builds (once per attempt, so a signed
    /// timestamp is fresh) to `url`, retrying refused connections and, when
    /// `retry_server_errors`, 5xx answers. Returns the first answer that
    /// ends the attempts, whatever its status.
    pub(crate) fn post_json(
        &self,
        url: &str,
        retry_server_errors: bool,
        make_body: &mut dyn FnMut() -> Result<JsonBody, HttpError>,
    ) -> Result<Reply, HttpError> {
        self.with_retries(url, retry_server_errors, &mut |attempt| {
            let body = make_body().map_err(Failure::Final)?;
            let response = self
                .agent
                .post(url)
                .header("content-type", body.content_type)
                .header("accept", "application/json")
                .send(body.json.as_bytes());
            self.read_reply(url, response, MAX_RESPONSE_BYTES, attempt, body.secrets)
        })
    }

    /// GETs `url` with `accept`, reading at most `limit` bytes of body (a
    /// longer body is an error, never cut short). A GET changes nothing on
    /// the server, so refused connections and 5xx answers are both retried.
    /// Returns the first answer that ends the attempts, whatever its status.
    pub(crate) fn get(&self, url: &str, accept: &str, limit: u64) -> Result<Reply, HttpError> {
        self.with_retries(url, true, &mut |attempt| {
            let response = self.agent.get(url).header("accept", accept).call();
            self.read_reply(url, response, limit, attempt, Vec::new())
        })
    }

    /// Runs `attempt` (given its number, from 1) until an answer ends the
    /// attempts: refused connections and, when `retry_server_errors`, 5xx
    /// answers are retried, at most [`HttpOptions::max_attempts`] times in
    /// all, with backoff.
    fn with_retries(
        &self,
        url: &str,
        retry_server_errors: bool,
        attempt_once: &mut dyn FnMut(u32) -> Result<Reply, Failure>,
    ) -> Result<Reply, HttpError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.options.max_attempts;
            match attempt_once(attempt) {
                Ok(reply) if retry_server_errors && reply.status >= 500 && !last => {
                    tracing::warn!(
                        service = self.service,
                        url,
                        status = reply.status,
                        attempt,
                        "server error; retrying"
                    );
                }
                Ok(reply) => return Ok(reply),
                Err(Failure::Retryable(reason)) if !last => {
                    tracing::warn!(service = self.service, url, attempt, %reason, "cannot connect; retrying");
                }
                Err(Failure::Retryable(reason)) => {
                    return Err(HttpError::Connect {
                        service: self.service,
                        url: url.to_owned(),
                        attempts: attempt,
                        reason,
                    });
                }
                Err(Failure::Final(error)) => return Err(error),
            }
            std::thread::sleep(self.options.backoff(attempt));
        }
    }

    /// The status and at most `limit` bytes of body of `response`.
    fn read_reply(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
        attempt: u32,
        secrets: Vec<SecretString>,
    ) -> Result<Reply, Failure> {
        let mut response = match response {
            Ok(response) => response,
            Err(error) => return Err(self.classify(url, error)),
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_string();
        let text = match text {
            Ok(text) => Zeroizing::new(text),
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(Failure::Final(HttpError::InvalidResponse {
                    service: self.service,
                    url: url.to_owned(),
                    reason: format!("HTTP {status} with a body larger than {limit} bytes"),
                }));
            }
            Err(error) => return Err(self.classify(url, error)),
        };
        tracing::debug!(service = self.service, url, status, attempt, "answered");
        Ok(Reply {
            status,
            attempts: attempt,
            body: text,
            secrets,
        })
    }

    fn classify(&self, url: &str, error: ureq::Error) -> Failure {
        use std::io::ErrorKind;
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve)
            | ureq::Error::ConnectionFailed => Failure::Retryable(error.to_string()),
            ureq::Error::Io(ref io)
                if matches!(
                    io.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable
                ) =>
            {
                Failure::Retryable(error.to_string())
            }
            ureq::Error::Timeout(_) => Failure::Final(HttpError::Timeout {
                service: self.service,
                url: url.to_owned(),
                timeout: self.options.timeout,
            }),
            ureq::Error::Io(ref io) if io.kind() == ErrorKind::TimedOut => {
                Failure::Final(HttpError::Timeout {
                    service: self.service,
                    url: url.to_owned(),
                    timeout: self.options.timeout,
                })
            }
            ureq::Error::HostNotFound => Failure::Final(HttpError::Connect {
                service: self.service,
                url: url.to_owned(),
                attempts: 1,
                reason: error.to_string(),
            }),
            other => Failure::Final(HttpError::Transport {
                service: self.service,
                url: url.to_owned(),
                reason: other.to_string(),
            }),
        }
    }

    /// The error for an unsuccessful `reply`, quoting its body without
    /// the request's secrets.
    pub(crate) fn status_error(&self, url: &str, reply: &Reply) -> HttpError {
        let secrets: Vec<&str> = reply
            .secrets
            .iter()
            .map(ExposeSecret::expose_secret)
            .collect();
        HttpError::Status {
            service: self.service,
            url: url.to_owned(),
            status: reply.status,
            attempts: reply.attempts,
            body: error_excerpt(&reply.body, &secrets),
        }
    }

    /// The error for a 2xx `reply` that cannot be used.
    pub(crate) fn invalid_response(&self, url: &str, reason: impl Into<String>) -> HttpError {
        HttpError::InvalidResponse {
            service: self.service,
            url: url.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_trimmed_and_checked() {
        let ok = |raw| normalize_url(raw, "test", "configuration");
        assert_eq!(
            ok("  https://a.example/api/ ").unwrap(),
            "https://a.example/api"
        );
        assert_eq!(ok("http://127.0.0.1:9//").unwrap(), "http://127.0.0.1:9");
        assert!(ok("ftp://a.example").is_err());
        assert!(ok("https://user:pw@a.example").is_err());
        assert!(ok("https://a.example/?x=1").is_err());
        assert!(ok("https:///path").is_err());
        assert!(ok("a.example").is_err());
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        assert!(is_loopback_url("http://127.0.0.1:80/x"));
        assert!(is_loopback_url("http://localhost"));
        assert!(is_loopback_url("http://[::1]:8080"));
        assert!(!is_loopback_url("https://auth.example.com"));
    }

    #[test]
    fn excerpts_are_redacted_then_cut() {
        let secret = "SIGNATURE-SECRET";
        let body = format!("bad {secret} {}", "x".repeat(1000));
        let excerpt = error_excerpt(&body, &[secret]);
        assert!(!excerpt.contains(secret));
        assert!(excerpt.starts_with("bad <redacted> "));
        assert_eq!(excerpt.chars().count(), MAX_ERROR_BODY_CHARS + 1);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_path_segment("rt-1_a.b~"), "rt-1_a.b~");
        assert_eq!(encode_path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let options = HttpOptions::default().with_retries(10, Duration::from_millis(100));
        assert_eq!(options.backoff(1), Duration::from_millis(100));
        assert_eq!(options.backoff(3), Duration::from_millis(400));
        assert_eq!(options.backoff(10), MAX_BACKOFF);
    }
}
