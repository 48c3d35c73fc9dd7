//! The claim rules shared by the JWT and the object form.
//!
//! Both forms, and the constructors used for minting, first turn their
//! claims into [`ClaimValue`]s, borrowed from the input where possible, which
//! one function, [`validate_claims`], then checks: a launcher's JWT, a stored
//! object and a minted token can never disagree on what is valid.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::AgentIdentityError;
use crate::key::{self, AgentIdentityKey};
use crate::secret::{ExposeSecret as _, SecretString};

pub(crate) const WORKSPACE_ID: &str = "workspace_id";
pub(crate) const ACCOUNT_ID: &str = "account_id";
pub(crate) const AGENT_RUNTIME_ID: &str = "agent_runtime_id";
pub(crate) const AGENT_PRIVATE_KEY: &str = "agent_private_key";
pub(crate) const CHATGPT_USER_ID: &str = "chatgpt_user_id";
pub(crate) const REGISTERED_AT: &str = "registered_at";
pub(crate) const BACKGROUND_TASK_ID: &str = "background_task_id";
pub(crate) const EMAIL: &str = "email";
pub(crate) const PLAN_TYPE: &str = "plan_type";
pub(crate) const CHATGPT_ACCOUNT_IS_FEDRAMP: &str = "chatgpt_account_is_fedramp";
pub(crate) const EXP: &str = "exp";

/// A ChatGPT plan, as an id token's `chatgpt_plan_type` or an agent
/// identity's `plan_type` names it.
///
/// The known values are the mirrored CLI's (`free`, `plus`, `pro`, `team`,
/// `business`, `enterprise`, `edu`), matched exactly; any other string
/// (`unknown` too) is kept verbatim as [`PlanType::Unknown`] and written
/// back unchanged, so a newer plan survives our round trip.
///
/// ```
/// use login_agent_identity::PlanType;
///
/// assert_eq!(PlanType::from_wire("pro"), PlanType::Pro);
/// assert_eq!(PlanType::from_wire("prolite"), PlanType::Unknown("prolite".into()));
/// assert_eq!(PlanType::from_wire("prolite").as_str(), "prolite");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlanType {
    /// `free`.
    Free,
    /// `plus`.
    Plus,
    /// `pro`.
    Pro,
    /// `team`.
    Team,
    /// `business`.
    Business,
    /// `enterprise`.
    Enterprise,
    /// `edu`.
    Edu,
    /// A plan this version does not know, kept verbatim.
    Unknown(String),
}

impl PlanType {
    /// Parses a wire value; unknown strings become [`PlanType::Unknown`].
    pub fn from_wire(value: &str) -> Self {
        match value {
            "free" => PlanType::Free,
            "plus" => PlanType::Plus,
            "pro" => PlanType::Pro,
            "team" => PlanType::Team,
            "business" => PlanType::Business,
            "enterprise" => PlanType::Enterprise,
            "edu" => PlanType::Edu,
            other => PlanType::Unknown(other.to_owned()),
        }
    }

    /// The wire value: the known name, or the raw string of an unknown plan.
    pub fn as_str(&self) -> &str {
        match self {
            PlanType::Free => "free",
            PlanType::Plus => "plus",
            PlanType::Pro => "pro",
            PlanType::Team => "team",
            PlanType::Business => "business",
            PlanType::Enterprise => "enterprise",
            PlanType::Edu => "edu",
            PlanType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for PlanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PlanType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PlanType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|value| PlanType::from_wire(&value))
    }
}

