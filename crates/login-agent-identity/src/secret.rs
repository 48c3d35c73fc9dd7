//! [`SecretString`]: a string that never prints and is wiped when dropped.
//!
//! The whole project holds private keys, API keys and tokens in this type, so
//! one `Debug` impl decides what a log line can show: the marker
//! [`REDACTED`], never the value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// What every redacted secret prints as.
pub const REDACTED: &str = "<redacted>";

/// A secret string: redacted in `Debug` and `Display`, zeroized on drop.
///
/// Serde reads and writes it as a plain JSON string: the one place the value
/// leaves the type on purpose is the persisted document. Use
/// [`SecretString::expose_secret`] to read it.
///
/// ```
/// use login_agent_identity::SecretString;
///
/// let key = SecretString::from("sk-very-secret");
/// assert_eq!(format!("{key:?}"), "<redacted>");
/// assert_eq!(key.expose_secret(), "sk-very-secret");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a string.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself. Callers must not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}
