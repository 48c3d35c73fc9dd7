//! Token refresh for [`AuthManager`]: [`AuthManager::refresh_if_stale`] and
//! [`AuthManager::recover_unauthorized`].
//!
//! Coordination, in this order:
//! 1. in this process, one refresh at a time (`RefreshState::flight`);
//!    a caller that waited finds the tokens fresh and does nothing;
//! 2. a refresh token the server refused for good is remembered, so later
//!    calls fail at once; a reload bringing other tokens forgets it;
//! 3. across processes, the redemption runs inside the store's
//!    `update` (the `$CODEX_HOME/auth.json.lock` lock for the file and
//!    keyring stores): under the lock the stored document is re-read; if its
//!    refresh token differs from the one this process holds (or it holds a
//!    newer access token that is not stale), another process already
//!    refreshed, and its tokens are adopted without calling the server.
//!    Otherwise the token is redeemed and the result written before the
//!    lock is released, so no other process can redeem the same token.
//!
//! Account guard: stored tokens are adopted (or redeemed) only when they
//! belong to the ChatGPT account held in memory (`account_id`, else the id
//! token's `chatgpt_account_id`; see `TokenData::chatgpt_account_id`).
//! Tokens of another account fail with [`AuthError::AccountChanged`]: no
//! server call, nothing written, the tokens in memory kept. When the held
//! tokens name no account there is nothing to compare and no guard.

use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Instant;

use login_agent_identity::{ExposeSecret, SecretString};
use login_storage::{AuthDotJson, TokenData};
use time::OffsetDateTime;
use tracing::Instrument as _;

use super::{AuthManager, RefreshOutcome, UnauthorizedRecovery, blocking, record_auth};
use crate::auth::CodexAuth;
use crate::error::AuthError;
use crate::refresh::{RefreshError, RefreshTokenFailure, TokenRefresher, tokens_need_refresh};
use crate::resolve::from_document_as;

/// The refresh state of one manager.
#[derive(Debug, Default)]
pub(super) struct RefreshState {
    flight: tokio::sync::Mutex<()>,
    dead_token: StdMutex<Option<(SecretString, RefreshTokenFailure)>>,
}

/// What happened under the storage lock.
enum Locked {
    /// The store holds no tokens any more (a logout elsewhere).
    Gone,
    /// The store held newer tokens; nothing was written.
    Adopted(AuthDotJson),
    /// This process redeemed the token and wrote the result.
    Refreshed(AuthDotJson),
    /// The redemption failed; nothing was written.
    Failed(RefreshError),
    /// The store holds tokens of another account; nothing was done.
    AccountChanged,
}

impl AuthManager {
    /// See [`AuthManager::refresh_if_stale`].
    pub(super) async fn refresh_if_stale_inner(&self) -> Result<RefreshOutcome, AuthError> {
        let span = tracing::info_span!(
            "refresh",
            source = tracing::field::Empty,
            mode = tracing::field::Empty
        );
        async move {
            let _flight = self.refresh.flight.lock().await;
            let Some(auth) = self.auth().filter(|auth| auth.tokens().is_some()) else {
                return Ok(RefreshOutcome::NotApplicable);
            };
            record_auth(&auth);
            if !auth.needs_refresh(OffsetDateTime::now_utc()) {
                return Ok(RefreshOutcome::Fresh);
            }
            self.refresh_locked(&auth, false).await
        }
        .instrument(span)
        .await
    }

