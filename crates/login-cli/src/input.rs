//! Reading secrets: from stdin or a file, never from an argument (argv is
//! visible to other users of the machine).

use std::io::Read as _;
use std::path::Path;

use login_agent_identity::SecretString;

use crate::error::CliError;

/// Largest secret input accepted: 1 MiB (an agent identity is at most 64 KiB).
const MAX_INPUT_LEN: u64 = 1024 * 1024;

/// All of stdin, up to the limit.
pub fn read_stdin() -> Result<SecretString, CliError> {
    let mut text = String::new();
    let read = std::io::stdin()
        .take(MAX_INPUT_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|error| CliError::invalid(format!("cannot read stdin: {error}")))?;
    let text = SecretString::from(text);
    if read as u64 > MAX_INPUT_LEN {
        return Err(CliError::invalid(format!(
            "stdin is larger than {MAX_INPUT_LEN} bytes"
        )));
    }
    Ok(text)
}

/// A whole file, refused by size before it is read.
pub fn read_file(path: &Path) -> Result<SecretString, CliError> {
    let describe = |error: std::io::Error| {
        CliError::invalid(format!("cannot read {}: {error}", path.display()))
    };
    let len = std::fs::metadata(path).map_err(describe)?.len();
    if len > MAX_INPUT_LEN {
        return Err(CliError::invalid(format!(
            "{} is too large: {len} bytes, the limit is {MAX_INPUT_LEN}",
            path.display()
        )));
    }
    std::fs::read_to_string(path)
        .map(SecretString::from)
        .map_err(describe)
}

/// `-` or nothing is stdin; anything else a file.
pub fn read_file_or_stdin(path: Option<&Path>) -> Result<SecretString, CliError> {
    match path {
        Some(path) if path != Path::new("-") => read_file(path),
        _ => read_stdin(),
    }
}
