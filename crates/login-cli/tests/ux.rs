//! Issue 13, as a new user meets the CLI: safe minting, `status` saying
//! what to do next, the ephemeral store, shadowed credentials, the hidden
//! prompt, help, completions and the man page, human words and the JSON
//! schema.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{agent_login, binary, cli, code, json, mint, run, stderr, stdout};

/// Runs `command_line` (a shell command) under `script`, so that the
/// binary's stdin and stdout are a pseudo-terminal; `input` is typed into
/// it. Bounded: `timeout` ends it after 20 s.
fn in_terminal(home: &Path, command_line: &str, input: &str) -> (i32, String) {
    let mut command = Command::new("timeout");
    command
        .args(["20", "script", "-q", "-e", "-c", command_line, "/dev/null"])
        .env_remove("CODEX_API_KEY")
        .env_remove("CODEX_AGENT_IDENTITY")
        .env_remove("CODEX_AUTH_STORE")
        .env("CODEX_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = run(command, input);
    (
        code(&output),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn bin() -> String {
    binary().display().to_string()
}

// Item 1: `identity mint --output`.

#[test]
fn mint_output_writes_the_token_0600_and_refuses_to_overwrite_without_force() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("identity.jwt");
    let file_arg = file.to_str().unwrap();
    let args = [
        "identity",
        "mint",
        "--workspace-id",
        "ws-1",
        "--agent-runtime-id",
        "rt-1",
        "--output",
        file_arg,
    ];
    let output = cli(home.path(), &args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!stdout(&output).contains("eyJ"), "no token on stdout");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = std::fs::read_to_string(&file).unwrap();
    assert_eq!(first.matches('.').count(), 2, "a JWT");

    let again = cli(home.path(), &args);
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);

    // --force replaces it, still 0600, even over a looser file.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(code(&cli(home.path(), &forced)), 0);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), first);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // The file logs in, as the README does it.
    let login = cli(home.path(), &["login", "--agent-identity-file", file_arg]);
    assert_eq!(code(&login), 0, "{}", stderr(&login));
}

#[test]
fn mint_output_never_follows_a_symlink_planted_at_the_path() {
    let home = tempfile::tempdir().unwrap();
    let victim = home.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = home.path().join("identity.jwt");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let output = cli(
        home.path(),
        &[
            "identity",
            "mint",
            "--workspace-id",
            "ws-1",
            "--agent-runtime-id",
            "rt-1",
            "--output",
            link.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&output), 2);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

#[test]
fn mint_to_a_terminal_warns_on_stderr_that_the_token_holds_a_private_key() {
    let home = tempfile::tempdir().unwrap();
    let (status, text) = in_terminal(
        home.path(),
        &format!(
            "{} identity mint --workspace-id ws-1 --agent-runtime-id rt-1",
            bin()
        ),
        "",
    );
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("holds the agent's private key"), "{text}");
    assert!(text.contains("--output"), "{text}");
    // Piped, as a launcher runs it: the token only, no warning.
    let piped = cli(
        home.path(),
        &[
            "identity",
            "mint",
            "--workspace-id",
            "ws-1",
            "--agent-runtime-id",
            "rt-1",
        ],
    );
    assert_eq!(stderr(&piped), "");
}

// Item 2: what to do next.

#[test]
fn status_logged_out_ends_with_the_login_commands_that_would_work() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["status", "--store", "file"]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("Next: log in with `agent-login login --store file --api-key-stdin`")
            && last.contains("--agent-identity-file")
            && last.contains("CODEX_AGENT_IDENTITY"),
        "{text}"
    );
    let value = json(&cli(home.path(), &["status", "--store", "file", "--json"]));
    assert_eq!(
        value["hint"].as_str().unwrap(),
        last.trim_start_matches("Next: ").trim_end_matches('.')
    );
}

#[test]
fn status_on_a_keyring_failure_suggests_the_file_store() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    // No session bus: the Secret Service cannot be reached.
    command
        .args(["status", "--store", "keyring", "--json"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let output = run(command, "");
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(value["error"]["kind"], "keyring");
    assert!(
        value["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--store file")
    );
    assert!(stderr(&output).contains("Next: ") && stderr(&output).contains("--store file"));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
}

#[test]
fn status_on_a_corrupt_file_says_login_moves_it_aside_and_login_does() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("auth.json");
    std::fs::write(&file, "{ not json").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = cli(home.path(), &["status", "--json"]);
    assert_eq!(code(&output), 2);
    let hint = json(&output)["error"]["hint"].as_str().unwrap().to_owned();
    assert!(
        hint.contains("`agent-login login` moves the corrupt file aside"),
        "{hint}"
    );
    assert!(stderr(&output).contains(&hint), "{}", stderr(&output));
    let mut login = agent_login(home.path());
    login.args(["login", "--api-key-stdin"]);
    let output = run(login, "sk-after-corrupt-0000001");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let aside = std::fs::read_dir(home.path())
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("auth.json.corrupt-")
        })
        .count();
    assert_eq!(aside, 1);
}

