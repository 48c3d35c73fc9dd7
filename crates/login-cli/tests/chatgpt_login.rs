//! `login --chatgpt` and `login --device-auth` through the built binary,
//! against a fake issuer on loopback (`test_support::oauth`), with a plain
//! TCP client standing in for the browser. Every wait is bounded: a login
//! that does not end within its bound is killed and the test fails.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use test_support::oauth::{
    self, ACCESS_MARKER, BROWSER_CODE, DEVICE_AUTH_ID, DEVICE_CODE, DEVICE_VERIFIER, FakeIssuer,
    IssuerOptions, REFRESH_TOKEN, USER_CODE,
};

use crate::support::{agent_login, cli, code, json, run};

/// How long any one step may take before the test fails.
const BOUND: Duration = Duration::from_secs(30);

/// A running `agent-login login ...`, its stderr read line by line.
pub(crate) struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: JoinHandle<()>,
    stdout_thread: JoinHandle<String>,
}

/// What a finished login printed.
pub(crate) struct Finished {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn spawn(home: &Path, args: &[&str], trace: bool) -> Running {
    let mut command = agent_login(home);
    command.args(args);
    if trace {
        command.env("RUST_LOG", "trace");
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let (sender, lines) = mpsc::channel();
    let stderr = Arc::new(Mutex::new(String::new()));
    let stderr_thread = {
        let pipe = child.stderr.take().unwrap();
        let stderr = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                stderr.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = sender.send(line);
            }
        })
    };
    let stdout_thread = {
        let mut pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    Running {
        child,
        lines,
        stderr,
        stderr_thread,
        stdout_thread,
    }
}

impl Running {
    /// The first stderr line starting with `prefix` (fails after BOUND).
    fn line_starting_with(&self, prefix: &str) -> String {
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line starting with {prefix:?}; stderr so far:\n{}",
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// Waits (at most BOUND) for the process to exit.
    pub(crate) fn finish(mut self) -> Finished {
        let deadline = Instant::now() + BOUND;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the login did not end; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stderr_thread.join().unwrap();
        let stdout = self.stdout_thread.join().unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        Finished {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

fn browser_args<'a>(issuer: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "login",
        "--chatgpt",
        "--no-browser",
        "--port",
        "0",
        "--issuer",
        issuer,
        "--store",
        "file",
    ];
    args.extend_from_slice(extra);
    args
}

/// Starts a browser login and returns it with its authorize URL's query.
pub(crate) fn start_browser(
    home: &Path,
    issuer: &FakeIssuer,
    extra: &[&str],
) -> (Running, std::collections::HashMap<String, String>) {
    let url = issuer.url();
    let running = spawn(home, &browser_args(&url, extra), true);
    let authorize = running.line_starting_with(&format!("{url}/oauth/authorize?"));
    let query = oauth::authorize_query(&authorize);
    issuer.expect_challenge(&query["code_challenge"]);
    (running, query)
}

/// The callback URL with `params` (already encoded).
pub(crate) fn callback(query: &std::collections::HashMap<String, String>, params: &str) -> String {
    format!("{}?{params}", query["redirect_uri"])
}

/// The callback a browser follows once the user signed in: the issuer's
/// code and the state the login sent.
pub(crate) fn signed_in_callback(query: &std::collections::HashMap<String, String>) -> String {
    callback(
        query,
        &format!(
            "code={BROWSER_CODE}&state={}",
            oauth::encode(&query["state"])
        ),
    )
}

/// No secret of either flow in `text`.
fn assert_no_secret(text: &str) {
    for secret in [
        BROWSER_CODE,
        DEVICE_CODE,
        DEVICE_VERIFIER,
        DEVICE_AUTH_ID,
        REFRESH_TOKEN,
        ACCESS_MARKER,
    ] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    // The access and id tokens are JWTs: no base64url of their payloads.
    assert!(!text.contains("eyJ"), "a JWT printed:\n{text}");
}

fn stored(home: &Path) -> Option<String> {
    std::fs::read_to_string(home.join("auth.json")).ok()
}

/// Stores an API key, the credentials a failed login must leave alone.
fn store_api_key(home: &Path) -> String {
    let mut command = agent_login(home);
    command.args(["login", "--api-key-stdin", "--store", "file"]);
    let output = run(command, "sk-previous-key-1234\n");
    assert_eq!(code(&output), 0);
    stored(home).unwrap()
}

#[test]
fn browser_login_signs_in_through_the_callback_and_a_runtime_resolves_the_tokens() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (running, query) = start_browser(home.path(), &issuer, &["--json"]);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], oauth::CLIENT_ID);
    assert_eq!(query["scope"], "openid profile email offline_access");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["id_token_add_organizations"], "true");
    assert_eq!(query["codex_cli_simplified_flow"], "true");
    assert!(query["redirect_uri"].starts_with("http://localhost:"));
    assert!(query["redirect_uri"].ends_with("/auth/callback"));
    assert!(query["state"].len() >= 43);

    let (status, page) = oauth::browser_get(&signed_in_callback(&query));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Signed in"));

    let finished = running.finish();
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    let output: serde_json::Value = serde_json::from_str(finished.stdout.trim()).unwrap();
    assert_eq!(output["schema_version"], 1);
    assert_eq!(output["logged_in"], true);
    assert_eq!(output["mode"], "chatgpt");
    assert_eq!(output["flow"], "browser");
    assert_eq!(output["store"], "file");
    assert_no_secret(&finished.stdout);
    assert_no_secret(&finished.stderr);
    // The exchange passed the server's PKCE check: one token request.
    assert_eq!(issuer.requests_to("/oauth/token").len(), 1);
    assert!(stored(home.path()).unwrap().contains(REFRESH_TOKEN));

    let status = json(&cli(home.path(), &["status", "--json"]));
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["mode"], "chatgpt");
}

