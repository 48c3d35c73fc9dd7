//! [`TaskRegistrar`]: how the runtime registers a background task for its
//! agent identity. The manager caches the id it returns.

use std::fmt;

use login_agent_identity::{AgentIdentity, AgentIdentityKey};

/// Registers a task for an agent and returns its id.
///
/// Blocking, like [`TokenRefresher`](crate::TokenRefresher): the manager
/// calls it on tokio's blocking pool while it holds the home's registration
/// lock, so that of several runtimes sharing a home exactly one registers.
/// Set it with [`AuthConfig::with_task_registrar`](crate::AuthConfig::with_task_registrar);
/// it should give up within a bounded time (the HTTP registrar has a
/// timeout).
///
/// ```
/// use core_auth::{RegistrarError, TaskRegistrar};
/// use core_auth::{AgentIdentity, AgentIdentityKey};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl TaskRegistrar for Fixed {
///     fn register_task(
///         &self,
///         key: &AgentIdentityKey,
///         _identity: &AgentIdentity,
///     ) -> Result<String, RegistrarError> {
///         let _signature = key.sign_task_registration("2026-01-01T00:00:00Z");
///         Ok("task-1".to_owned())
///     }
/// }
/// ```
pub trait TaskRegistrar: Send + Sync + fmt::Debug {
    /// Registers a task for the agent that `key` signs for.
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        identity: &AgentIdentity,
    ) -> Result<String, RegistrarError>;
}

/// Why a [`TaskRegistrar`] failed. It wraps the registrar's own error (an
/// HTTP status, a refused connection), whose message must not carry a
/// secret; nothing was cached.
///
/// ```
/// use core_auth::RegistrarError;
///
/// let error = RegistrarError::from("the registration service is unavailable");
/// assert_eq!(error.to_string(), "the registration service is unavailable");
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RegistrarError(Box<dyn std::error::Error + Send + Sync>);

impl RegistrarError {
    /// Wraps a registrar's error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }
}

impl From<&str> for RegistrarError {
    fn from(message: &str) -> Self {
        Self(message.into())
    }
}

impl From<String> for RegistrarError {
    fn from(message: String) -> Self {
        Self(message.into())
    }
}
