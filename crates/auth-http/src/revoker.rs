//! [`HttpTokenRevoker`]: revokes a ChatGPT refresh token at logout.

use std::time::Duration;

use login_agent_identity::{ExposeSecret as _, SecretString};

use crate::refresher::DEFAULT_REFRESH_CLIENT_ID;
use crate::{HttpError, HttpOptions, JsonBody, JsonClient, normalize_url};
use core_auth::{EnvSource, RevokeError, TokenRevoker};

/// `CODEX_REVOKE_TOKEN_URL_OVERRIDE`: replaces the revoke endpoint URL.
pub const CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR: &str = "CODEX_REVOKE_TOKEN_URL_OVERRIDE";

/// The revoke endpoint of the mirrored CLI's auth server.
pub const DEFAULT_REVOKE_TOKEN_URL: &str = "https://auth.openai.com/oauth/revoke";

/// How long a revoke may take: a logout waits for it, and deletes the
/// local credentials whatever happens, so it stays short.
pub const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);

const SERVICE: &str = "token revoke";

/// Revokes refresh tokens:
/// `POST {url}` with `{"token": <refresh token>, "token_type_hint":
/// "refresh_token", "client_id": <client id>}`; any 2xx is success.
///
/// One attempt takes at most [`REVOKE_TIMEOUT`] by default; only a refused
/// connection is tried again (once), never an answer. Errors name the URL
/// and status and quote an error body with the refresh token removed, in
/// every form the server may echo it in.
///
/// ```
/// use auth_http::HttpTokenRevoker;
/// use core_auth::MapEnv;
///
/// let revoker = HttpTokenRevoker::from_env(&MapEnv::new())?;
/// assert_eq!(revoker.url(), "https://auth.openai.com/oauth/revoke");
/// # Ok::<(), auth_http::HttpError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HttpTokenRevoker {
    url: String,
    client_id: String,
    client: JsonClient,
}

impl HttpTokenRevoker {
    /// A revoker posting to `url` as `client_id`; fails when the URL is
    /// unusable (plain `http` is allowed to loopback hosts only).
    pub fn new(url: &str, client_id: impl Into<String>) -> Result<Self, HttpError> {
        Self::with_origin(url, client_id.into(), "configuration")
    }

    /// The default endpoint, replaced by `CODEX_REVOKE_TOKEN_URL_OVERRIDE`
    /// (read from `env`) when it is set and not blank, with the refresher's
    /// client id ([`DEFAULT_REFRESH_CLIENT_ID`]).
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, HttpError> {
        let client_id = DEFAULT_REFRESH_CLIENT_ID.to_owned();
        match env
            .var(CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR)
            .filter(|value| !value.trim().is_empty())
        {
            Some(url) => Self::with_origin(&url, client_id, CODEX_REVOKE_TOKEN_URL_OVERRIDE_VAR),
            None => Self::with_origin(DEFAULT_REVOKE_TOKEN_URL, client_id, "configuration"),
        }
    }

    fn with_origin(url: &str, client_id: String, origin: &'static str) -> Result<Self, HttpError> {
        let url = normalize_url(url, SERVICE, origin)?;
        let options = HttpOptions::default()
            .with_timeout(REVOKE_TIMEOUT)
            .with_retries(2, Duration::from_millis(250));
        let client = JsonClient::new(SERVICE, &url, options);
        Ok(Self {
            url,
            client_id,
            client,
        })
    }

    /// The same revoker with another timeout and retry policy.
    pub fn with_options(self, options: HttpOptions) -> Self {
        let client = JsonClient::new(SERVICE, &self.url, options);
        Self { client, ..self }
    }

    /// The revoke endpoint in use.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Revokes `refresh_token`. Blocking I/O.
    pub fn revoke_token(&self, refresh_token: &SecretString) -> Result<(), HttpError> {
        let _span = tracing::info_span!("token_revoke_request", url = %self.url).entered();
        let mut make_body = || request_body(&self.url, &self.client_id, refresh_token);
        let reply = self.client.post_json(&self.url, false, &mut make_body)?;
        if !(200..300).contains(&reply.status) {
            return Err(self.client.status_error(&self.url, &reply));
        }
        tracing::info!(
            status = reply.status,
            attempts = reply.attempts,
            "refresh token revoked"
        );
        Ok(())
    }
}

impl TokenRevoker for HttpTokenRevoker {
    fn revoke(&self, refresh_token: &SecretString) -> Result<(), RevokeError> {
        self.revoke_token(refresh_token).map_err(RevokeError::new)
    }
}

fn request_body(
    url: &str,
    client_id: &str,
    refresh_token: &SecretString,
) -> Result<JsonBody, HttpError> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        token: &'a str,
        token_type_hint: &'static str,
        client_id: &'a str,
    }
    let body = Body {
        token: refresh_token.expose_secret(),
        token_type_hint: "refresh_token",
        client_id,
    };
    JsonBody::new(SERVICE, url, &body, vec![refresh_token.clone()])
}
