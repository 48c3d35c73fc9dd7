//! [`AuthDotJson`]: the serde model of `$CODEX_HOME/auth.json`.
//!
//! Compatible with the files the mirrored coding-agent CLI writes: the same
//! keys, `OPENAI_API_KEY` always written (as `null` when absent), unknown
//! keys kept in order and written back unchanged.
//!
//! These types are the one place where secrets are serialized: each secret
//! field names `login_agent_identity::serde_secret` to be written out.

use std::fmt;

use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityInput, ExposeSecret as _, PlanType,
    SecretString, UnknownKeys,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

/// How a document says it authenticates (`auth_mode`).
///
/// Wire values: `"apikey"`, `"chatgpt"`, `"agentIdentity"`. Any other string
/// is kept as [`AuthMode::Unknown`] and written back unchanged, so a newer
/// writer's mode survives our round trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMode {
    /// An OpenAI API key.
    ApiKey,
    /// ChatGPT OAuth tokens.
    Chatgpt,
    /// A tokenless agent identity.
    AgentIdentity,
    /// A mode this version does not know, kept verbatim.
    Unknown(String),
}

impl AuthMode {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            AuthMode::ApiKey => "apikey",
            AuthMode::Chatgpt => "chatgpt",
            AuthMode::AgentIdentity => "agentIdentity",
            AuthMode::Unknown(other) => other,
        }
    }

    /// Parses a wire value; unknown strings become [`AuthMode::Unknown`].
    pub fn from_wire(value: &str) -> Self {
        match value {
            "apikey" => AuthMode::ApiKey,
            "chatgpt" => AuthMode::Chatgpt,
            "agentIdentity" => AuthMode::AgentIdentity,
            other => AuthMode::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuthMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|value| AuthMode::from_wire(&value))
    }
}

/// The document kept in `auth.json`, in the keyring, or in memory.
///
/// `Debug` redacts the API key, the three tokens and the private key, and
/// shows only the names of unknown keys.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct AuthDotJson {
    /// The declared mode; see [`AuthDotJson::resolved_mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<AuthMode>,
    /// An OpenAI API key. Always written, as `null` when absent.
    #[serde(
        rename = "OPENAI_API_KEY",
        default,
        serialize_with = "login_agent_identity::serde_secret::expose_option"
    )]
    pub openai_api_key: Option<SecretString>,
    /// ChatGPT OAuth tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenData>,
    /// When the tokens were last refreshed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub last_refresh: Option<OffsetDateTime>,
    /// The agent identity: the object or a JWT string, written back in the
    /// form it was read. Caching a `background_task_id` stores the object
    /// form (a JWT cannot carry it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "identity_as_read"
    )]
    pub agent_identity: Option<AgentIdentityInput>,
    /// Top-level keys this version does not know, in their original order.
    #[serde(flatten)]
    pub extra: UnknownKeys,
}

/// Writes the identity in the form it was read: a JWT stays a string (a
/// launcher or an older writer may expect it), an object stays an object.
/// A JWT that no longer decodes is refused, so a document that could not
/// be read back is never written.
fn identity_as_read<S: Serializer>(
    identity: &Option<AgentIdentityInput>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    if let Some(AgentIdentityInput::Jwt(jwt)) = identity {
        AgentIdentity::from_jwt_unverified(jwt.expose_secret()).map_err(S::Error::custom)?;
    }
    identity.serialize(serializer)
}

impl AuthDotJson {
    /// A document holding only an API key.
    pub fn with_api_key(api_key: SecretString) -> Self {
        Self {
            auth_mode: Some(AuthMode::ApiKey),
            openai_api_key: Some(api_key),
            ..Self::default()
        }
    }

    /// A document holding only an agent identity (the tokenless case).
    pub fn with_agent_identity(identity: AgentIdentity) -> Self {
        Self {
            auth_mode: Some(AuthMode::AgentIdentity),
            agent_identity: Some(AgentIdentityInput::Object(identity)),
            ..Self::default()
        }
    }

