//! [`ApiKey`]: an API key as a login accepts it, checked before anything
//! is written.
//!
//! A key goes into an `Authorization` header and into `auth.json`, whose
//! reader refuses a document over 1 MiB: a key that cannot be used there
//! must be refused at login, not after the previous credentials were
//! replaced. So a key is one line of printable characters without
//! whitespace, at most [`MAX_API_KEY_LEN`] bytes; one trailing line break
//! (`\n` or `\r\n`, as `echo` or a file leaves it) is stripped.

use login_agent_identity::{ExposeSecret as _, SecretString};

/// The longest API key accepted, in bytes: 8 KiB.
pub const MAX_API_KEY_LEN: usize = 8 * 1024;

/// Why a text is not an API key. No variant carries any of the text: only
/// lengths and character positions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// Nothing, or only whitespace.
    #[error("the API key is empty")]
    Empty,
    /// Longer than [`MAX_API_KEY_LEN`].
    #[error("the API key is too long: {len} bytes, the limit is {limit} bytes")]
    TooLong {
        /// Length in bytes (after stripping a trailing line break).
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A line break before the end: more than one line.
    #[error("the API key must be one line; found a line break at character {position}")]
    MultipleLines {
        /// 1-based character position of the line break.
        position: usize,
    },
    /// A space, tab or other whitespace character.
    #[error("the API key must not contain whitespace; found some at character {position}")]
    Whitespace {
        /// 1-based character position.
        position: usize,
    },
    /// A control character (C0, DEL, C1) or another non-printable one.
    #[error("the API key must be printable; found a control character at character {position}")]
    ControlCharacter {
        /// 1-based character position.
        position: usize,
    },
}

/// A validated API key. Built only by [`ApiKey::parse`]; `Debug` redacts it.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// Checks `text` (one trailing `\n` or `\r\n` stripped): not empty, at
    /// most [`MAX_API_KEY_LEN`] bytes, no whitespace, no line break, no
    /// control or bidirectional-formatting character.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(text);
        if text.trim().is_empty() {
            return Err(ApiKeyError::Empty);
        }
        if text.len() > MAX_API_KEY_LEN {
            return Err(ApiKeyError::TooLong {
                len: text.len(),
                limit: MAX_API_KEY_LEN,
            });
        }
        for (index, character) in text.chars().enumerate() {
            let position = index + 1;
            if matches!(character, '\n' | '\r') {
                return Err(ApiKeyError::MultipleLines { position });
            }
            if character.is_whitespace() {
                return Err(ApiKeyError::Whitespace { position });
            }
            if is_unprintable(character) {
                return Err(ApiKeyError::ControlCharacter { position });
            }
        }
        Ok(Self(SecretString::from(text.to_owned())))
    }

    /// The key, for an `Authorization` header or the store.
    pub fn into_secret(self) -> SecretString {
        self.0
    }

    /// The key's text.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Control characters and the invisible bidirectional formatting marks
/// (which reorder what a terminal shows).
fn is_unprintable(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_from_echo_loses_its_trailing_newline() {
        assert_eq!(ApiKey::parse("sk-abc\n").unwrap().expose_secret(), "sk-abc");
        assert_eq!(
            ApiKey::parse("sk-abc\r\n").unwrap().expose_secret(),
            "sk-abc"
        );
    }

    #[test]
    fn blank_long_spaced_multiline_and_control_keys_are_refused() {
        assert_eq!(ApiKey::parse("  \n").unwrap_err(), ApiKeyError::Empty);
        assert!(matches!(
            ApiKey::parse(&"k".repeat(MAX_API_KEY_LEN + 1)),
            Err(ApiKeyError::TooLong { .. })
        ));
        assert!(ApiKey::parse(&"k".repeat(MAX_API_KEY_LEN)).is_ok());
        assert_eq!(
            ApiKey::parse("sk abc").unwrap_err(),
            ApiKeyError::Whitespace { position: 3 }
        );
        assert_eq!(
            ApiKey::parse("sk-a\nb\n").unwrap_err(),
            ApiKeyError::MultipleLines { position: 5 }
        );
        for bad in ["sk-\u{1b}[2J", "sk-\u{7f}", "sk-\u{9b}", "sk-\u{202e}x"] {
            assert_eq!(
                ApiKey::parse(bad).unwrap_err(),
                ApiKeyError::ControlCharacter { position: 4 }
            );
        }
    }

    #[test]
    fn errors_and_debug_never_show_the_key() {
        let key = ApiKey::parse("sk-SECRET").unwrap();
        assert!(!format!("{key:?}").contains("SECRET"));
        let error = ApiKey::parse("sk-SECRET with space").unwrap_err();
        assert!(!error.to_string().contains("SECRET"));
    }
}
