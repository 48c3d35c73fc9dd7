//! Fuzzes `AgentIdentityInput`, what `auth.json`'s `agent_identity` or
//! `CODEX_AGENT_IDENTITY` may hold: the object form or a JWT.
//!
//! Each input goes through both readers:
//! - text (when the bytes are UTF-8): `str::parse::<AgentIdentityInput>()`
//!   then `into_identity()`;
//! - serde: `serde_json::from_slice::<AgentIdentityInput>(bytes)` then
//!   `into_identity()`.
//!
//! Findings: any panic, and any broken invariant:
//! - `Debug` of the input does not depend on its secret (key or token);
//! - the JWT form gives exactly what `AgentIdentity::from_jwt_unverified`
//!   gives, error included; the object form is already valid, so
//!   `into_identity()` returns it unchanged;
//! - an object serde accepts, the text reader accepts too, with an equal
//!   record (one rule set for both readers);
//! - serializing the input and reading it back gives the same input;
//! - every record checks out as in `login_fuzz::check_record` (no key in
//!   `Debug`, JSON round trip, claims parse again unchanged).
//!
//! Work is bounded by the input size (libFuzzer's `-max_len`) and the
//! crate's own 64 KiB limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityInput, ExposeSecret as _,
    MAX_AGENT_IDENTITY_LEN,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text);
    }
    check_serde(data);
});

fn check_text(text: &str) {
    let Ok(input) = text.parse::<AgentIdentityInput>() else {
        return;
    };
    login_fuzz::check_input_debug(&input);
    let record = check_into_identity(&input);
    if let Some(Ok(record)) = &record {
        login_fuzz::check_record(record);
    }
    // `FromStr` keeps a JWT as the trimmed text, so it decodes like the
    // original text would.
    if input.is_jwt() {
        assert!(
            record == Some(AgentIdentity::from_jwt_unverified(text)),
            "text JWT: into_identity() differs from from_jwt_unverified()"
        );
    }
}

fn check_serde(data: &[u8]) {
    let Ok(input) = serde_json::from_slice::<AgentIdentityInput>(data) else {
        return;
    };
    login_fuzz::check_input_debug(&input);
    let record = check_into_identity(&input);
    if let Some(Ok(record)) = &record {
        login_fuzz::check_record(record);
    }

    // The text reader agrees with serde on objects.
    if let AgentIdentityInput::Object(record) = &input
        && data.len() <= MAX_AGENT_IDENTITY_LEN
    {
        let text = std::str::from_utf8(data).expect("serde_json accepted non-UTF-8 bytes");
        match text.parse::<AgentIdentityInput>() {
            Ok(AgentIdentityInput::Object(parsed)) => {
                login_fuzz::assert_records_eq(&parsed, record, "text vs serde object");
            }
            Ok(_) => panic!("an object serde reads as a record parses as a JWT"),
            Err(error) => panic!("an object serde accepts, the text reader refuses: {error}"),
        }
    }

    // Serialize and read back.
    let json = serde_json::to_vec(&input).expect("AgentIdentityInput serializes");
    let back: AgentIdentityInput =
        serde_json::from_slice(&json).expect("serialized AgentIdentityInput reads back");
    match (&input, &back) {
        (AgentIdentityInput::Jwt(a), AgentIdentityInput::Jwt(b)) => {
            assert!(
                a.expose_secret() == b.expose_secret(),
                "JWT string changed through serde"
            );
        }
        (AgentIdentityInput::Object(a), AgentIdentityInput::Object(b)) => {
            login_fuzz::assert_records_eq(a, b, "serde round trip of AgentIdentityInput");
        }
        _ => panic!("serde round trip changed the form of AgentIdentityInput"),
    }
}

/// `into_identity()` of `input`, checked against what the form promises;
/// `None` for a form this target does not know.
fn check_into_identity(
    input: &AgentIdentityInput,
) -> Option<Result<AgentIdentity, AgentIdentityError>> {
    let result = input.clone().into_identity();
    match input {
        AgentIdentityInput::Jwt(jwt) => {
            assert!(
                result == AgentIdentity::from_jwt_unverified(jwt.expose_secret()),
                "JWT: into_identity() differs from from_jwt_unverified()"
            );
        }
        AgentIdentityInput::Object(record) => match &result {
            Ok(validated) => assert!(
                validated == record,
                "into_identity() changed an object that already validated"
            ),
            Err(error) => panic!("into_identity() refuses an object that validated: {error}"),
        },
        _ => return None,
    }
    Some(result)
}
