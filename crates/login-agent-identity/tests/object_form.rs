//! Rule 10: the object form obeys the same claim rules, keeps its
//! `background_task_id` and unknown keys; `AgentIdentityInput` reads both forms.
//! Also what makes two identities (or inputs) equal, and the same agent.

use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityError, AgentIdentityInput, UnknownKeys,
};
use serde_json::json;

use crate::common::{minimal_payload, token_with_payload};

#[test]
fn rule10_object_form_keeps_background_task_id_and_normalizes_registered_at() {
    let mut object = minimal_payload();
    object["background_task_id"] = json!("task-9");
    object["registered_at"] = json!(1_767_225_600);
    let record: AgentIdentity = serde_json::from_value(object).unwrap();
    assert_eq!(record.background_task_id(), Some("task-9"));
    assert_eq!(record.registered_at(), Some("2026-01-01T00:00:00Z"));
}

#[test]
fn rule10_object_form_applies_the_claim_rules() {
    let mut object = minimal_payload();
    object["agent_private_key"] = json!("AAAA");
    let error = serde_json::from_value::<AgentIdentity>(object).unwrap_err();
    assert!(error.to_string().contains("agent_private_key"), "{error}");
    let mut object = minimal_payload();
    object.as_object_mut().unwrap().remove("workspace_id");
    let error = serde_json::from_value::<AgentIdentity>(object).unwrap_err();
    assert!(error.to_string().contains("workspace_id"), "{error}");
}

/// The keys of a JSON object in the order the text has them (a `Value`
/// keeps them sorted unless serde_json's `preserve_order` is on).
fn keys_in_order(text: &str) -> Vec<String> {
    let keys: UnknownKeys = serde_json::from_str(text).unwrap();
    keys.keys().map(str::to_owned).collect()
}

#[test]
fn record_keeps_unknown_keys_in_order_on_round_trip() {
    let base = serde_json::to_string(&minimal_payload()).unwrap();
    let text = format!(
        r#"{},"zeta_future_field":{{"nested":true}},"alpha_future_field":[1,2]}}"#,
        &base[..base.len() - 1]
    );
    let record: AgentIdentity = serde_json::from_str(&text).unwrap();
    let written = serde_json::to_string(&record).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&written).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    );
    assert_eq!(
        keys_in_order(&written)[3..],
        [
            "zeta_future_field".to_owned(),
            "alpha_future_field".to_owned()
        ]
    );
}

#[test]
fn record_omits_absent_optional_fields_when_written() {
    let record: AgentIdentity = serde_json::from_value(minimal_payload()).unwrap();
    let written = serde_json::to_string(&record).unwrap();
    assert_eq!(
        keys_in_order(&written),
        ["workspace_id", "agent_runtime_id", "agent_private_key"]
    );
}

#[test]
fn input_deserializes_object_as_record_and_string_as_jwt() {
    let object = minimal_payload();
    let token = token_with_payload(&object);
    let from_object: AgentIdentityInput = serde_json::from_value(object).unwrap();
    let from_string: AgentIdentityInput = serde_json::from_value(json!(token)).unwrap();
    assert!(!from_object.is_jwt() && from_string.is_jwt());
    assert_eq!(
        from_object.into_identity().unwrap(),
        from_string.into_identity().unwrap()
    );
}

#[test]
fn input_of_another_json_type_is_refused() {
    let error = serde_json::from_value::<AgentIdentityInput>(json!(42)).unwrap_err();
    assert!(error.to_string().contains("agent identity"), "{error}");
}

#[test]
fn input_parses_raw_text_by_its_first_non_blank_character() {
    let object = minimal_payload();
    let token = token_with_payload(&object);
    let from_text: AgentIdentityInput = format!("\n  {object}\n").parse().unwrap();
    assert!(!from_text.is_jwt());
    let from_jwt: AgentIdentityInput = format!("{token}\n").parse().unwrap();
    assert!(from_jwt.is_jwt());
    assert_eq!(
        from_text.into_identity().unwrap(),
        from_jwt.into_identity().unwrap()
    );
}

