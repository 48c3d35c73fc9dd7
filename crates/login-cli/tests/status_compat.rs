//! `status` on what the mirrored CLI's newer versions write: agent
//! identities in the newer shape (with the one-line warning for a past
//! `exp`), and ChatGPT tokens without an id token.

use serde_json::{Value, json};

use crate::support::{agent_login, cli, code, json, run, stderr, stdout};

/// A newer-shape identity JWT (`account_id`, account details, `exp`).
fn newer_identity_jwt(exp: i64) -> String {
    let claims = test_support::identity_claims("unused", "rt-new");
    let mut payload = serde_json::to_value(&claims).unwrap();
    let map = payload.as_object_mut().unwrap();
    map.remove("workspace_id");
    map.insert("account_id".into(), json!("acct-new"));
    map.insert("email".into(), json!("agent@example.invalid"));
    map.insert("plan_type".into(), json!("business"));
    map.insert("chatgpt_account_is_fedramp".into(), json!(true));
    map.insert("iss".into(), json!("https://auth.invalid"));
    map.insert("aud".into(), json!("codex-agent"));
    map.insert("iat".into(), json!(exp - 3600));
    map.insert("exp".into(), json!(exp));
    test_support::jwt_with_payload(&payload)
}

fn now() -> i64 {
    test_support::loopback::unix_now()
}

fn status_with_env_identity(
    home: &std::path::Path,
    jwt: &str,
    json_output: bool,
) -> std::process::Output {
    let mut command = agent_login(home);
    command.arg("status");
    if json_output {
        command.arg("--json");
    }
    command.env("CODEX_AGENT_IDENTITY", jwt);
    run(command, "")
}

#[test]
fn status_json_shows_the_newer_identity_fields_and_no_warning_before_exp() {
    let home = tempfile::tempdir().unwrap();
    let output = status_with_env_identity(home.path(), &newer_identity_jwt(now() + 3600), true);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&output);
    let identity = &value["agent_identity"];
    assert_eq!(identity["workspace_id"], "acct-new");
    assert_eq!(identity["email"], "agent@example.invalid");
    assert_eq!(identity["plan_type"], "business");
    assert_eq!(identity["chatgpt_account_is_fedramp"], true);
    assert!(identity["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(value["warnings"], json!([]));
}

#[test]
fn status_warns_in_one_line_when_the_unverified_identity_has_expired() {
    let home = tempfile::tempdir().unwrap();
    let jwt = newer_identity_jwt(now() - 3600);

    let output = status_with_env_identity(home.path(), &jwt, true);
    assert_eq!(
        code(&output),
        0,
        "an expired identity still starts: {}",
        stderr(&output)
    );
    let warnings = json(&output)["warnings"].as_array().unwrap().clone();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains("expired") && warning.contains("exp"),
        "{warning}"
    );
    assert!(!warning.contains('\n'));

    let output = status_with_env_identity(home.path(), &jwt, false);
    assert_eq!(code(&output), 0);
    let text = stderr(&output);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("warning"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("expired"), "{text}");
    assert!(
        stdout(&output).contains("plan type: business"),
        "{}",
        stdout(&output)
    );
    assert!(!text.contains(&jwt) && !stdout(&output).contains(&jwt));
}

#[test]
fn status_reports_chatgpt_tokens_without_an_id_token() {
    let home = tempfile::tempdir().unwrap();
    let document = json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "access_token": "ACCESS-NO-ID-MARKER",
            "refresh_token": "REFRESH-NO-ID-MARKER",
            "account_id": "acct-no-id",
        },
        "last_refresh": "2026-01-01T00:00:00Z",
    });
    std::fs::write(home.path().join("auth.json"), document.to_string()).unwrap();

    let output = cli(home.path(), &["status", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json(&output);
    assert_eq!(value["mode"], "chatgpt");
    assert_eq!(
        value["account"],
        json!({"email": null, "chatgpt_account_id": "acct-no-id", "plan_type": null})
    );

    let output = cli(home.path(), &["status"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("account id acct-no-id"), "{text}");
    assert!(!text.contains("MARKER"), "{text}");
    // status never rewrites the file.
    let after: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    assert_eq!(after, document);
}
