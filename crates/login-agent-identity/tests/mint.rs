//! Minting: tokens a launcher makes decode into the record it meant.

use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityError, AgentIdentityKey, ExposeSecret as _,
    JwtSigningKey, mint_agent_identity_jwt,
};

fn claims() -> AgentIdentityClaims {
    AgentIdentityClaims::new(
        "ws-1",
        "rt-1",
        AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    )
    .unwrap()
    .with_chatgpt_user_id(Some("user-1".into()))
    .with_registered_at("2026-04-17T03:18:00+02:00")
    .unwrap()
}

#[test]
fn minted_token_decodes_to_the_same_record() {
    let claims = claims();
    let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
    let record = AgentIdentity::from_jwt_unverified(jwt.expose_secret()).unwrap();
    assert_eq!(record.claims(), &claims);
    assert_eq!(record.background_task_id(), None);
}

#[test]
fn minted_token_with_only_required_claims_round_trips() {
    let claims = AgentIdentityClaims::new(
        "ws-1",
        "rt-1",
        AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    )
    .unwrap();
    let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
    assert_eq!(
        AgentIdentity::from_jwt_unverified(jwt.expose_secret())
            .unwrap()
            .claims(),
        &claims
    );
}

#[test]
fn minting_refuses_invalid_claims() {
    // Claims are checked when built: invalid ones never reach minting.
    let error = AgentIdentityClaims::new(
        "ws-1",
        String::new(),
        AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        AgentIdentityError::EmptyClaim {
            claim: "agent_runtime_id"
        }
    );
}

#[test]
fn signing_key_round_trips_through_pem_with_the_same_kid() {
    let key = JwtSigningKey::generate();
    let pem = key.to_pkcs8_pem();
    let again = JwtSigningKey::from_pkcs8_text(pem.expose_secret()).unwrap();
    assert_eq!(again.kid(), key.kid());
    assert_eq!(again.public_jwk(), key.public_jwk());
    assert_eq!(key.public_jwk()["kid"], key.kid());
}

#[test]
fn signing_key_text_that_is_not_pkcs8_ed25519_is_refused() {
    for text in [
        "",
        "garbage",
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
    ] {
        let error = JwtSigningKey::from_pkcs8_text(text).unwrap_err();
        assert!(
            matches!(error, AgentIdentityError::InvalidSigningKey { .. }),
            "{error:?}"
        );
    }
}
