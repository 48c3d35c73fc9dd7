//! Running the binary: a clean environment, a temporary home, stdin.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agent-login"))
}

/// A command with none of the variables that change resolution inherited.
pub fn agent_login(home: &Path) -> Command {
    let mut command = Command::new(binary());
    for name in [
        "CODEX_HOME",
        "CODEX_API_KEY",
        "CODEX_AGENT_IDENTITY",
        "CODEX_AUTH_STORE",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command.env("CODEX_HOME", home);
    // `logout` revokes stored ChatGPT tokens: never at the real server
    // from a test. A closed loopback port refuses at once; tests of the
    // revoke set their own server.
    command.env(
        "CODEX_REVOKE_TOKEN_URL_OVERRIDE",
        test_support::loopback::closed_port_url(),
    );
    command
}

/// Runs with `stdin` fed to the process.
pub fn run(mut command: Command, stdin: &str) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `agent-login ARGS` in `home` with empty stdin.
pub fn cli(home: &Path, args: &[&str]) -> Output {
    let mut command = agent_login(home);
    command.args(args);
    run(command, "")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(stdout(output).trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

/// Mints an identity with the binary itself; returns the `--json` output.
pub fn mint(home: &Path, workspace: &str, runtime: &str) -> serde_json::Value {
    let output = cli(
        home,
        &[
            "identity",
            "mint",
            "--workspace-id",
            workspace,
            "--agent-runtime-id",
            runtime,
            "--json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    json(&output)
}
