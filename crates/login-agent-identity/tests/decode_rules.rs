//! Rules 1-9 of the decoding contract, one named test each (and a few more
//! for the edges of a rule).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityKey, MAX_AGENT_IDENTITY_LEN, Segment,
};
use serde_json::json;

use crate::common::{
    fresh_private_key, minimal_payload, pkcs8_v2, token_with_payload, token_with_raw_payload,
};

fn error_of(token: &str) -> AgentIdentityError {
    AgentIdentity::from_jwt_unverified(token).expect_err("token must be refused")
}

#[test]
fn rule1_surrounding_whitespace_and_newlines_are_trimmed() {
    let token = token_with_payload(&minimal_payload());
    let claims = AgentIdentity::from_jwt_unverified(&format!("\n\t  {token}\r\n")).unwrap();
    assert_eq!(claims.workspace_id(), "ws-1234");
}

#[test]
fn rule1_empty_after_trimming_is_refused_as_empty() {
    for input in ["", "   ", "\n\t\r\n"] {
        let error = error_of(input);
        assert_eq!(error, AgentIdentityError::Empty);
        assert!(error.to_string().contains("empty"));
    }
}

#[test]
fn rule2_input_over_64_kib_is_refused_before_decoding_naming_the_limit() {
    // Not a JWT at all: proves the size check comes before any parsing.
    let error = error_of(&"x".repeat(MAX_AGENT_IDENTITY_LEN + 1));
    let message = error.to_string();
    assert!(matches!(error, AgentIdentityError::TooLarge { .. }));
    assert!(
        message.contains("large") && message.contains("65536"),
        "{message}"
    );
}

#[test]
fn rule2_up_to_4_kib_of_surrounding_whitespace_is_trimmed_before_the_limit_applies() {
    // At most 64 KiB + 4 KiB of input is even scanned for whitespace; the
    // limit then applies to what is left. Not a JWT, so anything but
    // `TooLarge` proves the input got past both checks.
    let body = "x".repeat(MAX_AGENT_IDENTITY_LEN);
    let within = format!("{}{body}", " ".repeat(4096));
    let error = error_of(&within);
    assert!(
        !matches!(error, AgentIdentityError::TooLarge { .. }),
        "{error:?}"
    );
    // One byte more is refused before trimming, naming the whole input.
    let over = format!("{}{body}", " ".repeat(4097));
    assert_eq!(
        error_of(&over),
        AgentIdentityError::TooLarge {
            len: over.len(),
            limit: MAX_AGENT_IDENTITY_LEN
        }
    );
    // Within the scan, the limit counts the trimmed text.
    let trimmed_over = format!("  {body}x  ");
    assert_eq!(
        error_of(&trimmed_over),
        AgentIdentityError::TooLarge {
            len: MAX_AGENT_IDENTITY_LEN + 1,
            limit: MAX_AGENT_IDENTITY_LEN
        }
    );
}

#[test]
fn rule2_input_of_exactly_64_kib_is_decoded() {
    let mut payload = minimal_payload();
    let base = token_with_payload(&payload).len();
    // Each 3 payload bytes become 4 characters; pad to land exactly on the limit.
    payload["pad"] = json!("");
    let overhead = token_with_payload(&payload).len();
    let fill = (MAX_AGENT_IDENTITY_LEN - overhead) * 3 / 4;
    payload["pad"] = json!("a".repeat(fill));
    let token = token_with_payload(&payload);
    assert!(token.len() <= MAX_AGENT_IDENTITY_LEN && token.len() > base);
    AgentIdentity::from_jwt_unverified(&token).unwrap();
}

#[test]
fn rule3_wrong_segment_count_is_refused_with_the_count() {
    for (input, found) in [("abc", 1), ("a.b", 2), ("a.b.c.d", 4), ("a.b.c.d.e", 5)] {
        let message = error_of(input).to_string();
        assert!(
            message.contains("segment") && message.contains(&found.to_string()),
            "{message}"
        );
    }
}

