//! [`DeviceLogin`]: the device-code flow, for machines without a browser.

use std::fmt;
use std::time::{Duration, Instant};

use core_auth::TokenData;
use login_agent_identity::{ExposeSecret as _, SecretString};

use super::{CancelToken, LoginConfig, LoginError, SERVICE, exchange_code, sleep_until, time_left};
use crate::{JsonBody, JsonClient, describe_body_error};

/// How long a device login polls by default.
pub const DEFAULT_DEVICE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The poll interval when the server names none (or an unreadable one).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The longest interval honored, so that a wait stays responsive.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// The shortest pause between polls, even when the server asks for 0.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A device login in progress: a code for the user to enter at
/// [`DeviceLogin::verification_url`], then polling until they did.
pub struct DeviceLogin {
    config: LoginConfig,
    device_auth_id: SecretString,
    user_code: SecretString,
    interval: Duration,
    verification_url: String,
}

/// The issuer and interval only: the ids and code are secrets.
impl fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceLogin")
            .field("issuer", &self.config.issuer())
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl DeviceLogin {
    /// Asks `{issuer}/api/accounts/deviceauth/usercode` for a user code.
    /// A 404 is [`LoginError::DeviceNotEnabled`].
    pub fn start(config: LoginConfig) -> Result<Self, LoginError> {
        let url = format!("{}/api/accounts/deviceauth/usercode", config.issuer());
        let client = JsonClient::new(SERVICE, &url, config.options);
        let mut make_body = || {
            JsonBody::new(
                SERVICE,
                &url,
                &serde_json::json!({ "client_id": config.client_id }),
                Vec::new(),
            )
        };
        let reply = client.post_json(&url, false, &mut make_body)?;
        if reply.status == 404 {
            return Err(LoginError::DeviceNotEnabled {
                issuer: config.issuer().to_owned(),
            });
        }
        if !(200..300).contains(&reply.status) {
            return Err(client.status_error(&url, &reply).into());
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            device_auth_id: SecretString,
            #[serde(alias = "usercode")]
            user_code: SecretString,
            #[serde(default)]
            interval: Option<serde_json::Value>,
        }
        let answer: Answer =
            serde_json::from_str(&reply.body).map_err(|error| LoginError::InvalidAnswer {
                what: "device code",
                reason: describe_body_error(&error, reply.body.len(), "a device code answer"),
            })?;
        let interval = answer
            .interval
            .as_ref()
            .and_then(|value| match value {
                serde_json::Value::String(text) => text.trim().parse::<u64>().ok(),
                other => other.as_u64(),
            })
            .map_or(DEFAULT_INTERVAL, Duration::from_secs)
            .clamp(MIN_INTERVAL, MAX_INTERVAL);
        let verification_url = format!("{}/codex/device", config.issuer());
        tracing::info!(issuer = config.issuer(), ?interval, "device code issued");
        Ok(Self {
            config,
            device_auth_id: answer.device_auth_id,
            user_code: answer.user_code,
            interval,
            verification_url,
        })
    }

    /// Where the user enters the code: `{issuer}/codex/device`.
    pub fn verification_url(&self) -> &str {
        &self.verification_url
    }

    /// The code to show the user (and only them: whoever enters it first
    /// signs this machine in).
    pub fn user_code(&self) -> &SecretString {
        &self.user_code
    }

    /// The pause between polls.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls `{issuer}/api/accounts/deviceauth/token` every
    /// [`DeviceLogin::interval`] (403 and 404 mean "not yet") for at most
    /// `timeout` ([`LoginError::TimedOut`]) or until `cancel` is cancelled
    /// ([`LoginError::Cancelled`]), then exchanges the authorization code
    /// with `redirect_uri` `{issuer}/deviceauth/callback`. Stores nothing.
    pub fn wait(self, timeout: Duration, cancel: &CancelToken) -> Result<TokenData, LoginError> {
        let deadline = Instant::now() + timeout;
        let url = format!("{}/api/accounts/deviceauth/token", self.config.issuer());
        let client = JsonClient::new(SERVICE, &url, self.config.options);
        loop {
            time_left(deadline, timeout, cancel)?;
            let mut make_body = || {
                JsonBody::new(
                    SERVICE,
                    &url,
                    &serde_json::json!({
                        "device_auth_id": self.device_auth_id.expose_secret(),
                        "user_code": self.user_code.expose_secret(),
                    }),
                    vec![self.device_auth_id.clone(), self.user_code.clone()],
                )
            };
            let reply = client.post_json(&url, false, &mut make_body)?;
            if matches!(reply.status, 403 | 404) {
                tracing::debug!(status = reply.status, "device login pending");
                sleep_until(Instant::now() + self.interval, deadline, timeout, cancel)?;
                continue;
            }
            if !(200..300).contains(&reply.status) {
                return Err(client.status_error(&url, &reply).into());
            }
            #[derive(serde::Deserialize)]
            struct Answer {
                authorization_code: SecretString,
                code_verifier: SecretString,
            }
            let answer: Answer =
                serde_json::from_str(&reply.body).map_err(|error| LoginError::InvalidAnswer {
                    what: "device token",
                    reason: describe_body_error(&error, reply.body.len(), "a device token answer"),
                })?;
            let redirect_uri = format!("{}/deviceauth/callback", self.config.issuer());
            return exchange_code(
                &self.config,
                &answer.authorization_code,
                &answer.code_verifier,
                &redirect_uri,
            );
        }
    }
}
