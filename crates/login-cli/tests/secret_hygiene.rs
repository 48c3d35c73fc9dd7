//! The secret-hygiene proof: every public entry point that touches a secret
//! (the four stores, the manager, the CLI) is driven with distinctive
//! marker secrets; the Debug and Display of every returned value and error,
//! and all tracing output at TRACE, must contain none of them.

use std::fmt::Debug;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use core_auth::{AuthConfig, AuthManager, MapEnv, RegistrarError, TaskRegistrar};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityInput, AgentIdentityKey, ExposeSecret as _,
    JwtSigningKey, SecretString, mint_agent_identity_jwt,
};
use login_storage::{AuthDotJson, StoreMode, StoreOptions, TokenData, open_store};

use crate::support::{agent_login, run};
use test_support::{Capture, FakeKeyring, Fault};

const API_KEY: &str = "sk-HYGIENE-API-KEY-MARKER-0001";
const ACCESS: &str = "HYGIENE-ACCESS-MARKER";
const REFRESH: &str = "HYGIENE-REFRESH-MARKER";
const ID_SIGNATURE: &str = "HYGIENE-ID-SIGNATURE-MARKER";

#[derive(Debug)]
struct Registrar;

impl TaskRegistrar for Registrar {
    fn register_task(
        &self,
        key: &AgentIdentityKey,
        _: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        Ok(format!("task-{}", key.agent_runtime_id()))
    }
}

/// Everything rendered: Debug and Display of values and errors.
#[derive(Default)]
struct Rendered(Vec<String>);

impl Rendered {
    fn debug(&mut self, value: &impl Debug) {
        self.0.push(format!("{value:?} {value:#?}"));
    }

    fn result<T: Debug, E: Debug + std::fmt::Display>(&mut self, result: &Result<T, E>) {
        match result {
            Ok(value) => self.debug(value),
            Err(error) => self.0.push(format!("{error} {error:?}")),
        }
    }
}

fn tokens() -> TokenData {
    let claims = serde_json::json!({"email": "hygiene@example.com", "https://api.openai.com/auth": {"chatgpt_account_id": "acct-h"}});
    let id_token = format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.{ID_SIGNATURE}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    serde_json::from_value(serde_json::json!({
        "id_token": id_token, "access_token": ACCESS, "refresh_token": REFRESH, "account_id": "acct-h",
    }))
    .unwrap()
}

fn drive_storage_homes(home: &std::path::Path, identity: &AgentIdentity, out: &mut Rendered) {
    // Told to fail halfway, so the error paths run too.
    let keyring = Arc::new(FakeKeyring::default());
    let full = AuthDotJson {
        openai_api_key: Some(API_KEY.into()),
        tokens: Some(tokens()),
        agent_identity: Some(AgentIdentityInput::Object(identity.clone())),
        ..AuthDotJson::default()
    };
    for mode in [
        StoreMode::File,
        StoreMode::Keyring,
        StoreMode::Auto,
        StoreMode::Ephemeral,
    ] {
        let options = StoreOptions::default().with_keyring(keyring.clone());
        let storage = open_store(home, mode, options);
        out.debug(&storage);
        out.result(&storage.save(&full));
        out.result(&storage.load());
        out.result(&storage.load_located());
        out.result(&storage.update(&mut |document| Ok(document)));
        keyring.set_fault(Fault::Fail);
        out.result(&storage.save(&full));
        out.result(&storage.load());
        keyring.set_fault(Fault::None);
        out.result(&storage.delete());
    }
    // A corrupt file holding secrets: the error names the file, not them.
    std::fs::write(
        home.join("auth.json"),
        format!("{{\"OPENAI_API_KEY\": \"{API_KEY}\", \"tokens\": \"{ACCESS}\"}}"),
    )
    .unwrap();
    let file = open_store(home, StoreMode::File, StoreOptions::default());
    out.result(&file.load());
    out.result(&file.update(&mut |document| Ok(document)));
    out.result(&file.save(&full));
    out.result(&file.delete());
}

