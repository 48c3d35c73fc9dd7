//! Logout that first revokes the stored refresh token: revoke, then delete,
//! as the mirrored CLI does, and delete whatever the revoke's outcome.

use login_agent_identity::{ExposeSecret as _, SecretString};
use login_storage::AuthStore;
use tracing::Instrument as _;

use super::{AuthManager, blocking};
use crate::error::AuthError;
use crate::revoke::{LogoutReport, RevokeError, RevokeOutcome};

impl AuthManager {
    /// Revokes the stored ChatGPT refresh token with the configured
    /// [`TokenRevoker`](crate::TokenRevoker), then removes stored
    /// credentials from every store like [`logout`](Self::logout).
    ///
    /// The credentials are removed whatever the revoke's outcome (a failed
    /// or timed-out revoke, an unreadable document); only a failure to
    /// delete is an error. The refresh tokens are read from the stores this
    /// manager writes (the ephemeral store and the configured one), never
    /// from the environment; an API key or an agent identity has nothing
    /// to revoke.
    pub async fn revoke_and_logout(&self) -> Result<LogoutReport, AuthError> {
        let span = tracing::info_span!("revoke_and_logout");
        async move {
            let revoke = self.revoke_stored_tokens().await;
            tracing::info!(revoked = revoke.revoked(), "revoke before logout");
            let removed = self.logout().await?;
            Ok(LogoutReport { removed, revoke })
        }
        .instrument(span)
        .await
    }

    async fn revoke_stored_tokens(&self) -> RevokeOutcome {
        let stores = self.stores.clone();
        let revoker = self.config.token_revoker.clone();
        let outcome = blocking(move || {
            let mut tokens: Vec<SecretString> = Vec::new();
            let mut unreadable = None;
            let persistent = stores.persistent();
            for store in std::iter::once(&stores.ephemeral as &dyn AuthStore).chain(persistent) {
                match store.load() {
                    Ok(Some(document)) => {
                        if let Some(token) = document.tokens.map(|tokens| tokens.refresh_token)
                            && !token.expose_secret().is_empty()
                            && !tokens
                                .iter()
                                .any(|held| held.expose_secret() == token.expose_secret())
                        {
                            tokens.push(token);
                        }
                    }
                    Ok(None) => {}
                    Err(error) => unreadable = Some(error),
                }
            }
            if tokens.is_empty() {
                return Ok(match unreadable {
                    // Something is stored but cannot be read: it may hold
                    // a refresh token we cannot revoke.
                    Some(error) => RevokeOutcome::Failed(RevokeError::from(format!(
                        "cannot read the stored credentials: {error}"
                    ))),
                    None => RevokeOutcome::NothingToRevoke,
                });
            }
            let Some(revoker) = revoker else {
                return Ok(RevokeOutcome::NoRevoker);
            };
            for token in &tokens {
                if let Err(error) = revoker.revoke(token) {
                    return Ok(RevokeOutcome::Failed(error));
                }
            }
            Ok(RevokeOutcome::Revoked)
        })
        .await;
        outcome.unwrap_or_else(|error| RevokeOutcome::Failed(RevokeError::new(error)))
    }
}
