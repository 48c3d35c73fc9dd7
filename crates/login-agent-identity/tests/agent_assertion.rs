//! `AgentAssertion`: the request credential of a tokenless agent, checked
//! byte for byte against another implementation's values.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Verifier as _};
use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityKey, ExposeSecret as _,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

fn key_for(private_key: &str, runtime_id: &str) -> AgentIdentityKey {
    let record: AgentIdentity = serde_json::from_value(json!({
        "workspace_id": "ws-1",
        "agent_runtime_id": runtime_id,
        "agent_private_key": private_key,
    }))
    .unwrap();
    AgentIdentityKey::from_claims(record.claims()).unwrap()
}

/// The JSON text inside an `AgentAssertion <token>` header value.
fn decoded_json(header: &str) -> String {
    let token = header.strip_prefix("AgentAssertion ").unwrap();
    assert!(!token.contains('='), "the token is unpadded");
    String::from_utf8(URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap()
}

#[test]
fn agent_assertion_matches_the_peer_vectors_byte_for_byte() {
    let vectors: Value =
        serde_json::from_str(include_str!("fixtures/agent-assertion.json")).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let key = key_for(
            case["agent_private_key"].as_str().unwrap(),
            case["agent_runtime_id"].as_str().unwrap(),
        );
        let timestamp =
            OffsetDateTime::parse(case["timestamp"].as_str().unwrap(), &Rfc3339).unwrap();
        let header = key
            .agent_assertion_at(case["task_id"].as_str().unwrap(), timestamp)
            .unwrap();
        assert_eq!(
            header.expose_secret(),
            case["authorization"].as_str().unwrap(),
            "{name}: header value"
        );
        assert_eq!(
            decoded_json(header.expose_secret()),
            case["json"].as_str().unwrap(),
            "{name}: JSON"
        );
    }
}

#[test]
fn agent_assertion_has_exactly_the_four_keys_in_sorted_order_and_a_valid_signature() {
    let key = AgentIdentityKey::generate("rt-order");
    let header = key
        .agent_assertion_at("task-9", datetime!(2026-04-17 12:00:00 UTC))
        .unwrap();
    let json = decoded_json(header.expose_secret());
    assert!(!json.contains(' '), "compact JSON: {json}");
    let object: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["agent_runtime_id", "signature", "task_id", "timestamp"]
    );
    assert!(json.starts_with(r#"{"agent_runtime_id":"rt-order","signature":""#));
    assert_eq!(object["task_id"], "task-9");
    assert_eq!(object["timestamp"], "2026-04-17T12:00:00Z");

    let signature = STANDARD
        .decode(object["signature"].as_str().unwrap())
        .unwrap();
    let signature = Signature::from_slice(&signature).unwrap();
    let message = b"rt-order:task-9:2026-04-17T12:00:00Z";
    key.verifying_key().verify(message, &signature).unwrap();
    assert!(
        key.verifying_key()
            .verify(b"rt-order:task-8:2026-04-17T12:00:00Z", &signature)
            .is_err()
    );
}

#[test]
fn agent_assertion_timestamp_is_utc_with_whole_seconds() {
    let key = AgentIdentityKey::generate("rt-ts");
    let header = key
        .agent_assertion_at("t", datetime!(2026-04-17 14:00:00.987 +02:00))
        .unwrap();
    let object: Value = serde_json::from_str(&decoded_json(header.expose_secret())).unwrap();
    assert_eq!(object["timestamp"], "2026-04-17T12:00:00Z");
}

#[test]
fn agent_assertion_refuses_a_year_rfc_3339_cannot_write() {
    let key = AgentIdentityKey::generate("rt-ts");
    let error = key
        .agent_assertion_at("t", datetime!(-0001-01-01 00:00:00 UTC))
        .unwrap_err();
    assert!(matches!(error, AgentIdentityError::InvalidTimestamp { .. }));
    assert!(error.to_string().contains("timestamp"));
}

#[test]
fn agent_assertion_takes_a_fresh_timestamp_per_call() {
    let key = AgentIdentityKey::generate("rt-now");
    let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let header = key.agent_assertion("task-now").unwrap();
    let after = OffsetDateTime::now_utc();
    let object: Value = serde_json::from_str(&decoded_json(header.expose_secret())).unwrap();
    let stamped = OffsetDateTime::parse(object["timestamp"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(
        before <= stamped && stamped <= after,
        "{stamped} not in [{before}, {after}]"
    );
}

#[test]
fn agent_assertion_is_redacted_in_debug() {
    let key = AgentIdentityKey::generate("rt-redact");
    let header = key.agent_assertion("task-secret").unwrap();
    let token = header
        .expose_secret()
        .strip_prefix("AgentAssertion ")
        .unwrap();
    // It has no `Display` at all (see the `compile_fail` example of the
    // `secret` module), so `Debug` is the one rendering to check.
    let shown = format!("{header:?}");
    assert!(!shown.contains(token));
    assert!(!shown.contains("AgentAssertion"));
    assert!(shown.contains("[REDACTED]"), "{shown}");
}