#[test]
fn a_callback_with_a_wrong_state_gets_400_and_the_login_keeps_waiting() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (running, query) = start_browser(home.path(), &issuer, &[]);
    let (status, _) = oauth::browser_get(&callback(
        &query,
        &format!("code={BROWSER_CODE}&state=forged"),
    ));
    assert_eq!(status, 400);
    assert!(issuer.requests_to("/oauth/token").is_empty());
    let (status, _) = oauth::browser_get(&signed_in_callback(&query));
    assert_eq!(status, 200);
    let finished = running.finish();
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    assert!(
        finished
            .stdout
            .contains("Logged in with ChatGPT, stored in the file store."),
        "{}",
        finished.stdout
    );
}

#[test]
fn an_error_callback_fails_the_login_with_its_description_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let before = store_api_key(home.path());
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (running, query) = start_browser(home.path(), &issuer, &["--json"]);
    let (status, page) = oauth::browser_get(&callback(
        &query,
        &format!(
            "error=access_denied&error_description=The+user+said+no&state={}",
            oauth::encode(&query["state"])
        ),
    ));
    assert_eq!(status, 400);
    assert!(page.contains("Sign-in failed"));
    let finished = running.finish();
    assert_eq!(finished.code, 3);
    assert!(finished.stderr.contains("access_denied (The user said no)"));
    let error: serde_json::Value = serde_json::from_str(finished.stdout.trim()).unwrap();
    assert_eq!(error["error"]["kind"], "login");
    assert_eq!(stored(home.path()).unwrap(), before);
    assert!(issuer.requests_to("/oauth/token").is_empty());
}

#[test]
fn a_failed_exchange_fails_the_login_and_keeps_the_previous_credentials() {
    let home = tempfile::tempdir().unwrap();
    let before = store_api_key(home.path());
    let issuer = FakeIssuer::start(IssuerOptions {
        exchange_status: Some(500),
        ..IssuerOptions::default()
    });
    let (running, query) = start_browser(home.path(), &issuer, &[]);
    let (status, _) = oauth::browser_get(&signed_in_callback(&query));
    assert_eq!(status, 500);
    let finished = running.finish();
    assert_eq!(finished.code, 3);
    assert!(finished.stderr.contains("HTTP 500"), "{}", finished.stderr);
    assert_no_secret(&finished.stderr);
    assert_eq!(stored(home.path()).unwrap(), before);
}

