//! Signature verification against a JWK set: EdDSA, ES256 and RS256 are
//! accepted; a wrong kid, a wrong key, an expired token, `none` and HMAC
//! are each refused with their own error.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityError, AgentIdentityKey, ExposeSecret as _,
    JwkSet, JwtSigningKey, VerifyOptions, mint_agent_identity_jwt, verify_agent_identity_jwt,
};
use serde_json::{Value, json};

use crate::common::minimal_payload;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn jwks(keys: Vec<Value>) -> JwkSet {
    serde_json::from_value(json!({ "keys": keys })).unwrap()
}

fn sign(alg: Algorithm, kid: &str, key: &EncodingKey, payload: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, payload, key).unwrap()
}

struct Es256 {
    encoding: EncodingKey,
    jwk: Value,
}

fn es256() -> Es256 {
    use p256::elliptic_curve::Generate as _;
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    use p256::pkcs8::EncodePrivateKey as _;
    let secret = p256::SecretKey::generate();
    let point = secret.public_key().to_sec1_point(false);
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "ec-1",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    });
    Es256 {
        encoding: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
        jwk,
    }
}

struct Rs256 {
    encoding: EncodingKey,
    jwk: Value,
}

/// RSA key generation is the slow part of this suite: do it once.
fn rs256() -> &'static Rs256 {
    static KEY: OnceLock<Rs256> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let jwk = json!({
            "kty": "RSA", "kid": "rsa-1", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(private.n().to_be_bytes_trimmed_vartime()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_be_bytes_trimmed_vartime()),
        });
        Rs256 {
            encoding: EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
            jwk,
        }
    })
}

fn eddsa_token(signer: &JwtSigningKey) -> String {
    let claims = AgentIdentityClaims::new(
        "ws-1",
        "rt-1",
        AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    )
    .unwrap();
    mint_agent_identity_jwt(&claims, signer)
        .unwrap()
        .expose_secret()
        .to_owned()
}

fn verify(token: &str, set: &JwkSet) -> Result<AgentIdentity, AgentIdentityError> {
    verify_agent_identity_jwt(token, set, &VerifyOptions::default())
}

#[test]
fn verification_accepts_eddsa_token() {
    let signer = JwtSigningKey::generate();
    let claims = verify(&eddsa_token(&signer), &jwks(vec![signer.public_jwk()])).unwrap();
    assert_eq!(claims.workspace_id(), "ws-1");
}

#[test]
fn verification_accepts_es256_token() {
    let key = es256();
    let payload = minimal_payload();
    let token = sign(Algorithm::ES256, "ec-1", &key.encoding, &payload);
    let claims = verify(&token, &jwks(vec![key.jwk])).unwrap();
    assert_claims_of(claims.claims(), &payload);
}

/// The verified claims are the payload's, not merely some success.
fn assert_claims_of(claims: &AgentIdentityClaims, payload: &Value) {
    assert_eq!(claims.workspace_id(), payload["workspace_id"]);
    assert_eq!(claims.agent_runtime_id(), payload["agent_runtime_id"]);
    assert_eq!(
        claims.agent_private_key().expose_secret(),
        payload["agent_private_key"]
    );
    assert_eq!(claims.chatgpt_user_id(), None);
}

#[test]
fn verification_accepts_rs256_token() {
    let key = rs256();
    let payload = minimal_payload();
    let token = sign(Algorithm::RS256, "rsa-1", &key.encoding, &payload);
    let claims = verify(&token, &jwks(vec![key.jwk.clone()])).unwrap();
    assert_claims_of(claims.claims(), &payload);
}

#[test]
fn verification_refuses_unknown_kid() {
    let signer = JwtSigningKey::generate();
    let mut other = JwtSigningKey::generate().public_jwk();
    other["kid"] = json!("someone-else");
    assert_eq!(
        verify(&eddsa_token(&signer), &jwks(vec![other])).unwrap_err(),
        AgentIdentityError::UnknownKid
    );
}

#[test]
fn verification_refuses_missing_kid() {
    let key = es256();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &minimal_payload(),
        &key.encoding,
    )
    .unwrap();
    assert_eq!(
        verify(&token, &jwks(vec![key.jwk])).unwrap_err(),
        AgentIdentityError::MissingKid
    );
}

#[test]
fn verification_refuses_wrong_key_under_the_right_kid() {
    let signer = JwtSigningKey::generate();
    let mut impostor = JwtSigningKey::generate().public_jwk();
    impostor["kid"] = json!(signer.kid());
    assert_eq!(
        verify(&eddsa_token(&signer), &jwks(vec![impostor])).unwrap_err(),
        AgentIdentityError::InvalidSignature
    );
}

