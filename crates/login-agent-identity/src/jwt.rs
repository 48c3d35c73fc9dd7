//! Compact JWTs: the unverified decoder, and minting for launchers.
//!
//! The decoder checks structure (rules 1-5 of the contract) and hands the
//! payload to the shared claim rules. It does not verify the signature: a
//! runtime receives its identity from a launcher it already trusts; use
//! [`crate::verify_agent_identity_jwt`] where the token crosses a trust
//! boundary.

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::DecodePaddingMode;
#[cfg(feature = "mint")]
use base64::engine::general_purpose::NO_PAD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
#[cfg(feature = "mint")]
use ed25519_dalek::{SIGNATURE_LENGTH, Signer as _, SigningKey};
use serde::de::IgnoredAny;
#[cfg(feature = "mint")]
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::claims::{AgentIdentityClaims, RawClaims, validate_claims};
use crate::error::{AgentIdentityError, Segment};
#[cfg(feature = "mint")]
use crate::key;
#[cfg(feature = "mint")]
use crate::secret::{SecretString, secret_from};

/// Largest agent identity accepted, in bytes after trimming: 64 KiB.
/// Longer input is refused before any decoding.
pub const MAX_AGENT_IDENTITY_LEN: usize = 64 * 1024;

/// base64url that tolerates trailing `=` padding (RFC 7515 forbids it, but
/// some encoders add it and it carries no ambiguity).
const BASE64URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Trims the input and applies the size limit (rules 1 and 2).
pub(crate) fn trim_and_limit(input: &str) -> Result<&str, AgentIdentityError> {
    if input.len() > MAX_AGENT_IDENTITY_LEN + 4096 {
        // Refuse before even scanning for whitespace.
        return Err(AgentIdentityError::TooLarge {
            len: input.len(),
            limit: MAX_AGENT_IDENTITY_LEN,
        });
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AgentIdentityError::Empty);
    }
    if trimmed.len() > MAX_AGENT_IDENTITY_LEN {
        return Err(AgentIdentityError::TooLarge {
            len: trimmed.len(),
            limit: MAX_AGENT_IDENTITY_LEN,
        });
    }
    Ok(trimmed)
}

/// The header and payload of a compact JWS, text only (rules 3 and 4).
pub(crate) struct Segments<'a> {
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
}

pub(crate) fn split_segments(token: &str) -> Result<Segments<'_>, AgentIdentityError> {
    let segments: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = segments[..] else {
        return Err(AgentIdentityError::SegmentCount {
            found: segments.len(),
        });
    };
    if signature.is_empty() {
        return Err(AgentIdentityError::MissingSignature);
    }
    if header.is_empty() {
        return Err(AgentIdentityError::EmptySegment(Segment::Header));
    }
    if payload.is_empty() {
        return Err(AgentIdentityError::EmptySegment(Segment::Payload));
    }
    Ok(Segments { header, payload })
}

/// Decodes one base64url segment and checks that it holds a JSON object.
///
/// The bytes are wiped when dropped, refused ones too: they may be a
/// payload's claims.
pub(crate) fn decode_object_segment(
    text: &str,
    segment: Segment,
) -> Result<Zeroizing<Vec<u8>>, AgentIdentityError> {
    let bytes = Zeroizing::new(
        BASE64URL_LENIENT
            .decode(text)
            .map_err(|_| AgentIdentityError::InvalidBase64(segment))?,
    );
    check_object_start(&bytes, segment)?;
    Ok(bytes)
}

/// Names the JSON type by its first byte, so that "not an object" can be
/// told apart from "not JSON" without echoing any of the input.
fn check_object_start(bytes: &[u8], segment: Segment) -> Result<(), AgentIdentityError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let found = match first {
        Some(b'{') => return Ok(()),
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => {
            return Err(AgentIdentityError::InvalidJson {
                segment,
                reason: if first.is_none() {
                    "it is empty".into()
                } else {
                    "it does not start a JSON value".into()
                },
            });
        }
    };
    // Only a well-formed scalar or array is "JSON but not an object".
    if serde_json::from_slice::<IgnoredAny>(bytes).is_err() {
        return Err(AgentIdentityError::InvalidJson {
            segment,
            reason: "it is not well-formed".into(),
        });
    }
    Err(AgentIdentityError::NotAnObject { segment, found })
}

/// Describes a `serde_json` error by position and category only.
///
/// Syntax messages name a position and what was expected, never input text;
/// data messages could quote a value, so only the duplicate-key case (which
/// quotes one of our claim names) is passed through.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => error.to_string(),
        Category::Data => {
            let message = error.to_string();
            if message.starts_with("duplicate") {
                message
            } else {
                format!("invalid value at line {line} column {column}")
            }
        }
    }
}

