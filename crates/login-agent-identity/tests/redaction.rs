//! No secret reaches `Debug` or `Display`: records, claims, inputs, keys,
//! minted tokens, and every error variant. Secrets have no `Display` at all
//! (a `compile_fail` example of the `secret` module proves it).

use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityInput, AgentIdentityKey, ExposeSecret as _,
    JwtSigningKey, REDACTED, SecretString, Segment, mint_agent_identity_jwt,
};

use crate::common::minimal_payload;

fn assert_hidden(rendered: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!rendered.contains(secret), "secret leaked into: {rendered}");
    }
}

/// Whether `rendered` shows a redaction marker: `secrecy`'s for a
/// `SecretString`, this crate's for a signing key.
fn shows_redaction(rendered: &str) -> bool {
    rendered.contains("[REDACTED]") || rendered.contains(REDACTED)
}

#[test]
fn record_claims_and_input_debug_redact_the_private_key() {
    let record: AgentIdentity = serde_json::from_value(minimal_payload()).unwrap();
    let key = record.agent_private_key().expose_secret().to_owned();
    let signer = JwtSigningKey::generate();
    let minted = mint_agent_identity_jwt(record.claims(), &signer).unwrap();
    let jwt = minted.expose_secret();
    let signature = jwt.rsplit('.').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let rendered = [
        format!("{minted:?}"),
        format!("{record:?}"),
        format!("{:?}", record.claims()),
        format!("{:?}", AgentIdentityInput::Object(record.clone())),
        format!("{:?}", jwt.parse::<AgentIdentityInput>().unwrap()),
        format!("{signer:?}"),
        format!(
            "{:?}",
            AgentIdentityKey::from_claims(record.claims()).unwrap()
        ),
    ];
    for text in &rendered {
        assert_hidden(
            text,
            &[
                &key,
                signature,
                payload,
                jwt,
                signer.to_pkcs8_pem().expose_secret(),
            ],
        );
        assert!(shows_redaction(text), "{text}");
    }
    assert!(rendered[1].contains("ws-1234") && rendered[1].contains("rt-abcd"));
}

#[test]
fn secret_string_hides_in_debug() {
    let secret = SecretString::from("sk-marker-123");
    let shown = format!("{secret:?} {secret:#?}");
    assert!(!shown.contains("sk-marker"), "{shown}");
    assert!(shows_redaction(&shown), "{shown}");
}

#[test]
fn every_error_variant_renders_without_secret_text() {
    let marker = "SECRETMARKER";
    let variants = vec![
        AgentIdentityError::Empty,
        AgentIdentityError::TooLarge {
            len: 70_000,
            limit: 65_536,
        },
        AgentIdentityError::SegmentCount { found: 5 },
        AgentIdentityError::MissingSignature,
        AgentIdentityError::EmptySegment(Segment::Payload),
        AgentIdentityError::InvalidBase64(Segment::Header),
        AgentIdentityError::InvalidJson {
            segment: Segment::Payload,
            reason: "expected value at line 1 column 1".into(),
        },
        AgentIdentityError::NotAnObject {
            segment: Segment::Header,
            found: "an array",
        },
        AgentIdentityError::MissingClaim {
            claim: "workspace_id",
        },
        AgentIdentityError::EmptyClaim {
            claim: "agent_runtime_id",
        },
        AgentIdentityError::ClaimType {
            claim: "chatgpt_user_id",
            expected: "a string",
            found: "a boolean",
        },
        AgentIdentityError::InvalidRegisteredAt {
            reason: "the string is not an RFC 3339 timestamp",
        },
        AgentIdentityError::InvalidPrivateKey {
            reason: "not standard base64",
        },
        AgentIdentityError::InvalidObject {
            reason: "duplicate key".into(),
        },
        AgentIdentityError::MissingKid,
        AgentIdentityError::UnknownKid,
        AgentIdentityError::AlgNone,
        AgentIdentityError::HmacRefused { alg: "HS256" },
        AgentIdentityError::UnsupportedJwk {
            reason: "oct".into(),
        },
        AgentIdentityError::AlgorithmMismatch {
            header: "ES256",
            key: "EdDSA",
        },
        AgentIdentityError::InvalidSignature,
        AgentIdentityError::Expired,
        AgentIdentityError::NotYetValid,
        AgentIdentityError::IssuedInTheFuture,
        AgentIdentityError::ConflictingClaims {
            first: "workspace_id",
            second: "account_id",
        },
        AgentIdentityError::InvalidIssuer,
        AgentIdentityError::InvalidAudience,
        AgentIdentityError::MalformedTimeClaim { claim: "exp" },
        AgentIdentityError::Verification { reason: "x".into() },
        AgentIdentityError::Mint { reason: "x".into() },
        AgentIdentityError::InvalidSigningKey {
            reason: "not base64 or PEM",
        },
    ];
    for error in variants {
        let text = format!("{error} {error:?}");
        assert!(!text.contains(marker));
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn errors_from_inputs_carrying_secrets_never_echo_them() {
    let marker_key = "U0VDUkVUTUFSS0VSU0VDUkVUTUFSS0VS";
    let mut payload = minimal_payload();
    payload["agent_private_key"] = serde_json::json!(marker_key);
    let token = crate::common::token_with_payload(&payload);
    let inputs = [
        token.clone(),
        format!("{token}.extra"),
        format!("{}.", token.rsplit_once('.').unwrap().0),
        token.replacen('.', ".*", 1),
        payload.to_string(),
        format!("{{\"agent_private_key\": \"{marker_key}\", \"agent_private_key\": 1}}"),
    ];
    for input in &inputs {
        let error = input
            .parse::<AgentIdentityInput>()
            .and_then(AgentIdentityInput::into_identity)
            .unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains(marker_key) && !text.contains(input.trim()),
            "{text}"
        );
    }
}
