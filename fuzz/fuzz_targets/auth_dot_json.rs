//! Fuzzes `AuthDotJson`, the `auth.json` document, as storage reads it:
//! `serde_json::from_slice::<AuthDotJson>(bytes)`, then `resolved_mode()`,
//! `validated_agent_identity()`, `tokens.id_token.claims()` and
//! `tokens.chatgpt_account_id()`.
//!
//! Findings: any panic, and any broken invariant on a document that parsed:
//! - `resolved_mode()` follows its documented order (a lone identity is
//!   tokenless unless `auth_mode` declares `apikey` or an unknown mode;
//!   then `auth_mode`, API key, tokens, agent identity);
//! - `Debug` of the document does not depend on its secrets (API key, the
//!   three tokens, the agent identity's key or JWT), and a decoded identity
//!   record passes `login_fuzz::check_record`;
//! - writing it back (`serde_json::to_vec`) fails only when the identity is
//!   a JWT that does not decode; when it succeeds the written bytes parse
//!   again, with the same `resolved_mode()`, the same fields, the identity
//!   in the form it was read (a JWT string stays that string, an object
//!   equals the decoded record), and the unknown keys in the same order.
//!
//! Work is bounded by the input size (libFuzzer's `-max_len`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use login_agent_identity::{AgentIdentityInput, ExposeSecret as _};
use login_storage::{AuthDotJson, AuthMode, IdToken};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<AuthDotJson>(data) else {
        return;
    };
    let mode = doc.resolved_mode();
    assert!(
        mode == expected_mode(&doc),
        "resolved_mode() broke its order"
    );

    let identity = doc.validated_agent_identity();
    if let Ok(Some(record)) = &identity {
        login_fuzz::check_record(record);
    }
    assert_eq!(
        identity.is_ok(),
        doc.agent_identity
            .as_ref()
            .is_none_or(|input| input.clone().into_identity().is_ok()),
        "validated_agent_identity() disagrees with into_identity()"
    );
    if let Some(tokens) = &doc.tokens {
        if let Some(id_token) = &tokens.id_token {
            let _ = id_token.claims();
        }
        let _ = tokens.chatgpt_account_id();
    }
    check_debug(&doc);

    let json = match serde_json::to_vec(&doc) {
        Ok(json) => json,
        Err(_) => {
            assert!(
                matches!(doc.agent_identity, Some(AgentIdentityInput::Jwt(_))) && identity.is_err(),
                "serializing failed without an undecodable JWT identity"
            );
            return;
        }
    };
    let back: AuthDotJson =
        serde_json::from_slice(&json).expect("a written auth.json parses again");
    assert!(
        back.resolved_mode() == mode,
        "resolved_mode() changed through a write"
    );
    assert!(
        back.auth_mode == doc.auth_mode,
        "auth_mode changed through a write"
    );
    assert!(
        back.openai_api_key.as_ref().map(|key| key.expose_secret())
            == doc.openai_api_key.as_ref().map(|key| key.expose_secret()),
        "OPENAI_API_KEY changed through a write"
    );
    assert!(
        back.last_refresh == doc.last_refresh,
        "last_refresh changed through a write"
    );
    match (&back.tokens, &doc.tokens) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(
            a.id_token == b.id_token
                && a.access_token.expose_secret() == b.access_token.expose_secret()
                && a.refresh_token.expose_secret() == b.refresh_token.expose_secret()
                && a.account_id == b.account_id
                && login_fuzz::unknown_keys_eq(&a.extra, &b.extra),
            "tokens changed through a write"
        ),
        _ => panic!("tokens appeared or vanished through a write"),
    }
    // The identity keeps the form it was read in.
    match (&back.agent_identity, &doc.agent_identity, identity) {
        (None, None, Ok(None)) => {}
        (
            Some(AgentIdentityInput::Object(written)),
            Some(AgentIdentityInput::Object(_)),
            Ok(Some(record)),
        ) => {
            login_fuzz::assert_records_eq(written, &record, "agent_identity through a write");
        }
        (
            Some(AgentIdentityInput::Jwt(written)),
            Some(AgentIdentityInput::Jwt(read)),
            Ok(Some(_)),
        ) => {
            assert!(
                written.expose_secret() == read.expose_secret(),
                "a JWT identity changed through a write"
            );
        }
        _ => panic!("agent_identity changed form or vanished through a write"),
    }
    assert!(
        login_fuzz::unknown_keys_eq(&back.extra, &doc.extra),
        "unknown top-level keys changed through a write"
    );
});

/// `resolved_mode()` as documented.
fn expected_mode(doc: &AuthDotJson) -> Option<AuthMode> {
    let tokenless =
        doc.agent_identity.is_some() && doc.tokens.is_none() && doc.openai_api_key.is_none();
    let declared_tokenless = matches!(
        doc.auth_mode,
        None | Some(AuthMode::Chatgpt | AuthMode::AgentIdentity)
    );
    if tokenless && declared_tokenless {
        Some(AuthMode::AgentIdentity)
    } else if let Some(mode) = &doc.auth_mode {
        Some(mode.clone())
    } else if doc.openai_api_key.is_some() {
        Some(AuthMode::ApiKey)
    } else if doc.tokens.is_some() {
        Some(AuthMode::Chatgpt)
    } else if doc.agent_identity.is_some() {
        Some(AuthMode::AgentIdentity)
    } else {
        None
    }
}

/// `Debug` of the document is the same with every secret replaced.
fn check_debug(doc: &AuthDotJson) {
    let mut masked = doc.clone();
    if masked.openai_api_key.is_some() {
        masked.openai_api_key = Some(login_fuzz::marker());
    }
    if let Some(tokens) = &mut masked.tokens {
        if let Some(id_token) = &mut tokens.id_token {
            *id_token = IdToken::new(login_fuzz::marker());
        }
        tokens.access_token = login_fuzz::marker();
        tokens.refresh_token = login_fuzz::marker();
    }
    if let Some(input) = &masked.agent_identity {
        masked.agent_identity = login_fuzz::mask_input(input).or(masked.agent_identity.clone());
    }
    assert_eq!(
        format!("{doc:?}"),
        format!("{masked:?}"),
        "Debug of AuthDotJson depends on a secret"
    );
}
