//! [`AgentIdentityAuthRecord`] (the stored object) and [`AgentIdentityInput`]
//! (what `auth.json` or `CODEX_AGENT_IDENTITY` may hold: object or JWT).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::claims::{
    self, AGENT_PRIVATE_KEY, AGENT_RUNTIME_ID, AgentIdentityJwtClaims, BACKGROUND_TASK_ID,
    CHATGPT_USER_ID, ClaimValue, REGISTERED_AT, RawClaims, WORKSPACE_ID,
};
use crate::error::AgentIdentityError;
use crate::jwt::{self, decode_agent_identity_jwt};
use crate::key::AgentIdentityKey;
use crate::secret::{ExposeSecret as _, SecretString, serde_secret};

/// The agent identity as stored in `auth.json`: a JSON object.
///
/// Keys are snake_case; `chatgpt_user_id`, `registered_at` and
/// `background_task_id` are omitted when absent. Keys this crate does not
/// know are kept in [`extra`](Self::extra) and written back unchanged, so a
/// newer writer's fields survive our round trip.
///
/// Deserializing validates by the same rules as a JWT: the required claims,
/// `registered_at` (normalized to RFC 3339 UTC) and the private key.
/// `Debug` redacts `agent_private_key` and shows only the names of unknown
/// keys, whose values may be anything; serializing (for `auth.json`) writes
/// the key.
#[derive(Clone, Serialize)]
pub struct AgentIdentityAuthRecord {
    /// The workspace (ChatGPT account) the agent belongs to.
    pub workspace_id: String,
    /// The agent runtime this identity was issued to.
    pub agent_runtime_id: String,
    /// Standard base64 of a PKCS#8 Ed25519 private key.
    #[serde(serialize_with = "serde_secret::expose")]
    pub agent_private_key: SecretString,
    /// The ChatGPT user the identity acts for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chatgpt_user_id: Option<String>,
    /// When the identity was registered, RFC 3339 UTC (`...Z`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<String>,
    /// The task id cached after task registration; never taken from a JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_task_id: Option<String>,
    /// Keys this crate does not know, in their original order.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AgentIdentityAuthRecord {
    /// Decodes a launcher's JWT into a record (unverified, see
    /// [`decode_agent_identity_jwt`]). `background_task_id` is always `None`.
    ///
    /// ```
    /// use login_agent_identity::{AgentIdentityAuthRecord, AgentIdentityJwtClaims, AgentIdentityKey,
    ///     ExposeSecret, JwtSigningKey, mint_agent_identity_jwt};
    ///
    /// let claims = AgentIdentityJwtClaims {
    ///     workspace_id: "ws-1".into(),
    ///     agent_runtime_id: "rt-1".into(),
    ///     agent_private_key: AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    ///     chatgpt_user_id: Some("user-1".into()),
    ///     registered_at: Some("2026-01-01T00:00:00Z".into()),
    /// };
    /// let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
    /// let record = AgentIdentityAuthRecord::from_jwt(jwt.expose_secret())?;
    /// assert_eq!(record.agent_runtime_id, "rt-1");
    /// assert_eq!(record.background_task_id, None);
    /// assert!(!format!("{record:?}").contains(claims.agent_private_key.expose_secret()));
    /// # Ok::<(), login_agent_identity::AgentIdentityError>(())
    /// ```
    pub fn from_jwt(jwt: &str) -> Result<Self, AgentIdentityError> {
        decode_agent_identity_jwt(jwt).map(Self::from)
    }

    /// Re-applies the claim rules to this record (useful after building one
    /// by hand) and returns it with `registered_at` normalized.
    pub fn validate(self) -> Result<Self, AgentIdentityError> {
        let raw = RawClaims {
            workspace_id: Some(ClaimValue::Str(self.workspace_id.as_str().into())),
            agent_runtime_id: Some(ClaimValue::Str(self.agent_runtime_id.as_str().into())),
            agent_private_key: Some(ClaimValue::Str(
                self.agent_private_key.expose_secret().into(),
            )),
            chatgpt_user_id: self
                .chatgpt_user_id
                .as_deref()
                .map(|s| ClaimValue::Str(s.into())),
            registered_at: self
                .registered_at
                .as_deref()
                .map(|s| ClaimValue::Str(s.into())),
        };
        let valid = claims::validate_claims(raw)?;
        Ok(Self {
            registered_at: valid.registered_at,
            ..self
        })
    }

