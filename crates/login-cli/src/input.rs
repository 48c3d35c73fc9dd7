//! Reading input: secrets from stdin or a file, never from an argument
//! (argv is visible to other users of the machine), and key sets from a
//! file. One rule for every file argument (`--agent-identity-file`,
//! `identity decode FILE`, `--jwks`, `--signing-key`):
//!
//! - only a regular file is read. The file is opened with `O_NONBLOCK`, so
//!   opening a FIFO without a writer returns at once instead of hanging,
//!   and the type of the OPENED handle is checked (no race with a rename):
//!   a FIFO, a device such as `/dev/zero`, a socket or a directory is
//!   refused with exit 2 before a byte is read;
//! - at most a documented limit is read ([`Limit`]), through `take`, so a
//!   file that grows while it is read cannot exhaust memory either;
//! - errors name the option and the kind of file, and quote the path only
//!   when it is short and does not look like a token
//!   ([`terminal::describe_argument`]).
//!
//! Stdin is read through the same limits; a secret typed at a terminal is
//! prompted for and read without echo ([`read_secret_stdin`]).

use std::fs::{File, Metadata};
use std::io::{IsTerminal as _, Read, Write as _};
use std::path::Path;

use login_agent_identity::SecretString;

use crate::error::CliError;
use crate::terminal;

/// How much of an input is read, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// 64 KiB: an agent identity (JWT or object), a signing key, an API
    /// key on stdin (the library refuses a key over 8 KiB with a clearer
    /// message).
    Secret,
    /// 1 MiB: a JWK set.
    KeySet,
}

impl Limit {
    /// The limit in bytes.
    pub fn bytes(self) -> u64 {
        match self {
            Limit::Secret => 64 * 1024,
            Limit::KeySet => 1024 * 1024,
        }
    }
}

/// Up to `limit` bytes of stdin, as text; `what` names the option reading it.
pub fn read_stdin(what: &str, limit: Limit) -> Result<SecretString, CliError> {
    let source = format!("{what}: stdin");
    read_bounded(std::io::stdin().lock(), &source, limit)
}

/// A secret from stdin. When stdin is a terminal, a prompt on stderr and
/// one line read without echo (`rpassword`; Enter ends it, no Ctrl-D
/// needed); piped input is read as by [`read_stdin`].
pub fn read_secret_stdin(what: &str, prompt: &str, limit: Limit) -> Result<SecretString, CliError> {
    if !std::io::stdin().is_terminal() {
        return read_stdin(what, limit);
    }
    eprint!("{prompt} (input is hidden; Enter to finish): ");
    let _ = std::io::stderr().flush();
    let line = rpassword::read_password().map_err(|error| {
        CliError::invalid(format!(
            "{what}: cannot read the terminal: {}",
            io_reason(&error)
        ))
    })?;
    if line.len() as u64 > limit.bytes() {
        return Err(CliError::invalid(format!(
            "{what}: more than {} bytes, the limit",
            limit.bytes()
        )));
    }
    Ok(SecretString::from(line))
}

/// A regular file, at most `limit` bytes; `what` names the option or
/// argument that gave the path.
pub fn read_file(what: &str, path: &Path, limit: Limit) -> Result<SecretString, CliError> {
    let source = format!("{what}: {}", describe_path(path));
    let shown = path.to_string_lossy();
    let file = open_regular(path, &source).map_err(|error| {
        if !terminal::is_token_like(&shown) {
            return error;
        }
        // Most likely the secret itself, pasted where its file belongs.
        CliError::invalid(format!(
            "{what}: cannot open {} as a file; {}",
            terminal::sized(&shown),
            terminal::TOKEN_HINT
        ))
    })?;
    read_bounded(file, &source, limit)
}

/// `-` or nothing is stdin; anything else a file.
pub fn read_file_or_stdin(
    what: &str,
    path: Option<&Path>,
    limit: Limit,
) -> Result<SecretString, CliError> {
    match path {
        Some(path) if path != Path::new("-") => read_file(what, path, limit),
        _ => read_stdin(what, limit),
    }
}

/// A path as an error names it (see [`terminal::describe_argument`]).
pub fn describe_path(path: &Path) -> String {
    terminal::describe_argument(&path.to_string_lossy())
}

/// Opens `path` for reading without blocking and refuses anything but a
/// regular file, checking the opened handle.
fn open_regular(path: &Path, source: &str) -> Result<File, CliError> {
    let file = open_nonblocking(path).map_err(|error| {
        // A socket cannot be opened at all (ENXIO); stat, which never
        // blocks, says what it is.
        match std::fs::metadata(path) {
            Ok(metadata) if !metadata.is_file() => not_regular(source, &metadata),
            _ => CliError::invalid(format!("{source}: cannot open: {}", io_reason(&error))),
        }
    })?;
    let metadata = file.metadata().map_err(|error| {
        CliError::invalid(format!("{source}: cannot inspect: {}", io_reason(&error)))
    })?;
    if !metadata.is_file() {
        return Err(not_regular(source, &metadata));
    }
    Ok(file)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn not_regular(source: &str, metadata: &Metadata) -> CliError {
    CliError::invalid(format!(
        "{source} is {}, not a regular file; give a file (or `-` for stdin where accepted)",
        file_type_name(metadata)
    ))
}

/// "a directory", "a FIFO (named pipe)", ...
fn file_type_name(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

/// An I/O error without the path the standard library may add.
fn io_reason(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(_) => error.to_string(),
        None => error.kind().to_string(),
    }
}

/// At most `limit` bytes of `reader`, as UTF-8 text.
fn read_bounded(reader: impl Read, source: &str, limit: Limit) -> Result<SecretString, CliError> {
    let limit_bytes = limit.bytes();
    let mut bytes = Vec::new();
    reader
        .take(limit_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| {
            CliError::invalid(format!("{source}: cannot read: {}", io_reason(&error)))
        })?;
    if bytes.len() as u64 > limit_bytes {
        return Err(CliError::invalid(format!(
            "{source}: more than {limit_bytes} bytes, the limit"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|error| {
        CliError::invalid(format!(
            "{source}: not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
    })?;
    Ok(SecretString::from(text))
}
