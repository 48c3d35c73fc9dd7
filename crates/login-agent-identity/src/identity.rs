//! [`AgentIdentity`] (the validated identity: shared claims, plus what only
//! the stored object carries) and [`AgentIdentityInput`] (what `auth.json`
//! or `CODEX_AGENT_IDENTITY` may hold: object or JWT, kept in its form).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::claims::{
    self, ACCOUNT_ID, AGENT_PRIVATE_KEY, AGENT_RUNTIME_ID, AgentIdentityClaims, BACKGROUND_TASK_ID,
    CHATGPT_ACCOUNT_IS_FEDRAMP, CHATGPT_USER_ID, ClaimValue, EMAIL, EXP, PLAN_TYPE, PlanType,
    REGISTERED_AT, RawClaims, WORKSPACE_ID,
};
use crate::error::AgentIdentityError;
use crate::jwt;
use crate::secret::{ExposeSecret as _, SecretString, serde_secret};
use crate::unknown_keys::UnknownKeys;

/// An agent identity, validated: the [`AgentIdentityClaims`] a launcher's
/// JWT and the stored object share, plus what only the stored object
/// carries (`background_task_id` and keys this crate does not know).
///
/// Fields are private and the only ways in parse, so every value has passed
/// the claim rules:
/// - [`from_jwt_unverified`](Self::from_jwt_unverified): a launcher's JWT,
///   signature *not* checked (use [`crate::verify_agent_identity_jwt`]
///   where the token crosses a trust boundary);
/// - `Deserialize`: the stored JSON object, validated as it is read;
/// - `FromStr`: either form from raw text (first non-blank character `{`:
///   the object, anything else: a JWT, unverified).
///
/// The stored form (`Serialize`) is a JSON object with snake_case keys;
/// the workspace is written under the key(s) it was read from
/// (`workspace_id`, or the newer shape's `account_id`), and
/// `chatgpt_user_id`, `registered_at`, `email`, `plan_type`,
/// `chatgpt_account_is_fedramp`, `exp` and `background_task_id` are omitted
/// when absent. Unknown keys are kept, in their order, and written back
/// unchanged, so a newer writer's fields survive our round trip.
/// `Debug` redacts `agent_private_key` and shows only the names of unknown
/// keys, whose values may be anything; serializing (for `auth.json`) writes
/// the key.
///
/// ```
/// use login_agent_identity::{AgentIdentity, AgentIdentityClaims, AgentIdentityKey,
///     ExposeSecret, JwtSigningKey, mint_agent_identity_jwt};
///
/// let private_key = AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64();
/// let claims = AgentIdentityClaims::new("ws-1", "rt-1", private_key)?
///     .with_chatgpt_user_id(Some("user-1".into()))
///     .with_registered_at("2026-01-01T00:00:00Z")?;
/// let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
/// let identity = AgentIdentity::from_jwt_unverified(jwt.expose_secret())?;
/// assert_eq!(identity.agent_runtime_id(), "rt-1");
/// assert_eq!(identity.background_task_id(), None);
/// assert!(!format!("{identity:?}").contains(claims.agent_private_key().expose_secret()));
///
/// // The object form, with what only the stored object carries.
/// let identity = identity.with_background_task_id(Some("task-1".into()));
/// let stored: AgentIdentity = serde_json::to_string(&identity).unwrap().parse()?;
/// assert_eq!(stored, identity);
/// # Ok::<(), login_agent_identity::AgentIdentityError>(())
/// ```
///
/// No one builds an unchecked one:
///
/// ```compile_fail
/// use login_agent_identity::AgentIdentity;
///
/// fn forge(identity: AgentIdentity) -> AgentIdentity {
///     AgentIdentity { background_task_id: None, ..identity } // private fields
/// }
/// ```
#[derive(Clone, Serialize)]
pub struct AgentIdentity {
    #[serde(flatten)]
    claims: AgentIdentityClaims,
    #[serde(skip_serializing_if = "Option::is_none")]
    background_task_id: Option<String>,
    #[serde(flatten)]
    extra: UnknownKeys,
}

impl AgentIdentity {
    /// Decodes a launcher's JWT, **without verifying its signature**: a
    /// runtime receives its identity from a launcher it already trusts.
    ///
    /// Applies every rule of the contract: trimming, the 64 KiB limit
    /// ([`crate::MAX_AGENT_IDENTITY_LEN`]), three segments, a non-empty
    /// signature, base64url JSON objects, the required and optional claims,
    /// `registered_at` normalization and the PKCS#8 Ed25519 check of
    /// `agent_private_key`. A `background_task_id` claim is ignored (it is
    /// never taken from a JWT), as are claims this crate does not know.
    pub fn from_jwt_unverified(jwt: &str) -> Result<Self, AgentIdentityError> {
        jwt::decode_claims_unverified(jwt).map(Self::from_claims)
    }

    /// The identity of freshly decoded claims: no task id, no unknown keys.
    pub(crate) fn from_claims(claims: AgentIdentityClaims) -> Self {
        Self {
            claims,
            background_task_id: None,
            extra: UnknownKeys::new(),
        }
    }

