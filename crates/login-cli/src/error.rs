//! [`CliError`]: one line on stderr (and a JSON object with `--json`), and
//! the exit code for its kind.
//!
//! Exit codes: 2 for invalid input or usage and for a corrupt `auth.json`,
//! 3 for a storage, keyring, registration or network failure. Messages come from the
//! libraries' typed errors, which never contain a secret.

use auth_http::{HttpError, LoginError};
use core_auth::AuthError;
use login_agent_identity::AgentIdentityError;
use login_storage::StoreError;

/// What went wrong, as the `kind` of a JSON error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: an identity, a key, a variable, a file to read.
    InvalidInput,
    /// `auth.json` (or the stored document) is corrupt or unusable.
    CorruptAuth,
    /// A workspace or login-method restriction refused the credentials.
    Restriction,
    /// The file store failed.
    Storage,
    /// The OS keyring failed or did not answer.
    Keyring,
    /// Task registration failed.
    Registration,
    /// Refreshing ChatGPT tokens failed.
    Refresh,
    /// A fetch (the JWK set of `--jwks-url`) failed: no connection, a
    /// timeout, an unsuccessful status or an unusable answer.
    Network,
    /// A ChatGPT sign-in that did not complete (refused, timed out,
    /// cancelled, port in use).
    Login,
}

impl ErrorKind {
    fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::CorruptAuth => "corrupt_auth",
            ErrorKind::Restriction => "restriction",
            ErrorKind::Storage => "storage",
            ErrorKind::Keyring => "keyring",
            ErrorKind::Registration => "registration",
            ErrorKind::Refresh => "refresh",
            ErrorKind::Network => "network",
            ErrorKind::Login => "login",
        }
    }

    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::InvalidInput | ErrorKind::CorruptAuth | ErrorKind::Restriction => 2,
            ErrorKind::Storage
            | ErrorKind::Keyring
            | ErrorKind::Registration
            | ErrorKind::Refresh
            | ErrorKind::Network
            | ErrorKind::Login => 3,
        }
    }
}

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One line for a person.
    pub message: String,
    /// What to do next, when there is something to say (ours, never input).
    pub hint: Option<&'static str>,
}

/// After a keyring failure.
pub const KEYRING_HINT: &str = "the OS keyring is not usable here; use `--store file` (or CODEX_AUTH_STORE=file) to keep credentials in $CODEX_HOME/auth.json (0600) instead";

/// After stored credentials that are readable but unusable.
pub const REPLACE_HINT: &str =
    "`agent-login login` replaces the stored credentials; `agent-login logout` removes them";

/// After a corrupt `auth.json`.
pub const CORRUPT_HINT: &str = "`agent-login login` moves the corrupt file aside (auth.json.corrupt-<timestamp>) and stores new credentials; or inspect and fix it by hand";

impl CliError {
    /// Invalid input with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An error of `kind`, with the hint that kind always carries.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let hint = match kind {
            ErrorKind::Keyring => Some(KEYRING_HINT),
            ErrorKind::CorruptAuth => Some(REPLACE_HINT),
            _ => None,
        };
        Self {
            kind,
            message: message.into(),
            hint,
        }
    }

    /// The JSON shape: `{"schema_version": 1, "error": {"kind": ...,
    /// "message": ..., "hint": ... or null}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema_version": crate::SCHEMA_VERSION,
            "error": { "kind": self.kind.name(), "message": self.message, "hint": self.hint },
        })
    }
}

impl From<AgentIdentityError> for CliError {
    fn from(error: AgentIdentityError) -> Self {
        Self::invalid(error.to_string())
    }
}

/// A URL the user gave that cannot be used is invalid input; anything that
/// happened once the request was under way is a network failure.
impl From<HttpError> for CliError {
    fn from(error: HttpError) -> Self {
        let kind = match &error {
            HttpError::MissingUrl { .. }
            | HttpError::InvalidUrl { .. }
            | HttpError::InsecureUrl { .. } => ErrorKind::InvalidInput,
            _ => ErrorKind::Network,
        };
        Self::new(kind, error.to_string())
    }
}

impl From<LoginError> for CliError {
    fn from(error: LoginError) -> Self {
        let error = match error {
            LoginError::Http(http) => return http.into(),
            other => other,
        };
        let hint = match &error {
            LoginError::PortInUse { .. } => Some("use `--port 0` to pick a free port"),
            LoginError::DeviceNotEnabled { .. } => Some(
                "use `agent-login login --chatgpt` (on a remote machine: --no-browser, with the callback port forwarded)",
            ),
            _ => None,
        };
        let mut cli_error = Self::new(ErrorKind::Login, error.to_string());
        cli_error.hint = hint;
        cli_error
    }
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        let kind = match &error {
            StoreError::Corrupt { .. } | StoreError::TooLarge { .. } => ErrorKind::CorruptAuth,
            StoreError::Keyring { .. } | StoreError::KeyringTimeout { .. } => ErrorKind::Keyring,
            _ => ErrorKind::Storage,
        };
        let corrupt = matches!(
            error,
            StoreError::Corrupt { .. } | StoreError::TooLarge { .. }
        );
        let mut cli_error = Self::new(kind, error.to_string());
        if corrupt {
            cli_error.hint = Some(CORRUPT_HINT);
        }
        cli_error
    }
}

impl From<AuthError> for CliError {
    fn from(error: AuthError) -> Self {
        let kind = match &error {
            AuthError::Store(_) => {
                return match error {
                    AuthError::Store(storage) => storage.into(),
                    other => Self::invalid(other.to_string()),
                };
            }
            AuthError::InvalidStoredAgentIdentity { .. }
            | AuthError::IncompleteStoredAuth { .. }
            | AuthError::UnsupportedMode { .. } => ErrorKind::CorruptAuth,
            AuthError::WorkspaceRestriction { .. } | AuthError::LoginMethodRestriction { .. } => {
                ErrorKind::Restriction
            }
            AuthError::Registration(_) => ErrorKind::Registration,
            AuthError::Refresh(_) => ErrorKind::Refresh,
            AuthError::Join(_) => ErrorKind::Storage,
            _ => ErrorKind::InvalidInput,
        };
        Self::new(kind, error.to_string())
    }
}
