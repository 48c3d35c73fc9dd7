//! [`StoreError`]: what can go wrong keeping `auth.json`, by path or entry.
//!
//! Messages name the file (with line and column for a corrupt one) or the
//! keyring entry (service and account, which are not secret). They never
//! contain a document's content: serde's messages are rebuilt by
//! [`describe_parse_error`] because serde quotes the offending value
//! (strings, numbers, booleans, unknown variant names).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("cannot {operation} {}: {source}", path.display())]
    Io {
        /// What we were doing ("read", "write", "rename", ...).
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `auth.json` is empty or not a valid document. Nothing was changed.
    #[error("{} is corrupt at line {line} column {column}: {reason}", path.display())]
    Corrupt {
        /// The file (or `keyring:<entry>` for a keyring value).
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem (0 for an empty file).
        column: usize,
        /// What is wrong, without quoting the content.
        reason: String,
    },
    /// `auth.json` is larger than any real document; it was not read whole.
    #[error("{} is too large: {len} bytes, the limit is {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// `auth.json` (or the file its symlink points to, or a lock file) is
    /// not a regular file: a FIFO, a device, a socket, a directory, or a
    /// symlinked lock file. Nothing was read, moved or replaced, and no
    /// open waited on it.
    #[error("{} is {kind}, not a regular file; nothing was read or changed", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is instead ("a FIFO", "a character device", ...).
        kind: &'static str,
    },
    /// A document to write is larger than the limit on reading one back, so
    /// writing it would leave a file no later load accepts. Nothing was
    /// written.
    #[error(
        "refusing to write {destination}: the document is {len} bytes, more than the {limit} bytes a read accepts; nothing was changed"
    )]
    DocumentTooLarge {
        /// The file (its path) or keyring entry (`service/account`) that
        /// would have been written.
        destination: String,
        /// The serialized document's size.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// Another process held a lock file for longer than the configured wait
    /// (see [`crate::FileStore::with_lock_timeout`]). Nothing was changed.
    #[error("cannot lock {}: another process held it for {waited:?}", path.display())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The document cannot be written (for example, its agent identity JWT
    /// does not decode, so it cannot be stored in object form).
    #[error("cannot serialize auth.json: {reason}")]
    Serialize {
        /// Why, without content.
        reason: String,
    },
    /// The OS keyring refused or failed.
    #[error("keyring entry {entry}: {reason}")]
    Keyring {
        /// `service/account` of the entry.
        entry: String,
        /// What the keyring said.
        reason: String,
    },
    /// The OS keyring did not answer in time (locked or hung Secret Service).
    #[error("keyring entry {entry}: no answer within {timeout:?}")]
    KeyringTimeout {
        /// `service/account` of the entry.
        entry: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// An earlier call through the same keyring timed out and has not
    /// returned yet (a hung Secret Service); no new call is started until
    /// it does, so stuck threads never pile up.
    #[error(
        "keyring entry {entry}: an earlier keyring call timed out and has not returned; not starting another"
    )]
    KeyringBusy {
        /// `service/account` of the entry.
        entry: String,
    },
    /// The caller's closure in [`crate::AuthStore::update`] failed;
    /// nothing was written.
    #[error("update aborted: {0}")]
    Update(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}

/// The longest reason kept from a parse error, in characters: anything a
/// deserializer says is bounded, whatever it quotes.
const MAX_REASON_CHARS: usize = 160;

/// What serde calls the kinds of unexpected values (`serde::de::Unexpected`),
/// the only words kept from the unexpected part of a type error.
const VALUE_KINDS: &[&str] = &[
    "boolean",
    "integer",
    "floating point",
    "character",
    "string",
    "byte array",
    "unit value",
    "Option value",
    "newtype struct",
    "sequence",
    "map",
    "enum",
    "unit variant",
    "newtype variant",
    "tuple variant",
    "struct variant",
    "null",
    // serde_json's name for a number kept as text (`arbitrary_precision`).
    "number",
];

/// Turns a `serde_json` error into a reason that quotes no input: a
/// position (reported by the caller), what was expected and the kind of
/// value found, never the value itself.
///
/// serde writes `invalid type: string "sk-...", expected ...`, `invalid
/// type: integer `12345678901234`, ...` and `unknown variant `x`, ...`; any
/// of those values could be a secret. Type errors keep only the kind
/// (`integer`), unknown variants and fields lose their name, and in any
/// other message a double-quoted span, or a backquoted span that is not a
/// plain field name, becomes `<redacted>`. The result is bounded in length
/// and holds no control character.
pub(crate) fn describe_parse_error(error: &serde_json::Error) -> String {
    if error.is_io() {
        return "the input could not be read".to_owned();
    }
    let message = error.to_string();
    // Drop serde_json's " at line L column C": the caller reports position.
    let message = match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message.as_str(),
    };
    bound(&sanitize_message(message))
}

fn sanitize_message(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The value comes first and may itself contain ", expected ":
            // the last one is serde's.
            let (found, expected) = match rest.rfind(", expected ") {
                Some(index) => (&rest[..index], &rest[index..]),
                None => (rest, ""),
            };
            return format!("{prefix}{}{}", value_kind(found), redact_spans(expected));
        }
    }
    for prefix in ["unknown variant ", "unknown field "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let expected = rest.find(", expected").map_or("", |index| &rest[index..]);
            return format!("{}{}", prefix.trim_end(), redact_spans(expected));
        }
    }
    redact_spans(message)
}

/// `integer` of `integer `5``: the kind serde names before the value.
fn value_kind(found: &str) -> &'static str {
    let kind = found.split(['`', '"']).next().unwrap_or_default().trim();
    VALUE_KINDS
        .iter()
        .find(|known| **known == kind)
        .copied()
        .unwrap_or("a value")
}

/// Replaces every `"..."` span, and every `` `...` `` span that is not a
/// plain field name, with `<redacted>`.
fn redact_spans(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        out.push_str(&rest[..start]);
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        let end = closing_quote(after, quote);
        let inner = &after[..end.unwrap_or(after.len())];
        if quote == '`' && is_field_name(inner) {
            out.push('`');
            out.push_str(inner);
            out.push('`');
        } else {
            out.push_str("<redacted>");
        }
        rest = match end {
            Some(end) => &after[end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The byte index of the quote closing a span, skipping `\`-escaped ones
/// (serde writes strings with Rust's escapes).
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            _ if c == quote => return Some(index),
            _ => {}
        }
    }
    None
}

/// A name from the schema (`access_token`, `registered_at`), not a value:
/// starts with a letter or `_`, then letters, `_` and `.` only, no digit,
/// at most 64 characters.
fn is_field_name(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    text.len() <= 64
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
}

/// At most [`MAX_REASON_CHARS`] characters, control characters replaced.
fn bound(reason: &str) -> String {
    let mut out: String = reason
        .chars()
        .take(MAX_REASON_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if reason.chars().nth(MAX_REASON_CHARS).is_some() {
        out.push_str("...");
    }
    out
}
