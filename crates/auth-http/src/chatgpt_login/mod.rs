//! Signing in with ChatGPT: the browser flow ([`BrowserLogin`]: PKCE and a
//! loopback callback) and the device-code flow ([`DeviceLogin`]), as the
//! mirrored CLI speaks them. Both end in [`TokenData`], which the caller
//! stores through the ordinary login path
//! ([`AuthManager::save_tokens`](core_auth::AuthManager::save_tokens)), so
//! restrictions are checked against the id token before anything is
//! written. Nothing here writes credentials.
//!
//! Every wait is bounded by a timeout and can be ended early through a
//! [`CancelToken`] (a front end's Ctrl-C). Codes, verifiers, `state` and
//! tokens are [`SecretString`]s: no error, `Debug` or log line shows one.

mod browser;
mod device;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use core_auth::login_storage::IdToken;
use core_auth::{EnvSource, TokenData};
use login_agent_identity::{ExposeSecret as _, SecretString};
use sha2::Digest as _;

use crate::{HttpError, HttpOptions, JsonBody, JsonClient, describe_body_error, normalize_url};

pub use browser::{BrowserLogin, CALLBACK_PATH, DEFAULT_BROWSER_TIMEOUT, DEFAULT_CALLBACK_PORT};
pub use device::{DEFAULT_DEVICE_TIMEOUT, DeviceLogin};

/// `CODEX_LOGIN_ISSUER`: replaces the issuer of both login flows.
pub const CODEX_LOGIN_ISSUER_VAR: &str = "CODEX_LOGIN_ISSUER";

/// The issuer the mirrored CLI signs in with.
pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";

/// The scopes asked for: an id token, the profile and email, and a refresh
/// token.
const SCOPE: &str = "openid profile email offline_access";

/// How often a wait looks at its [`CancelToken`] and deadline.
const POLL: Duration = Duration::from_millis(50);

const SERVICE: &str = "ChatGPT login";

/// Where and as whom to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginConfig {
    issuer: String,
    client_id: String,
    options: HttpOptions,
}

impl LoginConfig {
    /// The issuer `issuer` (`https`, or plain `http` to a loopback host
    /// only) with the mirrored CLI's client id
    /// ([`DEFAULT_REFRESH_CLIENT_ID`](crate::DEFAULT_REFRESH_CLIENT_ID)).
    pub fn new(issuer: &str) -> Result<Self, LoginError> {
        Self::from_origin(issuer, "configuration")
    }

    /// `issuer` when given (a front end's `--issuer`), else
    /// `CODEX_LOGIN_ISSUER` from `env` when set and not blank, else
    /// [`DEFAULT_ISSUER`].
    pub fn from_env(env: &dyn EnvSource, issuer: Option<&str>) -> Result<Self, LoginError> {
        if let Some(issuer) = issuer {
            return Self::from_origin(issuer, "--issuer");
        }
        match env
            .var(CODEX_LOGIN_ISSUER_VAR)
            .filter(|value| !value.trim().is_empty())
        {
            Some(issuer) => Self::from_origin(&issuer, CODEX_LOGIN_ISSUER_VAR),
            None => Self::from_origin(DEFAULT_ISSUER, "configuration"),
        }
    }

    fn from_origin(issuer: &str, origin: &'static str) -> Result<Self, LoginError> {
        let issuer = normalize_url(issuer, SERVICE, origin)?;
        Ok(Self {
            issuer,
            client_id: crate::DEFAULT_REFRESH_CLIENT_ID.to_owned(),
            options: HttpOptions::default(),
        })
    }

    /// Uses another OAuth client id.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Sets the timeout and retries of each HTTP request.
    pub fn with_options(mut self, options: HttpOptions) -> Self {
        self.options = options;
        self
    }

    /// The issuer, normalized (no trailing `/`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn token_url(&self) -> String {
        format!("{}/oauth/token", self.issuer)
    }
}

/// Ends a login's wait early (a front end's Ctrl-C): the wait returns
/// [`LoginError::Cancelled`] within a fraction of a second. Clones share
/// one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every wait watching this token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a ChatGPT login failed. No message holds a code, verifier, `state`
/// or token; text from the server (an `error` and its description) is
/// quoted as sent, for the front end to escape.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The issuer URL is unusable, or an HTTP request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The callback port is taken.
    #[error(
        "port {port} on 127.0.0.1 is already in use (another login running?); choose another port, or port 0 for a free one"
    )]
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// The callback server could not listen.
    #[error("cannot listen on 127.0.0.1:{port}: {reason}")]
    Listen {
        /// The port asked for.
        port: u16,
        /// What the system said.
        reason: String,
    },
    /// The system's random source failed.
    #[error("the system random source failed: {0}")]
    Random(String),
    /// No answer came in time; nothing was stored.
    #[error("the login timed out after {}s; nothing was stored", .0.as_secs())]
    TimedOut(Duration),
    /// The login was cancelled; nothing was stored.
    #[error("the login was cancelled; nothing was stored")]
    Cancelled,
    /// The authorization server reported an error on the callback.
    #[error("the sign-in failed: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        /// The OAuth `error` code.
        error: String,
        /// Its `error_description`, if any.
        description: Option<String>,
    },
    /// The callback came without a code.
    #[error("the sign-in callback carried no authorization code")]
    MissingCode,
    /// The server does not offer device-code login (HTTP 404 at start).
    #[error("device-code login is not enabled on {issuer}; sign in with the browser flow instead")]
    DeviceNotEnabled {
        /// The issuer asked.
        issuer: String,
    },
    /// A 2xx answer that cannot be used.
    #[error("{what}: {reason}")]
    InvalidAnswer {
        /// The request ("token exchange", "device code").
        what: &'static str,
        /// What is wrong (never a value from the body).
        reason: String,
    },
}

