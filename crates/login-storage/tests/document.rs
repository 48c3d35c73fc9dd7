//! The `auth.json` document: fields, wire format, claims, modes, redaction.

use login_agent_identity::{AgentIdentityInput, ExposeSecret as _, SecretString};
use login_storage::{AuthDotJson, AuthMode, AuthStore, FileStore, IdToken};
use serde_json::{Value, json};

use crate::support::{self, API_KEY};

#[test]
fn every_field_round_trips_through_the_file_home() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let document = support::full_document();

    storage.save(&document).unwrap();
    let loaded = storage.load().unwrap().unwrap();

    assert_eq!(loaded, document);
    let tokens = loaded.tokens.as_ref().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), support::ACCESS_TOKEN);
    assert_eq!(tokens.refresh_token.expose_secret(), support::REFRESH_TOKEN);
    assert_eq!(tokens.account_id.as_deref(), Some("acct-456"));
    assert_eq!(tokens.extra["future_token_key"], json!("kept"));
    let record = loaded.validated_agent_identity().unwrap().unwrap();
    assert_eq!(record.background_task_id(), Some("task-1"));
    assert_eq!(
        record.extra()["future_identity_key"],
        json!({"nested": [1, 2]})
    );
    assert_eq!(loaded.extra["future_top_level"], json!({"a": 1}));
    assert_eq!(
        loaded.last_refresh,
        Some(time::macros::datetime!(2026-03-04 05:06:07 UTC))
    );
}

#[test]
fn written_file_is_pretty_json_with_two_space_indent_and_a_trailing_newline() {
    let home = support::home();
    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();

    let text = String::from_utf8(home.read_auth_file()).unwrap();
    assert_eq!(
        text,
        format!("{{\n  \"auth_mode\": \"apikey\",\n  \"OPENAI_API_KEY\": \"{API_KEY}\"\n}}\n")
    );
}

#[test]
fn openai_api_key_is_written_as_null_when_absent_and_auth_mode_is_omitted() {
    let value = serde_json::to_value(AuthDotJson::default()).unwrap();
    assert_eq!(value, json!({"OPENAI_API_KEY": null}));
}

#[test]
fn unknown_auth_mode_is_kept_and_written_back_unchanged() {
    let document: AuthDotJson =
        serde_json::from_value(json!({"auth_mode": "futureMode", "OPENAI_API_KEY": null})).unwrap();
    assert_eq!(
        document.auth_mode,
        Some(AuthMode::Unknown("futureMode".into()))
    );
    assert_eq!(
        serde_json::to_value(&document).unwrap()["auth_mode"],
        json!("futureMode")
    );
}

#[test]
fn known_auth_modes_use_their_wire_values() {
    for (mode, wire) in [
        (AuthMode::ApiKey, "apikey"),
        (AuthMode::Chatgpt, "chatgpt"),
        (AuthMode::AgentIdentity, "agentIdentity"),
    ] {
        assert_eq!(serde_json::to_value(&mode).unwrap(), json!(wire));
        assert_eq!(AuthMode::from_wire(wire), mode);
    }
}

#[test]
fn id_token_claims_read_email_plan_user_and_account() {
    let claims = support::tokens().id_token.unwrap().claims().unwrap();
    assert_eq!(claims.email.as_deref(), Some("dev@example.com"));
    assert_eq!(
        claims.chatgpt_plan_type,
        Some(login_agent_identity::PlanType::Pro)
    );
    assert_eq!(claims.chatgpt_user_id.as_deref(), Some("user-123"));
    assert_eq!(claims.chatgpt_account_id.as_deref(), Some("acct-456"));
}

#[test]
fn id_token_email_falls_back_to_the_profile_claim_and_user_id_to_user_id() {
    let token = test_support::jwt_with_payload(&json!({
        "https://api.openai.com/profile": {"email": "profile@example.com"},
        "https://api.openai.com/auth": {"user_id": "legacy-user"},
    }));
    let claims = IdToken::new(SecretString::from(token)).claims().unwrap();
    assert_eq!(claims.email.as_deref(), Some("profile@example.com"));
    assert_eq!(claims.chatgpt_user_id.as_deref(), Some("legacy-user"));
    assert_eq!(claims.chatgpt_plan_type, None);
    assert_eq!(claims.chatgpt_account_id, None);
}

