//! [`StoreError`]: what can go wrong keeping `auth.json`, by path or entry.
//!
//! Messages name the file (with line and column for a corrupt one) or the
//! keyring entry (service and account, which are not secret). They never
//! contain a document's content: serde's messages are sanitized by
//! [`describe_parse_error`] because serde quotes the offending value.

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

/// Turns a `serde_json` error into a reason that does not quote content.
///
/// serde writes `invalid type: string "sk-...", expected ...`; the quoted
/// value could be a secret, so it is replaced by `<redacted>`.
pub(crate) fn describe_parse_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    // Drop serde_json's " at line L column C": the caller reports position.
    let message = match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message.as_str(),
    };
    let Some(start) = message.find(": string \"") else {
        return message.to_owned();
    };
    let quoted_from = start + ": string ".len();
    match message.rfind("\", expected") {
        Some(end) if end > quoted_from => {
            format!("{}\"<redacted>{}", &message[..quoted_from], &message[end..])
        }
        _ => format!("{}<redacted>", &message[..quoted_from]),
    }
}