    /// Builds a record from a parsed JSON object, applying the rules.
    pub fn from_json_object(mut object: Map<String, Value>) -> Result<Self, AgentIdentityError> {
        let workspace_id = object.shift_remove(WORKSPACE_ID);
        let agent_runtime_id = object.shift_remove(AGENT_RUNTIME_ID);
        let agent_private_key = object.shift_remove(AGENT_PRIVATE_KEY);
        let chatgpt_user_id = object.shift_remove(CHATGPT_USER_ID);
        let registered_at = object.shift_remove(REGISTERED_AT);
        let background_task_id = object.shift_remove(BACKGROUND_TASK_ID);
        let raw = RawClaims {
            workspace_id: workspace_id.as_ref().and_then(ClaimValue::from_json),
            agent_runtime_id: agent_runtime_id.as_ref().and_then(ClaimValue::from_json),
            agent_private_key: agent_private_key.as_ref().and_then(ClaimValue::from_json),
            chatgpt_user_id: chatgpt_user_id.as_ref().and_then(ClaimValue::from_json),
            registered_at: registered_at.as_ref().and_then(ClaimValue::from_json),
        };
        let valid = claims::validate_claims(raw)?;
        let background_task_id = claims::optional_string(
            BACKGROUND_TASK_ID,
            background_task_id.as_ref().and_then(ClaimValue::from_json),
        )?;
        // A secret copied out of the parsed value: wipe the original.
        if let Some(Value::String(mut key)) = agent_private_key {
            zeroize::Zeroize::zeroize(&mut key);
        }
        Ok(Self {
            background_task_id,
            extra: object,
            ..Self::from(valid)
        })
    }

    /// The claims part of this record (without `background_task_id` and
    /// unknown keys), for minting a JWT with the same identity.
    pub fn to_claims(&self) -> AgentIdentityJwtClaims {
        AgentIdentityJwtClaims {
            workspace_id: self.workspace_id.clone(),
            agent_runtime_id: self.agent_runtime_id.clone(),
            agent_private_key: self.agent_private_key.clone(),
            chatgpt_user_id: self.chatgpt_user_id.clone(),
            registered_at: self.registered_at.clone(),
        }
    }

    /// Whether `other` is the same agent (same runtime and workspace): a
    /// cached `background_task_id` belongs to that pair.
    pub fn same_agent(&self, other: &Self) -> bool {
        self.agent_runtime_id == other.agent_runtime_id && self.workspace_id == other.workspace_id
    }
}

// Here rather than in `key`, so that `key` needs nothing of the record
// (the modules form a DAG, see lib.rs).
impl AgentIdentityKey {
    /// The key of `record`; fails when its private key is not PKCS#8 Ed25519.
    pub fn from_record(record: &AgentIdentityAuthRecord) -> Result<Self, AgentIdentityError> {
        Self::from_pkcs8_base64(&record.agent_private_key, &record.agent_runtime_id)
    }
}

impl From<AgentIdentityJwtClaims> for AgentIdentityAuthRecord {
    fn from(claims: AgentIdentityJwtClaims) -> Self {
        Self {
            workspace_id: claims.workspace_id,
            agent_runtime_id: claims.agent_runtime_id,
            agent_private_key: claims.agent_private_key,
            chatgpt_user_id: claims.chatgpt_user_id,
            registered_at: claims.registered_at,
            background_task_id: None,
            extra: Map::new(),
        }
    }
}

/// Field by field, the private key by its text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for AgentIdentityAuthRecord {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            workspace_id,
            agent_runtime_id,
            agent_private_key,
            chatgpt_user_id,
            registered_at,
            background_task_id,
            extra,
        } = self;
        *workspace_id == other.workspace_id
            && *agent_runtime_id == other.agent_runtime_id
            && agent_private_key.expose_secret() == other.agent_private_key.expose_secret()
            && *chatgpt_user_id == other.chatgpt_user_id
            && *registered_at == other.registered_at
            && *background_task_id == other.background_task_id
            && *extra == other.extra
    }
}

impl Eq for AgentIdentityAuthRecord {}

impl fmt::Debug for AgentIdentityAuthRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentIdentityAuthRecord")
            .field("workspace_id", &self.workspace_id)
            .field("agent_runtime_id", &self.agent_runtime_id)
            .field("agent_private_key", &self.agent_private_key)
            .field("chatgpt_user_id", &self.chatgpt_user_id)
            .field("registered_at", &self.registered_at)
            .field("background_task_id", &self.background_task_id)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<'de> Deserialize<'de> for AgentIdentityAuthRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = deserializer.deserialize_map(UniqueKeyObject)?;
        Self::from_json_object(object).map_err(de::Error::custom)
    }
}

/// Reads a JSON object, refusing duplicate keys: two readers must never
/// see two different values for one key.
struct UniqueKeyObject;

