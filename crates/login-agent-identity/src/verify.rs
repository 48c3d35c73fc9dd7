//! Optional signature verification against a JWK set, with `jsonwebtoken`.
//!
//! The algorithm comes from the JWK the header's `kid` selects, never from
//! the header alone: a header can only confirm it. `none` and HMAC are
//! refused before any key is looked at.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::error::{AgentIdentityError, Segment};
use crate::identity::AgentIdentity;
use crate::jwt;

/// What [`verify_agent_identity_jwt`] checks beyond the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Clock skew tolerated for `exp` and `nbf`, in seconds. Default 60.
    pub leeway_secs: u64,
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
    /// When set, `aud` must contain it. When unset, `aud` is not checked.
    pub audience: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            leeway_secs: 60,
            issuer: None,
            audience: None,
        }
    }
}

impl VerifyOptions {
    /// Sets the expected issuer.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the expected audience.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the leeway for `exp` and `nbf`.
    pub fn with_leeway_secs(mut self, leeway_secs: u64) -> Self {
        self.leeway_secs = leeway_secs;
        self
    }
}

#[derive(serde::Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<std::borrow::Cow<'a, str>>,
}

/// Verifies an agent identity JWT's signature with the key its `kid` names
/// in `jwks`, enforces `exp`/`nbf`/`iat` when present (`iat` must not be
/// in the future) and `iss`/`aud` when the options ask (a configured one is
/// then required), then applies every decoding rule.
///
/// Returns an [`AgentIdentity`], exactly what
/// [`AgentIdentity::from_jwt_unverified`] returns for the same token, rather
/// than only its [`AgentIdentityClaims`](crate::AgentIdentityClaims): the
/// two ways of reading a JWT then differ only in the check, and the result
/// can be stored as it is.
///
/// Accepted algorithms: EdDSA (Ed25519), ES256, ES384, RS256/384/512 and
/// PS256/384/512, as the JWK dictates.
///
/// ```
/// use login_agent_identity::{AgentIdentityClaims, AgentIdentityKey, ExposeSecret, JwtSigningKey,
///     VerifyOptions, mint_agent_identity_jwt, verify_agent_identity_jwt};
///
/// let signer = JwtSigningKey::generate();
/// let private_key = AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64();
/// let claims = AgentIdentityClaims::new("ws-1", "rt-1", private_key)?;
/// let jwt = mint_agent_identity_jwt(&claims, &signer)?;
/// let jwks = serde_json::from_value(serde_json::json!({ "keys": [signer.public_jwk()] })).unwrap();
/// let verified = verify_agent_identity_jwt(jwt.expose_secret(), &jwks, &VerifyOptions::default())?;
/// assert_eq!(verified.workspace_id(), "ws-1");
/// # Ok::<(), login_agent_identity::AgentIdentityError>(())
/// ```
pub fn verify_agent_identity_jwt(
    jwt: &str,
    jwks: &JwkSet,
    options: &VerifyOptions,
) -> Result<AgentIdentity, AgentIdentityError> {
    let token = jwt::trim_and_limit(jwt)?;
    let segments = jwt::split_segments(token)?;
    let header_bytes = jwt::decode_object_segment(segments.header, Segment::Header)?;
    let header: JoseHeader<'_> =
        serde_json::from_slice(&header_bytes).map_err(|error| AgentIdentityError::InvalidJson {
            segment: Segment::Header,
            reason: jwt::describe_json_error(&error),
        })?;
    let header_alg = header.alg.as_deref().unwrap_or("");
    if header_alg.eq_ignore_ascii_case("none") || header_alg.is_empty() {
        return Err(AgentIdentityError::AlgNone);
    }
    let header_algorithm = header_alg.parse::<Algorithm>().ok();
    if header_alg.to_ascii_uppercase().starts_with("HS") {
        return Err(AgentIdentityError::HmacRefused {
            alg: header_algorithm.map_or("HMAC", algorithm_name),
        });
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or(AgentIdentityError::MissingKid)?;
    let jwk = jwks.find(kid).ok_or(AgentIdentityError::UnknownKid)?;
    let key_alg = algorithm_of(jwk)?;
    if header_algorithm != Some(key_alg) {
        return Err(AgentIdentityError::AlgorithmMismatch {
            header: header_algorithm.map_or("unknown", algorithm_name),
            key: algorithm_name(key_alg),
        });
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|error| AgentIdentityError::UnsupportedJwk {
        reason: error.to_string(),
    })?;

    let mut validation = Validation::new(key_alg);
    validation.required_spec_claims.clear();
    validation.leeway = options.leeway_secs;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    // jsonwebtoken checks `iss`/`aud` only when present: a configured one
    // must also be required, or a token without the claim would pass.
    match &options.issuer {
        Some(issuer) => {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        None => validation.iss = None,
    }
    match &options.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            validation.required_spec_claims.insert("aud".to_owned());
        }
        None => validation.validate_aud = false,
    }
    let claims = jsonwebtoken::decode::<IssuedAt>(token, &key, &validation)
        .map_err(|error| map_error(error.kind()))?
        .claims;
    check_issued_at(claims.iat.as_ref(), options.leeway_secs)?;
    AgentIdentity::from_jwt_unverified(token)
}

