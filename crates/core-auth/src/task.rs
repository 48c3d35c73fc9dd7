//! [`TaskRegistrar`]: how the runtime registers a background task for its
//! agent identity. The manager caches the id it returns.

use std::fmt;

use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityKey};

use crate::error::RegistrarError;

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
/// use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityKey};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl TaskRegistrar for Fixed {
///     fn register_task(
///         &self,
///         key: &AgentIdentityKey,
///         _identity: &AgentIdentityAuthRecord,
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
        identity: &AgentIdentityAuthRecord,
    ) -> Result<String, RegistrarError>;
}