/// A PKCE pair: the verifier (a secret) and its S256 challenge.
pub(crate) struct Pkce {
    pub(crate) verifier: SecretString,
    pub(crate) challenge: String,
}

impl Pkce {
    /// A verifier of 64 random bytes, base64url, and its challenge
    /// (base64url of its SHA-256).
    pub(crate) fn generate() -> Result<Self, LoginError> {
        let verifier = random_base64url::<64>()?;
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.expose_secret()));
        Ok(Self {
            verifier,
            challenge,
        })
    }
}

/// `N` bytes from the OS random source, base64url without padding.
pub(crate) fn random_base64url<const N: usize>() -> Result<SecretString, LoginError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; N]);
    getrandom::fill(&mut *bytes).map_err(|error| LoginError::Random(error.to_string()))?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(*bytes)))
}

/// The time left before `deadline`, unless `cancel` was cancelled
/// ([`LoginError::Cancelled`]) or the deadline has passed
/// ([`LoginError::TimedOut`] after `timeout`): the check every wait of a
/// login makes before each step.
pub(crate) fn time_left(
    deadline: Instant,
    timeout: Duration,
    cancel: &CancelToken,
) -> Result<Duration, LoginError> {
    if cancel.is_cancelled() {
        return Err(LoginError::Cancelled);
    }
    let now = Instant::now();
    if now >= deadline {
        return Err(LoginError::TimedOut(timeout));
    }
    Ok(deadline - now)
}

/// Waits until `until`, `deadline` or a cancel, in steps of at most
/// [`POLL`]: `Ok(())` once `until` has passed.
pub(crate) fn sleep_until(
    until: Instant,
    deadline: Instant,
    timeout: Duration,
    cancel: &CancelToken,
) -> Result<(), LoginError> {
    loop {
        let left = time_left(deadline, timeout, cancel)?;
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep(POLL.min(until - now).min(left));
    }
}

/// Redeems an authorization `code` at `{issuer}/oauth/token` (form-encoded
/// `grant_type=authorization_code`, `code`, `redirect_uri`, `client_id`,
/// `code_verifier`) for the id, access and refresh tokens.
pub(crate) fn exchange_code(
    config: &LoginConfig,
    code: &SecretString,
    verifier: &SecretString,
    redirect_uri: &str,
) -> Result<TokenData, LoginError> {
    let url = config.token_url();
    let client = JsonClient::new(SERVICE, &url, config.options);
    let mut make_body = || {
        Ok(JsonBody::form(
            &[
                ("grant_type", "authorization_code"),
                ("code", code.expose_secret()),
                ("redirect_uri", redirect_uri),
                ("client_id", &config.client_id),
                ("code_verifier", verifier.expose_secret()),
            ],
            vec![code.clone(), verifier.clone()],
        ))
    };
    let reply = client.post_json(&url, false, &mut make_body)?;
    if !(200..300).contains(&reply.status) {
        return Err(client.status_error(&url, &reply).into());
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        id_token: SecretString,
        access_token: SecretString,
        refresh_token: SecretString,
    }
    let answer: Answer =
        serde_json::from_str(&reply.body).map_err(|error| LoginError::InvalidAnswer {
            what: "token exchange",
            reason: describe_body_error(&error, reply.body.len(), "a token answer"),
        })?;
    for (name, token) in [
        ("id_token", &answer.id_token),
        ("access_token", &answer.access_token),
        ("refresh_token", &answer.refresh_token),
    ] {
        if token.expose_secret().is_empty() {
            return Err(LoginError::InvalidAnswer {
                what: "token exchange",
                reason: format!("{name} is empty"),
            });
        }
    }
    let id_token = IdToken::new(answer.id_token);
    let account_id = id_token
        .claims()
        .ok()
        .and_then(|claims| claims.chatgpt_account_id);
    tracing::info!(attempts = reply.attempts, "authorization code exchanged");
    Ok(TokenData {
        id_token: Some(id_token),
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        account_id,
        extra: Default::default(),
    })
}

/// `application/x-www-form-urlencoded` pairs (every byte but RFC 3986's
/// unreserved ones percent-encoded, which both query strings and forms
/// accept).
pub(crate) fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{}={}",
                crate::encode_path_segment(key),
                crate::encode_path_segment(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs of a query string or form, decoded (`+` is a space); a pair
/// that is not UTF-8 once decoded is dropped.
pub(crate) fn decode_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let text = text.replace('+', " ");
        percent_encoding::percent_decode_str(&text)
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_the_s256_of_the_verifier() {
        let pkce = Pkce::generate().unwrap();
        assert_eq!(pkce.verifier.expose_secret().len(), 86);
        let expected = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(pkce.verifier.expose_secret()));
        assert_eq!(pkce.challenge, expected);
    }

    #[test]
    fn pairs_round_trip() {
        let encoded = encode_pairs(&[("scope", "openid profile"), ("uri", "http://x/a?b")]);
        assert_eq!(encoded, "scope=openid%20profile&uri=http%3A%2F%2Fx%2Fa%3Fb");
        assert_eq!(
            decode_pairs(&format!("{encoded}&e=a+b")),
            vec![
                ("scope".into(), "openid profile".into()),
                ("uri".into(), "http://x/a?b".into()),
                ("e".into(), "a b".into()),
            ]
        );
    }
}