/// Decodes an agent identity JWT into its validated claims, without
/// verifying the signature. Public as
/// [`AgentIdentity::from_jwt_unverified`](crate::AgentIdentity::from_jwt_unverified).
///
/// Applies every rule of the contract: trimming, the 64 KiB limit, three
/// segments, a non-empty signature, base64url JSON objects, the required
/// and optional claims, `registered_at` normalization and the PKCS#8
/// Ed25519 check of `agent_private_key`. A `background_task_id` claim is
/// ignored, as are claims this crate does not know.
pub(crate) fn decode_claims_unverified(
    jwt: &str,
) -> Result<AgentIdentityClaims, AgentIdentityError> {
    let token = trim_and_limit(jwt)?;
    let segments = split_segments(token)?;
    let header = decode_object_segment(segments.header, Segment::Header)?;
    serde_json::from_slice::<IgnoredAny>(&header).map_err(|error| {
        AgentIdentityError::InvalidJson {
            segment: Segment::Header,
            reason: describe_json_error(&error),
        }
    })?;
    let payload = decode_object_segment(segments.payload, Segment::Payload)?;
    let raw: RawClaims<'_> =
        serde_json::from_slice(&payload).map_err(|error| AgentIdentityError::InvalidJson {
            segment: Segment::Payload,
            reason: describe_json_error(&error),
        })?;
    validate_claims(raw)
}

#[cfg(feature = "mint")]
/// An Ed25519 key that signs agent identity JWTs, with its `kid`.
///
/// The `kid` is the RFC 7638 thumbprint of the public JWK, so a verifier
/// holding [`JwtSigningKey::public_jwk`] in a JWK set finds the key by the
/// token's header. `Debug` shows the `kid` only.
#[derive(Clone)]
pub struct JwtSigningKey {
    key: SigningKey,
    kid: String,
}

#[cfg(feature = "mint")]
impl JwtSigningKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut key::os_rng()))
    }

    /// Reads an unencrypted PKCS#8 Ed25519 key: PEM, or standard base64 of
    /// the DER.
    pub fn from_pkcs8_text(text: &str) -> Result<Self, AgentIdentityError> {
        key::signing_key_from_pkcs8_text(text).map(Self::from_signing_key)
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let x = NO_PAD_URL.encode(key.verifying_key().as_bytes());
        // RFC 7638: required members in lexicographic order, no whitespace.
        let thumbprint_input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = NO_PAD_URL.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Self { key, kid }
    }

    /// The key id written into minted tokens' headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (`kty` OKP, `crv` Ed25519, `alg` EdDSA, `use` sig, `kid`).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": NO_PAD_URL.encode(self.key.verifying_key().as_bytes()),
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
        })
    }

    /// The private key as PKCS#8 PEM, to keep for later `mint` calls.
    pub fn to_pkcs8_pem(&self) -> SecretString {
        key::signing_key_to_pkcs8_pem(&self.key)
    }
}

#[cfg(feature = "mint")]
impl std::fmt::Debug for JwtSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigningKey")
            .field("kid", &self.kid)
            .field("key", &crate::secret::REDACTED)
            .finish()
    }
}

#[cfg(feature = "mint")]
const NO_PAD_URL: GeneralPurpose = GeneralPurpose::new(&URL_SAFE, NO_PAD);

#[cfg(feature = "mint")]
/// Mints an EdDSA-signed agent identity JWT that
/// [`AgentIdentity::from_jwt_unverified`](crate::AgentIdentity::from_jwt_unverified)
/// accepts: [`AgentIdentityClaims`] only exist validated, by the same rules.
///
/// The token carries the private key, so it is a secret: read it with
/// [`ExposeSecret::expose_secret`](crate::ExposeSecret::expose_secret)
/// where it is handed over on purpose.
pub fn mint_agent_identity_jwt(
    claims: &AgentIdentityClaims,
    signing_key: &JwtSigningKey,
) -> Result<SecretString, AgentIdentityError> {
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": signing_key.kid });
    let header = serde_json::to_vec(&header).map_err(|error| AgentIdentityError::Mint {
        reason: error.to_string(),
    })?;
    let payload =
        Zeroizing::new(
            serde_json::to_vec(claims).map_err(|error| AgentIdentityError::Mint {
                reason: error.to_string(),
            })?,
        );
    // Sized up front: a growing string would leave copies of the payload.
    let encoded_len = |len| base64::encoded_len(len, false).unwrap_or(0);
    let mut token = String::with_capacity(
        encoded_len(header.len()) + encoded_len(payload.len()) + encoded_len(SIGNATURE_LENGTH) + 2,
    );
    NO_PAD_URL.encode_string(header, &mut token);
    token.push('.');
    NO_PAD_URL.encode_string(payload.as_slice(), &mut token);
    let signature = signing_key.key.sign(token.as_bytes());
    token.push('.');
    NO_PAD_URL.encode_string(signature.to_bytes(), &mut token);
    Ok(secret_from(token))
}

/// The decoded payload of a compact JWT, without checking its signature:
/// for reading claims of tokens this process obtained itself (an id token's
/// account, an access token's expiry), never for trusting them. The bytes
/// are wiped when dropped. Errors say what is wrong, never the token.
pub fn unverified_jwt_payload(jwt: &str) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let mut segments = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err("it is not a JWT with 3 segments");
    };
    BASE64URL_LENIENT
        .decode(payload.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| "the payload is not base64url")
}
