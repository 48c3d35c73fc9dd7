//! [`CodexAuth`]: how the runtime is authenticated, and where that came from.

use std::fmt;
use std::sync::Arc;

use login_agent_identity::{AgentIdentity, ExposeSecret as _, SecretString};
use login_storage::{IdTokenClaims, StoreKind, TokenData};
use time::OffsetDateTime;

/// Where an auth came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthSource {
    /// `CODEX_API_KEY`.
    EnvApiKey,
    /// `CODEX_AGENT_IDENTITY`.
    EnvAgentIdentity,
    /// This process's in-memory store.
    Ephemeral,
    /// `$CODEX_HOME/auth.json`.
    File,
    /// The OS keyring.
    Keyring,
    /// A store defined by the embedder.
    Custom,
}

impl AuthSource {
    pub(crate) fn from_location(location: StoreKind) -> Self {
        match location {
            StoreKind::File => AuthSource::File,
            StoreKind::Keyring => AuthSource::Keyring,
            StoreKind::Ephemeral => AuthSource::Ephemeral,
            _ => AuthSource::Custom,
        }
    }

    /// Whether the auth is kept by a store (as opposed to a variable).
    pub fn is_stored(self) -> bool {
        !self.is_env()
    }

    /// Whether the auth came from an environment variable.
    pub fn is_env(self) -> bool {
        matches!(self, AuthSource::EnvApiKey | AuthSource::EnvAgentIdentity)
    }
}

impl fmt::Display for AuthSource {
    /// `env:CODEX_API_KEY`, `env:CODEX_AGENT_IDENTITY`, `ephemeral`, `file`,
    /// `keyring` or `custom`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthSource::EnvApiKey => f.write_str("env:CODEX_API_KEY"),
            AuthSource::EnvAgentIdentity => f.write_str("env:CODEX_AGENT_IDENTITY"),
            AuthSource::Ephemeral => f.write_str("ephemeral"),
            AuthSource::File => f.write_str("file"),
            AuthSource::Keyring => f.write_str("keyring"),
            AuthSource::Custom => f.write_str("custom"),
        }
    }
}

/// How a resolved auth authenticates.
///
/// Exhaustive on purpose: a resolved auth is always one of these three, so
/// a `match` needs no wildcard. A stored document may name a mode this
/// version does not know; that stays representable only in the document
/// type ([`login_storage::AuthMode::Unknown`]), and resolving such a
/// document is an error ([`AuthError::UnsupportedMode`](crate::AuthError::UnsupportedMode)).
///
/// `Display` and [`as_str`](Self::as_str) give the machine name stored in
/// `auth.json` (`apikey`, `chatgpt`, `agentIdentity`); [`description`](Self::description)
/// the words for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// An OpenAI API key.
    ApiKey,
    /// ChatGPT OAuth tokens.
    Chatgpt,
    /// A tokenless agent identity.
    AgentIdentity,
}

impl AuthMode {
    /// The machine name, as `auth.json` stores it: `apikey`, `chatgpt` or
    /// `agentIdentity`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "apikey",
            AuthMode::Chatgpt => "chatgpt",
            AuthMode::AgentIdentity => "agentIdentity",
        }
    }

    /// Words for a person: `API key`, `ChatGPT` or `agent identity`.
    pub fn description(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "API key",
            AuthMode::Chatgpt => "ChatGPT",
            AuthMode::AgentIdentity => "agent identity",
        }
    }
}

impl fmt::Display for AuthMode {
    /// The machine name ([`AuthMode::as_str`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<AuthMode> for login_storage::AuthMode {
    fn from(mode: AuthMode) -> Self {
        match mode {
            AuthMode::ApiKey => login_storage::AuthMode::ApiKey,
            AuthMode::Chatgpt => login_storage::AuthMode::Chatgpt,
            AuthMode::AgentIdentity => login_storage::AuthMode::AgentIdentity,
        }
    }
}

/// Compares with a stored document's mode (never equal to `Unknown`).
impl PartialEq<login_storage::AuthMode> for AuthMode {
    fn eq(&self, other: &login_storage::AuthMode) -> bool {
        matches!(
            (self, other),
            (AuthMode::ApiKey, login_storage::AuthMode::ApiKey)
                | (AuthMode::Chatgpt, login_storage::AuthMode::Chatgpt)
                | (
                    AuthMode::AgentIdentity,
                    login_storage::AuthMode::AgentIdentity
                )
        )
    }
}

impl PartialEq<AuthMode> for login_storage::AuthMode {
    fn eq(&self, other: &AuthMode) -> bool {
        other == self
    }
}

/// Credentials that exist but are not used: a source that startup
/// resolution reaches only after the one in use (see
/// [`AuthManager::shadowed`](crate::AuthManager::shadowed)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShadowedAuth {
    source: AuthSource,
    by: AuthSource,
}

impl ShadowedAuth {
    pub(crate) fn new(source: AuthSource, by: AuthSource) -> Self {
        Self { source, by }
    }

    /// Where the unused credentials are.
    pub fn source(&self) -> AuthSource {
        self.source
    }

    /// The source in use, which resolution tries first.
    pub fn shadowed_by(&self) -> AuthSource {
        self.by
    }
}

/// The credentials of one auth.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "held once, behind the Arc of a CodexAuth"
)]
pub(crate) enum Credentials {
    ApiKey(SecretString),
    Chatgpt {
        tokens: TokenData,
        /// `None` when the id token is absent or unreadable.
        claims: Option<IdTokenClaims>,
        /// When the tokens were last refreshed, as stored.
        last_refresh: Option<OffsetDateTime>,
        agent_identity: Option<AgentIdentity>,
    },
    AgentIdentity(AgentIdentity),
}