    /// See [`AuthManager::spawn_background_refresh`].
    pub(super) fn spawn_background_refresh_inner(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let manager = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(manager) = manager.upgrade() else {
                    return;
                };
                match manager.refresh_if_stale().await {
                    Ok(outcome) => tracing::trace!(?outcome, "background refresh"),
                    Err(error) => tracing::warn!(%error, "background refresh failed"),
                }
            }
        })
    }

    /// See [`AuthManager::recover_unauthorized`].
    pub(super) async fn recover_unauthorized_inner(&self) -> UnauthorizedRecovery {
        let span = tracing::info_span!(
            "recover_unauthorized",
            source = tracing::field::Empty,
            mode = tracing::field::Empty
        );
        async move {
            let before = self.auth();
            if let Err(error) = self.reload_same_account(before.as_ref()).await {
                return UnauthorizedRecovery::GaveUp(error);
            }
            let after = self.auth();
            if after.is_some() && !same_credentials(before.as_ref(), after.as_ref()) {
                tracing::info!("storage held other credentials");
                return UnauthorizedRecovery::Reloaded;
            }
            if let Some(auth) = after
                .as_ref()
                .filter(|auth| auth.tokens().is_none() && auth.agent_identity().is_some())
            {
                // Tokenless: the request carried an AgentAssertion for the
                // cached task, which the service no longer knows.
                let rejected = before
                    .as_ref()
                    .and_then(CodexAuth::agent_identity)
                    .and_then(|record| record.background_task_id().map(str::to_owned));
                return self.drop_rejected_task_id(auth, rejected).await;
            }
            let Some(auth) = after.filter(|auth| auth.tokens().is_some()) else {
                return UnauthorizedRecovery::GaveUp(AuthError::NotRefreshable);
            };
            record_auth(&auth);
            let _flight = self.refresh.flight.lock().await;
            if !same_credentials(Some(&auth), self.auth().as_ref()) {
                tracing::info!("tokens refreshed by a concurrent caller");
                return UnauthorizedRecovery::Refreshed;
            }
            match self.refresh_locked(&auth, true).await {
                Ok(RefreshOutcome::Refreshed) => UnauthorizedRecovery::Refreshed,
                Ok(RefreshOutcome::Adopted) => UnauthorizedRecovery::Reloaded,
                Ok(_) => UnauthorizedRecovery::GaveUp(AuthError::NotRefreshable),
                Err(error) => UnauthorizedRecovery::GaveUp(error),
            }
        }
        .instrument(span)
        .await
    }

    /// Redeems (or adopts) under the storage lock; the caller holds the
    /// flight. `force` redeems even tokens that are not stale.
    async fn refresh_locked(
        &self,
        auth: &CodexAuth,
        force: bool,
    ) -> Result<RefreshOutcome, AuthError> {
        let held = auth.tokens().ok_or(AuthError::NotRefreshable)?.clone();
        if let Some(failure) = self.dead_token_failure(&held.refresh_token) {
            tracing::debug!(
                code = failure.code(),
                "refresh token already refused; not asking again"
            );
            return Err(RefreshError::Permanent(failure).into());
        }
        let refresher = self.refresher()?;
        let stores = self.stores.clone();
        let source = auth.source();
        let held_refresh_token = held.refresh_token.clone();
        let started = Instant::now();
        let (locked, unsaved) = blocking(move || {
            let store = stores.store_of(source).ok_or(AuthError::NotRefreshable)?;
            let mut locked = Locked::Gone;
            let written = store.update(&mut |current| {
                locked = redeem_or_adopt(current, &held, force, &*refresher);
                Ok(match &locked {
                    Locked::Refreshed(document) => Some(document.clone()),
                    _ => None,
                })
            });
            match (written, &locked) {
                (Ok(_), _) => Ok((locked, None)),
                // Redeemed but not stored: the old refresh token is spent,
                // so this process keeps the new tokens in memory at least.
                (Err(error), Locked::Refreshed(_)) => Ok((locked, Some(error))),
                (Err(error), _) => Err(AuthError::from(error)),
            }
        })
        .await?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (document, outcome) = match locked {
            Locked::Refreshed(document) => (document, RefreshOutcome::Refreshed),
            Locked::Adopted(document) => (document, RefreshOutcome::Adopted),
            Locked::Gone => {
                tracing::info!(elapsed_ms, "the stored tokens are gone; reloading");
                self.reload().await?;
                return Err(AuthError::NotRefreshable);
            }
            Locked::AccountChanged => {
                tracing::warn!(
                    elapsed_ms,
                    "the stored tokens belong to another ChatGPT account; kept the tokens in memory"
                );
                return Err(AuthError::AccountChanged);
            }
            Locked::Failed(error) => {
                if let RefreshError::Permanent(failure) = &error {
                    self.remember_dead_token(held_refresh_token, *failure);
                }
                tracing::warn!(elapsed_ms, permanent = error.is_permanent(), error = %error, "token refresh failed");
                return Err(error.into());
            }
        };
        tracing::info!(elapsed_ms, outcome = ?outcome, "tokens updated under the storage lock");
        let Some(refreshed) = from_document_as(document, source)? else {
            return Err(AuthError::NotRefreshable);
        };
        self.enforce(&refreshed).await?;
        self.state.send_if_modified(|current| {
            if current.as_ref() != Some(auth) {
                return false;
            }
            *current = Some(refreshed);
            true
        });
        if let Some(error) = unsaved {
            tracing::error!(%error, "refreshed tokens could not be stored; kept in memory only");
            return Err(error.into());
        }
        Ok(outcome)
    }

    /// [`reload`](Self::reload), unless the store now holds ChatGPT tokens
    /// of another account than `before`'s: then
    /// [`AuthError::AccountChanged`] and the auth in memory is kept.
    async fn reload_same_account(&self, before: Option<&CodexAuth>) -> Result<(), AuthError> {
        let Some(held) = before
            .and_then(CodexAuth::tokens)
            .and_then(TokenData::chatgpt_account_id)
        else {
            return self.reload().await.map(drop);
        };
        // Resolved once and checked before it is installed, so the check
        // and the adoption see the same document.
        let auth = self.resolve_now().await?;
        let found = auth.as_ref().and_then(CodexAuth::tokens);
        if found.is_some_and(|tokens| tokens.chatgpt_account_id().as_deref() != Some(&held)) {
            tracing::warn!(
                "the stored tokens belong to another ChatGPT account; kept the tokens in memory"
            );
            return Err(AuthError::AccountChanged);
        }
        if let Some(auth) = &auth {
            record_auth(auth);
            self.enforce(auth).await?;
        }
        self.state.send_if_modified(|current| {
            if *current == auth {
                return false;
            }
            *current = auth;
            true
        });
        self.forget_dead_token_unless_held();
        Ok(())
    }

    /// The configured refresher.
    fn refresher(&self) -> Result<Arc<dyn TokenRefresher>, AuthError> {
        self.config
            .token_refresher
            .clone()
            .ok_or(AuthError::NoTokenRefresher)
    }

    fn dead_token_failure(&self, refresh_token: &SecretString) -> Option<RefreshTokenFailure> {
        let dead = self
            .refresh
            .dead_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Not constant-time: both tokens are this process's own, compared
        // locally; nothing an attacker can time.
        dead.as_ref()
            .filter(|(token, _)| token.expose_secret() == refresh_token.expose_secret())
            .map(|(_, failure)| *failure)
    }

    fn remember_dead_token(&self, refresh_token: SecretString, failure: RefreshTokenFailure) {
        *self
            .refresh
            .dead_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((refresh_token, failure));
    }

    /// Forgets the refused refresh token once the current auth holds
    /// another (a reload brought new tokens).
    pub(super) fn forget_dead_token_unless_held(&self) {
        let auth = self.auth();
        let held = auth
            .as_ref()
            .and_then(CodexAuth::tokens)
            .map(|tokens| tokens.refresh_token.expose_secret());
        let mut dead = self
            .refresh
            .dead_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if dead
            .as_ref()
            .is_some_and(|(token, _)| Some(token.expose_secret()) != held)
        {
            tracing::debug!("new tokens loaded; the refused refresh token is forgotten");
            *dead = None;
        }
    }
}

