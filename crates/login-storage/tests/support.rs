//! Fixtures shared by the test modules: documents with distinctive secret
//! markers, keyring homes over test-support's `FakeKeyring`, log capture,
//! re-running this test binary as a worker process, and the Secret Service
//! gate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use login_agent_identity::{AgentIdentity, AgentIdentityClaims, AgentIdentityInput, SecretString};
use login_storage::{AuthDotJson, AuthMode, IdToken, Keyring, KeyringStore, TokenData};
use serde_json::json;
use test_support::FakeKeyring;

/// Every secret the fixtures contain; none may appear in a log, error or
/// `Debug` output.
pub const API_KEY: &str = "sk-test-API-KEY-MARKER";
pub const ACCESS_TOKEN: &str = "ACCESS-TOKEN-MARKER";
pub const REFRESH_TOKEN: &str = "REFRESH-TOKEN-MARKER";

/// The documented read limit of the file store (private in the crate): an
/// `auth.json` over 1 MiB is refused.
pub const MAX_AUTH_FILE_LEN: u64 = 1024 * 1024;

/// An update that sets `key` to `value` among the unknown keys, starting
/// from an empty document when there is none.
pub fn add_extra(
    key: &str,
    value: serde_json::Value,
) -> impl FnMut(Option<AuthDotJson>) -> Result<Option<AuthDotJson>, login_storage::StoreError> {
    let key = key.to_owned();
    move |current| {
        let mut document = current.unwrap_or_default();
        document.extra.insert(key.clone(), value.clone());
        Ok(Some(document))
    }
}

/// A temporary directory and the `CODEX_HOME` inside it (not created yet,
/// so tests see what the homes create).
pub struct Home {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Home {
    pub fn auth_file(&self) -> PathBuf {
        self.path.join("auth.json")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.path.join("auth.json.lock")
    }

    /// Creates the home directory (0700 on Unix, as the homes would).
    pub fn create(&self) -> &Self {
        std::fs::create_dir_all(&self.path).unwrap();
        #[cfg(unix)]
        set_mode(&self.path, 0o700);
        self
    }

    /// Writes `bytes` to `auth.json` as a foreign writer would.
    pub fn write_auth_file(&self, bytes: &[u8]) {
        self.create();
        std::fs::write(self.auth_file(), bytes).unwrap();
    }

    pub fn read_auth_file(&self) -> Vec<u8> {
        std::fs::read(self.auth_file()).unwrap()
    }

    /// Names in the home directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        list_dir(&self.path)
    }
}

pub fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codex");
    Home { dir, path }
}

pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An id token with every claim we read, at the top level and under
/// `https://api.openai.com/auth`.
pub fn id_token() -> String {
    test_support::jwt_with_payload(&json!({
        "email": "dev@example.com",
        "https://api.openai.com/auth": {
            "chatgpt_plan_type": "pro",
            "chatgpt_user_id": "user-123",
            "chatgpt_account_id": "acct-456",
        },
    }))
}

pub fn tokens() -> TokenData {
    TokenData {
        id_token: Some(IdToken::new(SecretString::from(id_token()))),
        access_token: SecretString::from(ACCESS_TOKEN),
        refresh_token: SecretString::from(REFRESH_TOKEN),
        account_id: Some("acct-456".to_owned()),
        extra: login_storage::UnknownKeys::new(),
    }
}

/// Claims of an agent identity, the same in every call of one test process
/// so documents built twice compare equal.
pub fn identity_claims() -> AgentIdentityClaims {
    static CLAIMS: OnceLock<AgentIdentityClaims> = OnceLock::new();
    CLAIMS
        .get_or_init(|| test_support::identity_claims("ws-1", "rt-1"))
        .clone()
}

pub fn identity_record() -> AgentIdentity {
    serde_json::from_value(serde_json::to_value(identity_claims()).unwrap()).unwrap()
}

/// A document using every field, including unknown keys at each level.
pub fn full_document() -> AuthDotJson {
    let mut object = serde_json::to_value(identity_record()).unwrap();
    object["background_task_id"] = json!("task-1");
    object["future_identity_key"] = json!({"nested": [1, 2]});
    let record: AgentIdentity = serde_json::from_value(object).unwrap();
    let mut tokens = tokens();
    tokens
        .extra
        .insert("future_token_key".into(), json!("kept"));
    let mut extra = login_storage::UnknownKeys::new();
    extra.insert("future_top_level".into(), json!({"a": 1}));
    AuthDotJson {
        auth_mode: Some(AuthMode::Chatgpt),
        openai_api_key: Some(SecretString::from(API_KEY)),
        tokens: Some(tokens),
        last_refresh: Some(time::macros::datetime!(2026-03-04 05:06:07 UTC)),
        agent_identity: Some(AgentIdentityInput::Object(record)),
        extra,
    }
}

