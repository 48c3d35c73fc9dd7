//! The README's commands work as written: the walkthrough block runs in
//! bash against the built binary, and the main job exits 1 on a fresh home.

use std::process::Command;

use crate::support::{binary, cli, code, stdout};
use test_support::loopback::{LoopbackServer, Reply};

const README: &str = include_str!("../../../README.md");

/// The first ```sh block after `heading`.
fn block_after(heading: &str) -> String {
    let section = README
        .split_once(heading)
        .unwrap_or_else(|| panic!("README lacks {heading}"))
        .1;
    let start = section.find("```sh\n").unwrap() + "```sh\n".len();
    section[start..][..section[start..].find("```").unwrap()].to_owned()
}

#[test]
fn readme_main_job_reports_where_it_looked_and_exits_1_on_a_fresh_machine() {
    let command = block_after("Run the main job");
    let args = command
        .trim()
        .strip_prefix("cargo run -p login-cli -- ")
        .expect("main job runs the CLI");
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &args.split_whitespace().collect::<Vec<_>>());
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).contains("Not logged in"));
}

#[test]
fn readme_walkthrough_runs_as_written_from_a_codex_home_that_does_not_exist() {
    let script = block_after("## Walkthrough");
    let dir = tempfile::tempdir().unwrap();
    let codex_home = dir.path().join("not-created-yet");
    let auth_api = LoopbackServer::always(
        4,
        Reply::json(200, serde_json::json!({ "task_id": "task-readme" })),
    );
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("CODEX_HOME", &codex_home)
        .env("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL", auth_api.url())
        .env_remove("CODEX_API_KEY")
        .env_remove("CODEX_AGENT_IDENTITY")
        .env_remove("CODEX_AUTH_STORE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "walkthrough failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("env:CODEX_AGENT_IDENTITY"), "{text}");
    assert!(text.contains("\"source\":\"file\""), "{text}");
    assert!(
        text.contains("\"Authorization\":\"AgentAssertion "),
        "{text}"
    );
    assert!(
        text.contains("\"ChatGPT-Account-ID\":\"ws-demo\""),
        "{text}"
    );
    assert_eq!(auth_api.request_count(), 1, "one registration");
    assert!(text.contains("Logged out"), "{text}");
    assert!(!codex_home.join("auth.json").exists());
}

#[test]
fn readme_says_how_to_put_agent_login_on_path_and_its_completion_commands_work() {
    let install = block_after("## Install");
    assert!(
        install.contains("cargo install --path crates/login-cli"),
        "{install}"
    );
    let completions = block_after("Shell completions");
    let home = tempfile::tempdir().unwrap();
    let mut shells = 0;
    for line in completions
        .lines()
        .filter(|line| line.starts_with("agent-login completions "))
    {
        let shell = line.split_whitespace().nth(2).unwrap();
        let output = cli(home.path(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{line}");
        assert!(!stdout(&output).is_empty(), "{line}");
        shells += 1;
    }
    assert_eq!(shells, 3);
    assert!(README.contains("cargo xtask man"));
}