/// The claims of an agent identity, validated: the part a launcher's JWT
/// and the stored object ([`crate::AgentIdentity`]) share.
///
/// Fields are private, so every value of this type has passed the claim
/// rules of the contract. There are two ways to get one, and both apply the
/// same rules (one rule set, `validate_claims`):
/// - parsing: `Deserialize` reads a JWT payload or object with these keys,
///   ignoring any other key, and refuses what the rules refuse;
/// - minting: [`new`](Self::new), then [`with_chatgpt_user_id`](Self::with_chatgpt_user_id)
///   and [`with_registered_at`](Self::with_registered_at).
///
/// `registered_at` is normalized to RFC 3339 UTC with seconds precision and a
/// `Z` suffix. `Debug` redacts `agent_private_key`; serializing (the payload
/// of a minted JWT, the claims of a stored object) writes it.
///
/// ```
/// use login_agent_identity::{AgentIdentityClaims, AgentIdentityKey};
///
/// let key = AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64();
/// let claims = AgentIdentityClaims::new("ws-1", "rt-1", key)?
///     .with_registered_at("2026-04-17T03:18:00+02:00")?;
/// assert_eq!(claims.registered_at(), Some("2026-04-17T01:18:00Z"));
/// assert!(AgentIdentityClaims::new("", "rt-1", AgentIdentityKey::generate("rt-1")
///     .private_key_pkcs8_base64()).is_err());
/// # Ok::<(), login_agent_identity::AgentIdentityError>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct AgentIdentityClaims {
    // The workspace under the key(s) it was read from, so that both forms
    // are written back as read: at least one is set, and both are equal
    // when both are (`validate_claims`).
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    agent_runtime_id: String,
    #[serde(serialize_with = "crate::serde_secret::expose")]
    agent_private_key: SecretString,
    #[serde(skip_serializing_if = "Option::is_none")]
    chatgpt_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_type: Option<PlanType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chatgpt_account_is_fedramp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

impl AgentIdentityClaims {
    /// Claims for minting, checked by the parser's rules: the ids must not
    /// be empty and `agent_private_key` must be standard base64 of a PKCS#8
    /// Ed25519 key.
    pub fn new(
        workspace_id: impl Into<String>,
        agent_runtime_id: impl Into<String>,
        agent_private_key: SecretString,
    ) -> Result<Self, AgentIdentityError> {
        let (workspace_id, agent_runtime_id) = (workspace_id.into(), agent_runtime_id.into());
        validate_claims(RawClaims {
            workspace_id: Some(ClaimValue::from_str(&workspace_id)),
            agent_runtime_id: Some(ClaimValue::from_str(&agent_runtime_id)),
            agent_private_key: Some(ClaimValue::from_str(agent_private_key.expose_secret())),
            ..RawClaims::default()
        })
    }

    /// These claims with `chatgpt_user_id` set.
    ///
    /// Infallible: the contract's only rule for this claim is its type (a
    /// string, an empty one too), which the signature already guarantees.
    pub fn with_chatgpt_user_id(mut self, chatgpt_user_id: Option<String>) -> Self {
        self.chatgpt_user_id = chatgpt_user_id;
        self
    }

    /// These claims with `registered_at` set from an RFC 3339 timestamp,
    /// normalized to UTC `...Z` by the parser's rule (an instant whose UTC
    /// year falls outside 0000-9999 is refused).
    pub fn with_registered_at(mut self, registered_at: &str) -> Result<Self, AgentIdentityError> {
        self.registered_at = Some(normalize_registered_at(ClaimValue::from_str(
            registered_at,
        ))?);
        Ok(self)
    }

    /// The workspace (ChatGPT account) the agent belongs to: the
    /// `workspace_id` claim, or in the newer shape `account_id`.
    pub fn workspace_id(&self) -> &str {
        // One of the two is always set (`validate_claims`).
        self.workspace_id
            .as_deref()
            .or(self.account_id.as_deref())
            .unwrap_or_default()
    }

    /// The agent runtime this identity was issued to.
    pub fn agent_runtime_id(&self) -> &str {
        &self.agent_runtime_id
    }

    /// Standard base64 of a PKCS#8 Ed25519 private key.
    pub fn agent_private_key(&self) -> &SecretString {
        &self.agent_private_key
    }

    /// The ChatGPT user the identity acts for, if any.
    pub fn chatgpt_user_id(&self) -> Option<&str> {
        self.chatgpt_user_id.as_deref()
    }

    /// When the identity was registered, RFC 3339 UTC (`...Z`).
    pub fn registered_at(&self) -> Option<&str> {
        self.registered_at.as_deref()
    }

    /// The account's email (`email`, newer shape), if given.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The account's ChatGPT plan (`plan_type`, newer shape), if given.
    pub fn plan_type(&self) -> Option<&PlanType> {
        self.plan_type.as_ref()
    }

    /// Whether the account is a FedRAMP one (`chatgpt_account_is_fedramp`,
    /// newer shape), if given.
    pub fn chatgpt_account_is_fedramp(&self) -> Option<bool> {
        self.chatgpt_account_is_fedramp
    }