async fn drive_manager(home: &std::path::Path, jwt: &str, out: &mut Rendered) {
    let env = MapEnv::new().with("CODEX_API_KEY", API_KEY);
    let config = AuthConfig::new(home).with_env(Arc::new(env));
    out.debug(&config);
    let manager = AuthManager::load(config).await.unwrap();
    out.debug(&manager.auth());

    let env = MapEnv::new().with("CODEX_AGENT_IDENTITY", jwt);
    out.debug(&env);
    let manager = AuthManager::load(
        AuthConfig::new(home)
            .with_env(Arc::new(env))
            .with_task_registrar(Arc::new(Registrar)),
    )
    .await
    .unwrap();
    out.debug(&manager.auth());
    out.result(&manager.ensure_background_task_id().await);
    out.result(&manager.request_headers().await);

    let broken = MapEnv::new().with("CODEX_AGENT_IDENTITY", format!("{jwt}.{ACCESS}"));
    out.result(
        &AuthManager::load(AuthConfig::new(home).with_env(Arc::new(broken)))
            .await
            .map(|m| m.auth()),
    );

    let manager = AuthManager::load(
        AuthConfig::new(home)
            .with_env(Arc::new(MapEnv::new()))
            .with_task_registrar(Arc::new(Registrar)),
    )
    .await
    .unwrap();
    out.result(&manager.login_with_api_key(API_KEY.into()).await);
    out.result(&manager.request_headers().await);
    out.result(&manager.login_with_api_key(SecretString::from("  ")).await);
    out.result(
        &manager
            .login_with_agent_identity(jwt.parse().unwrap())
            .await,
    );
    out.result(&manager.ensure_background_task_id().await);
    out.result(&manager.request_headers().await);
    let broken_identity: AgentIdentityInput = format!("{jwt}x.{REFRESH}").parse().unwrap();
    out.result(&manager.login_with_agent_identity(broken_identity).await);
    out.result(&manager.save_tokens(tokens()).await);
    out.debug(&manager.auth());
    out.result(&manager.reload().await);
    out.result(&manager.refresh_if_stale().await);
    out.result(&manager.logout().await);
    out.debug(&manager);
}

fn drive_cli(home: &std::path::Path, jwt: &str) -> String {
    let mut output = String::new();
    let mut step = |args: &[&str], stdin: &str| {
        let mut command = agent_login(home);
        command.arg("-v").args(args).env("RUST_LOG", "trace");
        let result = run(command, stdin);
        output.push_str(&String::from_utf8_lossy(&result.stdout));
        output.push_str(&String::from_utf8_lossy(&result.stderr));
    };
    step(&["login", "--api-key-stdin"], API_KEY);
    step(&["status", "--json"], "");
    // Refused keys and tokens where a path or an argument belongs.
    step(
        &["login", "--api-key-stdin"],
        &format!("{API_KEY} {ACCESS}"),
    );
    step(&["login", "--api-key-stdin"], &format!("{API_KEY}\u{1b}"));
    step(&["login", "--agent-identity-file", jwt], "");
    step(&["identity", "decode", jwt], "");
    step(&["status", jwt], "");
    let header_log = verbose_stderr_of_header(home);
    step(&["login", "--agent-identity-stdin"], jwt);
    step(&["status"], "");
    step(&["identity", "decode", "--json"], jwt);
    step(&["logout", "--json"], "");
    output + &header_log
}

/// `header` prints the credential on stdout on purpose; its logs on stderr
/// must still hold none.
fn verbose_stderr_of_header(home: &std::path::Path) -> String {
    let mut command = agent_login(home);
    command.args(["-v", "header"]).env("RUST_LOG", "trace");
    let result = run(command, "");
    assert!(
        String::from_utf8_lossy(&result.stdout).contains(API_KEY),
        "header printed the key it was asked for"
    );
    String::from_utf8_lossy(&result.stderr).into_owned()
}

