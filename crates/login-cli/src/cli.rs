//! The command line, as clap derives it. Every command has an example in
//! its `--help`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use login_storage::StoreMode;

/// Check and manage how an agent runtime authenticates.
#[derive(Debug, Parser)]
#[command(
    name = "agent-login",
    version,
    about = "Check and manage how an agent runtime authenticates",
    after_help = "Examples:\n  agent-login status\n  agent-login identity mint --workspace-id ws-1 --agent-runtime-id rt-1 > identity.jwt\n  agent-login login --agent-identity-file identity.jwt"
)]
pub struct Cli {
    /// The home holding auth.json [default: $CODEX_HOME, else ~/.codex]
    #[arg(long, global = true, value_name = "DIR")]
    pub codex_home: Option<PathBuf>,
    /// Where credentials are kept [default: $CODEX_AUTH_STORE, else file]
    #[arg(long, global = true, value_name = "STORE", value_parser = parse_store)]
    pub store: Option<StoreMode>,
    /// Print machine-readable JSON on stdout (errors too)
    #[arg(long, global = true)]
    pub json: bool,
    /// Log what happens to stderr (-vv for more); never shows a secret
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// The message names the choices, not the value (see `usage`).
fn parse_store(value: &str) -> Result<StoreMode, String> {
    value.parse().map_err(|_: login_storage::UnknownStoreMode| {
        "expected file, keyring, auto or ephemeral".to_owned()
    })
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how a runtime starting now would authenticate (exit 1 when it would not)
    #[command(
        after_help = "Examples:\n  agent-login status --json\n  CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL=https://auth.example status --register-task"
    )]
    Status(StatusArgs),
    /// Store credentials read from stdin or a file (never from an argument)
    #[command(
        after_help = "Examples:\n  agent-login login --api-key-stdin < key.txt\n  agent-login login --agent-identity-file identity.jwt"
    )]
    Login(LoginArgs),
    /// Print the headers that authenticate a model request now (prints secrets on purpose)
    #[command(
        long_about = "Print the headers that authenticate a model request for the current auth, one `Name: value` line each, for scripts and `curl -H`.\n\nLike `gh auth token`, this prints secrets on purpose: an API key, an access token or an AgentAssertion. Do not run it where the output is logged or shared.\n\nFor an agent identity it registers the background task when none is cached yet, with the auth API from --auth-api-base-url or CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL. Exits 1 when nobody is logged in.",
        after_help = "Examples:\n  agent-login header\n  agent-login header --json\n  curl -H \"$(agent-login header | head -n 1)\" https://api.example/v1/models"
    )]
    Header(HeaderArgs),
    /// Revoke the stored ChatGPT refresh token, then remove stored credentials from every store
    #[command(
        long_about = "Revoke the stored ChatGPT refresh token at the auth server (at most 5 s; CODEX_REVOKE_TOKEN_URL_OVERRIDE replaces the endpoint), then remove stored credentials from every store.\n\nThe credentials are removed whatever the revoke's outcome, which is reported: `revoked` or `could not revoke: <reason>` (with --json, `revoked`: true, false, or null when there was nothing to revoke or it was skipped). An API key or an agent identity has nothing to revoke.",
        after_help = "Examples:\n  agent-login logout --json\n  agent-login logout --no-revoke"
    )]
    Logout(LogoutArgs),
    /// Decode or mint agent identities
    #[command(subcommand)]
    Identity(IdentityCommand),
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// For an agent identity: register a background task (once; the id is
    /// cached where the identity is kept) and show its id
    #[arg(long)]
    pub register_task: bool,
    /// The auth API for --register-task [default: $CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL]
    #[arg(long, value_name = "URL", requires = "register_task")]
    pub auth_api_base_url: Option<String>,
}

/// Arguments of `header`.
#[derive(Debug, Args)]
pub struct HeaderArgs {
    /// The auth API that registers a background task for an agent identity
    /// [default: $CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub auth_api_base_url: Option<String>,
}

/// Arguments of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Do not revoke the refresh token at the server; only remove it locally
    #[arg(long)]
    pub no_revoke: bool,
}

/// What to log in with.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["api_key_stdin", "agent_identity_stdin", "agent_identity_file"])))]
pub struct LoginArgs {
    /// Read an API key from stdin
    #[arg(long)]
    pub api_key_stdin: bool,
    /// Read an agent identity (JWT or JSON object) from stdin
    #[arg(long)]
    pub agent_identity_stdin: bool,
    /// Read an agent identity (JWT or JSON object) from a file
    #[arg(long, value_name = "PATH")]
    pub agent_identity_file: Option<PathBuf>,
}

/// Agent identity tools.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Decode (or verify) an agent identity; the private key is never shown
    #[command(
        after_help = "Examples:\n  agent-login identity decode identity.jwt\n  agent-login identity decode --jwks jwks.json < identity.jwt\n  agent-login identity decode --jwks-url https://auth.example/.well-known/jwks.json --issuer https://auth.example < identity.jwt"
    )]
    Decode(DecodeArgs),
    /// Generate agent key material and print a signed agent identity JWT
    #[command(
        after_help = "Example:\n  agent-login identity mint --workspace-id ws-1 --agent-runtime-id rt-1 --registered-at now"
    )]
    Mint(MintArgs),
}

/// Arguments of `identity decode`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key_set").args(["jwks", "jwks_url"])))]
pub struct DecodeArgs {
    /// The JWT or JSON object to decode; `-` or nothing reads stdin
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// Verify the signature with this JWK set instead of only decoding
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// Verify the signature with the JWK set at this URL (https, or http to
    /// a loopback host only) instead of only decoding
    #[arg(long, value_name = "URL")]
    pub jwks_url: Option<String>,
    /// With --jwks or --jwks-url: the required `iss`
    #[arg(long, requires = "key_set")]
    pub issuer: Option<String>,
    /// With --jwks or --jwks-url: the required `aud`
    #[arg(long, requires = "key_set")]
    pub audience: Option<String>,
}

/// Arguments of `identity mint`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// The workspace (ChatGPT account) the agent belongs to
    #[arg(long)]
    pub workspace_id: String,
    /// The agent runtime the identity is for
    #[arg(long)]
    pub agent_runtime_id: String,
    /// The ChatGPT user the agent acts for
    #[arg(long)]
    pub chatgpt_user_id: Option<String>,
    /// `now` or an RFC 3339 timestamp
    #[arg(long, value_name = "now|RFC3339")]
    pub registered_at: Option<String>,
    /// Sign with this PKCS#8 Ed25519 key (PEM or base64) instead of a fresh one
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}
