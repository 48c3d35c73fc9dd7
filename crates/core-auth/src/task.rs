//! [`TaskRegistrar`]: how the runtime registers a background task for its
//! agent identity. The manager caches the id it returns.

use std::future::Future;

use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityKey};

use crate::error::RegistrarError;

/// Registers a task for an agent and returns its id.
///
/// Implement it with `async fn`; the future must be `Send` so the manager
/// can be used from any tokio task.
///
/// ```
/// use core_auth::{RegistrarError, TaskRegistrar};
/// use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityKey};
///
/// struct Fixed;
///
/// impl TaskRegistrar for Fixed {
///     async fn register_task(
///         &self,
///         key: &AgentIdentityKey,
///         _identity: &AgentIdentityAuthRecord,
///     ) -> Result<String, RegistrarError> {
///         let _signature = key.sign_task_registration("2026-01-01T00:00:00Z");
///         Ok("task-1".to_owned())
///     }
/// }
/// ```
pub trait TaskRegistrar: Send + Sync {
    /// Registers a task for the agent that `key` signs for.
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        identity: &AgentIdentityAuthRecord,
    ) -> impl Future<Output = Result<String, RegistrarError>> + Send;
}