#[test]
fn rule3_five_segment_jwe_is_refused_as_segment_count() {
    let error = error_of("eyJhbGciOiJkaXIifQ..iv.ciphertext.tag");
    assert_eq!(error, AgentIdentityError::SegmentCount { found: 5 });
}

#[test]
fn rule4_empty_signature_segment_is_refused_as_unsigned() {
    let token = token_with_payload(&minimal_payload());
    let unsigned = format!("{}.", token.rsplit_once('.').unwrap().0);
    let error = error_of(&unsigned);
    assert_eq!(error, AgentIdentityError::MissingSignature);
    assert!(error.to_string().contains("signature"));
}

#[test]
fn rule4_signature_is_not_verified_by_the_decoder() {
    let token = token_with_payload(&minimal_payload());
    let (unsigned, _) = token.rsplit_once('.').unwrap();
    AgentIdentity::from_jwt_unverified(&format!("{unsigned}.bm90LWEtc2lnbmF0dXJl")).unwrap();
}

#[test]
fn rule5_trailing_base64_padding_is_tolerated() {
    let payload = serde_json::to_vec(&minimal_payload()).unwrap();
    let padded = base64::engine::general_purpose::URL_SAFE.encode(&payload);
    assert!(
        padded.ends_with('='),
        "test needs a payload whose length is not a multiple of 3"
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#);
    AgentIdentity::from_jwt_unverified(&format!("{header}.{padded}.sig")).unwrap();
}

#[test]
#[rustfmt::skip]
fn rule5_non_base64url_characters_are_refused_naming_the_segment() {
    let token = token_with_payload(&minimal_payload());
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let bad_header = format!("+/{header}");
    assert_eq!(error_of(&format!("{bad_header}.{payload}.{signature}")), AgentIdentityError::InvalidBase64(Segment::Header));
    let bad_payload = format!("{payload}*");
    let error = error_of(&format!("{header}.{bad_payload}.{signature}"));
    assert_eq!(error, AgentIdentityError::InvalidBase64(Segment::Payload));
    assert!(error.to_string().contains("payload") && error.to_string().contains("base64"));
}

#[test]
fn rule5_header_must_be_a_json_object() {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&minimal_payload()).unwrap());
    let array_header = URL_SAFE_NO_PAD.encode(b"[1,2]");
    let error = error_of(&format!("{array_header}.{payload}.sig"));
    assert_eq!(
        error,
        AgentIdentityError::NotAnObject {
            segment: Segment::Header,
            found: "an array"
        }
    );
    let broken_header = URL_SAFE_NO_PAD.encode(b"{\"alg\":");
    let message = error_of(&format!("{broken_header}.{payload}.sig")).to_string();
    assert!(
        message.contains("header") && message.contains("json"),
        "{message}"
    );
}

#[test]
fn rule5_payload_must_be_a_json_object() {
    let error = error_of(&token_with_raw_payload(b"\"just a string\""));
    assert_eq!(
        error,
        AgentIdentityError::NotAnObject {
            segment: Segment::Payload,
            found: "a string"
        }
    );
    let message = error_of(&token_with_raw_payload(b"not json at all")).to_string();
    assert!(
        message.contains("payload") && message.contains("json"),
        "{message}"
    );
}