#[test]
fn verification_refuses_expired_token_and_honours_leeway() {
    let key = es256();
    let mut payload = minimal_payload();
    payload["exp"] = json!(now() - 120);
    let token = sign(Algorithm::ES256, "ec-1", &key.encoding, &payload);
    let set = jwks(vec![key.jwk]);
    assert_eq!(
        verify(&token, &set).unwrap_err(),
        AgentIdentityError::Expired
    );
    let lenient = VerifyOptions::default().with_leeway_secs(600);
    verify_agent_identity_jwt(&token, &set, &lenient).unwrap();
}

#[test]
fn verification_refuses_token_not_valid_yet() {
    let key = es256();
    let mut payload = minimal_payload();
    payload["nbf"] = json!(now() + 3600);
    let token = sign(Algorithm::ES256, "ec-1", &key.encoding, &payload);
    assert_eq!(
        verify(&token, &jwks(vec![key.jwk])).unwrap_err(),
        AgentIdentityError::NotYetValid
    );
}

#[test]
fn verification_refuses_alg_none() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&minimal_payload()).unwrap());
    let token = format!("{header}.{payload}.AAAA");
    let signer = JwtSigningKey::generate();
    assert_eq!(
        verify(&token, &jwks(vec![signer.public_jwk()])).unwrap_err(),
        AgentIdentityError::AlgNone
    );
}

#[test]
fn verification_refuses_hs256() {
    let token = sign(
        Algorithm::HS256,
        "k",
        &EncodingKey::from_secret(b"shared").unwrap(),
        &minimal_payload(),
    );
    let oct = json!({"kty": "oct", "kid": "k", "k": URL_SAFE_NO_PAD.encode(b"shared")});
    let error = verify(&token, &jwks(vec![oct])).unwrap_err();
    assert_eq!(error, AgentIdentityError::HmacRefused { alg: "HS256" });
}

#[test]
fn verification_takes_the_algorithm_from_the_jwk_not_the_header() {
    // An ES256 header pointing at an Ed25519 key is refused before any
    // signature check.
    let key = es256();
    let signer = JwtSigningKey::generate();
    let token = sign(
        Algorithm::ES256,
        signer.kid(),
        &key.encoding,
        &minimal_payload(),
    );
    let error = verify(&token, &jwks(vec![signer.public_jwk()])).unwrap_err();
    assert_eq!(
        error,
        AgentIdentityError::AlgorithmMismatch {
            header: "ES256",
            key: "EdDSA"
        }
    );
}

#[test]
fn verification_checks_issuer_and_audience_when_asked() {
    let key = rs256();
    let mut payload = minimal_payload();
    payload["iss"] = json!("https://auth.invalid");
    payload["aud"] = json!("agents");
    let token = sign(Algorithm::RS256, "rsa-1", &key.encoding, &payload);
    let set = jwks(vec![key.jwk.clone()]);
    let both = VerifyOptions::default()
        .with_issuer("https://auth.invalid")
        .with_audience("agents");
    verify_agent_identity_jwt(&token, &set, &both).unwrap();
    let wrong_iss = VerifyOptions::default().with_issuer("https://other.invalid");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &wrong_iss).unwrap_err(),
        AgentIdentityError::InvalidIssuer
    );
    let wrong_aud = VerifyOptions::default().with_audience("humans");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &wrong_aud).unwrap_err(),
        AgentIdentityError::InvalidAudience
    );
}

#[test]
fn a_configured_issuer_or_audience_is_required_not_only_checked_when_present() {
    let key = rs256();
    let token = sign(Algorithm::RS256, "rsa-1", &key.encoding, &minimal_payload());
    let set = jwks(vec![key.jwk.clone()]);
    verify_agent_identity_jwt(&token, &set, &VerifyOptions::default()).unwrap();
    let issuer = VerifyOptions::default().with_issuer("https://auth.invalid");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &issuer).unwrap_err(),
        AgentIdentityError::InvalidIssuer
    );
    let audience = VerifyOptions::default().with_audience("agents");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &audience).unwrap_err(),
        AgentIdentityError::InvalidAudience
    );
}

#[test]
fn header_algorithm_text_never_reaches_an_error() {
    let signer = JwtSigningKey::generate();
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "X-\u{1b}[31mEVIL", "kid": signer.kid()}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(minimal_payload().to_string());
    let token = format!("{header}.{payload}.c2ln");
    let error = verify(&token, &jwks(vec![signer.public_jwk()])).unwrap_err();
    assert_eq!(
        error,
        AgentIdentityError::AlgorithmMismatch {
            header: "unknown",
            key: "EdDSA"
        }
    );
    assert!(!error.to_string().contains("EVIL"), "{error}");
    let hmac_header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS-EVIL", "kid": "k"}).to_string());
    let error = verify(&format!("{hmac_header}.{payload}.c2ln"), &jwks(vec![])).unwrap_err();
    assert_eq!(error, AgentIdentityError::HmacRefused { alg: "HMAC" });
}

