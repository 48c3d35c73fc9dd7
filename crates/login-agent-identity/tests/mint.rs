//! Minting: tokens a launcher makes decode into the record it meant.

use login_agent_identity::{
    AgentIdentityAuthRecord, AgentIdentityError, AgentIdentityJwtClaims, AgentIdentityKey,
    ExposeSecret as _, JwtSigningKey, mint_agent_identity_jwt,
};

fn claims() -> AgentIdentityJwtClaims {
    AgentIdentityJwtClaims {
        workspace_id: "ws-1".into(),
        agent_runtime_id: "rt-1".into(),
        agent_private_key: AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
        chatgpt_user_id: Some("user-1".into()),
        registered_at: Some("2026-04-17T03:18:00+02:00".into()),
    }
}

#[test]
fn minted_token_decodes_to_the_same_record() {
    let claims = claims();
    let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
    let record = AgentIdentityAuthRecord::from_jwt(jwt.expose_secret()).unwrap();
    assert_eq!(record.to_claims(), claims.validate().unwrap());
    assert_eq!(record.background_task_id, None);
}

#[test]
fn minted_token_with_only_required_claims_round_trips() {
    let claims = AgentIdentityJwtClaims {
        chatgpt_user_id: None,
        registered_at: None,
        ..claims()
    };
    let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
    assert_eq!(
        AgentIdentityAuthRecord::from_jwt(jwt.expose_secret())
            .unwrap()
            .to_claims(),
        claims
    );
}

#[test]
fn minting_refuses_invalid_claims() {
    let claims = AgentIdentityJwtClaims {
        agent_runtime_id: String::new(),
        ..claims()
    };
    let error = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap_err();
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
