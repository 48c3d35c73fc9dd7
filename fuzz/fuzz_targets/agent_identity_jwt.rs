//! Fuzzes `AgentIdentity::from_jwt_unverified`, the decoder a runtime runs on
//! `CODEX_AGENT_IDENTITY`.
//!
//! Each input is decoded twice:
//! 1. as the token text itself (`std::str::from_utf8`, or a lossy
//!    conversion when the bytes are not UTF-8), which exercises trimming,
//!    the size limit, segment splitting and base64url;
//! 2. as the *payload* of a token built around it
//!    (`<fixed header>.<base64url(input)>.<dummy signature>`), so the
//!    mutator reaches the claim rules (types, `registered_at`, the PKCS#8
//!    key check) without having to keep base64 valid.
//!
//! Findings: any panic, and for every record that decodes (see
//! `login_fuzz::check_record`): its `Debug` shows neither the private key
//! nor anything that depends on it; JSON serialization read back as an
//! `AgentIdentity` gives an equal record; its claims parse again
//! unchanged; `background_task_id` is `None` (never taken from a JWT).
//! Work is bounded by the input size (libFuzzer's `-max_len`) and the
//! crate's own 64 KiB limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use login_agent_identity::AgentIdentity;

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(text) => check_token(text),
        Err(_) => check_token(&String::from_utf8_lossy(data)),
    }
    check_token(&login_fuzz::token_around_payload(data));
});

fn check_token(token: &str) {
    let Ok(record) = AgentIdentity::from_jwt_unverified(token) else {
        return;
    };
    assert!(
        record.background_task_id().is_none(),
        "from_jwt_unverified took background_task_id from the token"
    );
    assert!(
        record.extra().is_empty(),
        "from_jwt_unverified kept unknown claims"
    );
    login_fuzz::check_record(&record);
}
