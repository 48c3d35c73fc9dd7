//! The claim rules shared by the JWT and the object form.
//!
//! Both forms are first turned into [`ClaimValue`]s, borrowed from the input
//! where possible, and then checked by one function, [`validate_claims`], so
//! a launcher's JWT and a stored object can never disagree on what is valid.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::AgentIdentityError;
use crate::key;
use crate::secret::{ExposeSecret as _, SecretString};

pub(crate) const WORKSPACE_ID: &str = "workspace_id";
pub(crate) const AGENT_RUNTIME_ID: &str = "agent_runtime_id";
pub(crate) const AGENT_PRIVATE_KEY: &str = "agent_private_key";
pub(crate) const CHATGPT_USER_ID: &str = "chatgpt_user_id";
pub(crate) const REGISTERED_AT: &str = "registered_at";
pub(crate) const BACKGROUND_TASK_ID: &str = "background_task_id";

/// The claims of an agent identity JWT, validated.
///
/// `registered_at` is normalized to RFC 3339 UTC with seconds precision and a
/// `Z` suffix. `Debug` redacts `agent_private_key`; serializing (the payload
/// of a minted JWT) writes it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentIdentityJwtClaims {
    /// The workspace (ChatGPT account) the agent belongs to.
    pub workspace_id: String,
    /// The agent runtime this identity was issued to.
    pub agent_runtime_id: String,
    /// Standard base64 of a PKCS#8 Ed25519 private key.
    #[serde(serialize_with = "crate::serde_secret::expose")]
    pub agent_private_key: SecretString,
    /// The ChatGPT user the identity acts for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chatgpt_user_id: Option<String>,
    /// When the identity was registered, RFC 3339 UTC (`...Z`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<String>,
}

impl AgentIdentityJwtClaims {
    /// Checks these claims by the same rules as a decoded JWT and returns
    /// them with `registered_at` normalized.
    pub fn validate(self) -> Result<Self, AgentIdentityError> {
        let raw = RawClaims {
            workspace_id: Some(ClaimValue::Str(Cow::Borrowed(&self.workspace_id))),
            agent_runtime_id: Some(ClaimValue::Str(Cow::Borrowed(&self.agent_runtime_id))),
            agent_private_key: Some(ClaimValue::Str(Cow::Borrowed(
                self.agent_private_key.expose_secret(),
            ))),
            chatgpt_user_id: self.chatgpt_user_id.as_deref().map(ClaimValue::from_str),
            registered_at: self.registered_at.as_deref().map(ClaimValue::from_str),
        };
        validate_claims(raw)
    }
}

/// Field by field, the private key by its text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for AgentIdentityJwtClaims {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            workspace_id,
            agent_runtime_id,
            agent_private_key,
            chatgpt_user_id,
            registered_at,
        } = self;
        *workspace_id == other.workspace_id
            && *agent_runtime_id == other.agent_runtime_id
            && agent_private_key.expose_secret() == other.agent_private_key.expose_secret()
            && *chatgpt_user_id == other.chatgpt_user_id
            && *registered_at == other.registered_at
    }
}

impl Eq for AgentIdentityJwtClaims {}

/// One claim as found in the input, before the rules are applied.
#[derive(Debug)]
pub(crate) enum ClaimValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    /// Any other JSON type, by name ("a boolean", "an object", ...).
    Other(&'static str),
}

impl<'a> ClaimValue<'a> {
    fn from_str(value: &'a str) -> Self {
        ClaimValue::Str(Cow::Borrowed(value))
    }

    /// Converts a parsed JSON value; `None` for JSON `null`.
    pub(crate) fn from_json(value: &'a serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        Some(match value {
            Value::Null => return None,
            Value::String(s) => ClaimValue::Str(Cow::Borrowed(s)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ClaimValue::Int(i),
                None if n.is_f64() => ClaimValue::Other("a number with a fraction"),
                None => ClaimValue::Other("an out-of-range number"),
            },
            Value::Bool(_) => ClaimValue::Other("a boolean"),
            Value::Array(_) => ClaimValue::Other("an array"),
            Value::Object(_) => ClaimValue::Other("an object"),
        })
    }

    fn type_name(&self) -> &'static str {
        match self {
            ClaimValue::Str(_) => "a string",
            ClaimValue::Int(_) => "an integer",
            ClaimValue::Other(name) => name,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ClaimValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ClaimValueVisitor)
    }
}

struct ClaimValueVisitor;