/// A typical API-key login.
pub fn api_key_document() -> AuthDotJson {
    AuthDotJson::with_api_key(SecretString::from(API_KEY))
}

/// Asserts no fixture secret (nor `private_key`) occurs in `text`.
pub fn assert_no_secret(text: &str, private_key: Option<&str>) {
    for secret in [API_KEY, ACCESS_TOKEN, REFRESH_TOKEN] {
        assert!(!text.contains(secret), "secret leaked into: {text}");
    }
    if let Some(private_key) = private_key {
        assert!(
            !text.contains(private_key),
            "private key leaked into: {text}"
        );
    }
}

/// A keyring store of `home` over `store`.
pub fn keyring_home(home: &Home, store: &Arc<FakeKeyring>, timeout: Duration) -> KeyringStore {
    KeyringStore::new(&home.path, store.clone(), timeout)
}

/// Runs `f` and returns what it logged on this thread, one line per event:
/// `LEVEL message field=value ...`.
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let subscriber = LineCollector {
        lines: lines.clone(),
    };
    let value = tracing::subscriber::with_default(subscriber, f);
    let lines = lines.lock().unwrap().clone();
    (value, lines)
}

struct LineCollector {
    lines: Arc<Mutex<Vec<String>>>,
}

struct LineVisitor(String);

impl tracing::field::Visit for LineVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl tracing::Subscriber for LineCollector {
    fn enabled(&self, _metadata: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _span: &tracing::span::Id, _values: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut visitor = LineVisitor(event.metadata().level().to_string());
        event.record(&mut visitor);
        self.lines.lock().unwrap().push(visitor.0);
    }

    fn enter(&self, _span: &tracing::span::Id) {}

    fn exit(&self, _span: &tracing::span::Id) {}
}

/// Warnings among captured log lines.
pub fn warnings(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|line| line.starts_with("WARN"))
        .collect()
}

/// The environment variable that turns a `*_worker` test into a worker.
pub const WORKER_ENV: &str = "LOGIN_STORAGE_TEST_WORKER";

/// Re-runs this test binary for the single test `test_path` (for example
/// `multi_process::update_worker`) with `WORKER_ENV=role` and `envs`.
pub fn spawn_worker(test_path: &str, role: &str, envs: &[(&str, String)]) -> std::process::Child {
    worker_command(test_path, role, envs).spawn().unwrap()
}

pub fn run_worker(test_path: &str, role: &str, envs: &[(&str, String)]) -> Output {
    worker_command(test_path, role, envs).output().unwrap()
}

/// The command [`spawn_worker`] and [`run_worker`] run, for a caller that
/// sets more (a current directory, say) before running it.
pub fn worker_command(test_path: &str, role: &str, envs: &[(&str, String)]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, role)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    command
}

/// Whether this process is the worker `role`.
pub fn is_worker(role: &str) -> bool {
    std::env::var(WORKER_ENV).is_ok_and(|value| value == role)
}

pub use test_support::{print_skip, secret_service_available};

/// The OS keyring, for tests of ordinary behaviour (real components; the
/// fake is for fault injection). `None`, after printing why, outside the
/// private Secret Service session.
pub fn real_store(test: &str) -> Option<Arc<dyn Keyring>> {
    secret_service_available(test).then(|| Arc::new(login_storage::OsKeyring) as Arc<dyn Keyring>)
}

/// The stored value of `account` in `store` (the trait, so the real store
/// and the fake read alike).
pub fn stored_value(store: &Arc<dyn Keyring>, account: &str) -> Option<String> {
    store.load(login_storage::KEYRING_SERVICE, account).unwrap()
}

/// The pid of a child process that has exited and been reaped, so no
/// process runs with it (until the kernel reuses it, which a test does not
/// wait for).
pub fn exited_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Sets `path`'s modification time `age` in the past.
pub fn age_file(path: &Path, age: Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - age)
        .unwrap();
}