// Item 3: the ephemeral store.

#[test]
fn status_for_the_ephemeral_store_names_no_file() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["status", "--store", "ephemeral"]);
    assert_eq!(code(&output), 1);
    assert!(
        !stdout(&output).contains("auth.json"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("no file"), "{}", stdout(&output));
    let value = json(&cli(
        home.path(),
        &["status", "--store", "ephemeral", "--json"],
    ));
    assert!(!value["looked_in"].to_string().contains("auth.json"));
}

// Item 4: shadowing.

#[test]
fn status_lists_credentials_that_exist_but_are_not_used_and_why() {
    let home = tempfile::tempdir().unwrap();
    let mut login = agent_login(home.path());
    login.args(["login", "--api-key-stdin"]);
    assert_eq!(code(&run(login, "sk-stored-000000000001")), 0);
    let jwt = mint(home.path(), "ws-1", "rt-1")["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = |json_output: bool| {
        let mut command = agent_login(home.path());
        command
            .arg("status")
            .env("CODEX_API_KEY", "sk-env-0000000000002")
            .env("CODEX_AGENT_IDENTITY", &jwt);
        if json_output {
            command.arg("--json");
        }
        run(command, "")
    };
    let output = status(false);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    assert!(text.contains("Ignored credentials"), "{text}");
    assert!(
        text.contains("CODEX_AGENT_IDENTITY in the environment (env:CODEX_AGENT_IDENTITY): not used: CODEX_API_KEY in the environment comes first"),
        "{text}"
    );
    assert!(
        text.contains("the login stored in the file store (file): not used"),
        "{text}"
    );
    let value = json(&status(true));
    let shadowed = value["shadowed"].as_array().unwrap();
    let sources: Vec<&str> = shadowed
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["env:CODEX_AGENT_IDENTITY", "file"]);
    assert!(
        shadowed
            .iter()
            .all(|s| s["shadowed_by"] == "env:CODEX_API_KEY")
    );
    assert!(
        shadowed
            .iter()
            .all(|s| s["reason"].as_str().unwrap().contains("comes first"))
    );
    assert!(!value.to_string().contains("sk-stored") && !value.to_string().contains(&jwt));
}

#[test]
fn the_library_logs_one_info_event_naming_the_shadowed_variable() {
    let home = tempfile::tempdir().unwrap();
    let jwt = mint(home.path(), "ws-1", "rt-1")["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut command = agent_login(home.path());
    command
        .args(["-v", "status"])
        .env("RUST_LOG", "info")
        .env("CODEX_API_KEY", "sk-env-0000000000002")
        .env("CODEX_AGENT_IDENTITY", &jwt);
    let output = run(command, "");
    assert_eq!(code(&output), 0);
    let events: Vec<String> = stderr(&output)
        .lines()
        .filter(|line| line.contains("INFO") && line.contains("shadowed"))
        .map(str::to_owned)
        .collect();
    assert_eq!(events.len(), 1, "{}", stderr(&output));
    assert!(events[0].contains("env:CODEX_AGENT_IDENTITY"), "{events:?}");
    assert!(!stderr(&output).contains(&jwt));
}

#[test]
fn logout_says_when_an_environment_variable_still_authenticates() {
    let home = tempfile::tempdir().unwrap();
    let mut command = agent_login(home.path());
    command
        .arg("logout")
        .env("CODEX_API_KEY", "sk-env-0000000000003");
    let output = run(command, "");
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    assert!(text.contains("Nothing to remove"), "{text}");
    assert!(text.contains("CODEX_API_KEY is still set"), "{text}");
    let mut command = agent_login(home.path());
    command
        .args(["logout", "--json"])
        .env("CODEX_API_KEY", "sk-env-0000000000003");
    let value = json(&run(command, ""));
    assert_eq!(
        value["still_authenticated_by"],
        serde_json::json!(["env:CODEX_API_KEY"])
    );
    let plain = json(&cli(home.path(), &["logout", "--json"]));
    assert_eq!(plain["still_authenticated_by"], serde_json::json!([]));
}

// Item 5: the prompt.

#[test]
fn login_on_a_terminal_prompts_on_stderr_and_reads_one_line_without_echo() {
    let home = tempfile::tempdir().unwrap();
    // Typed only once the prompt is shown, as a person would.
    let mut child = Command::new("timeout")
        .args(["20", "script", "-q", "-e", "-c"])
        .arg(format!("{} login --api-key-stdin", bin()))
        .arg("/dev/null")
        .env_remove("CODEX_API_KEY")
        .env_remove("CODEX_AGENT_IDENTITY")
        .env_remove("CODEX_AUTH_STORE")
        .env("CODEX_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut terminal = child.stdout.take().unwrap();
    let (chunks, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 1024];
        while let Ok(read @ 1..) = std::io::Read::read(&mut terminal, &mut buffer) {
            if chunks.send(buffer[..read].to_vec()).is_err() {
                break;
            }
        }
    });
    let bound = std::time::Duration::from_secs(20);
    let mut text = String::new();
    while !text.contains("Enter to finish): ") {
        let chunk = received.recv_timeout(bound).expect("the prompt");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"sk-typed-key-000000004\r").unwrap();
    // Until the terminal closes (the sender ends with it), bounded.
    while let Ok(chunk) = received.recv_timeout(bound) {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("API key (input is hidden"), "{text}");
    assert!(text.contains("Logged in with an API key"), "{text}");
    assert!(!text.contains("sk-typed-key"), "echoed: {text}");
    let value = json(&cli(home.path(), &["status", "--json"]));
    assert_eq!(value["api_key"], "sk-...0004");
}

