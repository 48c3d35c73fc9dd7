//! ChatGPT token refresh: when tokens are stale, how a refresh fails, and
//! the [`TokenRefresher`] a manager redeems refresh tokens with.
//!
//! The coordination lives in [`crate::AuthManager::refresh_if_stale`]: the
//! redemption runs inside the store's locked read-modify-write, so
//! of several processes sharing one home exactly one redeems a rotating
//! refresh token and the others adopt what it stored.
//!
//! The refresher is set with
//! [`AuthConfig::with_token_refresher`](crate::AuthConfig::with_token_refresher);
//! `auth-http`'s `HttpTokenRefresher` speaks the mirrored CLI's protocol.

use std::fmt;
use std::time::Duration;

use login_agent_identity::{ExposeSecret as _, SecretString};
use login_storage::TokenData;
use time::OffsetDateTime;

/// Tokens are refreshed when the access token expires within this margin.
pub const ACCESS_TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Without a readable `exp`, tokens are refreshed once `last_refresh` is
/// older than this.
pub const MAX_TOKEN_AGE: Duration = Duration::from_secs(8 * 24 * 60 * 60);

/// Whether `tokens` (last refreshed at `last_refresh`) should be refreshed
/// at `now`: the access token's `exp` is within
/// [`ACCESS_TOKEN_EXPIRY_MARGIN`] or past; or, when the access token has no
/// readable `exp`, `last_refresh` is older than [`MAX_TOKEN_AGE`] (or
/// unknown).
pub(crate) fn tokens_need_refresh(
    tokens: &TokenData,
    last_refresh: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    match access_token_expiry(&tokens.access_token) {
        Some(expiry) => expiry - now <= ACCESS_TOKEN_EXPIRY_MARGIN,
        None => last_refresh.is_none_or(|refreshed| now - refreshed > MAX_TOKEN_AGE),
    }
}

/// The `exp` claim of a JWT access token, if it is one and has it. The
/// signature is not checked: the expiry only schedules a refresh.
pub(crate) fn access_token_expiry(access_token: &SecretString) -> Option<OffsetDateTime> {
    let bytes = login_agent_identity::unverified_jwt_payload(access_token.expose_secret()).ok()?;
    #[derive(serde::Deserialize)]
    struct Expiry {
        exp: Option<serde_json::Number>,
    }
    let claims: Expiry = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.exp?;
    let seconds = exp
        .as_i64()
        .or_else(|| exp.as_f64().filter(|s| s.is_finite()).map(|s| s as i64))?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Why a refresh token can never be redeemed again: the user must log in
/// again. Any HTTP 401 from the token endpoint is one: the codes
/// `refresh_token_expired`, `refresh_token_reused` and
/// `refresh_token_invalidated` have their own message, any other code (or
/// none) is [`Other`](Self::Other), as in the mirrored CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshTokenFailure {
    /// `refresh_token_expired`.
    #[error("Your ChatGPT session has expired (the refresh token expired). Please log in again.")]
    Expired,
    /// `refresh_token_reused`.
    #[error(
        "Your ChatGPT session was ended because its refresh token was already used, \
         possibly by another program signed in with the same account. Please log in again."
    )]
    Reused,
    /// `refresh_token_invalidated`.
    #[error(
        "Your ChatGPT session was revoked (the refresh token was invalidated), \
         for example by a logout or password change elsewhere. Please log in again."
    )]
    Invalidated,
    /// A 401 with another code, or none: the token endpoint refused the
    /// refresh token without saying why.
    #[error(
        "Your ChatGPT session could not be refreshed (the token endpoint refused the refresh \
         token). Please log in again."
    )]
    Other,
}

impl RefreshTokenFailure {
    /// The failure a server's error code names, if it is a permanent one.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "refresh_token_expired" => Some(Self::Expired),
            "refresh_token_reused" => Some(Self::Reused),
            "refresh_token_invalidated" => Some(Self::Invalidated),
            _ => None,
        }
    }

    /// The server's error code; `None` for [`Other`](Self::Other).
    pub fn code(self) -> Option<&'static str> {
        match self {
            Self::Expired => Some("refresh_token_expired"),
            Self::Reused => Some("refresh_token_reused"),
            Self::Invalidated => Some("refresh_token_invalidated"),
            Self::Other => None,
        }
    }
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The refresh token is dead; the user must log in again. Remembered
    /// for that token, so later calls fail without asking the server.
    #[error(transparent)]
    Permanent(RefreshTokenFailure),
    /// Anything else (network, timeout, server error, an unusable 2xx):
    /// the current tokens are kept and a later call may succeed.
    #[error("token refresh failed, the current tokens are kept: {0}")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl RefreshError {
    /// Whether the user must log in again.
    pub fn is_permanent(&self) -> bool {
        matches!(self, RefreshError::Permanent(_))
    }
}

/// What a token endpoint answered: each token present replaces the stored
/// one. `Debug` redacts them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RefreshedTokens {
    /// A new id token.
    pub id_token: Option<SecretString>,
    /// A new access token.
    pub access_token: Option<SecretString>,
    /// A new refresh token (rotation).
    pub refresh_token: Option<SecretString>,
}

impl RefreshedTokens {
    /// The same answer with a new id token.
    pub fn with_id_token(mut self, token: SecretString) -> Self {
        self.id_token = Some(token);
        self
    }

    /// The same answer with a new access token.
    pub fn with_access_token(mut self, token: SecretString) -> Self {
        self.access_token = Some(token);
        self
    }

    /// The same answer with a new (rotated) refresh token.
    pub fn with_refresh_token(mut self, token: SecretString) -> Self {
        self.refresh_token = Some(token);
        self
    }

    /// Writes the tokens present into `tokens`.
    pub(crate) fn apply_to(self, tokens: &mut TokenData) {
        if let Some(id_token) = self.id_token {
            tokens.id_token = Some(login_storage::IdToken::new(id_token));
        }
        if let Some(access_token) = self.access_token {
            tokens.access_token = access_token;
        }
        if let Some(refresh_token) = self.refresh_token {
            tokens.refresh_token = refresh_token;
        }
    }
}

/// Token by token, by their text. Not constant-time: a local equality
/// check, not one an attacker can time.
impl PartialEq for RefreshedTokens {
    fn eq(&self, other: &Self) -> bool {
        fn text(token: &Option<SecretString>) -> Option<&str> {
            token.as_ref().map(|token| token.expose_secret())
        }
        let Self {
            id_token,
            access_token,
            refresh_token,
        } = self;
        text(id_token) == text(&other.id_token)
            && text(access_token) == text(&other.access_token)
            && text(refresh_token) == text(&other.refresh_token)
    }
}

impl Eq for RefreshedTokens {}

/// Redeems a refresh token. Blocking: the manager calls it on tokio's
/// blocking pool, inside the storage lock, so it must finish (or time out)
/// promptly.
///
/// ```
/// use core_auth::{RefreshError, RefreshedTokens, TokenRefresher};
/// use core_auth::SecretString;
///
/// #[derive(Debug)]
/// struct Offline;
///
/// impl TokenRefresher for Offline {
///     fn refresh(&self, _refresh_token: &SecretString) -> Result<RefreshedTokens, RefreshError> {
///         Err(RefreshError::Transient("offline".into()))
///     }
/// }
/// ```
pub trait TokenRefresher: Send + Sync + fmt::Debug {
    /// Redeems `refresh_token` for new tokens.
    fn refresh(&self, refresh_token: &SecretString) -> Result<RefreshedTokens, RefreshError>;
}