    /// Builds an identity from a parsed JSON object, applying the rules.
    fn from_object(mut object: UnknownKeys) -> Result<Self, AgentIdentityError> {
        let workspace_id = object.remove(WORKSPACE_ID);
        let agent_runtime_id = object.remove(AGENT_RUNTIME_ID);
        let agent_private_key = object.remove(AGENT_PRIVATE_KEY);
        let chatgpt_user_id = object.remove(CHATGPT_USER_ID);
        let registered_at = object.remove(REGISTERED_AT);
        let background_task_id = object.remove(BACKGROUND_TASK_ID);
        let account_id = object.remove(ACCOUNT_ID);
        let email = object.remove(EMAIL);
        let plan_type = object.remove(PLAN_TYPE);
        let fedramp = object.remove(CHATGPT_ACCOUNT_IS_FEDRAMP);
        let exp = object.remove(EXP);
        let raw = RawClaims {
            workspace_id: workspace_id.as_ref().and_then(ClaimValue::from_json),
            agent_runtime_id: agent_runtime_id.as_ref().and_then(ClaimValue::from_json),
            agent_private_key: agent_private_key.as_ref().and_then(ClaimValue::from_json),
            chatgpt_user_id: chatgpt_user_id.as_ref().and_then(ClaimValue::from_json),
            registered_at: registered_at.as_ref().and_then(ClaimValue::from_json),
            account_id: account_id.as_ref().and_then(ClaimValue::from_json),
            email: email.as_ref().and_then(ClaimValue::from_json),
            plan_type: plan_type.as_ref().and_then(ClaimValue::from_json),
            chatgpt_account_is_fedramp: fedramp.as_ref().and_then(ClaimValue::from_json),
            exp: exp.as_ref().and_then(ClaimValue::from_json),
        };
        let claims = claims::validate_claims(raw)?;
        let background_task_id = claims::optional_string(
            BACKGROUND_TASK_ID,
            background_task_id.as_ref().and_then(ClaimValue::from_json),
        )?;
        // A secret copied out of the parsed value: wipe the original.
        if let Some(Value::String(mut key)) = agent_private_key {
            zeroize::Zeroize::zeroize(&mut key);
        }
        Ok(Self {
            claims,
            background_task_id,
            extra: object,
        })
    }

    /// The claims part (what a JWT carries), for minting a JWT with the
    /// same identity or deriving its key.
    pub fn claims(&self) -> &AgentIdentityClaims {
        &self.claims
    }

    /// The workspace (ChatGPT account) the agent belongs to: the
    /// `workspace_id` claim, or in the newer shape `account_id`.
    pub fn workspace_id(&self) -> &str {
        self.claims.workspace_id()
    }

    /// The agent runtime this identity was issued to.
    pub fn agent_runtime_id(&self) -> &str {
        self.claims.agent_runtime_id()
    }

    /// Standard base64 of a PKCS#8 Ed25519 private key.
    pub fn agent_private_key(&self) -> &SecretString {
        self.claims.agent_private_key()
    }

    /// The ChatGPT user the identity acts for, if any.
    pub fn chatgpt_user_id(&self) -> Option<&str> {
        self.claims.chatgpt_user_id()
    }

    /// When the identity was registered, RFC 3339 UTC (`...Z`).
    pub fn registered_at(&self) -> Option<&str> {
        self.claims.registered_at()
    }

    /// The account's email (`email`, newer shape), if given.
    pub fn email(&self) -> Option<&str> {
        self.claims.email()
    }

    /// The account's ChatGPT plan (`plan_type`, newer shape), if given.
    pub fn plan_type(&self) -> Option<&PlanType> {
        self.claims.plan_type()
    }

    /// Whether the account is a FedRAMP one (`chatgpt_account_is_fedramp`,
    /// newer shape), if given.
    pub fn chatgpt_account_is_fedramp(&self) -> Option<bool> {
        self.claims.chatgpt_account_is_fedramp()
    }

    /// When the identity expires (`exp`), if it says; read, not enforced
    /// (see [`AgentIdentityClaims::expires_at`]).
    pub fn expires_at(&self) -> Option<time::OffsetDateTime> {
        self.claims.expires_at()
    }

    /// The task id cached after task registration; never taken from a JWT.
    pub fn background_task_id(&self) -> Option<&str> {
        self.background_task_id.as_deref()
    }

    /// Keys of the stored object this crate does not know, in their
    /// original order, with their values.
    pub fn extra(&self) -> &UnknownKeys {
        &self.extra
    }

    /// This identity with `background_task_id` replaced, to cache (or
    /// forget) the task registered for it. Any string is a valid task id.
    pub fn with_background_task_id(mut self, background_task_id: Option<String>) -> Self {
        self.background_task_id = background_task_id;
        self
    }