// Item 6: help.

#[test]
fn help_puts_global_options_under_their_own_heading_and_identity_lists_no_storage_options() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["identity", "mint", "--help"][..],
        &["identity", "decode", "--help"],
    ] {
        let text = stdout(&cli(home.path(), args));
        assert!(
            !text.contains("--codex-home") && !text.contains("--store"),
            "{text}"
        );
        assert!(text.contains("Global options:"), "{text}");
    }
    let text = stdout(&cli(home.path(), &["status", "-h"]));
    let (own, global) = text.split_once("Global options:").unwrap();
    assert!(
        !own.contains("--json") && !own.contains("--verbose"),
        "{text}"
    );
    assert!(global.contains("--json"), "{text}");
    assert!(
        text.contains("[possible values: file, keyring, auto, ephemeral]"),
        "{text}"
    );
    // A storage option before an identity command is refused, not ignored.
    let output = cli(
        home.path(),
        &[
            "--store",
            "file",
            "identity",
            "mint",
            "--workspace-id",
            "w",
            "--agent-runtime-id",
            "r",
        ],
    );
    assert_eq!(code(&output), 2);
}

#[test]
fn every_help_example_names_the_program_and_parses() {
    let home = tempfile::tempdir().unwrap();
    let pages: [&[&str]; 9] = [
        &["--help"],
        &["status", "--help"],
        &["login", "--help"],
        &["header", "--help"],
        &["logout", "--help"],
        &["identity", "decode", "--help"],
        &["identity", "mint", "--help"],
        &["completions", "--help"],
        &["identity", "--help"],
    ];
    let mut seen = 0;
    for page in pages {
        let text = stdout(&cli(home.path(), page));
        let Some((_, examples)) = text.split_once("Example") else {
            continue;
        };
        for line in examples
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            seen += 1;
            let start = line
                .find("agent-login ")
                .unwrap_or_else(|| panic!("{page:?}: example without the program: {line}"));
            let before = &line[..start];
            assert!(
                before.is_empty() || before.ends_with(' ') || before.ends_with("$("),
                "{line}"
            );
            // The words up to a redirect, pipe or note, then --help: clap
            // accepts the line only if every flag before it exists.
            let words: Vec<&str> = line[start + "agent-login ".len()..]
                .split_whitespace()
                .take_while(|w| {
                    !matches!(*w, "<" | ">" | "|") && !w.starts_with('(') && !w.ends_with(')')
                })
                .map(|w| w.trim_end_matches(')'))
                .collect();
            let mut args = words.clone();
            args.push("--help");
            let output = cli(home.path(), &args);
            assert_eq!(code(&output), 0, "{line}: {}", stderr(&output));
        }
    }
    assert!(seen >= 12, "{seen} examples");
}

// Item 7: completions and the man page.

