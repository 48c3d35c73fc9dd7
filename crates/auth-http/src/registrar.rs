//! [`HttpTaskRegistrar`]: registers a background task for an agent
//! identity with the auth API.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _};
use sha2::{Digest as _, Sha512};
use time::OffsetDateTime;
use zeroize::{Zeroize as _, Zeroizing};

use crate::{
    HttpError, HttpOptions, JsonBody, JsonClient, describe_body_error, encode_path_segment,
    normalize_url,
};
use core_auth::EnvSource;
use core_auth::{RegistrarError, TaskRegistrar};

/// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL`: overrides the configured base
/// URL of the auth API (trimmed, trailing `/` removed).
pub const CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR: &str = "CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL";

const SERVICE: &str = "task registration";

/// Registers tasks over HTTP:
/// `POST {base}/v1/agent/{agent_runtime_id}/task/register` with
/// `{"timestamp": "<RFC 3339, seconds, Z>", "signature": "<base64>"}`, the
/// signature being the agent key's Ed25519 signature over
/// `"{agent_runtime_id}:{timestamp}"`.
///
/// The answer carries the id as `task_id`/`taskId`, or sealed as
/// `encrypted_task_id`/`encryptedTaskId`: standard base64 of a libsodium
/// sealed box to the X25519 key derived from the agent's Ed25519 seed
/// (SHA-512 of the seed, first 32 bytes, clamped). An answer with neither is
/// an error.
///
/// Each request times out after 30 s (see [`HttpOptions`]); a 4xx is not
/// retried; refused connections and 5xx answers are retried with backoff,
/// 3 attempts in all by default, each with a freshly signed timestamp.
/// Errors never contain the signature or the private key.
///
/// The request is blocking I/O; the manager runs it on tokio's blocking
/// pool. [`with_http_clients`](crate::with_http_clients) sets one up for
/// `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL` when that variable is set.
///
/// ```no_run
/// use std::sync::Arc;
/// use auth_http::HttpTaskRegistrar;
/// use core_auth::{AuthConfig, AuthManager, ProcessEnv};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // The configured base URL, unless CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL overrides it.
/// let registrar = HttpTaskRegistrar::from_env(&ProcessEnv, Some("https://auth.example.com/api"))?;
/// let config = AuthConfig::from_env()?.with_task_registrar(Arc::new(registrar));
/// let manager = AuthManager::load(config).await?;
/// let task_id = manager.ensure_background_task_id().await?;
/// println!("background task {task_id}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpTaskRegistrar {
    base_url: String,
    client: JsonClient,
}

impl HttpTaskRegistrar {
    /// A registrar for the auth API at `base_url` (trimmed, trailing `/`
    /// removed; `http` or `https`, without credentials or query), with the
    /// default [`HttpOptions`].
    pub fn new(base_url: &str) -> Result<Self, HttpError> {
        Self::with_origin(base_url, "configuration")
    }

    /// A registrar for the base URL in `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL`
    /// (read from `env`) when it is set and not blank, else for
    /// `configured_base_url`; an error when neither is given.
    pub fn from_env(
        env: &dyn EnvSource,
        configured_base_url: Option<&str>,
    ) -> Result<Self, HttpError> {
        let from_env = env
            .var(CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR)
            .filter(|value| !value.trim().is_empty());
        match (from_env, configured_base_url) {
            (Some(value), _) => {
                Self::with_origin(&value, CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR)
            }
            (None, Some(configured)) => Self::new(configured),
            (None, None) => Err(HttpError::MissingUrl {
                service: SERVICE,
                variable: CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL_VAR,
            }),
        }
    }

    fn with_origin(base_url: &str, origin: &'static str) -> Result<Self, HttpError> {
        let base_url = normalize_url(base_url, SERVICE, origin)?;
        let client = JsonClient::new(SERVICE, &base_url, HttpOptions::default());
        Ok(Self { base_url, client })
    }