#[test]
fn no_entry_point_shows_a_secret_in_debug_display_or_trace_output() {
    let capture = Capture::install_global();

    let agent_key = AgentIdentityKey::generate("rt-hygiene");
    let claims = AgentIdentityClaims::new(
        "ws-hygiene",
        "rt-hygiene",
        agent_key.private_key_pkcs8_base64(),
    )
    .unwrap();
    let signer = JwtSigningKey::generate();
    let minted = mint_agent_identity_jwt(&claims, &signer).unwrap();
    let jwt = minted.expose_secret();
    let identity = AgentIdentity::from_jwt_unverified(jwt).unwrap();
    let private_key = claims.agent_private_key().expose_secret().to_owned();
    let signer_pem = signer.to_pkcs8_pem().expose_secret().to_owned();

    let mut out = Rendered::default();
    out.debug(&claims);
    out.debug(&minted);
    out.debug(&identity);
    out.debug(&agent_key);
    out.debug(&signer);
    let home = tempfile::tempdir().unwrap();
    drive_storage_homes(home.path(), &identity, &mut out);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(drive_manager(home.path(), jwt, &mut out));
    let cli_home = tempfile::tempdir().unwrap();
    let cli_output = drive_cli(cli_home.path(), jwt);

    let traces = capture.text();
    assert!(
        traces.contains("TRACE") || traces.contains("DEBUG"),
        "tracing was captured"
    );
    assert!(
        cli_output.contains("DEBUG") || cli_output.contains("TRACE"),
        "the CLI ran verbosely"
    );
    let everything = format!("{}\n{traces}\n{cli_output}", out.0.join("\n"));
    let payload = jwt.split('.').nth(1).unwrap();
    let pem_body = signer_pem.lines().nth(1).unwrap();
    for (name, secret) in [
        ("API key", API_KEY),
        ("access token", ACCESS),
        ("refresh token", REFRESH),
        ("id token signature", ID_SIGNATURE),
        ("agent private key", private_key.as_str()),
        ("agent identity JWT payload", payload),
        ("signing key", pem_body),
    ] {
        assert!(!everything.contains(secret), "the {name} leaked");
    }
}

/// `login --chatgpt` (a forged callback, then the real one), `login
/// --device-auth` and a failed exchange, run at TRACE: neither output shows
/// a code, verifier, device id or token (the user code and the authorize
/// URL with its `state` are printed on purpose).
#[test]
fn the_chatgpt_sign_in_paths_show_no_secret_at_trace() {
    use crate::chatgpt_login::{callback, signed_in_callback, spawn, start_browser};
    use test_support::oauth::{
        self, ACCESS_MARKER, BROWSER_CODE, DEVICE_AUTH_ID, DEVICE_CODE, DEVICE_VERIFIER,
        FakeIssuer, IssuerOptions, REFRESH_TOKEN,
    };

    let mut everything = String::new();
    for exchange_status in [None, Some(400)] {
        let home = tempfile::tempdir().unwrap();
        let issuer = FakeIssuer::start(IssuerOptions {
            exchange_status,
            ..IssuerOptions::default()
        });
        let (running, query) = start_browser(home.path(), &issuer, &["-v", "--json"]);
        oauth::browser_get(&callback(
            &query,
            &format!("code={BROWSER_CODE}&state=forged"),
        ));
        oauth::browser_get(&signed_in_callback(&query));
        let finished = running.finish();
        assert_eq!(finished.code, if exchange_status.is_none() { 0 } else { 3 });
        everything.push_str(&finished.stdout);
        everything.push_str(&finished.stderr);
    }
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let url = issuer.url();
    let finished = spawn(
        home.path(),
        &["-v", "login", "--device-auth", "--issuer", &url, "--json"],
        true,
    )
    .finish();
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    everything.push_str(&finished.stdout);
    everything.push_str(&finished.stderr);

    assert!(
        everything.contains("DEBUG") || everything.contains("TRACE"),
        "the CLI ran verbosely"
    );
    let id_payload = oauth::issued_id_token("acct-login")
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    for (name, secret) in [
        ("browser authorization code", BROWSER_CODE),
        ("device authorization code", DEVICE_CODE),
        ("device code verifier", DEVICE_VERIFIER),
        ("device auth id", DEVICE_AUTH_ID),
        ("refresh token", REFRESH_TOKEN),
        ("access token", ACCESS_MARKER),
        ("id token", id_payload.as_str()),
    ] {
        assert!(!everything.contains(secret), "the {name} leaked");
    }
}
