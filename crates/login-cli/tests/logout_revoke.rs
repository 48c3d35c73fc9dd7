//! `logout` revokes the stored ChatGPT refresh token first (at the server
//! `CODEX_REVOKE_TOKEN_URL_OVERRIDE` names, a loopback server here), then
//! deletes the local credentials whatever the outcome, and reports it:
//! success, a server error, a server that never answers, `--no-revoke`,
//! and an API key (nothing to revoke).

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_support::id_token;
use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};

use crate::support::{agent_login, code, run, stderr, stdout};

const REFRESH: &str = "rt-CLI-REVOKE-MARKER";

fn write_tokens(home: &Path) {
    let document = serde_json::json!({
        "auth_mode": "chatgpt",
        "tokens": {
            "id_token": id_token("dev@example.com", "acct"),
            "access_token": access_token(unix_now() + 3600, "ACCESS"),
            "refresh_token": REFRESH,
            "account_id": "acct",
        },
    });
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

/// `agent-login ARGS` with the revoke endpoint at `server`, killed if it
/// has not finished within 60 s (the revoke itself gives up after 5 s).
fn logout(home: &Path, server: &LoopbackServer, args: &[&str]) -> Output {
    let mut command = agent_login(home);
    command
        .env("CODEX_REVOKE_TOKEN_URL_OVERRIDE", server.url())
        .arg("logout")
        .args(args);
    bounded(command, Duration::from_secs(60))
}

fn bounded(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("agent-login logout did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(stdout(output).trim()).unwrap()
}

fn assert_deleted_without_leak(home: &Path, output: &Output) {
    assert_eq!(code(output), 0, "{}", stderr(output));
    assert!(!home.join("auth.json").exists(), "credentials deleted");
    let text = format!("{}{}", stdout(output), stderr(output));
    assert!(!text.contains(REFRESH), "{text}");
}

#[test]
fn logout_revokes_the_refresh_token_then_deletes_the_credentials() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path());
    let server = LoopbackServer::always(4, Reply::text(200, "{}"));
    let output = logout(home.path(), &server, &["--json"]);
    assert_deleted_without_leak(home.path(), &output);
    assert_eq!(
        json(&output),
        serde_json::json!({"schema_version": 1, "removed": true, "revoked": true, "still_authenticated_by": []})
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].json(),
        serde_json::json!({
            "token": REFRESH,
            "token_type_hint": "refresh_token",
            "client_id": auth_http::DEFAULT_REFRESH_CLIENT_ID,
        })
    );

    // Human output says so.
    write_tokens(home.path());
    let output = logout(home.path(), &server, &[]);
    assert_deleted_without_leak(home.path(), &output);
    assert!(stdout(&output).contains("revoked"), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("Logged out"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn logout_reports_a_server_error_and_still_deletes_the_credentials() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path());
    // The server echoes the request, token included, in its error body.
    let server = LoopbackServer::start(4, |request| Reply::text(500, request.body.clone()));
    let output = logout(home.path(), &server, &[]);
    assert_deleted_without_leak(home.path(), &output);
    let text = stdout(&output);
    assert!(text.contains("could not revoke"), "{text}");
    assert!(text.contains("500"), "{text}");
    assert!(text.contains("Logged out"), "{text}");

    write_tokens(home.path());
    let output = logout(home.path(), &server, &["--json"]);
    assert_deleted_without_leak(home.path(), &output);
    assert_eq!(
        json(&output),
        serde_json::json!({"schema_version": 1, "removed": true, "revoked": false, "still_authenticated_by": []})
    );
}

#[test]
fn logout_gives_up_on_a_server_that_never_answers_and_still_deletes_the_credentials() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path());
    // Answers only when dropped, long after the CLI's 5 s timeout.
    let server = LoopbackServer::always(4, Reply::text(200, "{}").delayed(Duration::from_secs(90)));
    let output = logout(home.path(), &server, &["--json"]);
    assert_deleted_without_leak(home.path(), &output);
    assert_eq!(
        json(&output),
        serde_json::json!({"schema_version": 1, "removed": true, "revoked": false, "still_authenticated_by": []})
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn logout_no_revoke_sends_nothing_and_deletes_the_credentials() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path());
    let server = LoopbackServer::always(4, Reply::text(200, "{}"));
    let output = logout(home.path(), &server, &["--no-revoke", "--json"]);
    assert_deleted_without_leak(home.path(), &output);
    assert_eq!(
        json(&output),
        serde_json::json!({"schema_version": 1, "removed": true, "revoked": null, "still_authenticated_by": []})
    );
    write_tokens(home.path());
    let output = logout(home.path(), &server, &["--no-revoke"]);
    assert_deleted_without_leak(home.path(), &output);
    assert!(!stdout(&output).contains("revoke"), "{}", stdout(&output));
    assert_eq!(server.request_count(), 0, "the server saw no request");
}

#[test]
fn logout_of_an_api_key_has_nothing_to_revoke() {
    let home = tempfile::tempdir().unwrap();
    let mut login = agent_login(home.path());
    login.args(["login", "--api-key-stdin"]);
    assert_eq!(code(&run(login, "sk-revoke-none-0000")), 0);
    let server = LoopbackServer::always(4, Reply::text(200, "{}"));
    let output = logout(home.path(), &server, &["--json"]);
    assert_deleted_without_leak(home.path(), &output);
    assert_eq!(
        json(&output),
        serde_json::json!({"schema_version": 1, "removed": true, "revoked": null, "still_authenticated_by": []})
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_traced_revoke_shows_no_token() {
    let home = tempfile::tempdir().unwrap();
    write_tokens(home.path());
    let server = LoopbackServer::start(4, |request| Reply::text(400, request.body.clone()));
    let mut command = agent_login(home.path());
    command
        .env("CODEX_REVOKE_TOKEN_URL_OVERRIDE", server.url())
        .env("RUST_LOG", "trace")
        .args(["-vv", "logout"]);
    let output = bounded(command, Duration::from_secs(60));
    assert_deleted_without_leak(home.path(), &output);
    assert!(
        stderr(&output).contains("token revoke"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.request_count(), 1);
}