    /// Whether `other` is the same agent (same runtime and workspace): a
    /// cached `background_task_id` belongs to that pair.
    pub fn same_agent(&self, other: &Self) -> bool {
        self.agent_runtime_id() == other.agent_runtime_id()
            && self.workspace_id() == other.workspace_id()
    }
}

/// Field by field, the private key by its text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for AgentIdentity {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            claims,
            background_task_id,
            extra,
        } = self;
        *claims == other.claims
            && *background_task_id == other.background_task_id
            && *extra == other.extra
    }
}

impl Eq for AgentIdentity {}

impl fmt::Debug for AgentIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentIdentity")
            .field("workspace_id", &self.workspace_id())
            .field("agent_runtime_id", &self.agent_runtime_id())
            .field("agent_private_key", self.agent_private_key())
            .field("chatgpt_user_id", &self.chatgpt_user_id())
            .field("registered_at", &self.registered_at())
            .field("plan_type", &self.plan_type())
            .field(
                "chatgpt_account_is_fedramp",
                &self.chatgpt_account_is_fedramp(),
            )
            .field("exp", &self.expires_at())
            .field("background_task_id", &self.background_task_id)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The object form, validated as it is read: duplicate keys are refused,
/// unknown keys kept.
impl<'de> Deserialize<'de> for AgentIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = deserializer.deserialize_map(UniqueKeyObject)?;
        Self::from_object(object).map_err(de::Error::custom)
    }
}

/// Either form from raw text: text whose first non-blank character is `{`
/// is the object form, anything else a JWT, decoded **unverified** as by
/// [`AgentIdentity::from_jwt_unverified`].
///
/// ```
/// use login_agent_identity::AgentIdentity;
///
/// let error = "not-a-jwt".parse::<AgentIdentity>().unwrap_err();
/// assert!(error.to_string().contains("segment"));
/// ```
impl FromStr for AgentIdentity {
    type Err = AgentIdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<AgentIdentityInput>()?.into_identity()
    }
}

/// Reads a JSON object, refusing duplicate keys: two readers must never
/// see two different values for one key.
struct UniqueKeyObject;

impl<'de> Visitor<'de> for UniqueKeyObject {
    type Value = UnknownKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an agent identity object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut object = UnknownKeys::new();
        while let Some(key) = access.next_key::<String>()? {
            if object.contains_key(&key) {
                let known = [
                    WORKSPACE_ID,
                    ACCOUNT_ID,
                    AGENT_RUNTIME_ID,
                    AGENT_PRIVATE_KEY,
                    CHATGPT_USER_ID,
                    REGISTERED_AT,
                    BACKGROUND_TASK_ID,
                    EMAIL,
                    PLAN_TYPE,
                    CHATGPT_ACCOUNT_IS_FEDRAMP,
                    EXP,
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

/// What `auth.json`'s `agent_identity` or `CODEX_AGENT_IDENTITY` may hold,
/// kept in its form so that rewriting a document preserves it.
///
/// Serde reads it untagged: a JSON object is an [`Object`](Self::Object)
/// (validated as it is read), a JSON string a [`Jwt`](Self::Jwt) (kept as
/// given, so loading never rewrites the file and a bad token is reported
/// where the identity is used, not as a corrupt document).
/// [`into_identity`](Self::into_identity) is the one way to the validated
/// [`AgentIdentity`]: it decodes a JWT **unverified**, as
/// [`AgentIdentity::from_jwt_unverified`] does. `FromStr` reads raw text:
/// text whose first non-blank character is `{` is the object form, anything
/// else a JWT.
///
/// ```
/// use login_agent_identity::AgentIdentityInput;
///
/// let input: AgentIdentityInput = "not-a-jwt".parse()?;
/// let error = input.into_identity().unwrap_err();
/// assert!(error.to_string().contains("segment"));
/// # Ok::<(), login_agent_identity::AgentIdentityError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "held once per document; boxing would change the public pattern"
)]
pub enum AgentIdentityInput {
    /// The stored object form, already validated.
    Object(AgentIdentity),
    /// A compact JWT, as a launcher passes it; not validated yet.
    Jwt(SecretString),
}

impl AgentIdentityInput {
    /// The validated identity: the object as it is, or the JWT decoded
    /// **unverified** ([`AgentIdentity::from_jwt_unverified`]).
    pub fn into_identity(self) -> Result<AgentIdentity, AgentIdentityError> {
        match self {
            AgentIdentityInput::Object(identity) => Ok(identity),
            AgentIdentityInput::Jwt(jwt) => AgentIdentity::from_jwt_unverified(jwt.expose_secret()),
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
            (AgentIdentityInput::Object(a), AgentIdentityInput::Object(b)) => a == b,
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
            AgentIdentityInput::Object(record) => f.debug_tuple("Object").field(record).finish(),
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
        AgentIdentity::from_object(object).map(AgentIdentityInput::Object)
    }
}

impl Serialize for AgentIdentityInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AgentIdentityInput::Object(record) => record.serialize(serializer),
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
        AgentIdentity::from_object(object)
            .map(AgentIdentityInput::Object)
            .map_err(de::Error::custom)
    }
}
