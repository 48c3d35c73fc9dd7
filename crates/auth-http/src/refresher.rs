//! [`HttpTokenRefresher`]: redeems a ChatGPT refresh token at the OAuth
//! token endpoint.

use login_agent_identity::{ExposeSecret as _, SecretString};

use crate::{HttpError, HttpOptions, JsonBody, JsonClient, describe_body_error, normalize_url};
use core_auth::EnvSource;
use core_auth::{RefreshError, RefreshTokenFailure, RefreshedTokens, TokenRefresher};

/// `CODEX_REFRESH_TOKEN_URL_OVERRIDE`: replaces the token endpoint URL.
pub const CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR: &str = "CODEX_REFRESH_TOKEN_URL_OVERRIDE";

/// The token endpoint the mirrored CLI uses.
pub const DEFAULT_REFRESH_TOKEN_URL: &str = "https://auth.openai.com/oauth/token";

/// The public OAuth client id of the mirrored CLI (an identifier, not a
/// secret).
pub const DEFAULT_REFRESH_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

const SERVICE: &str = "token refresh";

/// Where and as whom refresh tokens are redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshConfig {
    /// The token endpoint.
    pub url: String,
    /// The OAuth client id.
    pub client_id: String,
    /// Timeout and retries. Only refused connections are retried: a 5xx
    /// may come after the server redeemed (and rotated) the token.
    pub options: HttpOptions,
    origin: &'static str,
}

impl RefreshConfig {
    /// The endpoint `url` for `client_id`, with the default [`HttpOptions`].
    pub fn new(url: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            client_id: client_id.into(),
            options: HttpOptions::default(),
            origin: "configuration",
        }
    }

    /// The mirrored CLI's endpoint and client id, the URL replaced by
    /// `CODEX_REFRESH_TOKEN_URL_OVERRIDE` (read from `env`) when it is set
    /// and not blank.
    pub fn from_env(env: &dyn EnvSource) -> Self {
        let mut config = Self::new(DEFAULT_REFRESH_TOKEN_URL, DEFAULT_REFRESH_CLIENT_ID);
        if let Some(url) = env
            .var(CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR)
            .filter(|value| !value.trim().is_empty())
        {
            config.url = url;
            config.origin = CODEX_REFRESH_TOKEN_URL_OVERRIDE_VAR;
        }
        config
    }

    /// Sets the timeout and retry policy.
    pub fn with_options(mut self, options: HttpOptions) -> Self {
        self.options = options;
        self
    }
}

/// Redeems refresh tokens:
/// `POST {url}` with `{"client_id", "grant_type": "refresh_token",
/// "refresh_token"}`. The answer may carry any of `id_token`,
/// `access_token`, `refresh_token`.
///
/// Every HTTP 401 is a permanent failure (log in again): its code
/// (`error.code`, `error` as a string, or top-level `code`)
/// `refresh_token_expired`, `refresh_token_reused` or
/// `refresh_token_invalidated` picks a specific message, any other code or
/// none [`RefreshTokenFailure::Other`]. Anything else (another status, a
/// timeout, an unusable answer) is transient. Errors never contain a token.
#[derive(Debug, Clone)]
pub struct HttpTokenRefresher {
    url: String,
    client_id: String,
    client: JsonClient,
}

impl HttpTokenRefresher {
    /// A refresher for `config`; fails when its URL is unusable.
    pub fn new(config: RefreshConfig) -> Result<Self, HttpError> {
        let url = normalize_url(&config.url, SERVICE, config.origin)?;
        let client = JsonClient::new(SERVICE, &url, config.options);
        Ok(Self {
            url,
            client_id: config.client_id,
            client,
        })
    }

    /// The token endpoint in use.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl TokenRefresher for HttpTokenRefresher {
    fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedTokens, RefreshError> {
        let _span = tracing::info_span!("token_refresh_request", url = %self.url).entered();
        let transient = |error: HttpError| RefreshError::Transient(Box::new(error));
        let mut make_body = || request_body(&self.url, &self.client_id, refresh_token);
        let reply = self
            .client
            .post_json(&self.url, false, &mut make_body)
            .map_err(transient)?;
        if reply.status == 401 {
            // Whatever the code: a 401 is the server refusing this refresh
            // token, and asking again cannot change its mind.
            let failure = failure_in_unauthorized_body(&reply.body);
            tracing::warn!(code = failure.code(), "refresh token refused for good");
            return Err(RefreshError::Permanent(failure));
        }
        if !(200..300).contains(&reply.status) {
            return Err(transient(self.client.status_error(&self.url, &reply)));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            id_token: Option<SecretString>,
            #[serde(default)]
            access_token: Option<SecretString>,
            #[serde(default)]
            refresh_token: Option<SecretString>,
        }
        let answer: Answer = serde_json::from_str(&reply.body).map_err(|error| {
            transient(self.client.invalid_response(
                &self.url,
                describe_body_error(&error, reply.body.len(), "a token answer"),
            ))
        })?;
        let non_empty =
            |token: Option<SecretString>| token.filter(|token| !token.expose_secret().is_empty());
        let mut tokens = RefreshedTokens::default();
        if let Some(token) = non_empty(answer.id_token) {
            tokens = tokens.with_id_token(token);
        }
        if let Some(token) = non_empty(answer.access_token) {
            tokens = tokens.with_access_token(token);
        }
        if let Some(token) = non_empty(answer.refresh_token) {
            tokens = tokens.with_refresh_token(token);
        }
        if tokens == RefreshedTokens::default() {
            return Err(transient(
                self.client
                    .invalid_response(&self.url, "the answer holds no token"),
            ));
        }
        tracing::info!(
            rotated = tokens.refresh_token.is_some(),
            attempts = reply.attempts,
            "tokens refreshed"
        );
        Ok(tokens)
    }
}

fn request_body(
    url: &str,
    client_id: &str,
    refresh_token: &SecretString,
) -> Result<JsonBody, HttpError> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        client_id: &'a str,
        grant_type: &'static str,
        refresh_token: &'a str,
    }
    let body = Body {
        client_id,
        grant_type: "refresh_token",
        refresh_token: refresh_token.expose_secret(),
    };
    JsonBody::new(SERVICE, url, &body, vec![refresh_token.clone()])
}

/// The permanent failure an HTTP 401 body of the token endpoint describes,
/// from `error.code`, `error` as a string, or a top-level `code` (the
/// shapes the mirrored CLI reads); [`RefreshTokenFailure::Other`] for any
/// other code, none, or a body that is not JSON.
fn failure_in_unauthorized_body(body: &str) -> RefreshTokenFailure {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return RefreshTokenFailure::Other;
    };
    let error = value.get("error");
    [
        error.and_then(|error| error.get("code")),
        error,
        value.get("code"),
    ]
    .into_iter()
    .flatten()
    .filter_map(serde_json::Value::as_str)
    .find_map(RefreshTokenFailure::from_code)
    .unwrap_or(RefreshTokenFailure::Other)
}