#[test]
fn completions_print_a_script_for_each_shell() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = cli(home.path(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}");
        assert!(stdout(&output).contains("agent-login"), "{shell}");
        assert!(stdout(&output).contains("api-key-stdin"), "{shell}");
    }
    let output = cli(home.path(), &["completions", "bash"]);
    let check = Command::new("bash")
        .args(["-n", "-c", &stdout(&output)])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn the_man_page_argument_prints_a_roff_page_naming_every_command() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path(), &["__man"]);
    assert_eq!(code(&output), 0);
    let page = stdout(&output);
    assert!(
        page.starts_with(".ie") || page.contains(".TH agent-login"),
        "{page}"
    );
    for command in [
        "status",
        "login",
        "logout",
        "header",
        "identity",
        "completions",
    ] {
        assert!(page.contains(command), "{command}");
    }
    assert!(!stdout(&cli(home.path(), &["--help"])).contains("__man"));
}

// Item 8: words and JSON.

#[test]
fn human_output_says_api_key_and_agent_identity_while_json_keeps_machine_names() {
    let home = tempfile::tempdir().unwrap();
    let mut login = agent_login(home.path());
    login.args(["login", "--api-key-stdin"]);
    let output = run(login, "sk-words-00000000000005");
    assert_eq!(
        stdout(&output),
        "Logged in with an API key, stored in the file store.\n"
    );
    let text = stdout(&cli(home.path(), &["status"]));
    assert!(
        text.starts_with("Logged in with an API key, source file"),
        "{text}"
    );
    assert!(!text.contains("apikey"), "{text}");
    let jwt = mint(home.path(), "ws-1", "rt-1")["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut command = agent_login(home.path());
    command.arg("status").env("CODEX_AGENT_IDENTITY", &jwt);
    let text = stdout(&run(command, ""));
    assert!(
        text.starts_with("Logged in with an agent identity, source env:CODEX_AGENT_IDENTITY"),
        "{text}"
    );
    assert!(!text.contains("agentIdentity"), "{text}");
    assert_eq!(
        json(&cli(home.path(), &["status", "--json"]))["mode"],
        "apikey"
    );
}

#[test]
fn every_json_output_carries_schema_version_1() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-1", "rt-1");
    assert_eq!(minted["schema_version"], 1);
    let file = home.path().join("id.jwt");
    std::fs::write(&file, minted["jwt"].as_str().unwrap()).unwrap();
    let file = file.to_str().unwrap();
    for args in [
        &["status", "--json"][..],
        &["header", "--json"],
        &["login", "--agent-identity-file", file, "--json"],
        &["identity", "decode", file, "--json"],
        &["logout", "--json"],
        &["status", "--bogus", "--json"],
        &["identity", "decode", "/nonexistent/x", "--json"],
    ] {
        let value = json(&cli(home.path(), args));
        assert_eq!(value["schema_version"], 1, "{args:?}: {value}");
    }
}

#[test]
fn status_json_carries_the_looked_in_list_the_human_output_prints() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(&cli(home.path(), &["status"]));
    let value = json(&cli(home.path(), &["status", "--json"]));
    let listed: Vec<String> = text
        .lines()
        .filter_map(|line| {
            line.trim_start()
                .split_once(". ")
                .filter(|(n, _)| n.parse::<u8>().is_ok())
        })
        .map(|(_, place)| place.to_owned())
        .collect();
    let looked_in: Vec<String> = value["looked_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|place| place.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed, looked_in);
}

#[test]
fn json_usage_errors_name_the_missing_and_the_conflicting_arguments() {
    let home = tempfile::tempdir().unwrap();
    let value = json(&cli(home.path(), &["login", "--json"]));
    assert_eq!(
        value["error"]["missing"],
        serde_json::json!([
            "--api-key-stdin",
            "--agent-identity-stdin",
            "--agent-identity-file <PATH>",
            "--chatgpt",
            "--device-auth"
        ])
    );
    let value = json(&cli(
        home.path(),
        &[
            "login",
            "--api-key-stdin",
            "--agent-identity-stdin",
            "--json",
        ],
    ));
    let conflicting = value["error"]["conflicting"].to_string();
    assert!(
        conflicting.contains("--api-key-stdin") && conflicting.contains("--agent-identity-stdin"),
        "{value}"
    );
    let value = json(&cli(
        home.path(),
        &["identity", "mint", "--workspace-id", "w", "--json"],
    ));
    assert_eq!(
        value["error"]["missing"],
        serde_json::json!(["--agent-runtime-id <AGENT_RUNTIME_ID>"])
    );
}