#[test]
fn a_browser_login_that_times_out_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (running, _) = start_browser(home.path(), &issuer, &["--timeout", "1"]);
    let finished = running.finish();
    assert_eq!(finished.code, 3);
    assert!(
        finished
            .stderr
            .contains("timed out after 1s; nothing was stored")
    );
    assert!(stored(home.path()).is_none());
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_browser_login_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let (running, _) = start_browser(home.path(), &issuer, &[]);
    // Printed once the handler is installed.
    running.line_starting_with("Waiting up to 10 minutes");
    let killed = std::process::Command::new("kill")
        .args(["-INT", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let finished = running.finish();
    assert_eq!(finished.code, 3, "{}", finished.stderr);
    assert!(finished.stderr.contains("cancelled; nothing was stored"));
    assert!(stored(home.path()).is_none());
}

#[test]
fn a_callback_port_in_use_is_refused_with_a_hint_to_use_port_0() {
    let home = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = cli(
        home.path(),
        &[
            "login",
            "--chatgpt",
            "--no-browser",
            "--port",
            &port,
            "--issuer",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(code(&output), 3);
    let stderr = crate::support::stderr(&output);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--port 0"), "{stderr}");
    assert!(stored(home.path()).is_none());
}

#[test]
fn an_issuer_over_plain_http_to_another_host_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(
        home.path(),
        &["login", "--device-auth", "--issuer", "http://auth.example"],
    );
    assert_eq!(code(&output), 2);
    assert!(crate::support::stderr(&output).contains("not a loopback host"));
}

#[test]
fn device_login_polls_through_pending_answers_then_signs_in() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions::default());
    let url = issuer.url();
    let running = spawn(
        home.path(),
        &["login", "--device-auth", "--issuer", &url, "--json"],
        true,
    );
    let finished = running.finish();
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    assert!(finished.stderr.contains(&format!("{url}/codex/device")));
    assert!(finished.stderr.contains(USER_CODE));
    assert!(finished.stderr.contains("phishing"));
    assert_no_secret(&finished.stdout);
    assert_no_secret(&finished.stderr);
    let output: serde_json::Value = serde_json::from_str(finished.stdout.trim()).unwrap();
    assert_eq!(output["logged_in"], true);
    assert_eq!(output["mode"], "chatgpt");
    assert_eq!(output["flow"], "device");
    // Two pending polls (403, 404), then the code.
    assert_eq!(
        issuer.requests_to("/api/accounts/deviceauth/token").len(),
        3
    );
    assert_eq!(issuer.requests_to("/oauth/token").len(), 1);

    let status = json(&cli(home.path(), &["status", "--json"]));
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["mode"], "chatgpt");
}

#[test]
fn device_login_on_a_server_without_it_says_it_is_not_enabled() {
    let home = tempfile::tempdir().unwrap();
    let issuer = FakeIssuer::start(IssuerOptions {
        device_pending: None,
        ..IssuerOptions::default()
    });
    let output = cli(
        home.path(),
        &["login", "--device-auth", "--issuer", &issuer.url()],
    );
    assert_eq!(code(&output), 3);
    let stderr = crate::support::stderr(&output);
    assert!(
        stderr.contains("device-code login is not enabled"),
        "{stderr}"
    );
    assert!(stored(home.path()).is_none());
}

#[test]
fn device_login_that_expires_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let before = store_api_key(home.path());
    let issuer = FakeIssuer::start(IssuerOptions {
        device_pending: Some(usize::MAX),
        ..IssuerOptions::default()
    });
    let url = issuer.url();
    let running = spawn(
        home.path(),
        &["login", "--device-auth", "--issuer", &url, "--timeout", "1"],
        false,
    );
    let finished = running.finish();
    assert_eq!(finished.code, 3);
    assert!(
        finished
            .stderr
            .contains("timed out after 1s; nothing was stored")
    );
    assert!(issuer.requests_to("/oauth/token").is_empty());
    assert_eq!(stored(home.path()).unwrap(), before);
}