impl<'de> Visitor<'de> for ClaimValueVisitor {
    type Value = ClaimValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(ClaimValue::Str(Cow::Owned(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(ClaimValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(ClaimValue::Other("an out-of-range number"), ClaimValue::Int))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other("a number with a fraction"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ClaimValue::Other("a boolean"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ClaimValue::Other("an object"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ClaimValue::Other("an array"))
    }
}

/// The claims this crate knows, as found; everything else is ignored.
///
/// `null` and absent both become `None`. A duplicated known claim is a
/// parse error (serde refuses duplicate fields), which keeps two readers
/// from seeing two different values.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow)]
    pub(crate) workspace_id: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) agent_runtime_id: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) agent_private_key: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) chatgpt_user_id: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) registered_at: Option<ClaimValue<'a>>,
}

/// Applies rules 6, 7 and 9 of the contract.
pub(crate) fn validate_claims(
    raw: RawClaims<'_>,
) -> Result<AgentIdentityJwtClaims, AgentIdentityError> {
    let workspace_id = required_string(WORKSPACE_ID, raw.workspace_id)?;
    let agent_runtime_id = required_string(AGENT_RUNTIME_ID, raw.agent_runtime_id)?;
    let agent_private_key = required_string(AGENT_PRIVATE_KEY, raw.agent_private_key)?;
    key::check_pkcs8_ed25519(&agent_private_key)?;
    let chatgpt_user_id = optional_string(CHATGPT_USER_ID, raw.chatgpt_user_id)?;
    let registered_at = raw.registered_at.map(normalize_registered_at).transpose()?;
    Ok(AgentIdentityJwtClaims {
        workspace_id: workspace_id.into_owned(),
        agent_runtime_id: agent_runtime_id.into_owned(),
        agent_private_key: SecretString::from(agent_private_key.into_owned()),
        chatgpt_user_id,
        registered_at,
    })
}

fn required_string<'a>(
    claim: &'static str,
    value: Option<ClaimValue<'a>>,
) -> Result<Cow<'a, str>, AgentIdentityError> {
    let Some(value) = value else {
        return Err(AgentIdentityError::MissingClaim { claim });
    };
    let ClaimValue::Str(text) = value else {
        return Err(AgentIdentityError::ClaimType {
            claim,
            expected: "a string",
            found: value.type_name(),
        });
    };
    if text.is_empty() {
        return Err(AgentIdentityError::EmptyClaim { claim });
    }
    Ok(text)
}

/// An optional string claim: absent or `null` is `None`, a string is kept
/// (an empty one too: the contract only requires the type), anything else
/// is an error naming the claim.
pub(crate) fn optional_string(
    claim: &'static str,
    value: Option<ClaimValue<'_>>,
) -> Result<Option<String>, AgentIdentityError> {
    match value {
        None => Ok(None),
        Some(ClaimValue::Str(text)) => Ok(Some(text.into_owned())),
        Some(other) => Err(AgentIdentityError::ClaimType {
            claim,
            expected: "a string or null",
            found: other.type_name(),
        }),
    }
}

/// `registered_at` as RFC 3339 UTC with whole seconds (`YYYY-MM-DDTHH:MM:SSZ`),
/// from an RFC 3339 string (parsed by `time`) or a NumericDate. An instant
/// whose UTC year falls outside 0000-9999 (such as
/// `9999-12-31T23:59:59-01:00`) is refused.
fn normalize_registered_at(value: ClaimValue<'_>) -> Result<String, AgentIdentityError> {
    let out_of_range = AgentIdentityError::InvalidRegisteredAt {
        reason: "the year is outside 0000-9999",
    };
    let instant = match value {
        ClaimValue::Str(text) => OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|_| AgentIdentityError::InvalidRegisteredAt {
                reason: "the string is not an RFC 3339 timestamp",
            })?
            .checked_to_offset(UtcOffset::UTC)
            .ok_or(out_of_range.clone())?,
        ClaimValue::Int(seconds) => {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range.clone())?
        }
        ClaimValue::Other(found) => {
            return Err(AgentIdentityError::ClaimType {
                claim: REGISTERED_AT,
                expected: "an RFC 3339 string or an integer NumericDate",
                found,
            });
        }
    };
    if !(0..=9999).contains(&instant.year()) {
        return Err(out_of_range);
    }
    // In UTC with no fraction, time writes RFC 3339 as exactly
    // `YYYY-MM-DDTHH:MM:SSZ`: sub-second digits are dropped first.
    instant
        .replace_nanosecond(0)
        .ok()
        .and_then(|instant| instant.format(&Rfc3339).ok())
        .ok_or(out_of_range)
}