    /// How this document authenticates.
    ///
    /// A document holding an `agent_identity` and neither tokens nor an API
    /// key is tokenless: agent identity, whether `auth_mode` says
    /// `"chatgpt"` (the shape a tokenless ChatGPT-mode runtime writes),
    /// `"agentIdentity"` or nothing. Otherwise `auth_mode` if set; else API
    /// key if `OPENAI_API_KEY` is set; else ChatGPT if `tokens` is set; else
    /// `None`. An `"apikey"` or unknown mode is taken as declared, so a
    /// missing key or an unknown mode is reported, not guessed around.
    pub fn resolved_mode(&self) -> Option<AuthMode> {
        let tokenless =
            self.agent_identity.is_some() && self.tokens.is_none() && self.openai_api_key.is_none();
        match &self.auth_mode {
            None | Some(AuthMode::Chatgpt | AuthMode::AgentIdentity) if tokenless => {
                return Some(AuthMode::AgentIdentity);
            }
            Some(mode) => return Some(mode.clone()),
            None => {}
        }
        if self.openai_api_key.is_some() {
            return Some(AuthMode::ApiKey);
        }
        if self.tokens.is_some() {
            return Some(AuthMode::Chatgpt);
        }
        self.agent_identity
            .as_ref()
            .map(|_| AuthMode::AgentIdentity)
    }

    /// The agent identity, validated: the object as stored, or the JWT
    /// string decoded unverified (as
    /// [`AgentIdentity::from_jwt_unverified`] does; the document itself is
    /// not changed). A bad identity is an error here, where it is used, not
    /// when the document is loaded.
    pub fn validated_agent_identity(&self) -> Result<Option<AgentIdentity>, AgentIdentityError> {
        self.agent_identity
            .clone()
            .map(AgentIdentityInput::into_identity)
            .transpose()
    }
}

/// Field by field, secrets by their text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for AuthDotJson {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            auth_mode,
            openai_api_key,
            tokens,
            last_refresh,
            agent_identity,
            extra,
        } = self;
        *auth_mode == other.auth_mode
            && openai_api_key.as_ref().map(|key| key.expose_secret())
                == other.openai_api_key.as_ref().map(|key| key.expose_secret())
            && *tokens == other.tokens
            && *last_refresh == other.last_refresh
            && *agent_identity == other.agent_identity
            && *extra == other.extra
    }
}

impl fmt::Debug for AuthDotJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthDotJson")
            .field("auth_mode", &self.auth_mode)
            .field("openai_api_key", &self.openai_api_key)
            .field("tokens", &self.tokens)
            .field("last_refresh", &self.last_refresh)
            .field("agent_identity", &self.agent_identity)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// ChatGPT OAuth tokens. `Debug` redacts all three tokens.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenData {
    /// The OpenID id token, kept as the raw JWT; see [`IdToken::claims`].
    /// Optional, as in the mirrored CLI's files: absent (or `null`) is
    /// `None`, and `None` is written back as no key at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdToken>,
    /// The OAuth access token.
    #[serde(serialize_with = "login_agent_identity::serde_secret::expose")]
    pub access_token: SecretString,
    /// The OAuth refresh token.
    #[serde(serialize_with = "login_agent_identity::serde_secret::expose")]
    pub refresh_token: SecretString,
    /// The ChatGPT account the tokens belong to.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Keys of `tokens` this version does not know.
    #[serde(flatten)]
    pub extra: UnknownKeys,
}

impl TokenData {
    /// The ChatGPT account the tokens belong to: `account_id`, else the id
    /// token's `chatgpt_account_id` (`None` when neither says, or the id
    /// token is unreadable).
    pub fn chatgpt_account_id(&self) -> Option<String> {
        self.account_id.clone().or_else(|| {
            self.id_token
                .as_ref()?
                .claims()
                .ok()
                .and_then(|claims| claims.chatgpt_account_id)
        })
    }
}

/// Field by field, tokens by their text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for TokenData {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            id_token,
            access_token,
            refresh_token,
            account_id,
            extra,
        } = self;
        *id_token == other.id_token
            && access_token.expose_secret() == other.access_token.expose_secret()
            && refresh_token.expose_secret() == other.refresh_token.expose_secret()
            && *account_id == other.account_id
            && *extra == other.extra
    }
}

impl fmt::Debug for TokenData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenData")
            .field("id_token", &self.id_token)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("account_id", &self.account_id)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The raw id token (a JWT). Its claims are parsed on demand, so a
/// malformed token is reported where it is used, not when `auth.json` loads.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdToken(
    #[serde(serialize_with = "login_agent_identity::serde_secret::expose")] SecretString,
);