    /// The same registrar with another timeout and retry policy.
    pub fn with_options(self, options: HttpOptions) -> Self {
        let client = JsonClient::new(SERVICE, &self.base_url, options);
        Self { client, ..self }
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The timeout and retry policy in use.
    pub fn options(&self) -> HttpOptions {
        self.client.options()
    }

    /// `{base}/v1/agent/{agent_runtime_id}/task/register`, the runtime id
    /// percent-encoded as one path segment.
    fn register_url(&self, agent_runtime_id: &str) -> String {
        format!(
            "{}/v1/agent/{}/task/register",
            self.base_url,
            encode_path_segment(agent_runtime_id)
        )
    }

    /// Registers a task for the agent `key` signs for and returns its id
    /// (decrypted when the answer is sealed). Blocking I/O: call it from a
    /// blocking context (the manager does, on tokio's blocking pool).
    pub fn register(&self, key: &AgentIdentityKey) -> Result<String, HttpError> {
        let runtime_id = key.agent_runtime_id();
        let url = self.register_url(runtime_id);
        let _span = tracing::info_span!("task_registration_request", agent_runtime_id = runtime_id)
            .entered();
        let mut make_body = || signed_body(key, &url);
        let reply = self.client.post_json(&url, true, &mut make_body)?;
        if !(200..300).contains(&reply.status) {
            return Err(self.client.status_error(&url, &reply));
        }
        let task_id = task_id_from_answer(&reply.body, key)
            .map_err(|reason| self.client.invalid_response(&url, reason))?;
        tracing::info!(
            status = reply.status,
            attempts = reply.attempts,
            "task registered"
        );
        Ok(task_id)
    }
}

impl TaskRegistrar for HttpTaskRegistrar {
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        _identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        self.register(key).map_err(RegistrarError::new)
    }
}

/// The request body for now, signed by `key`; the signature is a secret.
fn signed_body(key: &AgentIdentityKey, url: &str) -> Result<JsonBody, HttpError> {
    // RFC 3339 as `time` writes whole seconds in UTC: `...T12:00:00Z`.
    let timestamp = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|_| HttpError::Transport {
            service: SERVICE,
            url: url.to_owned(),
            reason: "cannot truncate the current time".to_owned(),
        })?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| HttpError::Transport {
            service: SERVICE,
            url: url.to_owned(),
            reason: "cannot format the current time".to_owned(),
        })?;
    let signature = key.sign_task_registration(&timestamp);
    #[derive(serde::Serialize)]
    struct Body<'a> {
        timestamp: &'a str,
        signature: &'a str,
    }
    let body = Body {
        timestamp: &timestamp,
        signature: signature.expose_secret(),
    };
    JsonBody::new(SERVICE, url, &body, vec![signature.clone()])
}

/// The task id a 2xx answer carries, in clear or sealed to `key`.
fn task_id_from_answer(body: &str, key: &AgentIdentityKey) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|error| describe_body_error(&error, body.len(), "a task answer"))?;
    let field = |names: [&str; 2]| {
        names
            .into_iter()
            .filter_map(|name| value.get(name))
            .find(|value| !value.is_null())
    };
    if let Some(id) = field(["task_id", "taskId"]) {
        return plain_id(id).ok_or_else(|| {
            let kind = match id {
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::String(_) => "an empty string",
                _ => "another JSON type",
            };
            format!("`task_id` must be a non-empty JSON string, the answer has {kind}")
        });
    }
    if let Some(sealed) = field(["encrypted_task_id", "encryptedTaskId"]) {
        let sealed = sealed
            .as_str()
            .ok_or("`encrypted_task_id` is not a string")?
            .trim();
        let bytes = STANDARD
            .decode(sealed)
            .or_else(|_| STANDARD_NO_PAD.decode(sealed))
            .map_err(|_| "`encrypted_task_id` is not standard base64")?;
        return open_sealed_task_id(key, &bytes).map_err(str::to_owned);
    }
    Err("the answer has no task_id, taskId, encrypted_task_id or encryptedTaskId".to_owned())
}

/// A clear task id: a non-empty JSON string, trimmed. A number is a
/// protocol error, not an id: read as a float it may lose digits, and the
/// server and we would then name different tasks.
fn plain_id(value: &serde_json::Value) -> Option<String> {
    let id = value.as_str()?.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// Opens a libsodium sealed box addressed to `key`'s X25519 key.
fn open_sealed_task_id(key: &AgentIdentityKey, sealed: &[u8]) -> Result<String, &'static str> {
    let plain = Zeroizing::new(
        task_id_secret_key(key)
            .unseal(sealed)
            .map_err(|_| "`encrypted_task_id` cannot be opened with this agent's key")?,
    );
    let id = std::str::from_utf8(&plain)
        .map_err(|_| "the decrypted task id is not UTF-8")?
        .trim();
    if id.is_empty() {
        return Err("the decrypted task id is empty");
    }
    Ok(id.to_owned())
}

/// The X25519 secret key of an agent: SHA-512 of its Ed25519 seed, the first
/// 32 bytes, clamped (as libsodium's `crypto_sign_ed25519_sk_to_curve25519`).
fn task_id_secret_key(key: &AgentIdentityKey) -> crypto_box::SecretKey {
    let seed = key.seed();
    let mut digest = Sha512::digest(seed.as_slice());
    let mut scalar = Zeroizing::new([0u8; 32]);
    scalar.copy_from_slice(&digest[..32]);
    digest[..].zeroize();
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
    crypto_box::SecretKey::from_bytes(*scalar)
}
