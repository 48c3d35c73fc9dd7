//! The claim rules shared by the JWT and the object form.
//!
//! Both forms are first turned into [`ClaimValue`]s, borrowed from the input
//! where possible, and then checked by one function, [`validate_claims`], so
//! a launcher's JWT and a stored object can never disagree on what is valid.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::AgentIdentityError;
use crate::key;
use crate::secret::SecretString;

pub(crate) const WORKSPACE_ID: &str = "workspace_id";
pub(crate) const AGENT_RUNTIME_ID: &str = "agent_runtime_id";
pub(crate) const AGENT_PRIVATE_KEY: &str = "agent_private_key";
pub(crate) const CHATGPT_USER_ID: &str = "chatgpt_user_id";
pub(crate) const REGISTERED_AT: &str = "registered_at";
pub(crate) const BACKGROUND_TASK_ID: &str = "background_task_id";

/// The claims of an agent identity JWT, validated.
///
/// `registered_at` is normalized to RFC 3339 UTC with seconds precision and a
/// `Z` suffix. `Debug` redacts `agent_private_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentIdentityJwtClaims {
    /// The workspace (ChatGPT account) the agent belongs to.
    pub workspace_id: String,
    /// The agent runtime this identity was issued to.
    pub agent_runtime_id: String,
    /// Standard base64 of a PKCS#8 Ed25519 private key.
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
        agent_private_key: SecretString::new(agent_private_key.into_owned()),
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

fn normalize_registered_at(value: ClaimValue<'_>) -> Result<String, AgentIdentityError> {
    let unix_seconds = match value {
        ClaimValue::Str(text) => match common_rfc3339_unix_seconds(&text) {
            Some(seconds) => seconds,
            None => OffsetDateTime::parse(&text, &Rfc3339)
                .map_err(|_| AgentIdentityError::InvalidRegisteredAt {
                    reason: "the string is not an RFC 3339 timestamp",
                })?
                .unix_timestamp(),
        },
        ClaimValue::Int(seconds) => seconds,
        ClaimValue::Other(found) => {
            return Err(AgentIdentityError::ClaimType {
                claim: REGISTERED_AT,
                expected: "an RFC 3339 string or an integer NumericDate",
                found,
            });
        }
    };
    format_unix_seconds(unix_seconds)
}

/// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since the epoch of the common shape `YYYY-MM-DDTHH:MM:SS`
/// followed by `Z` or `±HH:MM`, read without the general parser (which
/// costs more than the rest of a typical decode). `None` for any other
/// shape or an invalid field (leap seconds included): the caller then asks
/// the general parser, so this accepts a subset of what it accepts, with
/// the same meaning.
fn common_rfc3339_unix_seconds(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if !matches!(bytes.len(), 20 | 25)
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        bytes[range].iter().try_fold(0i64, |value, byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + i64::from(byte - b'0'))
        })
    };
    let offset_seconds = match (bytes[19], bytes.len()) {
        (b'Z', 20) => 0,
        (sign @ (b'+' | b'-'), 25) if bytes[22] == b':' => {
            let (hours, minutes) = (number(20..22)?, number(23..25)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_len = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_len || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(local - offset_seconds)
}

/// RFC 3339, UTC, whole seconds, `Z`, of a time in seconds since the epoch.
///
/// Formatted by hand: the layout is fixed, and the general formatter costs
/// more than the rest of a typical decode. A time whose UTC year falls
/// outside 0000-9999 (such as `9999-12-31T23:59:59-01:00`) is refused.
pub(crate) fn format_unix_seconds(unix_seconds: i64) -> Result<String, AgentIdentityError> {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return Err(AgentIdentityError::InvalidRegisteredAt {
            reason: "the year is outside 0000-9999",
        });
    }
    let mut text = String::with_capacity(20);
    push_two_digits(&mut text, year / 100);
    push_two_digits(&mut text, year % 100);
    text.push('-');
    push_two_digits(&mut text, month);
    text.push('-');
    push_two_digits(&mut text, day);
    text.push('T');
    push_two_digits(&mut text, second_of_day / 3600);
    text.push(':');
    push_two_digits(&mut text, second_of_day / 60 % 60);
    text.push(':');
    push_two_digits(&mut text, second_of_day % 60);
    text.push('Z');
    Ok(text)
}

/// Appends `value` (0 to 99) as two decimal digits.
fn push_two_digits(text: &mut String, value: i64) {
    let value = value.clamp(0, 99) as u8;
    text.push(char::from(b'0' + value / 10));
    text.push(char::from(b'0' + value % 10));
}
