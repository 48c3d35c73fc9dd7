//! Text for a terminal: every value that came from input, a file or a
//! server goes through [`escape`] before it is printed, so it cannot move
//! the cursor, retitle the window, ring the bell or reorder the line
//! (terminal injection); a value quoted in an error is also bounded
//! ([`quote`]), and one that looks like a token is not shown at all
//! ([`describe_argument`]).
//!
//! JSON output does not go through here: serde_json escapes control
//! characters itself, and JSON consumers want the exact value.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How many characters of a value an error quotes before cutting it off.
const QUOTE_CHARS: usize = 64;

/// An argument longer than this is not echoed: it is most likely a token.
const TOKEN_LIKE_LEN: usize = 256;

/// Whether `character` must not reach a terminal raw: C0 controls
/// (including newline and tab), DEL, C1 controls, and the invisible
/// bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069).
pub fn is_unsafe(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character (see [`is_unsafe`]) written as
/// `\u{1b}`; borrowed when there is none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if is_unsafe(character) {
            let _ = write!(escaped, "\\u{{{:x}}}", u32::from(character));
        } else {
            escaped.push(character);
        }
    }
    Cow::Owned(escaped)
}

/// `text` for an error message: escaped, in backticks, cut after
/// 64 characters with "…".
pub fn quote(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("`{}{cut}`", escape(&head))
}

/// Whether an argument looks like a token rather than a path or a name:
/// longer than 256 characters, or base64url segments joined by at least
/// two dots (a JWT).
pub fn is_token_like(text: &str) -> bool {
    let chars = text.chars().count();
    if chars > TOKEN_LIKE_LEN {
        return true;
    }
    let dots = text.matches('.').count();
    dots >= 2
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='))
        && text.split('.').all(|segment| !segment.is_empty())
}

/// An argument named in an error: [`quote`]d, or, when it looks like a
/// token ([`is_token_like`]), only its length and a hint, so that a secret
/// passed by mistake is not copied to the terminal or a log.
pub fn describe_argument(text: &str) -> String {
    if is_token_like(text) {
        return format!("{}; {TOKEN_HINT}", sized(text));
    }
    quote(text)
}

/// The hint after an argument that looks like a token.
pub const TOKEN_HINT: &str = "did you pass a token instead of a file?";

/// "a 1,234-character argument": all an error says of a token-like one.
pub fn sized(text: &str) -> String {
    format!("a {}-character argument", thousands(text.chars().count()))
}

/// `1234` as `1,234`.
fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_writes_controls_and_bidi_marks_as_code_points() {
        assert_eq!(
            escape("a\u{1b}[31mb\u{7}c\u{9b}d\u{7f}e\u{202e}f\u{2066}g\u{200f}\n"),
            "a\\u{1b}[31mb\\u{7}c\\u{9b}d\\u{7f}e\\u{202e}f\\u{2066}g\\u{200f}\\u{a}"
        );
        assert!(matches!(escape("ws-plain é"), Cow::Borrowed("ws-plain é")));
    }

    #[test]
    fn quote_bounds_a_long_value() {
        let quoted = quote(&"x".repeat(1000));
        assert_eq!(quoted, format!("`{}…`", "x".repeat(64)));
        assert_eq!(quote("short"), "`short`");
    }

    #[test]
    fn a_jwt_or_a_long_argument_is_described_not_echoed() {
        assert_eq!(
            describe_argument("eyJhbGc.eyJzdWIi.c2lnbmF0dXJl"),
            "a 29-character argument; did you pass a token instead of a file?"
        );
        assert!(describe_argument(&"a".repeat(1234)).starts_with("a 1,234-character argument"));
        assert_eq!(describe_argument("identity.jwt"), "`identity.jwt`");
        assert_eq!(describe_argument("../dir/a.b.jwt"), "`../dir/a.b.jwt`");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
