//! Builders shared by the test modules: keys, payloads and raw tokens.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use login_agent_identity::{AgentIdentityKey, ExposeSecret as _};
use serde_json::{Value, json};

/// Standard base64 of a fresh version 1 PKCS#8 Ed25519 key.
pub fn fresh_private_key() -> String {
    AgentIdentityKey::generate("rt-test")
        .private_key_pkcs8_base64()
        .expose_secret()
        .to_owned()
}

/// A payload with every required claim and a fresh key.
pub fn minimal_payload() -> Value {
    json!({
        "workspace_id": "ws-1234",
        "agent_runtime_id": "rt-abcd",
        "agent_private_key": fresh_private_key(),
    })
}

/// `base64url(header).base64url(payload).sig`, with a dummy signature: the
/// decoder does not verify signatures.
pub fn token_with_payload(payload: &Value) -> String {
    token_with_raw_payload(&serde_json::to_vec(payload).unwrap())
}

/// Same, with payload bytes given verbatim.
pub fn token_with_raw_payload(payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
    format!("{header}.{}.c2lnbmF0dXJl", URL_SAFE_NO_PAD.encode(payload))
}

/// Builds a version 2 PKCS#8 Ed25519 document (RFC 5958) from a seed and
/// the public key it claims to match.
pub fn pkcs8_v2(seed: &[u8; 32], public: &[u8; 32]) -> String {
    let mut der = vec![
        0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
    ];
    der.extend_from_slice(&[0x04, 0x22, 0x04, 0x20]);
    der.extend_from_slice(seed);
    der.extend_from_slice(&[0x81, 0x21, 0x00]);
    der.extend_from_slice(public);
    STANDARD.encode(der)
}