    /// When the identity expires (`exp`), if it says. Read, not enforced:
    /// only [`crate::verify_agent_identity_jwt`] refuses an expired token.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        // In range: checked when parsed (`expiry`).
        OffsetDateTime::from_unix_timestamp(self.exp?).ok()
    }
}

/// Field by field, the private key by its text. Not constant-time: a local
/// equality check, not one an attacker can time.
impl PartialEq for AgentIdentityClaims {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            workspace_id,
            account_id,
            agent_runtime_id,
            agent_private_key,
            chatgpt_user_id,
            registered_at,
            email,
            plan_type,
            chatgpt_account_is_fedramp,
            exp,
        } = self;
        *workspace_id == other.workspace_id
            && *account_id == other.account_id
            && *agent_runtime_id == other.agent_runtime_id
            && agent_private_key.expose_secret() == other.agent_private_key.expose_secret()
            && *chatgpt_user_id == other.chatgpt_user_id
            && *registered_at == other.registered_at
            && *email == other.email
            && *plan_type == other.plan_type
            && *chatgpt_account_is_fedramp == other.chatgpt_account_is_fedramp
            && *exp == other.exp
    }
}

impl Eq for AgentIdentityClaims {}

/// Parsing validates: the known claims are read as found (`RawClaims`,
/// unknown keys ignored, a duplicated known key refused) and checked by
/// `validate_claims`. Written by hand rather than with
/// `#[serde(try_from = ...)]` so that the raw claims can borrow from the
/// input instead of copying the private key.
impl<'de> Deserialize<'de> for AgentIdentityClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawClaims::deserialize(deserializer)?;
        validate_claims(raw).map_err(de::Error::custom)
    }
}

// Here rather than in `key`, so that `key` needs nothing of the claims
// (the modules form a DAG, see lib.rs).
impl AgentIdentityKey {
    /// The key of `claims`, ready to sign.
    ///
    /// Fails only if the key cannot be rebuilt, which the claim rules
    /// already exclude.
    pub fn from_claims(claims: &AgentIdentityClaims) -> Result<Self, AgentIdentityError> {
        Self::from_pkcs8_base64(&claims.agent_private_key, &claims.agent_runtime_id)
    }
}

/// One claim as found in the input, before the rules are applied.
#[derive(Debug)]
pub(crate) enum ClaimValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Bool(bool),
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
            Value::Bool(b) => ClaimValue::Bool(*b),
            Value::Array(_) => ClaimValue::Other("an array"),
            Value::Object(_) => ClaimValue::Other("an object"),
        })
    }

    fn type_name(&self) -> &'static str {
        match self {
            ClaimValue::Str(_) => "a string",
            ClaimValue::Int(_) => "an integer",
            ClaimValue::Bool(_) => "a boolean",
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

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(ClaimValue::Bool(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // With serde_json's `arbitrary_precision` (on in this workspace, so
        // that unknown numbers keep their exact text), a number that fits
        // neither i64 nor u64 arrives as a one-entry map under this private
        // key, holding the number's text.
        const NUMBER_TOKEN: &str = "$serde_json::private::Number";
        let Some(key) = map.next_key::<Cow<'de, str>>()? else {
            return Ok(ClaimValue::Other("an object"));
        };
        if key == NUMBER_TOKEN {
            let number = map.next_value::<Cow<'de, str>>()?;
            return Ok(ClaimValue::Other(if number.contains(['.', 'e', 'E']) {
                "a number with a fraction"
            } else {
                "an out-of-range number"
            }));
        }
        map.next_value::<IgnoredAny>()?;
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
    #[serde(borrow)]
    pub(crate) account_id: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) email: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) plan_type: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) chatgpt_account_is_fedramp: Option<ClaimValue<'a>>,
    #[serde(borrow)]
    pub(crate) exp: Option<ClaimValue<'a>>,
}

