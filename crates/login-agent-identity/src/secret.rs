//! Secrets: `secrecy`'s [`SecretString`] and [`ExposeSecret`], re-exported
//! so that every crate of the workspace names them by one path, and the
//! [`serde_secret`] helpers that write one out where a document needs it.
//!
//! A [`SecretString`] has no `Display` (so `format!("Bearer {token}")` does
//! not compile), prints `SecretBox<str>([REDACTED])` in `Debug`, is wiped
//! when dropped, and gives its value only through an explicit
//! [`expose_secret`](ExposeSecret::expose_secret). It deserializes from a
//! JSON string, but has no `Serialize`: the documents that store a secret
//! say so field by field.
//!
//! ```
//! use login_agent_identity::{ExposeSecret, SecretString};
//!
//! let key = SecretString::from("sk-very-secret");
//! assert!(!format!("{key:?}").contains("sk-very-secret"));
//! assert_eq!(key.expose_secret(), "sk-very-secret");
//! ```
//!
//! ```compile_fail
//! use login_agent_identity::SecretString;
//!
//! let token = SecretString::from("sk-very-secret");
//! let header = format!("Bearer {token}"); // no `Display`
//! ```

use zeroize::Zeroizing;

pub use secrecy::{ExposeSecret, SecretString};

/// What this crate prints in place of a secret that is not a
/// [`SecretString`] (a signing key in a `Debug` impl), and what redacted
/// text shows where a secret was.
pub const REDACTED: &str = "<redacted>";

/// `text` as a [`SecretString`], with no unwiped copy left behind.
///
/// `secrecy`'s `From<String>` shrinks the buffer to its length, which may
/// move it without wiping the old one; a string grown by `format!` or
/// `push` rarely has an exact capacity. This copies into an exact-size
/// allocation and wipes the original.
pub(crate) fn secret_from(text: String) -> SecretString {
    let text = Zeroizing::new(text);
    SecretString::from(text.as_str())
}

/// `serialize_with` helpers: the one way a secret is written out.
///
/// Only the documents that must hold a secret use them: `auth.json` (its
/// API key, tokens and agent identity) and the payload of a minted agent
/// identity JWT.
///
/// ```
/// use login_agent_identity::{SecretString, serde_secret};
///
/// #[derive(serde::Serialize)]
/// struct Stored {
///     #[serde(serialize_with = "serde_secret::expose")]
///     key: SecretString,
/// }
///
/// let json = serde_json::to_string(&Stored { key: "sk-1".into() })?;
/// assert_eq!(json, r#"{"key":"sk-1"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub mod serde_secret {
    use serde::Serializer;

    use super::{ExposeSecret as _, SecretString};

    /// Writes the secret as a plain string.
    pub fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose_secret())
    }

    /// Writes a present secret as a plain string and an absent one as
    /// `null` (or as the format's "none").
    pub fn expose_option<S: Serializer>(
        secret: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => serializer.serialize_some(secret.expose_secret()),
            None => serializer.serialize_none(),
        }
    }
}
