//! Revoking a ChatGPT refresh token at logout: the [`TokenRevoker`] a
//! manager asks, and what [`AuthManager::revoke_and_logout`] reports.
//!
//! Revoking is best effort: the local credentials are deleted whatever the
//! server says, so a logout never depends on the network. The revoker is
//! set with
//! [`AuthConfig::with_token_revoker`](crate::AuthConfig::with_token_revoker);
//! `auth-http`'s `HttpTokenRevoker` posts to the mirrored CLI's revoke
//! endpoint.
//!
//! [`AuthManager::revoke_and_logout`]: crate::AuthManager::revoke_and_logout

use std::fmt;

use login_agent_identity::SecretString;

/// Revokes a refresh token at the server. Blocking: the manager calls it
/// on tokio's blocking pool, before deleting the local credentials, so it
/// must give up within a short, bounded time (the HTTP revoker waits 5 s).
///
/// ```
/// use core_auth::{RevokeError, SecretString, TokenRevoker};
///
/// #[derive(Debug)]
/// struct Offline;
///
/// impl TokenRevoker for Offline {
///     fn revoke(&self, _refresh_token: &SecretString) -> Result<(), RevokeError> {
///         Err(RevokeError::from("offline"))
///     }
/// }
/// ```
pub trait TokenRevoker: Send + Sync + fmt::Debug {
    /// Asks the server to revoke `refresh_token` (and the session it
    /// belongs to).
    fn revoke(&self, refresh_token: &SecretString) -> Result<(), RevokeError>;
}

/// Why a [`TokenRevoker`] failed. It wraps the revoker's own error (an
/// HTTP status, a timeout), whose message must not carry a secret.
///
/// ```
/// use core_auth::RevokeError;
///
/// let error = RevokeError::from("the revoke endpoint is unavailable");
/// assert_eq!(error.to_string(), "the revoke endpoint is unavailable");
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RevokeError(Box<dyn std::error::Error + Send + Sync>);

impl RevokeError {
    /// Wraps a revoker's error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }
}

impl From<&str> for RevokeError {
    fn from(message: &str) -> Self {
        Self(message.into())
    }
}

impl From<String> for RevokeError {
    fn from(message: String) -> Self {
        Self(message.into())
    }
}

/// What happened to the stored refresh token at logout.
#[derive(Debug)]
#[non_exhaustive]
pub enum RevokeOutcome {
    /// No ChatGPT refresh token was stored (nothing stored, an API key or
    /// an agent identity): nothing to revoke.
    NothingToRevoke,
    /// No [`TokenRevoker`] is configured; the token was not revoked.
    NoRevoker,
    /// The server revoked every stored refresh token.
    Revoked,
    /// A refresh token could not be revoked (or the stored credentials
    /// could not be read to find one); the local credentials were deleted
    /// all the same.
    Failed(RevokeError),
}

impl RevokeOutcome {
    /// `Some(true)` when revoked, `Some(false)` when revoking failed, `None`
    /// when there was nothing to revoke or no revoker.
    pub fn revoked(&self) -> Option<bool> {
        match self {
            RevokeOutcome::Revoked => Some(true),
            RevokeOutcome::Failed(_) => Some(false),
            RevokeOutcome::NothingToRevoke | RevokeOutcome::NoRevoker => None,
        }
    }
}

/// What [`AuthManager::revoke_and_logout`](crate::AuthManager::revoke_and_logout) did.
#[derive(Debug)]
#[non_exhaustive]
pub struct LogoutReport {
    /// Whether any store held credentials (now deleted).
    pub removed: bool,
    /// What happened to the stored refresh token, before the deletion.
    pub revoke: RevokeOutcome,
}