#[test]
fn verified_token_still_obeys_the_claim_rules() {
    let key = es256();
    let mut payload = minimal_payload();
    payload["agent_private_key"] = json!("AAAA");
    let token = sign(Algorithm::ES256, "ec-1", &key.encoding, &payload);
    let message = verify(&token, &jwks(vec![key.jwk]))
        .unwrap_err()
        .to_string();
    assert!(message.contains("agent_private_key"), "{message}");
}

/// A newer-shape payload (`account_id`, account details, time claims)
/// issued at `iat` and expiring at `exp`.
fn newer_shape_payload(iat: i64, exp: i64) -> Value {
    let mut payload = minimal_payload();
    let map = payload.as_object_mut().unwrap();
    map.remove("workspace_id");
    map.insert("account_id".into(), json!("acct-new"));
    map.insert("email".into(), json!("agent@example.invalid"));
    map.insert("plan_type".into(), json!("team"));
    map.insert("chatgpt_account_is_fedramp".into(), json!(false));
    map.insert("iss".into(), json!("https://auth.invalid"));
    map.insert("aud".into(), json!("codex-agent"));
    map.insert("iat".into(), json!(iat));
    map.insert("exp".into(), json!(exp));
    payload
}

#[test]
fn verification_accepts_a_newer_shape_token_and_checks_its_time_claims_and_issuer_and_audience() {
    let key = es256();
    let set = jwks(vec![key.jwk]);
    let expected = VerifyOptions::default()
        .with_issuer("https://auth.invalid")
        .with_audience("codex-agent");
    let token = sign(
        Algorithm::ES256,
        "ec-1",
        &key.encoding,
        &newer_shape_payload(now() - 10, now() + 3600),
    );
    let identity = verify_agent_identity_jwt(&token, &set, &expected).unwrap();
    assert_eq!(identity.workspace_id(), "acct-new");
    assert_eq!(identity.email(), Some("agent@example.invalid"));
    assert_eq!(
        identity.plan_type(),
        Some(&login_agent_identity::PlanType::Team)
    );
    assert_eq!(identity.chatgpt_account_is_fedramp(), Some(false));
    // Without expectations, iss and aud are not checked.
    verify_agent_identity_jwt(&token, &set, &VerifyOptions::default()).unwrap();

    let wrong = VerifyOptions::default().with_audience("someone-else");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &wrong).unwrap_err(),
        AgentIdentityError::InvalidAudience
    );
    let wrong = VerifyOptions::default().with_issuer("https://other.invalid");
    assert_eq!(
        verify_agent_identity_jwt(&token, &set, &wrong).unwrap_err(),
        AgentIdentityError::InvalidIssuer
    );

    let expired = sign(
        Algorithm::ES256,
        "ec-1",
        &key.encoding,
        &newer_shape_payload(now() - 7200, now() - 3600),
    );
    assert_eq!(
        verify_agent_identity_jwt(&expired, &set, &expected).unwrap_err(),
        AgentIdentityError::Expired
    );
    // Unverified decoding reads the same token and only reports its expiry.
    let unverified = AgentIdentity::from_jwt_unverified(&expired).unwrap();
    assert!(unverified.expires_at().unwrap() < time::OffsetDateTime::now_utc());
}

#[test]
fn verification_refuses_a_token_issued_in_the_future_or_with_a_malformed_iat() {
    let key = es256();
    let set = jwks(vec![key.jwk]);
    let future = sign(
        Algorithm::ES256,
        "ec-1",
        &key.encoding,
        &newer_shape_payload(now() + 3600, now() + 7200),
    );
    assert_eq!(
        verify(&future, &set).unwrap_err(),
        AgentIdentityError::IssuedInTheFuture
    );
    // Within the leeway, a clock slightly ahead is tolerated.
    let skewed = sign(
        Algorithm::ES256,
        "ec-1",
        &key.encoding,
        &newer_shape_payload(now() + 30, now() + 7200),
    );
    verify(&skewed, &set).unwrap();
    let mut payload = newer_shape_payload(0, now() + 3600);
    payload["iat"] = json!("yesterday");
    let malformed = sign(Algorithm::ES256, "ec-1", &key.encoding, &payload);
    assert_eq!(
        verify(&malformed, &set).unwrap_err(),
        AgentIdentityError::MalformedTimeClaim { claim: "iat" }
    );
}