impl<'de> Visitor<'de> for UniqueKeyObject {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an agent identity object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if object.contains_key(&key) {
                let known = [
                    WORKSPACE_ID,
                    AGENT_RUNTIME_ID,
                    AGENT_PRIVATE_KEY,
                    CHATGPT_USER_ID,
                    REGISTERED_AT,
                    BACKGROUND_TASK_ID,
                ];
                return Err(match known.iter().find(|k| **k == key) {
                    Some(name) => de::Error::custom(format_args!("duplicate key `{name}`")),
                    None => de::Error::custom("duplicate key"),
                });
            }
            let value = access.next_value::<Value>()?;
            object.insert(key, value);
        }
        Ok(object)
    }
}

/// What `auth.json`'s `agent_identity` or `CODEX_AGENT_IDENTITY` may hold.
///
/// Serde reads it untagged: a JSON object is a [`Record`](Self::Record)
/// (validated as it is read), a JSON string a [`Jwt`](Self::Jwt) (kept as
/// given, so loading never rewrites the file; validated by
/// [`into_record`](Self::into_record)). `FromStr` reads raw text: text whose
/// first non-blank character is `{` is the object form, anything else a JWT.
///
/// ```
/// use login_agent_identity::AgentIdentityInput;
///
/// let input: AgentIdentityInput = "not-a-jwt".parse()?;
/// let error = input.into_record().unwrap_err();
/// assert!(error.to_string().contains("segment"));
/// # Ok::<(), login_agent_identity::AgentIdentityError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum AgentIdentityInput {
    /// The stored object form.
    Record(AgentIdentityAuthRecord),
    /// A compact JWT, as a launcher passes it.
    Jwt(SecretString),
}

impl AgentIdentityInput {
    /// Validates either form with the same rules and returns the record.
    pub fn into_record(self) -> Result<AgentIdentityAuthRecord, AgentIdentityError> {
        match self {
            AgentIdentityInput::Record(record) => record.validate(),
            AgentIdentityInput::Jwt(jwt) => AgentIdentityAuthRecord::from_jwt(jwt.expose_secret()),
        }
    }

    /// Whether this is the JWT form.
    pub fn is_jwt(&self) -> bool {
        matches!(self, AgentIdentityInput::Jwt(_))
    }
}

/// The same form with equal contents; a JWT by its text. Not constant-time:
/// a local equality check, not one an attacker can time.
impl PartialEq for AgentIdentityInput {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AgentIdentityInput::Record(a), AgentIdentityInput::Record(b)) => a == b,
            (AgentIdentityInput::Jwt(a), AgentIdentityInput::Jwt(b)) => {
                a.expose_secret() == b.expose_secret()
            }
            _ => false,
        }
    }
}

impl Eq for AgentIdentityInput {}

impl fmt::Debug for AgentIdentityInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentIdentityInput::Record(record) => f.debug_tuple("Record").field(record).finish(),
            AgentIdentityInput::Jwt(jwt) => f.debug_tuple("Jwt").field(jwt).finish(),
        }
    }
}

impl FromStr for AgentIdentityInput {
    type Err = AgentIdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = jwt::trim_and_limit(text)?;
        if !trimmed.starts_with('{') {
            return Ok(AgentIdentityInput::Jwt(SecretString::from(trimmed)));
        }
        let mut deserializer = serde_json::Deserializer::from_str(trimmed);
        let object = de::Deserializer::deserialize_map(&mut deserializer, UniqueKeyObject)
            .and_then(|object| deserializer.end().map(|()| object))
            .map_err(|error| AgentIdentityError::InvalidObject {
                reason: jwt::describe_json_error(&error),
            })?;
        AgentIdentityAuthRecord::from_json_object(object).map(AgentIdentityInput::Record)
    }
}

impl Serialize for AgentIdentityInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AgentIdentityInput::Record(record) => record.serialize(serializer),
            AgentIdentityInput::Jwt(jwt) => serde_secret::expose(jwt, serializer),
        }
    }
}

impl<'de> Deserialize<'de> for AgentIdentityInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputVisitor)
    }
}

struct InputVisitor;

impl<'de> Visitor<'de> for InputVisitor {
    type Value = AgentIdentityInput;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an agent identity object or a JWT string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(AgentIdentityInput::Jwt(SecretString::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(AgentIdentityInput::Jwt(SecretString::from(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let object = UniqueKeyObject.visit_map(access)?;
        AgentIdentityAuthRecord::from_json_object(object)
            .map(AgentIdentityInput::Record)
            .map_err(de::Error::custom)
    }
}
