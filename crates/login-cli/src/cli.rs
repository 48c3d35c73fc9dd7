//! The command line, as clap derives it. Every command has an example in
//! its `--help`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, CommandFactory as _, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use login_storage::StoreMode;

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// The heading of the options of the commands that read or write
/// credentials.
const STORAGE: &str = "Storage options";

/// Check and manage how an agent runtime authenticates.
#[derive(Debug, Parser)]
#[command(
    name = "agent-login",
    version,
    about = "Check and manage how an agent runtime authenticates",
    after_help = "Examples:\n  agent-login status\n  agent-login identity mint --workspace-id ws-1 --agent-runtime-id rt-1 --output identity.jwt\n  agent-login login --agent-identity-file identity.jwt\n  agent-login completions bash > ~/.local/share/bash-completion/completions/agent-login"
)]
pub struct Cli {
    /// Storage options given before the command.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Print machine-readable JSON on stdout (errors too)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Log what happens to stderr (-vv for more); never shows a secret
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// `--store`: where credentials are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// $CODEX_HOME/auth.json (0600)
    File,
    /// The OS keyring (Secret Service)
    Keyring,
    /// The keyring, falling back to the file
    Auto,
    /// The memory of one process: only a runtime can use it (not `login`)
    Ephemeral,
}

impl From<StoreArg> for StoreMode {
    fn from(store: StoreArg) -> Self {
        match store {
            StoreArg::File => StoreMode::File,
            StoreArg::Keyring => StoreMode::Keyring,
            StoreArg::Auto => StoreMode::Auto,
            StoreArg::Ephemeral => StoreMode::Ephemeral,
        }
    }
}

/// The definition help, completions and the man page show.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Where credentials are: taken by the commands that read or write them
/// (after the command, or before it as `agent-login --store file status`).
#[derive(Debug, Clone, Default, Args)]
pub struct StorageArgs {
    /// The home holding auth.json [default: $CODEX_HOME, else ~/.codex]
    #[arg(long, value_name = "DIR", help_heading = STORAGE)]
    pub codex_home: Option<PathBuf>,
    /// Where credentials are kept [default: $CODEX_AUTH_STORE, else file]
    #[arg(long, value_name = "STORE", help_heading = STORAGE)]
    pub store: Option<StoreArg>,
}

impl Cli {
    /// The storage options of the command, over those given before it.
    pub fn storage(&self) -> StorageArgs {
        let given = match &self.command {
            Command::Status(args) => Some(&args.storage),
            Command::Header(args) => Some(&args.storage),
            Command::Login(args) => Some(&args.storage),
            Command::Logout(args) => Some(&args.storage),
            Command::Identity(_) | Command::Completions(_) => None,
        };
        let Some(given) = given else {
            return self.storage.clone();
        };
        StorageArgs {
            codex_home: given
                .codex_home
                .clone()
                .or_else(|| self.storage.codex_home.clone()),
            store: given.store.or(self.storage.store),
        }
    }

    /// A storage option given (before the command) to a command that does
    /// not use it, if any.
    pub fn ignored_storage_option(&self) -> Option<&'static str> {
        if !matches!(self.command, Command::Identity(_) | Command::Completions(_)) {
            return None;
        }
        if self.storage.codex_home.is_some() {
            return Some("--codex-home");
        }
        self.storage.store.map(|_| "--store")
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how a runtime starting now would authenticate (exit 1 when it would not)
    #[command(
        after_help = "Examples:\n  agent-login status --json\n  CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL=https://auth.example agent-login status --register-task"
    )]
    Status(StatusArgs),
    /// Sign in with ChatGPT, or store credentials read from stdin or a file (never from an argument)
    #[command(
        after_help = "Examples:\n  agent-login login --chatgpt\n  agent-login login --device-auth   (headless or SSH machines)\n  agent-login login --api-key-stdin < key.txt\n  agent-login login --api-key-stdin   (on a terminal: prompts, input hidden)\n  agent-login login --agent-identity-file identity.jwt"
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
    /// Print a shell completion script
    #[command(
        long_about = "Print the completion script for SHELL on stdout. Load it from your shell's startup file or completion directory.",
        after_help = "Examples:\n  agent-login completions bash > ~/.local/share/bash-completion/completions/agent-login\n  agent-login completions zsh > ~/.zfunc/_agent-login\n  agent-login completions fish > ~/.config/fish/completions/agent-login.fish"
    )]
    Completions(CompletionsArgs),
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Where credentials are.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Do not revoke the refresh token at the server; only remove it locally
    #[arg(long)]
    pub no_revoke: bool,
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Where credentials are.
    #[command(flatten)]
    pub storage: StorageArgs,
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
    /// Where credentials are.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The auth API that registers a background task for an agent identity
    /// [default: $CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub auth_api_base_url: Option<String>,
}

/// What to log in with.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["api_key_stdin", "agent_identity_stdin", "agent_identity_file", "chatgpt", "device_auth"])))]
#[command(group(ArgGroup::new("chatgpt_flow").args(["chatgpt", "device_auth"])))]
pub struct LoginArgs {
    /// Where credentials are.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Read an API key from stdin
    #[arg(long)]
    pub api_key_stdin: bool,
    /// Read an agent identity (JWT or JSON object) from stdin
    #[arg(long)]
    pub agent_identity_stdin: bool,
    /// Read an agent identity (JWT or JSON object) from a file
    #[arg(long, value_name = "PATH")]
    pub agent_identity_file: Option<PathBuf>,
    /// Sign in with ChatGPT in a browser (the URL is printed on stderr too)
    #[arg(long)]
    pub chatgpt: bool,
    /// Sign in with ChatGPT with a code entered on another device (headless or SSH machines)
    #[arg(long)]
    pub device_auth: bool,
    /// With --chatgpt: print the sign-in URL without opening a browser
    #[arg(long, requires = "chatgpt")]
    pub no_browser: bool,
    /// With --chatgpt: the callback port on 127.0.0.1; 0 picks a free one [default: 1455]
    #[arg(long, value_name = "N", requires = "chatgpt")]
    pub port: Option<u16>,
    /// With --chatgpt or --device-auth: give up after SECS [default: 600, --device-auth 900]
    #[arg(long, value_name = "SECS", requires = "chatgpt_flow")]
    pub timeout: Option<u64>,
    /// With --chatgpt or --device-auth: the OAuth issuer [default: $CODEX_LOGIN_ISSUER, else https://auth.openai.com]
    #[arg(long, value_name = "URL", requires = "chatgpt_flow")]
    pub issuer: Option<String>,
}

/// Agent identity tools.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Decode (or verify) an agent identity; the private key is never shown
    #[command(
        after_help = "Examples:\n  agent-login identity decode identity.jwt\n  agent-login identity decode --jwks jwks.json < identity.jwt\n  agent-login identity decode --jwks-url https://auth.example/.well-known/jwks.json --issuer https://auth.example < identity.jwt"
    )]
    Decode(DecodeArgs),
    /// Generate agent key material and write a signed agent identity JWT (it holds a private key)
    #[command(
        after_help = "Examples:\n  agent-login identity mint --workspace-id ws-1 --agent-runtime-id rt-1 --registered-at now --output identity.jwt\n  agent-login identity mint --workspace-id ws-1 --agent-runtime-id rt-1 --json"
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
    /// Write the JWT to FILE (created 0600) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --output: replace FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
}
