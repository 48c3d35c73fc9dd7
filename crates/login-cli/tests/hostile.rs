//! Hostile input, through the built binary: special files where a file
//! belongs, unbounded stdin, oversized and malformed API keys, tokens
//! pasted where a path belongs, and control characters (terminal
//! injection) in every value `status`, `identity decode` and errors print.
//! Every process runs under a 20 s bound: a hang is a failure, not a stuck
//! test run.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use login_agent_identity::{AgentIdentity, ExposeSecret as _};
use test_support::loopback::{LoopbackServer, Reply};

use crate::support::{agent_login, code, json, mint, stderr, stdout};

/// The longest any run may take before it is killed and the test fails.
const BOUND: Duration = Duration::from_secs(20);

/// ESC (a colour), BEL, C1 CSI, DEL and RIGHT-TO-LEFT OVERRIDE.
const HOSTILE: &str = "\u{1b}[31m\u{7}\u{9b}\u{7f}\u{202e}";

/// Runs `command` with `stdin` fed (a closed pipe is fine: the process may
/// refuse input before reading it all), killing it after [`BOUND`].
fn run_bounded(mut command: Command, stdin: impl Into<Stdin>) -> Output {
    let stdin = stdin.into();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    match &stdin {
        Stdin::Bytes(_) => command.stdin(Stdio::piped()),
        Stdin::File(path) => command.stdin(std::fs::File::open(path).unwrap()),
    };
    let mut child = command.spawn().unwrap();
    let writer = child.stdin.take().map(|mut pipe| {
        let Stdin::Bytes(bytes) = stdin else {
            unreachable!()
        };
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out_pipe.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err_pipe.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("agent-login did not exit within {BOUND:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(writer) = writer {
        writer.join().unwrap();
    }
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// What a run reads on stdin.
enum Stdin {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl From<&str> for Stdin {
    fn from(text: &str) -> Self {
        Stdin::Bytes(text.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for Stdin {
    fn from(bytes: Vec<u8>) -> Self {
        Stdin::Bytes(bytes)
    }
}

fn cli(home: &Path, args: &[&str], stdin: impl Into<Stdin>) -> Output {
    let mut command = agent_login(home);
    command.args(args);
    run_bounded(command, stdin)
}

/// All of stdout and stderr, lossily.
fn all_output(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// No character that could drive a terminal: only newlines separate lines.
fn assert_terminal_safe(text: &str) {
    let unsafe_chars: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(
        unsafe_chars.is_empty(),
        "raw control characters {unsafe_chars:?} reached the terminal: {text:?}"
    );
}

/// The hostile characters as `escape` writes them.
const HOSTILE_ESCAPED: &str = "\\u{1b}[31m\\u{7}\\u{9b}\\u{7f}\\u{202e}";

/// The special files every file option must refuse, with the word the
/// error names each by. The socket's listener is returned to keep it bound.
fn special_files(dir: &Path) -> (Vec<(PathBuf, &'static str)>, UnixListener) {
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let device = dir.join("zero-device");
    // We run as root: a private character device (1,5 is /dev/zero).
    let device = if Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "5"])
        .status()
        .is_ok_and(|status| status.success())
    {
        device
    } else {
        PathBuf::from("/dev/zero")
    };
    let socket = dir.join("socket");
    let listener = UnixListener::bind(&socket).unwrap();
    let directory = dir.join("directory");
    std::fs::create_dir(&directory).unwrap();
    let link_to_fifo = dir.join("link-to-fifo");
    std::os::unix::fs::symlink(&fifo, &link_to_fifo).unwrap();
    let files = vec![
        (fifo, "FIFO"),
        (link_to_fifo, "FIFO"),
        (device, "character device"),
        (PathBuf::from("/dev/zero"), "character device"),
        (socket, "socket"),
        (directory, "directory"),
    ];
    (files, listener)
}

/// Logs in with a fresh identity; returns auth.json's bytes.
fn logged_in_with_identity(home: &Path) -> (serde_json::Value, Vec<u8>) {
    let minted = mint(home, "ws-keep", "rt-keep");
    let output = cli(
        home,
        &["login", "--agent-identity-stdin"],
        minted["jwt"].as_str().unwrap(),
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stored = std::fs::read(home.join("auth.json")).unwrap();
    (minted, stored)
}

fn assert_identity_intact(home: &Path, stored: &[u8]) {
    assert_eq!(
        std::fs::read(home.join("auth.json")).unwrap(),
        stored,
        "auth.json is untouched"
    );
    let status = cli(home, &["status", "--json"], "");
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert_eq!(json(&status)["agent_identity"]["workspace_id"], "ws-keep");
}

#[test]
fn every_file_option_refuses_a_fifo_a_device_a_socket_and_a_directory_at_once() {
    let home = tempfile::tempdir().unwrap();
    let (_, stored) = logged_in_with_identity(home.path());
    let minted = mint(home.path(), "ws-f", "rt-f");
    let jwt = minted["jwt"].as_str().unwrap();
    let (files, _listener) = special_files(home.path());
    for (file, kind) in &files {
        let file = file.to_str().unwrap();
        let cases: [(&str, Vec<&str>, &str); 4] = [
            (
                "--agent-identity-file",
                vec!["login", "--agent-identity-file", file],
                "",
            ),
            ("identity decode", vec!["identity", "decode", file], ""),
            ("--jwks", vec!["identity", "decode", "--jwks", file], jwt),
            (
                "--signing-key",
                vec![
                    "identity",
                    "mint",
                    "--workspace-id",
                    "w",
                    "--agent-runtime-id",
                    "r",
                    "--signing-key",
                    file,
                ],
                "",
            ),
        ];
        for (option, args, stdin) in cases {
            let output = cli(home.path(), &args, stdin);
            let message = stderr(&output);
            assert_eq!(code(&output), 2, "{option} {file}: {message}");
            assert!(
                message.contains(option) && message.contains(kind),
                "{option} {file}: the error names the option and the {kind}: {message}"
            );
            assert!(stdout(&output).is_empty(), "{option} {file}");
        }
    }
    assert_identity_intact(home.path(), &stored);
}

#[test]
fn agent_identity_file_dev_zero_is_refused_without_reading_it() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(
        home.path(),
        &["login", "--agent-identity-file", "/dev/zero", "--json"],
        "",
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert_eq!(json(&output)["error"]["kind"], "invalid_input");
    assert!(stderr(&output).contains("character device"));
    assert!(!home.path().join("auth.json").exists());
}

#[test]
fn a_fifo_with_no_writer_is_refused_without_blocking() {
    let home = tempfile::tempdir().unwrap();
    let (files, _listener) = special_files(home.path());
    let (fifo, _) = &files[0];
    for args in [
        vec!["login", "--agent-identity-file", fifo.to_str().unwrap()],
        vec!["identity", "decode", fifo.to_str().unwrap()],
    ] {
        // run_bounded fails the test if this blocks in open(2).
        let output = cli(home.path(), &args, "");
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert!(stderr(&output).contains("FIFO"), "{}", stderr(&output));
    }
}

#[test]
fn stdin_is_read_through_a_bound() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["login", "--agent-identity-stdin"][..],
        &["login", "--api-key-stdin"],
        &["identity", "decode"],
    ] {
        let mut command = agent_login(home.path());
        command.args(args);
        let output = run_bounded(command, Stdin::File(PathBuf::from("/dev/zero")));
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("stdin") && stderr(&output).contains("limit"),
            "{}",
            stderr(&output)
        );
    }
    assert!(!home.path().join("auth.json").exists());
}

#[test]
fn a_one_mib_api_key_is_refused_and_the_previous_identity_survives() {
    let home = tempfile::tempdir().unwrap();
    let (_, stored) = logged_in_with_identity(home.path());
    let key = format!("sk-{}", "k".repeat(1024 * 1024));
    let output = cli(home.path(), &["login", "--api-key-stdin"], key.as_str());
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    // Just over the library's 8 KiB limit: refused by the library's check.
    let key = format!("sk-{}", "k".repeat(8 * 1024));
    let output = cli(home.path(), &["login", "--api-key-stdin"], key.as_str());
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("too long"), "{}", stderr(&output));
    assert_identity_intact(home.path(), &stored);
}

#[test]
fn an_api_key_with_a_space_or_a_control_character_is_refused_and_the_previous_identity_survives() {
    let home = tempfile::tempdir().unwrap();
    let (_, stored) = logged_in_with_identity(home.path());
    for key in [
        "sk-MARKER with-space",
        "sk-MARKER\ttab",
        "sk-MARKER\u{1b}[2J",
        "sk-MARKER\u{7f}",
        "sk-MARKER\u{9b}",
        "sk-MARKER\u{202e}",
        "sk-MARKER\nsecond-line",
        " \n",
    ] {
        let output = cli(home.path(), &["login", "--api-key-stdin", "--json"], key);
        assert_eq!(code(&output), 2, "{key:?}: {}", stderr(&output));
        assert_eq!(json(&output)["error"]["kind"], "invalid_input");
        assert!(
            !all_output(&output).contains("MARKER"),
            "the key is not echoed"
        );
        assert_terminal_safe(&stderr(&output));
    }
    assert_identity_intact(home.path(), &stored);
    // A key from `echo` (one trailing newline) is still fine.
    let output = cli(
        home.path(),
        &["login", "--api-key-stdin"],
        "sk-fine-key-00001234\n",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn a_jwt_given_as_a_path_is_not_echoed() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-p", "rt-p");
    let jwt = minted["jwt"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let private_key = AgentIdentity::from_jwt_unverified(jwt)
        .unwrap()
        .agent_private_key()
        .expose_secret()
        .to_owned();
    for args in [
        vec!["login", "--agent-identity-file", jwt],
        vec!["identity", "decode", jwt],
        vec!["identity", "decode", "--jwks", jwt, "-"],
        vec![
            "identity",
            "mint",
            "--workspace-id",
            "w",
            "--agent-runtime-id",
            "r",
            "--signing-key",
            jwt,
        ],
    ] {
        for json_flag in [false, true] {
            let mut command = agent_login(home.path());
            command.arg("-v").env("RUST_LOG", "trace").args(&args);
            if json_flag {
                command.arg("--json");
            }
            let stdin = if args.contains(&"--jwks") { jwt } else { "" };
            let output = run_bounded(command, stdin);
            let text = all_output(&output);
            assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
            assert!(
                text.contains("did you pass a token instead of a file?"),
                "{text}"
            );
            for secret in [jwt, payload, private_key.as_str()] {
                assert!(!text.contains(secret), "{args:?}: the token was echoed");
            }
        }
    }
}

#[test]
fn a_stray_token_argument_is_not_echoed_by_the_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-u", "rt-u");
    let jwt = minted["jwt"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let long = "x".repeat(1234);
    for args in [
        vec!["status", jwt],
        vec!["status", "--json", jwt],
        vec!["login", jwt],
        vec![jwt],
        vec!["login", "--api-key", jwt],
        vec!["--store", jwt, "status"],
        vec!["status", &long],
    ] {
        let output = cli(home.path(), &args, "");
        let text = all_output(&output);
        assert_eq!(code(&output), 2, "{args:?}: {text}");
        assert!(
            !text.contains(payload),
            "{args:?}: the token was echoed: {text}"
        );
        assert!(
            !text.contains(&long),
            "{args:?}: the long argument was echoed"
        );
        // `--api-key` is refused first: it is named, the token not at all.
        if !args.contains(&"--api-key") {
            assert!(text.contains("-character argument"), "{args:?}: {text}");
        }
        if args.contains(&"--json") {
            assert_eq!(json(&output)["error"]["kind"], "usage");
        }
    }
    let output = cli(home.path(), &["status", "--bogus"], "");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("`--bogus`"), "{}", stderr(&output));
}

#[test]
fn help_and_version_still_work() {
    let home = tempfile::tempdir().unwrap();
    let help = cli(home.path(), &["--help"], "");
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("Usage"));
    let version = cli(home.path(), &["--version"], "");
    assert_eq!(code(&version), 0);
    assert!(stdout(&version).starts_with("agent-login "));
    let bare = cli(home.path(), &[], "");
    assert_eq!(code(&bare), 2, "no command prints help and fails");
}

#[test]
fn status_escapes_control_and_bidi_characters_in_workspace_and_runtime_ids() {
    let home = tempfile::tempdir().unwrap();
    let workspace = format!("ws{HOSTILE}");
    let runtime = format!("rt{HOSTILE}");
    let minted = mint(home.path(), &workspace, &runtime);
    let jwt = minted["jwt"].as_str().unwrap();
    let login = cli(home.path(), &["login", "--agent-identity-stdin"], jwt);
    assert_eq!(code(&login), 0, "{}", stderr(&login));
    let output = cli(home.path(), &["status"], "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = all_output(&output);
    assert_terminal_safe(&text);
    assert!(
        text.contains(&format!("workspace id: ws{HOSTILE_ESCAPED}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("agent runtime id: rt{HOSTILE_ESCAPED}")),
        "{text}"
    );
    // JSON stays exact (serde_json escapes it).
    let status = json(&cli(home.path(), &["status", "--json"], ""));
    assert_eq!(status["agent_identity"]["workspace_id"], workspace.as_str());
    // The same identity from the environment.
    let mut command = agent_login(home.path());
    command.arg("status").env("CODEX_AGENT_IDENTITY", jwt);
    let from_env = run_bounded(command, "");
    assert_eq!(code(&from_env), 0);
    assert_terminal_safe(&all_output(&from_env));
}

#[test]
fn status_escapes_a_task_id_from_the_server() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-t", "rt-t");
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": minted["jwt"] }).to_string(),
    )
    .unwrap();
    let task_id = format!("task{HOSTILE}");
    let server = LoopbackServer::always(
        2,
        Reply::json(200, serde_json::json!({ "task_id": task_id })),
    );
    let mut command = agent_login(home.path());
    command
        .args(["status", "--register-task"])
        .env("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL", server.url());
    let output = run_bounded(command, "");
    let text = all_output(&output);
    assert_terminal_safe(&text);
    assert_eq!(code(&output), 0, "{text}");
    assert!(
        text.contains(&format!("background task id: task{HOSTILE_ESCAPED}")),
        "{text}"
    );
    // A task id cached in auth.json (by another tool) is shown escaped too.
    let mut object = serde_json::to_value(
        AgentIdentity::from_jwt_unverified(minted["jwt"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    object["background_task_id"] = serde_json::json!(task_id);
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::json!({ "agent_identity": object }).to_string(),
    )
    .unwrap();
    let output = cli(home.path(), &["status"], "");
    let text = all_output(&output);
    assert_eq!(code(&output), 0, "{text}");
    assert_terminal_safe(&text);
    assert!(
        text.contains(&format!("background task id: task{HOSTILE_ESCAPED}")),
        "{text}"
    );
}

#[test]
fn identity_decode_escapes_control_characters_and_json_stays_exact() {
    let home = tempfile::tempdir().unwrap();
    let workspace = format!("ws{HOSTILE}");
    let minted = mint(home.path(), &workspace, &format!("rt{HOSTILE}"));
    let jwt = minted["jwt"].as_str().unwrap();
    let output = cli(home.path(), &["identity", "decode"], jwt);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = all_output(&output);
    assert_terminal_safe(&text);
    assert!(
        text.contains(&format!("workspace_id: ws{HOSTILE_ESCAPED}")),
        "{text}"
    );
    let decoded = json(&cli(home.path(), &["identity", "decode", "--json"], jwt));
    assert_eq!(decoded["workspace_id"], workspace.as_str());
}

/// `jwt` with its header replaced by `header` (signature left as is).
fn with_header(jwt: &str, header: &serde_json::Value) -> String {
    let mut parts = jwt.split('.');
    parts.next();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        parts.next().unwrap(),
        parts.next().unwrap()
    )
}

#[test]
fn a_jwt_header_alg_with_control_characters_is_not_copied_into_the_error() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-h", "rt-h");
    let jwks = home.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::json!({ "keys": [minted["signing_public_jwk"]] }).to_string(),
    )
    .unwrap();
    let kid = minted["signing_public_jwk"]["kid"].clone();
    for alg in [
        format!("Ed{HOSTILE}DSA-MARKER"),
        format!("HS256{HOSTILE}MARKER"),
        format!("none{HOSTILE}MARKER"),
    ] {
        let token = with_header(
            minted["jwt"].as_str().unwrap(),
            &serde_json::json!({ "alg": alg, "kid": kid, "typ": "JWT" }),
        );
        for json_flag in [false, true] {
            let mut args = vec!["identity", "decode", "--jwks", jwks.to_str().unwrap()];
            if json_flag {
                args.push("--json");
            }
            let output = cli(home.path(), &args, token.as_str());
            let text = all_output(&output);
            assert_eq!(code(&output), 2, "{alg:?}: {text}");
            assert_terminal_safe(&text);
            assert!(!text.contains("MARKER"), "header text copied: {text}");
        }
    }
}

#[test]
fn a_server_error_body_and_a_url_are_escaped_in_error_messages() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-s", "rt-s");
    let server = LoopbackServer::always(4, Reply::text(500, format!("boom{HOSTILE}")));
    let output = cli(
        home.path(),
        &["identity", "decode", "--jwks-url", &server.url()],
        minted["jwt"].as_str().unwrap(),
    );
    let text = all_output(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert_terminal_safe(&text);
    let url = format!("http://127.0.0.1:1/{HOSTILE}");
    let output = cli(
        home.path(),
        &["identity", "decode", "--jwks-url", &url],
        minted["jwt"].as_str().unwrap(),
    );
    assert_ne!(code(&output), 0);
    assert_terminal_safe(&all_output(&output));
    // A usage error naming a hostile argument.
    let output = cli(home.path(), &["status", &format!("--x{HOSTILE}")], "");
    assert_eq!(code(&output), 2);
    assert_terminal_safe(&all_output(&output));
    assert!(
        stderr(&output).contains(HOSTILE_ESCAPED),
        "{}",
        stderr(&output)
    );
}

#[test]
fn identity_decode_shows_only_the_names_of_unknown_keys() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-k", "rt-k");
    let mut object = serde_json::to_value(
        AgentIdentity::from_jwt_unverified(minted["jwt"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    object["vendor_note"] = serde_json::json!("UNKNOWN-VALUE-MARKER");
    object["nested_secret"] = serde_json::json!({ "token": "NESTED-VALUE-MARKER" });
    let input = object.to_string();
    let human = cli(home.path(), &["identity", "decode"], input.as_str());
    assert_eq!(code(&human), 0, "{}", stderr(&human));
    let as_json = cli(
        home.path(),
        &["identity", "decode", "--json"],
        input.as_str(),
    );
    assert_eq!(code(&as_json), 0, "{}", stderr(&as_json));
    for output in [&human, &as_json] {
        let text = all_output(output);
        assert!(
            text.contains("vendor_note") && text.contains("nested_secret"),
            "{text}"
        );
        assert!(
            !text.contains("VALUE-MARKER"),
            "an unknown key's value was shown: {text}"
        );
    }
    assert_eq!(
        json(&as_json)["unknown_keys"],
        serde_json::json!(["vendor_note", "nested_secret"])
    );
}

#[test]
fn log_lines_escape_control_characters_from_a_path() {
    let parent = tempfile::tempdir().unwrap();
    let home = parent.path().join(format!("home{HOSTILE}"));
    std::fs::create_dir(&home).unwrap();
    let auth = home.join("auth.json");
    std::fs::write(&auth, r#"{"OPENAI_API_KEY": "sk-log-escape-00001234"}"#).unwrap();
    // Readable by others: the file store warns, naming the path.
    std::fs::set_permissions(&auth, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    for args in [&["status"][..], &["-v", "status"]] {
        let output = cli(&home, args, "");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let text = all_output(&output);
        assert!(text.contains("WARN"), "the warning is logged: {text}");
        assert_terminal_safe(&text);
        assert!(text.contains(HOSTILE_ESCAPED), "{text}");
    }
}

#[test]
fn auth_json_that_is_a_special_file_or_a_link_to_one_is_a_storage_error_at_once_and_never_moved() {
    let scratch = tempfile::tempdir().unwrap();
    let (files, _listener) = special_files(scratch.path());
    let minted = mint(scratch.path(), "ws-s", "rt-s");
    let jwt = minted["jwt"].as_str().unwrap();
    for (target, kind) in &files {
        let home = tempfile::tempdir().unwrap();
        let auth_json = home.path().join("auth.json");
        std::os::unix::fs::symlink(target, &auth_json).unwrap();
        for (args, stdin) in [
            (&["status"][..], ""),
            (&["login", "--agent-identity-stdin"][..], jwt),
        ] {
            let output = cli(home.path(), args, stdin);
            let text = all_output(&output);
            assert_eq!(code(&output), 3, "{args:?} on a {kind}: {text}");
            assert!(text.contains(kind), "{args:?} names the {kind}: {text}");
            assert!(
                !text.contains(jwt),
                "{args:?}: the identity is never echoed"
            );
            assert!(
                std::fs::symlink_metadata(&auth_json)
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                "{args:?} on a {kind}: the link stays"
            );
            assert!(
                std::fs::symlink_metadata(target).is_ok(),
                "{args:?} on a {kind}: the node stays where it was"
            );
            let moved: Vec<_> = std::fs::read_dir(home.path())
                .unwrap()
                .chain(std::fs::read_dir(target.parent().unwrap()).unwrap())
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".corrupt-"))
                .collect();
            assert!(moved.is_empty(), "{args:?} on a {kind}: moved {moved:?}");
        }
        // The auto store keeps the login in the keyring when one answers
        // (and leaves the link alone: it only removes a regular leftover
        // file), else falls back to the file and refuses like the file store.
        let output = cli(
            home.path(),
            &["--store", "auto", "login", "--agent-identity-stdin"],
            jwt,
        );
        let text = all_output(&output);
        assert!(
            matches!(code(&output), 0 | 3),
            "auto login on a {kind}: {text}"
        );
        assert!(
            !text.contains(jwt),
            "auto login: the identity is never echoed"
        );
        assert!(
            std::fs::symlink_metadata(target).is_ok(),
            "auto login: the {kind} stays"
        );
        assert!(
            std::fs::symlink_metadata(&auth_json)
                .unwrap()
                .file_type()
                .is_symlink(),
            "auto login on a {kind}: the link stays"
        );
        let _ = cli(
            home.path(),
            &["--store", "auto", "logout", "--no-revoke"],
            "",
        );
        // Logout removes the link in the home, never the node it names.
        let output = cli(home.path(), &["logout", "--no-revoke"], "");
        assert_eq!(code(&output), 0, "logout: {}", all_output(&output));
        assert!(std::fs::symlink_metadata(&auth_json).is_err());
        assert!(
            std::fs::symlink_metadata(target).is_ok(),
            "logout: the {kind} stays"
        );
    }
}
