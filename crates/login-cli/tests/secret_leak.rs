//! With `-v` and `RUST_LOG=trace`, a whole login/status/logout cycle for
//! each credential type prints none of the secrets it handled.

use std::path::Path;
use std::process::Output;

use login_agent_identity::ExposeSecret as _;

use crate::support::{agent_login, code, mint, run};

fn all_output(outputs: &[Output]) -> String {
    outputs
        .iter()
        .map(|output| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .collect()
}

fn verbose(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut command = agent_login(home);
    command.arg("-v").args(args).env("RUST_LOG", "trace");
    run(command, stdin)
}

fn cycle(home: &Path, login_flag: &str, secret_input: &str) -> Vec<Output> {
    vec![
        verbose(home, &["login", login_flag], secret_input),
        verbose(home, &["status"], ""),
        verbose(home, &["status", "--json"], ""),
        verbose(home, &["logout"], ""),
    ]
}

fn assert_no_secret(output: &str, secrets: &[&str]) {
    assert!(
        output.contains("TRACE") || output.contains("DEBUG"),
        "verbose output expected: {output}"
    );
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "a secret leaked into the CLI output"
        );
    }
}

#[test]
fn api_key_never_appears_in_verbose_output() {
    let home = tempfile::tempdir().unwrap();
    let key = "sk-LEAK-MARKER-API-KEY-0123456789";
    let outputs = cycle(home.path(), "--api-key-stdin", key);
    assert!(outputs.iter().take(3).all(|output| code(output) == 0));
    assert_no_secret(&all_output(&outputs), &[key, "LEAK-MARKER"]);
}

#[test]
fn agent_identity_jwt_and_private_key_never_appear_in_verbose_output() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-leak", "rt-leak");
    let jwt = minted["jwt"].as_str().unwrap();
    let record = login_agent_identity::AgentIdentity::from_jwt_unverified(jwt).unwrap();
    let private_key = record.agent_private_key().expose_secret().to_owned();
    let payload = jwt.split('.').nth(1).unwrap();
    let mut outputs = cycle(home.path(), "--agent-identity-stdin", jwt);
    // The object form, and the identity from the environment.
    let object = serde_json::to_string(&record).unwrap();
    outputs.extend(cycle(home.path(), "--agent-identity-stdin", &object));
    let mut command = agent_login(home.path());
    command
        .args(["-v", "status", "--json"])
        .env("RUST_LOG", "trace")
        .env("CODEX_AGENT_IDENTITY", jwt);
    outputs.push(run(command, ""));
    assert!(
        outputs.iter().all(|output| code(output) == 0),
        "every step succeeds"
    );
    assert_no_secret(&all_output(&outputs), &[jwt, payload, &private_key]);
}

#[test]
fn chatgpt_tokens_never_appear_in_verbose_output() {
    use base64::Engine as _;
    let home = tempfile::tempdir().unwrap();
    let claims = serde_json::json!({"email": "dev@example.com", "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "pro"}});
    let id_token = format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.SIGNATURE-MARKER",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let document = serde_json::json!({
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": id_token, "access_token": "ACCESS-LEAK-MARKER", "refresh_token": "REFRESH-LEAK-MARKER", "account_id": "acct-1"},
    });
    std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();
    let outputs = vec![
        verbose(home.path(), &["status"], ""),
        verbose(home.path(), &["status", "--json"], ""),
        verbose(home.path(), &["logout"], ""),
    ];
    let text = all_output(&outputs);
    assert!(
        text.contains("acct-1") && text.contains("dev@example.com"),
        "{text}"
    );
    assert_no_secret(
        &text,
        &[
            "ACCESS-LEAK-MARKER",
            "REFRESH-LEAK-MARKER",
            "SIGNATURE-MARKER",
            &id_token,
        ],
    );
}

#[test]
fn a_token_or_key_where_a_path_argument_or_key_belongs_never_appears_in_verbose_output() {
    let home = tempfile::tempdir().unwrap();
    let minted = mint(home.path(), "ws-misplaced", "rt-misplaced");
    let jwt = minted["jwt"].as_str().unwrap();
    let record = login_agent_identity::AgentIdentity::from_jwt_unverified(jwt).unwrap();
    let private_key = record.agent_private_key().expose_secret().to_owned();
    let payload = jwt.split('.').nth(1).unwrap();
    let bad_key = "sk-LEAK-MARKER-API-KEY with a space";
    let mut outputs = Vec::new();
    for args in [
        &["login", "--agent-identity-file", jwt][..],
        &["identity", "decode", jwt],
        &["identity", "decode", "--json", jwt],
        &["status", jwt],
        &["status", "--json", jwt],
        &["--codex-home", jwt, "status"],
    ] {
        outputs.push(verbose(home.path(), args, ""));
    }
    outputs.push(verbose(home.path(), &["login", "--api-key-stdin"], bad_key));
    outputs.push(verbose(
        home.path(),
        &["login", "--api-key-stdin", "--json"],
        bad_key,
    ));
    assert!(
        outputs.iter().all(|output| code(output) == 2),
        "every step is refused"
    );
    let mut text = all_output(&outputs);
    // Usage errors end before logging starts; one step that logs suffices.
    text.push_str(&all_output(&[verbose(home.path(), &["status"], "")]));
    assert_no_secret(&text, &[jwt, payload, &private_key, "LEAK-MARKER"]);
}