#[test]
fn rule5_a_payload_of_every_other_json_kind_is_refused_naming_the_kind() {
    for (payload, found) in [
        (&b"[1]"[..], "an array"),
        (b"\"s\"", "a string"),
        (b"0", "a number"),
        (b"-1.5", "a number"),
        (b"true", "a boolean"),
        (b"false", "a boolean"),
        (b"null", "null"),
    ] {
        assert_eq!(
            error_of(&token_with_raw_payload(payload)),
            AgentIdentityError::NotAnObject {
                segment: Segment::Payload,
                found
            },
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
}

#[test]
fn rule5_empty_payload_segment_is_refused_naming_payload() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#);
    let error = error_of(&format!("{header}..sig"));
    assert_eq!(error, AgentIdentityError::EmptySegment(Segment::Payload));
    assert!(error.to_string().contains("payload"));
}

#[test]
fn rule6_missing_null_empty_or_non_string_required_claims_are_refused_by_name() {
    for claim in ["workspace_id", "agent_runtime_id", "agent_private_key"] {
        for bad in [
            None,
            Some(json!(null)),
            Some(json!("")),
            Some(json!(42)),
            Some(json!(["x"])),
        ] {
            let mut payload = minimal_payload();
            match &bad {
                None => drop(payload.as_object_mut().unwrap().remove(claim)),
                Some(value) => payload[claim] = value.clone(),
            }
            let message = error_of(&token_with_payload(&payload)).to_string();
            assert!(message.contains(claim), "{claim} = {bad:?}: {message}");
        }
    }
}

#[test]
fn rule6_chatgpt_user_id_may_be_string_or_null_only() {
    let mut payload = minimal_payload();
    payload["chatgpt_user_id"] = json!(null);
    assert_eq!(
        AgentIdentity::from_jwt_unverified(&token_with_payload(&payload))
            .unwrap()
            .chatgpt_user_id(),
        None
    );
    payload["chatgpt_user_id"] = json!("user-1");
    let claims = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(claims.chatgpt_user_id(), Some("user-1"));
    payload["chatgpt_user_id"] = json!(7);
    let message = error_of(&token_with_payload(&payload)).to_string();
    assert!(message.contains("chatgpt_user_id"), "{message}");
}

#[test]
fn rule6_duplicate_required_claim_is_refused() {
    let key = fresh_private_key();
    let payload = format!(
        r#"{{"workspace_id":"a","workspace_id":"b","agent_runtime_id":"r","agent_private_key":"{key}"}}"#
    );
    let message = error_of(&token_with_raw_payload(payload.as_bytes())).to_string();
    assert!(
        message.contains("duplicate") && message.contains("workspace_id"),
        "{message}"
    );
}

#[test]
fn rule7_registered_at_numeric_date_is_normalized_to_rfc3339_utc() {
    let mut payload = minimal_payload();
    payload["registered_at"] = json!(1_767_225_600);
    let claims = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(claims.registered_at(), Some("2026-01-01T00:00:00Z"));
}

#[test]
fn rule7_registered_at_with_offset_is_normalized_to_utc_seconds() {
    let mut payload = minimal_payload();
    for (given, expected) in [
        ("2026-04-17T03:18:00+02:00", "2026-04-17T01:18:00Z"),
        ("2026-04-17T01:18:00.987654Z", "2026-04-17T01:18:00Z"),
        ("2026-04-17t01:18:00z", "2026-04-17T01:18:00Z"),
    ] {
        payload["registered_at"] = json!(given);
        let claims = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
        assert_eq!(claims.registered_at(), Some(expected), "{given}");
    }
}

#[test]
fn rule7_registered_at_of_another_shape_is_refused_by_name() {
    let mut payload = minimal_payload();
    for bad in [
        json!("yesterday"),
        json!("2026-01-01"),
        json!(1.5),
        json!(true),
        json!(i64::MAX),
        json!({}),
    ] {
        payload["registered_at"] = bad.clone();
        let message = error_of(&token_with_payload(&payload)).to_string();
        assert!(message.contains("registered_at"), "{bad}: {message}");
    }
}

#[test]
fn rule7_registered_at_that_lands_past_year_9999_in_utc_is_refused_not_a_panic() {
    let mut payload = minimal_payload();
    payload["registered_at"] = json!("9999-12-31T23:59:59-01:00");
    let error = error_of(&token_with_payload(&payload));
    assert!(
        matches!(error, AgentIdentityError::InvalidRegisteredAt { .. }),
        "{error}"
    );
}

#[test]
fn rule8_background_task_id_claim_is_ignored() {
    let mut payload = minimal_payload();
    payload["background_task_id"] = json!("task-from-launcher");
    let record = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(record.background_task_id(), None);
    assert!(record.extra().is_empty());
}

#[test]
fn rule8_unknown_claims_are_ignored() {
    let mut payload = minimal_payload();
    payload["iss"] = json!("https://issuer.invalid");
    payload["aud"] = json!(["a", "b"]);
    payload["exp"] = json!(1);
    payload["custom"] = json!({"nested": [1, 2, {"x": null}]});
    let record = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert!(record.extra().is_empty());
}

#[test]
fn rule9_pkcs8_v2_key_with_matching_public_key_is_accepted() {
    let key = AgentIdentityKey::generate("rt");
    let public = key.verifying_key().to_bytes();
    let mut payload = minimal_payload();
    payload["agent_private_key"] = json!(pkcs8_v2(&key.seed(), &public));
    AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
}

#[test]
fn rule9_pkcs8_v2_key_with_mismatched_public_key_is_refused() {
    let key = AgentIdentityKey::generate("rt");
    let other = AgentIdentityKey::generate("rt").verifying_key().to_bytes();
    let mut payload = minimal_payload();
    payload["agent_private_key"] = json!(pkcs8_v2(&key.seed(), &other));
    let message = error_of(&token_with_payload(&payload)).to_string();
    assert!(
        message.contains("agent_private_key") && message.contains("public key"),
        "{message}"
    );
}

#[test]
fn rule9_private_key_that_is_not_base64_pkcs8_ed25519_is_refused_without_echo() {
    use p256::elliptic_curve::Generate as _;
    use p256::pkcs8::EncodePrivateKey as _;
    let standard = base64::engine::general_purpose::STANDARD;
    let ec = standard.encode(
        p256::SecretKey::generate()
            .to_pkcs8_der()
            .unwrap()
            .as_bytes(),
    );
    let rsa_key = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
    let rsa = standard.encode(
        rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&rsa_key)
            .unwrap()
            .as_bytes(),
    );
    let raw_seed = standard.encode([7u8; 32]);
    let url_safe = fresh_private_key().replace('+', "-").replace('/', "_") + "-_";
    for bad in [
        "not base64 at all!",
        raw_seed.as_str(),
        ec.as_str(),
        rsa.as_str(),
        url_safe.as_str(),
    ] {
        let mut payload = minimal_payload();
        payload["agent_private_key"] = json!(bad);
        let message = error_of(&token_with_payload(&payload)).to_string();
        assert!(message.contains("agent_private_key"), "{message}");
        assert!(!message.contains(bad), "error echoes the key: {message}");
    }
}

#[test]
fn unverified_jwt_payload_is_the_decoded_middle_segment_padded_or_not() {
    let payload = br#"{"exp":1767225600,"sub":"user"}"#;
    let token = token_with_raw_payload(payload);
    assert_eq!(
        login_agent_identity::unverified_jwt_payload(&token)
            .unwrap()
            .as_slice(),
        payload
    );
    let padded = {
        let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
        segments[1] = base64::engine::general_purpose::URL_SAFE.encode(payload);
        segments.join(".")
    };
    assert!(padded.contains('='));
    assert_eq!(
        login_agent_identity::unverified_jwt_payload(&padded)
            .unwrap()
            .as_slice(),
        payload
    );
    for (bad, why) in [
        ("a.b", "it is not a JWT with 3 segments"),
        ("a.b.c.d", "it is not a JWT with 3 segments"),
        ("a.!!.c", "the payload is not base64url"),
    ] {
        assert_eq!(
            login_agent_identity::unverified_jwt_payload(bad).unwrap_err(),
            why
        );
    }
}
