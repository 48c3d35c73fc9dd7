//! Invariant checks shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every check panics on failure: libFuzzer reports a panic as a crash, so a
//! broken invariant is a finding just like a panic inside the crates.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityInput, AgentIdentityKey, ExposeSecret as _,
    SecretString,
};
use serde_json::Value;

/// What secrets are replaced with when checking that `Debug` ignores them.
const MARKER: &str = "fuzz-marker-secret";

/// Header of the tokens built by [`token_around_payload`]: `{"alg":"EdDSA","typ":"JWT"}`.
const HEADER_JSON: &[u8] = br#"{"alg":"EdDSA","typ":"JWT"}"#;

/// A compact JWT whose payload segment is `payload` (any bytes) in base64url,
/// with a fixed header and a dummy signature. Lets the mutator work on the
/// payload JSON directly instead of on its base64 text.
pub fn token_around_payload(payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(HEADER_JSON);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    token.push_str(".c2lnbmF0dXJl");
    token
}

/// `record` with another (valid) private key: fields are private and only
/// parsing builds an identity, so the key is swapped in its object form.
fn with_other_key(record: &AgentIdentity) -> AgentIdentity {
    static OTHER_KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let other = OTHER_KEY.get_or_init(|| {
        AgentIdentityKey::generate("fuzz")
            .private_key_pkcs8_base64()
            .expose_secret()
            .to_owned()
    });
    let mut object = serde_json::to_value(record).expect("a decoded record serializes to JSON");
    object["agent_private_key"] = Value::String(other.clone());
    serde_json::from_value(object).expect("a record with another valid key parses")
}

/// Checks a record that decoded successfully:
/// - its `Debug` output does not depend on the private key, and does not
///   contain it (unless another, printed field holds the same text);
/// - serialized to JSON and read back as an `AgentIdentity`, it
///   is the same record;
/// - its claims, serialized and parsed again as `AgentIdentityClaims`, are
///   unchanged (validation is idempotent).
pub fn check_record(record: &AgentIdentity) {
    let key = record.agent_private_key().expose_secret();
    assert!(!key.is_empty(), "a decoded record has an empty private key");

    let debug = format!("{record:?}");
    let masked = with_other_key(record);
    assert_eq!(
        debug,
        format!("{masked:?}"),
        "Debug of AgentIdentity depends on the private key"
    );
    let printed_elsewhere = [
        Some(record.workspace_id()),
        Some(record.agent_runtime_id()),
        record.chatgpt_user_id(),
        record.registered_at(),
        record.background_task_id(),
    ]
    .into_iter()
    .flatten()
    .chain(record.extra().keys())
    .any(|field| format!("{field:?}").contains(key));
    if !printed_elsewhere {
        assert!(
            !debug.contains(key),
            "Debug of AgentIdentity shows the private key"
        );
    }

    let json = serde_json::to_vec(record).expect("a decoded record serializes to JSON");
    let back: AgentIdentity =
        serde_json::from_slice(&json).expect("a serialized record reads back as AgentIdentity");
    assert_records_eq(&back, record, "JSON round trip of AgentIdentity");

    let claims = serde_json::to_vec(record.claims()).expect("decoded claims serialize to JSON");
    let reparsed: AgentIdentityClaims =
        serde_json::from_slice(&claims).expect("parsing refuses claims that decoded");
    assert!(
        reparsed == *record.claims(),
        "parsing again changed claims that decoded"
    );
}

/// `Debug` of an input must not depend on the secret it holds.
pub fn check_input_debug(input: &AgentIdentityInput) {
    if let Some(masked) = mask_input(input) {
        assert_eq!(
            format!("{input:?}"),
            format!("{masked:?}"),
            "Debug of AgentIdentityInput depends on the secret"
        );
    }
}

/// The same input with its secret replaced by a marker.
pub fn mask_input(input: &AgentIdentityInput) -> Option<AgentIdentityInput> {
    match input {
        AgentIdentityInput::Jwt(_) => Some(AgentIdentityInput::Jwt(SecretString::from(MARKER))),
        AgentIdentityInput::Object(record) => {
            Some(AgentIdentityInput::Object(with_other_key(record)))
        }
        // `#[non_exhaustive]`: a future variant is not checked here.
        _ => None,
    }
}

/// A secret marker, for masking any secret field.
pub fn marker() -> SecretString {
    SecretString::from(MARKER)
}

/// Asserts two records are equal, comparing the JSON values of unknown keys
/// with [`json_eq`] (floats may move by a few ULP through serde_json's
/// default, best-effort float parser; that is not a bug of these crates).
pub fn assert_records_eq(a: &AgentIdentity, b: &AgentIdentity, what: &str) {
    assert!(
        a.claims() == b.claims() && a.background_task_id() == b.background_task_id(),
        "{what}: records differ"
    );
    assert!(
        unknown_keys_eq(a.extra(), b.extra()),
        "{what}: unknown keys differ"
    );
}

/// Unknown keys equal under [`json_eq`], in the same order.
pub fn unknown_keys_eq(
    a: &login_agent_identity::UnknownKeys,
    b: &login_agent_identity::UnknownKeys,
) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && json_eq(va, vb))
}

/// JSON objects equal under [`json_eq`], keys in the same order.
pub fn maps_eq(a: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && json_eq(va, vb))
}

/// JSON equality that lets a float differ by a few ULP.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) if x.is_f64() && y.is_f64() => floats_close(p, q),
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => maps_eq(x, y),
        _ => a == b,
    }
}

fn floats_close(p: f64, q: f64) -> bool {
    if p == q {
        return true;
    }
    if p.is_sign_negative() != q.is_sign_negative() {
        return false;
    }
    p.to_bits().abs_diff(q.to_bits()) <= 64
}