/// Under the lock: adopts the stored tokens when another process already
/// refreshed, else redeems `held`'s refresh token into the document.
fn redeem_or_adopt(
    current: Option<AuthDotJson>,
    held: &TokenData,
    force: bool,
    refresher: &dyn TokenRefresher,
) -> Locked {
    let Some(mut document) = current else {
        return Locked::Gone;
    };
    let now = OffsetDateTime::now_utc();
    let last_refresh = document.last_refresh;
    let Some(stored) = document.tokens.as_mut() else {
        return Locked::Gone;
    };
    // Another account's tokens are neither adopted nor redeemed.
    if let Some(account) = held.chatgpt_account_id()
        && stored.chatgpt_account_id() != Some(account)
    {
        return Locked::AccountChanged;
    }
    // Tokens compared by their text, not in constant time: a local check of
    // what another process stored, nothing an attacker can time.
    let rotated = stored.refresh_token.expose_secret() != held.refresh_token.expose_secret();
    let renewed = stored.access_token.expose_secret() != held.access_token.expose_secret()
        && (force || !tokens_need_refresh(stored, last_refresh, now));
    if rotated || renewed {
        tracing::debug!(rotated, "another process refreshed; adopting its tokens");
        return Locked::Adopted(document);
    }
    match refresher.refresh(&stored.refresh_token) {
        Ok(tokens) => {
            tokens.apply_to(stored);
            document.last_refresh = Some(now);
            Locked::Refreshed(document)
        }
        Err(error) => Locked::Failed(error),
    }
}

/// Whether two auths hold the same credentials (a cached task id aside).
/// Secrets are compared by their text, not in constant time: a local check,
/// nothing an attacker can time.
fn same_credentials(a: Option<&CodexAuth>, b: Option<&CodexAuth>) -> bool {
    fn tokens(auth: &CodexAuth) -> Option<(&str, &str)> {
        auth.tokens().map(|tokens| {
            (
                tokens.access_token.expose_secret(),
                tokens.refresh_token.expose_secret(),
            )
        })
    }
    fn identity(auth: &CodexAuth) -> Option<(&str, &str)> {
        auth.agent_identity().map(|record| {
            (
                record.agent_runtime_id(),
                record.agent_private_key().expose_secret(),
            )
        })
    }
    let (Some(a), Some(b)) = (a, b) else {
        return a.is_none() && b.is_none();
    };
    a.source() == b.source()
        && a.api_key().map(ExposeSecret::expose_secret)
            == b.api_key().map(ExposeSecret::expose_secret)
        && tokens(a) == tokens(b)
        && identity(a) == identity(b)
}