/// Variant by variant, an API key by its text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Credentials::ApiKey(a), Credentials::ApiKey(b)) => {
                a.expose_secret() == b.expose_secret()
            }
            (
                Credentials::Chatgpt {
                    tokens,
                    claims,
                    last_refresh,
                    agent_identity,
                },
                Credentials::Chatgpt {
                    tokens: other_tokens,
                    claims: other_claims,
                    last_refresh: other_last_refresh,
                    agent_identity: other_agent_identity,
                },
            ) => {
                tokens == other_tokens
                    && claims == other_claims
                    && last_refresh == other_last_refresh
                    && agent_identity == other_agent_identity
            }
            (Credentials::AgentIdentity(a), Credentials::AgentIdentity(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, PartialEq)]
struct Inner {
    credentials: Credentials,
    source: AuthSource,
}

/// How the runtime is authenticated. Cheap to clone (one `Arc`).
///
/// `Debug` redacts the API key, the tokens and the private key.
#[derive(Clone, PartialEq)]
pub struct CodexAuth(Arc<Inner>);

impl CodexAuth {
    pub(crate) fn new(credentials: Credentials, source: AuthSource) -> Self {
        Self(Arc::new(Inner {
            credentials,
            source,
        }))
    }

    /// The mode: [`AuthMode::ApiKey`], [`AuthMode::Chatgpt`] or
    /// [`AuthMode::AgentIdentity`] (tokenless).
    pub fn mode(&self) -> AuthMode {
        match &self.0.credentials {
            Credentials::ApiKey(_) => AuthMode::ApiKey,
            Credentials::Chatgpt { .. } => AuthMode::Chatgpt,
            Credentials::AgentIdentity(_) => AuthMode::AgentIdentity,
        }
    }

    /// Where the auth came from.
    pub fn source(&self) -> AuthSource {
        self.0.source
    }

    /// The workspace: the agent identity's `workspace_id` for a tokenless
    /// auth; for ChatGPT, the id token's `chatgpt_account_id`, else (no id
    /// token, or one without the claim) the tokens' `account_id`.
    pub fn workspace_id(&self) -> Option<&str> {
        match &self.0.credentials {
            Credentials::ApiKey(_) => None,
            Credentials::Chatgpt { claims, tokens, .. } => claims
                .as_ref()
                .and_then(|claims| claims.chatgpt_account_id.as_deref())
                .or(tokens.account_id.as_deref()),
            Credentials::AgentIdentity(record) => Some(record.workspace_id()),
        }
    }

    /// The account's email, from the id token.
    pub fn account_email(&self) -> Option<&str> {
        match &self.0.credentials {
            Credentials::Chatgpt { claims, .. } => claims.as_ref()?.email.as_deref(),
            _ => None,
        }
    }

    /// The id token's claims (ChatGPT only; `None` when the id token is
    /// absent or unreadable).
    pub fn id_token_claims(&self) -> Option<&IdTokenClaims> {
        match &self.0.credentials {
            Credentials::Chatgpt { claims, .. } => claims.as_ref(),
            _ => None,
        }
    }

    /// The agent identity: the tokenless one, or the one beside ChatGPT tokens.
    pub fn agent_identity(&self) -> Option<&AgentIdentity> {
        match &self.0.credentials {
            Credentials::AgentIdentity(record) => Some(record),
            Credentials::Chatgpt { agent_identity, .. } => agent_identity.as_ref(),
            Credentials::ApiKey(_) => None,
        }
    }

    /// The API key (API key auth only).
    pub fn api_key(&self) -> Option<&SecretString> {
        match &self.0.credentials {
            Credentials::ApiKey(key) => Some(key),
            _ => None,
        }
    }

    /// The ChatGPT tokens (ChatGPT auth only).
    pub fn tokens(&self) -> Option<&TokenData> {
        match &self.0.credentials {
            Credentials::Chatgpt { tokens, .. } => Some(tokens),
            _ => None,
        }
    }

    /// When the ChatGPT tokens were last refreshed (`last_refresh` as stored).
    pub fn last_refresh(&self) -> Option<OffsetDateTime> {
        match &self.0.credentials {
            Credentials::Chatgpt { last_refresh, .. } => *last_refresh,
            _ => None,
        }
    }

    /// Whether the ChatGPT tokens should be refreshed at `now` (see
    /// the access token's `exp` within 5 minutes, else a `last_refresh` older than 8 days); always `false`
    /// for other auths. No I/O.
    pub fn needs_refresh(&self, now: OffsetDateTime) -> bool {
        match &self.0.credentials {
            Credentials::Chatgpt {
                tokens,
                last_refresh,
                ..
            } => crate::refresh::tokens_need_refresh(tokens, *last_refresh, now),
            _ => false,
        }
    }

    /// The same auth with its agent identity replaced (for caching a task id).
    pub(crate) fn with_agent_identity(&self, record: AgentIdentity) -> Self {
        let credentials = match &self.0.credentials {
            Credentials::Chatgpt {
                tokens,
                claims,
                last_refresh,
                ..
            } => Credentials::Chatgpt {
                tokens: tokens.clone(),
                claims: claims.clone(),
                last_refresh: *last_refresh,
                agent_identity: Some(record),
            },
            _ => Credentials::AgentIdentity(record),
        };
        Self::new(credentials, self.0.source)
    }
}

impl fmt::Debug for CodexAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodexAuth")
            .field("mode", &self.mode())
            .field("source", &self.0.source)
            .field("credentials", &self.0.credentials)
            .finish()
    }
}