/// By the token's text. Not constant-time: a local equality check, not one
/// an attacker can time.
impl PartialEq for IdToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for IdToken {}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdToken").field(&self.0).finish()
    }
}

/// What the id token says about the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// `email`, else `https://api.openai.com/profile`.`email`.
    pub email: Option<String>,
    /// `https://api.openai.com/auth`.`chatgpt_plan_type`; an unknown plan
    /// keeps its raw string.
    pub chatgpt_plan_type: Option<PlanType>,
    /// `https://api.openai.com/auth`.`chatgpt_user_id`, else `user_id`.
    pub chatgpt_user_id: Option<String>,
    /// `https://api.openai.com/auth`.`chatgpt_account_id`.
    pub chatgpt_account_id: Option<String>,
}

/// `tokens.id_token` is not a readable JWT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`tokens.id_token` is malformed: {reason}")]
pub struct IdTokenError {
    reason: &'static str,
}

impl IdToken {
    /// Wraps a raw JWT.
    pub fn new(raw: SecretString) -> Self {
        Self(raw)
    }

    /// The raw JWT.
    pub fn raw(&self) -> &SecretString {
        &self.0
    }

    /// Parses the payload (the signature is not verified: the token came
    /// from our own login and is only read for display and routing).
    pub fn claims(&self) -> Result<IdTokenClaims, IdTokenError> {
        let malformed = |reason| IdTokenError { reason };
        let bytes = login_agent_identity::unverified_jwt_payload(self.0.expose_secret())
            .map_err(malformed)?;
        let payload: Value =
            serde_json::from_slice(&bytes).map_err(|_| malformed("the payload is not JSON"))?;
        let Value::Object(payload) = payload else {
            return Err(malformed("the payload is not a JSON object"));
        };
        let string = |object: Option<&Value>, key: &str| {
            object
                .and_then(|o| o.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let auth = payload.get("https://api.openai.com/auth");
        let profile = payload.get("https://api.openai.com/profile");
        Ok(IdTokenClaims {
            email: payload
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| string(profile, "email")),
            chatgpt_plan_type: string(auth, "chatgpt_plan_type")
                .map(|plan| PlanType::from_wire(&plan)),
            chatgpt_user_id: string(auth, "chatgpt_user_id").or_else(|| string(auth, "user_id")),
            chatgpt_account_id: string(auth, "chatgpt_account_id"),
        })
    }
}

/// Parses a stored document; `source` names the file or keyring entry in
/// the error, which gives a position and a sanitized reason, never content.
pub(crate) fn parse_document(
    source: &std::path::Path,
    bytes: &[u8],
) -> Result<AuthDotJson, crate::StoreError> {
    serde_json::from_slice(bytes).map_err(|error| crate::StoreError::Corrupt {
        path: source.to_path_buf(),
        line: error.line(),
        column: error.column(),
        reason: if bytes.iter().all(u8::is_ascii_whitespace) {
            "it is empty".to_owned()
        } else {
            crate::describe_parse_error(&error)
        },
    })
}

fn serialize_error(error: &serde_json::Error) -> crate::StoreError {
    crate::StoreError::Serialize {
        reason: crate::describe_parse_error(error),
    }
}

/// `auth.json` as the mirrored CLI writes it: 2-space indent and a
/// trailing newline. The buffer is wiped when dropped.
pub(crate) fn to_pretty_json(
    auth: &AuthDotJson,
) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::StoreError> {
    let mut bytes = serde_json::to_vec_pretty(auth).map_err(|error| serialize_error(&error))?;
    bytes.push(b'\n');
    Ok(zeroize::Zeroizing::new(bytes))
}

/// The compact JSON the keyring entry `entry` holds. The buffer is wiped
/// when dropped. A document over the read limit is refused here, before
/// anything is written: a keyring value a load would refuse is never made.
pub(crate) fn to_compact_json(
    auth: &AuthDotJson,
    entry: &str,
) -> Result<zeroize::Zeroizing<String>, crate::StoreError> {
    let json = serde_json::to_string(auth)
        .map(zeroize::Zeroizing::new)
        .map_err(|error| serialize_error(&error))?;
    let len = json.len() as u64;
    if len > crate::MAX_AUTH_FILE_LEN {
        return Err(crate::StoreError::DocumentTooLarge {
            destination: entry.to_owned(),
            len,
            limit: crate::MAX_AUTH_FILE_LEN,
        });
    }
    Ok(json)
}