#[test]
fn malformed_id_token_loads_and_fails_naming_tokens_id_token_when_parsed() {
    let home = support::home();
    home.write_auth_file(
        json!({
            "OPENAI_API_KEY": null,
            "tokens": {
                "id_token": "not-a-jwt-SECRET",
                "access_token": support::ACCESS_TOKEN,
                "refresh_token": support::REFRESH_TOKEN,
                "account_id": null,
            },
        })
        .to_string()
        .as_bytes(),
    );

    let loaded = FileStore::new(&home.path).load().unwrap().unwrap();
    let error = loaded
        .tokens
        .unwrap()
        .id_token
        .unwrap()
        .claims()
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("tokens.id_token"), "{message}");
    assert!(!message.contains("not-a-jwt-SECRET"), "{message}");
}

#[test]
fn resolved_mode_prefers_auth_mode_then_api_key_then_tokens_then_identity() {
    let mut document = support::full_document();
    document.auth_mode = Some(AuthMode::AgentIdentity);
    assert_eq!(document.resolved_mode(), Some(AuthMode::AgentIdentity));

    document.auth_mode = None;
    assert_eq!(document.resolved_mode(), Some(AuthMode::ApiKey));

    document.openai_api_key = None;
    assert_eq!(document.resolved_mode(), Some(AuthMode::Chatgpt));

    document.tokens = None;
    assert_eq!(document.resolved_mode(), Some(AuthMode::AgentIdentity));

    document.agent_identity = None;
    assert_eq!(document.resolved_mode(), None);
}

#[test]
fn identity_without_tokens_or_key_is_tokenless_whatever_auth_mode_says() {
    let jwt = test_support::identity_jwt(&support::identity_claims());
    for declared in [json!("chatgpt"), json!("agentIdentity"), Value::Null] {
        let mut text = json!({"agent_identity": jwt});
        if !declared.is_null() {
            text["auth_mode"] = declared.clone();
        }
        let document: AuthDotJson = serde_json::from_value(text).unwrap();
        assert_eq!(
            document.resolved_mode(),
            Some(AuthMode::AgentIdentity),
            "auth_mode {declared}"
        );
    }
}

#[test]
fn declared_api_key_or_unknown_mode_is_kept_even_beside_a_lone_identity() {
    let jwt = test_support::identity_jwt(&support::identity_claims());
    for (declared, expected) in [
        ("apikey", AuthMode::ApiKey),
        ("future-mode", AuthMode::Unknown("future-mode".into())),
    ] {
        let document: AuthDotJson =
            serde_json::from_value(json!({"auth_mode": declared, "agent_identity": jwt})).unwrap();
        assert_eq!(document.resolved_mode(), Some(expected), "{declared}");
    }
}

#[test]
fn rewrite_keeps_the_auth_mode_value_and_the_identity_form_as_read() {
    let home = support::home();
    let jwt = test_support::identity_jwt(&support::identity_claims());
    let original = json!({"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "agent_identity": jwt});
    home.write_auth_file(original.to_string().as_bytes());
    let storage = FileStore::new(&home.path);

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("touched".into(), json!(true));
            Ok(Some(document))
        })
        .unwrap();

    let written: Value = serde_json::from_slice(&home.read_auth_file()).unwrap();
    assert_eq!(written["auth_mode"], json!("chatgpt"));
    assert_eq!(
        written["agent_identity"],
        json!(jwt),
        "a JWT stays a string"
    );
    assert_eq!(written["touched"], json!(true));
}

#[test]
fn debug_of_document_and_tokens_redacts_api_key_tokens_and_private_key() {
    let document = support::full_document();
    let private_key = match &document.agent_identity {
        Some(AgentIdentityInput::Object(record)) => {
            record.agent_private_key().expose_secret().to_owned()
        }
        _ => unreachable!("the fixture holds a record"),
    };
    let id_token = support::id_token();

    let debug = format!("{document:?} {:?}", document.tokens.as_ref().unwrap());

    support::assert_no_secret(&debug, Some(&private_key));
    assert!(!debug.contains(&id_token), "{debug}");
    assert!(debug.contains("[REDACTED]"), "{debug}");
    assert!(
        debug.contains("future_top_level"),
        "unknown key names stay visible"
    );
}