/// Applies rules 6, 7 and 9 of the contract: the one rule set of this
/// crate, whichever way claims come in.
///
/// The workspace is `workspace_id` or, in the newer shape of the mirrored
/// CLI, `account_id`: either must be present, each is a non-empty string
/// when present, and both present must be equal. `email`, `plan_type`,
/// `chatgpt_account_is_fedramp` and `exp` are optional and typed.
pub(crate) fn validate_claims(
    raw: RawClaims<'_>,
) -> Result<AgentIdentityClaims, AgentIdentityError> {
    let workspace_id = present_string(WORKSPACE_ID, raw.workspace_id)?;
    let account_id = present_string(ACCOUNT_ID, raw.account_id)?;
    match (&workspace_id, &account_id) {
        (None, None) => {
            return Err(AgentIdentityError::MissingClaim {
                claim: WORKSPACE_ID,
            });
        }
        (Some(workspace), Some(account)) if workspace != account => {
            return Err(AgentIdentityError::ConflictingClaims {
                first: WORKSPACE_ID,
                second: ACCOUNT_ID,
            });
        }
        _ => {}
    }
    let agent_runtime_id = required_string(AGENT_RUNTIME_ID, raw.agent_runtime_id)?;
    let agent_private_key = required_string(AGENT_PRIVATE_KEY, raw.agent_private_key)?;
    key::check_pkcs8_ed25519(&agent_private_key)?;
    let chatgpt_user_id = optional_string(CHATGPT_USER_ID, raw.chatgpt_user_id)?;
    let registered_at = raw.registered_at.map(normalize_registered_at).transpose()?;
    let email = optional_string(EMAIL, raw.email)?;
    let plan_type =
        optional_string(PLAN_TYPE, raw.plan_type)?.map(|plan| PlanType::from_wire(&plan));
    let chatgpt_account_is_fedramp = match raw.chatgpt_account_is_fedramp {
        None => None,
        Some(ClaimValue::Bool(value)) => Some(value),
        Some(other) => {
            return Err(AgentIdentityError::ClaimType {
                claim: CHATGPT_ACCOUNT_IS_FEDRAMP,
                expected: "a boolean or null",
                found: other.type_name(),
            });
        }
    };
    let exp = raw.exp.map(expiry).transpose()?;
    Ok(AgentIdentityClaims {
        workspace_id: workspace_id.map(Cow::into_owned),
        account_id: account_id.map(Cow::into_owned),
        agent_runtime_id: agent_runtime_id.into_owned(),
        agent_private_key: SecretString::from(agent_private_key.into_owned()),
        chatgpt_user_id,
        registered_at,
        email,
        plan_type,
        chatgpt_account_is_fedramp,
        exp,
    })
}

/// A claim that must be a non-empty string when present; absent (or
/// `null`) is `None`.
fn present_string<'a>(
    claim: &'static str,
    value: Option<ClaimValue<'a>>,
) -> Result<Option<Cow<'a, str>>, AgentIdentityError> {
    value
        .map(|value| required_string(claim, Some(value)))
        .transpose()
}

/// `exp` as an integer NumericDate within the years 0000-9999 (what
/// [`AgentIdentityClaims::expires_at`] can represent).
fn expiry(value: ClaimValue<'_>) -> Result<i64, AgentIdentityError> {
    let ClaimValue::Int(seconds) = value else {
        return Err(AgentIdentityError::ClaimType {
            claim: EXP,
            expected: "an integer NumericDate",
            found: value.type_name(),
        });
    };
    match OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(instant) if (0..=9999).contains(&instant.year()) => Ok(seconds),
        _ => Err(AgentIdentityError::ClaimType {
            claim: EXP,
            expected: "a NumericDate within the years 0000-9999",
            found: "an out-of-range number",
        }),
    }
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
    let not_rfc3339 = AgentIdentityError::InvalidRegisteredAt {
        reason: "the string is not an RFC 3339 timestamp",
    };
    let instant = match value {
        // `time` takes any character between date and time; RFC 3339
        // (section 5.6 and its note) allows only `T`, `t` or a space.
        ClaimValue::Str(text) if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) => {
            return Err(not_rfc3339);
        }
        ClaimValue::Str(text) => OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|_| not_rfc3339)?
            .checked_to_offset(UtcOffset::UTC)
            .ok_or(out_of_range.clone())?,
        ClaimValue::Int(seconds) => {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range.clone())?
        }
        other @ (ClaimValue::Bool(_) | ClaimValue::Other(_)) => {
            return Err(AgentIdentityError::ClaimType {
                claim: REGISTERED_AT,
                expected: "an RFC 3339 string or an integer NumericDate",
                found: other.type_name(),
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