/// The one time claim jsonwebtoken does not check; every other claim is
/// ignored here.
#[derive(serde::Deserialize)]
struct IssuedAt {
    iat: Option<serde_json::Value>,
}

/// `iat`, when present, is a NumericDate no later than now (plus the
/// leeway): a token issued in the future was minted with a bad clock or
/// forged.
fn check_issued_at(
    iat: Option<&serde_json::Value>,
    leeway_secs: u64,
) -> Result<(), AgentIdentityError> {
    let Some(iat) = iat.filter(|value| !value.is_null()) else {
        return Ok(());
    };
    let issued = iat
        .as_f64()
        .filter(|seconds| seconds.is_finite())
        .ok_or(AgentIdentityError::MalformedTimeClaim { claim: "iat" })?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    if issued > now + leeway_secs as f64 {
        return Err(AgentIdentityError::IssuedInTheFuture);
    }
    Ok(())
}

/// The standard (RFC 7518) name of `algorithm`.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "another algorithm",
    }
}

/// The algorithm a JWK dictates: its `alg` when set, else the one its key
/// type and curve imply (RSA keys default to RS256).
fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, AgentIdentityError> {
    let unsupported = |reason: &str| AgentIdentityError::UnsupportedJwk {
        reason: reason.to_owned(),
    };
    if let AlgorithmParameters::OctetKey(_) = jwk.algorithm {
        return Err(unsupported("symmetric (oct) keys are refused"));
    }
    if let Some(declared) = jwk.common.key_algorithm {
        return match declared {
            KeyAlgorithm::EdDSA => Ok(Algorithm::EdDSA),
            KeyAlgorithm::ES256 => Ok(Algorithm::ES256),
            KeyAlgorithm::ES384 => Ok(Algorithm::ES384),
            KeyAlgorithm::RS256 => Ok(Algorithm::RS256),
            KeyAlgorithm::RS384 => Ok(Algorithm::RS384),
            KeyAlgorithm::RS512 => Ok(Algorithm::RS512),
            KeyAlgorithm::PS256 => Ok(Algorithm::PS256),
            KeyAlgorithm::PS384 => Ok(Algorithm::PS384),
            KeyAlgorithm::PS512 => Ok(Algorithm::PS512),
            _ => Err(unsupported(
                "the JWK's `alg` is not a supported signature algorithm",
            )),
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            Ok(Algorithm::EdDSA)
        }
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256 => {
            Ok(Algorithm::ES256)
        }
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P384 => {
            Ok(Algorithm::ES384)
        }
        AlgorithmParameters::RSA(_) => Ok(Algorithm::RS256),
        _ => Err(unsupported("the JWK's key type or curve is not supported")),
    }
}

fn map_error(kind: &ErrorKind) -> AgentIdentityError {
    match kind {
        ErrorKind::InvalidSignature => AgentIdentityError::InvalidSignature,
        ErrorKind::ExpiredSignature => AgentIdentityError::Expired,
        ErrorKind::ImmatureSignature => AgentIdentityError::NotYetValid,
        ErrorKind::InvalidIssuer => AgentIdentityError::InvalidIssuer,
        ErrorKind::InvalidAudience => AgentIdentityError::InvalidAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => {
            AgentIdentityError::InvalidIssuer
        }
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
            AgentIdentityError::InvalidAudience
        }
        ErrorKind::InvalidClaimFormat(claim) if claim == "exp" => {
            AgentIdentityError::MalformedTimeClaim { claim: "exp" }
        }
        ErrorKind::InvalidClaimFormat(_) => AgentIdentityError::MalformedTimeClaim { claim: "nbf" },
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            AgentIdentityError::Verification {
                reason: "the algorithm is not accepted for this key".into(),
            }
        }
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            AgentIdentityError::UnsupportedJwk {
                reason: "the key material is malformed".into(),
            }
        }
        // Json and other errors may quote token content: say less.
        _ => AgentIdentityError::Verification {
            reason: "the token could not be verified".into(),
        },
    }
}