#[test]
fn input_text_with_broken_object_names_the_position() {
    let error = "{\"workspace_id\": "
        .parse::<AgentIdentityInput>()
        .unwrap_err();
    assert!(matches!(error, AgentIdentityError::InvalidObject { .. }));
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn input_text_with_duplicate_key_is_refused() {
    let text = r#"{"workspace_id":"a","workspace_id":"b"}"#;
    let error = text.parse::<AgentIdentityInput>().unwrap_err();
    assert!(
        error.to_string().contains("duplicate key `workspace_id`"),
        "{error}"
    );
}

#[test]
fn input_text_is_refused_when_empty_or_too_large() {
    assert_eq!(
        "  ".parse::<AgentIdentityInput>().unwrap_err(),
        AgentIdentityError::Empty
    );
    let huge = format!("{{\"pad\":\"{}\"}}", "a".repeat(70_000));
    assert!(matches!(
        huge.parse::<AgentIdentityInput>().unwrap_err(),
        AgentIdentityError::TooLarge { .. }
    ));
}

#[test]
fn claims_built_by_hand_are_validated_by_the_same_rules() {
    let record: AgentIdentity = serde_json::from_value(minimal_payload()).unwrap();
    let normalized = record
        .claims()
        .clone()
        .with_registered_at("2026-04-17T03:18:00+02:00")
        .unwrap();
    assert_eq!(normalized.registered_at(), Some("2026-04-17T01:18:00Z"));
    let error = AgentIdentityClaims::new(
        "",
        record.agent_runtime_id(),
        record.agent_private_key().clone(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        AgentIdentityError::EmptyClaim {
            claim: "workspace_id"
        }
    );
}

#[test]
fn identity_parses_either_form_from_text_and_keeps_what_only_the_object_carries() {
    let mut object = minimal_payload();
    object["background_task_id"] = json!("task-3");
    object["future_key"] = json!(1);
    let from_object: AgentIdentity = format!(" {object}").parse().unwrap();
    assert_eq!(from_object.background_task_id(), Some("task-3"));
    assert_eq!(from_object.extra()["future_key"], json!(1));

    // The JWT form: unverified, and never a task id or unknown keys.
    let token = token_with_payload(&object);
    let from_jwt: AgentIdentity = token.parse().unwrap();
    assert_eq!(
        from_jwt,
        AgentIdentity::from_jwt_unverified(&token).unwrap()
    );
    assert_eq!(from_jwt.background_task_id(), None);
    assert!(from_jwt.extra().is_empty());
    assert_eq!(from_jwt.claims(), from_object.claims());
    assert!(from_jwt.same_agent(&from_object));
}

#[test]
fn constructed_claims_equal_parsed_ones_and_a_cached_task_id_round_trips() {
    let mut object = minimal_payload();
    object["chatgpt_user_id"] = json!("user-1");
    object["registered_at"] = json!("2026-04-17T03:18:00+02:00");
    let parsed: AgentIdentityClaims = serde_json::from_value(object.clone()).unwrap();
    let built = AgentIdentityClaims::new(
        "ws-1234",
        "rt-abcd",
        object["agent_private_key"].as_str().unwrap().into(),
    )
    .unwrap()
    .with_chatgpt_user_id(Some("user-1".into()))
    .with_registered_at("2026-04-17T03:18:00+02:00")
    .unwrap();
    assert_eq!(built, parsed);

    let identity: AgentIdentity = serde_json::from_value(object).unwrap();
    let cached = identity
        .clone()
        .with_background_task_id(Some("task-1".into()));
    let stored: AgentIdentity =
        serde_json::from_value(serde_json::to_value(&cached).unwrap()).unwrap();
    assert_eq!(stored, cached);
    assert_eq!(stored.with_background_task_id(None), identity);
}

/// An identity read from `object`.
fn identity_of(object: &serde_json::Value) -> AgentIdentity {
    serde_json::from_value(object.clone()).unwrap()
}

#[test]
fn same_agent_means_the_same_runtime_in_the_same_workspace_whatever_else_differs() {
    let base = minimal_payload();
    let identity = identity_of(&base);
    // Another key, a task id and an unknown key: still the same agent.
    let mut other_key = minimal_payload();
    other_key["future_key"] = json!(1);
    let renewed = identity_of(&other_key).with_background_task_id(Some("task-1".into()));
    assert!(identity.same_agent(&renewed));
    assert_ne!(identity, renewed);
    for (claim, value) in [
        ("agent_runtime_id", "rt-other"),
        ("workspace_id", "ws-other"),
    ] {
        let mut changed = base.clone();
        changed[claim] = json!(value);
        assert!(!identity.same_agent(&identity_of(&changed)), "{claim}");
    }
}

#[test]
fn identities_are_equal_only_when_claims_task_id_and_unknown_keys_all_are() {
    let base = minimal_payload();
    let identity = identity_of(&base);
    assert_eq!(identity, identity_of(&base));
    let mut other_claim = base.clone();
    other_claim["chatgpt_user_id"] = json!("user-1");
    let mut unknown = base.clone();
    unknown["future_key"] = json!(1);
    let with_task = identity
        .clone()
        .with_background_task_id(Some("task-1".into()));
    for (what, other) in [
        ("a claim", identity_of(&other_claim)),
        ("an unknown key", identity_of(&unknown)),
        ("the task id", with_task),
    ] {
        assert_ne!(identity, other, "{what}");
        assert_ne!(other, identity, "{what}");
    }
}

#[test]
fn inputs_are_equal_only_in_the_same_form_with_the_same_contents() {
    let payload = minimal_payload();
    let jwt = token_with_payload(&payload);
    let read =
        |json: serde_json::Value| serde_json::from_value::<AgentIdentityInput>(json).unwrap();
    let object = read(payload.clone());
    let token = read(json!(jwt));
    assert_eq!(object, read(payload.clone()));
    assert_eq!(token, read(json!(jwt)));
    // The same identity in the other form, or another token, differs.
    assert_ne!(object, token);
    assert_ne!(token, object);
    assert_ne!(token, read(json!(token_with_payload(&minimal_payload()))));
    let mut other = payload;
    other["workspace_id"] = json!("ws-other");
    assert_ne!(object, read(other));
}

#[test]
fn an_identity_that_is_not_an_object_is_refused_saying_an_object_is_expected() {
    for text in ["[]", "1", "true"] {
        let error = serde_json::from_str::<AgentIdentity>(text).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected an agent identity object"),
            "{text}: {error}"
        );
    }
}