#[test]
fn jwt_identity_in_a_document_is_redacted_in_debug() {
    let jwt = test_support::identity_jwt(&support::identity_claims());
    let document: AuthDotJson =
        serde_json::from_value(json!({"OPENAI_API_KEY": null, "agent_identity": jwt})).unwrap();
    let debug = format!("{document:?}");
    assert!(!debug.contains(&jwt), "{debug}");
}

#[test]
fn serde_type_errors_never_quote_the_offending_value() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    for document in [
        json!({"OPENAI_API_KEY": null, "last_refresh": "sk-test-API-KEY-MARKER"}),
        json!({"OPENAI_API_KEY": {"k": API_KEY}}),
    ] {
        home.write_auth_file(document.to_string().as_bytes());
        let error = storage.load().unwrap_err();
        assert!(
            matches!(error, login_storage::StoreError::Corrupt { .. }),
            "{error:?}"
        );
        support::assert_no_secret(&error.to_string(), None);
        support::assert_no_secret(&format!("{error:?}"), None);
    }
}

#[test]
fn unknown_keys_keep_their_order_when_written_back() {
    let text = r#"{"OPENAI_API_KEY":null,"zeta":1,"alpha":2,"mid":{"b":1,"a":2}}"#;
    let document: AuthDotJson = serde_json::from_str(text).unwrap();
    let keys: Vec<&str> = document.extra.keys().collect();
    assert_eq!(keys, ["zeta", "alpha", "mid"]);
    let written: Value = serde_json::to_value(&document).unwrap();
    assert_eq!(written["mid"], json!({"b": 1, "a": 2}));
}

#[test]
fn token_data_handles_missing_id_token() {
    let document: AuthDotJson = serde_json::from_value(json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "access_token": "ACCESS-NO-ID",
            "refresh_token": "REFRESH-NO-ID",
            "account_id": "acct-no-id"
        }
    }))
    .unwrap();
    assert_eq!(document.resolved_mode(), Some(AuthMode::Chatgpt));
    let tokens = document.tokens.as_ref().unwrap();
    assert!(tokens.id_token.is_none());
    assert_eq!(tokens.access_token.expose_secret(), "ACCESS-NO-ID");
    assert_eq!(tokens.account_id.as_deref(), Some("acct-no-id"));
    assert_eq!(tokens.chatgpt_account_id().as_deref(), Some("acct-no-id"));
    // `null` reads as absent too.
    let document: AuthDotJson = serde_json::from_value(json!({
        "tokens": {"id_token": null, "access_token": "a", "refresh_token": "r"}
    }))
    .unwrap();
    let tokens = document.tokens.unwrap();
    assert!(tokens.id_token.is_none());
    assert_eq!(tokens.chatgpt_account_id(), None);
}

#[test]
fn a_document_without_id_token_is_rewritten_without_one() {
    let home = support::home();
    let text = "{\n  \"auth_mode\": \"chatgpt\",\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {\n    \"access_token\": \"ACCESS-NO-ID\",\n    \"refresh_token\": \"REFRESH-NO-ID\",\n    \"account_id\": \"acct-no-id\"\n  },\n  \"last_refresh\": \"2026-03-04T05:06:07Z\"\n}\n";
    std::fs::create_dir_all(&home.path).unwrap();
    std::fs::write(home.path.join("auth.json"), text).unwrap();
    let storage = FileStore::new(&home.path);
    let loaded = storage.load().unwrap().unwrap();
    storage.save(&loaded).unwrap();
    // Byte for byte: no `id_token` key (not even `null`) appears.
    assert_eq!(String::from_utf8(home.read_auth_file()).unwrap(), text);
    assert_eq!(storage.load().unwrap().unwrap(), loaded);
}

#[test]
fn tokens_account_falls_back_to_the_id_token_account() {
    let mut tokens = support::tokens();
    assert_eq!(tokens.chatgpt_account_id().as_deref(), Some("acct-456"));
    tokens.account_id = None;
    assert_eq!(tokens.chatgpt_account_id().as_deref(), Some("acct-456"));
    tokens.account_id = Some("acct-forced".into());
    assert_eq!(tokens.chatgpt_account_id().as_deref(), Some("acct-forced"));
}
