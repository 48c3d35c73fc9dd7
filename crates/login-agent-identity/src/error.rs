//! The one error type of this crate.
//!
//! Every message says what is wrong and where (segment, claim, limit) in plain
//! words. No variant carries the private key, the signature or the whole token:
//! the only text copied from the input is the name of a JSON key we know, a
//! count, or a position. That is what makes these errors safe to log.

use std::fmt;

/// The part of a compact JWT an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The first segment: the JOSE header.
    Header,
    /// The second segment: the claims.
    Payload,
    /// The third segment: the signature.
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why an agent identity (JWT or object) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentIdentityError {
    /// The input was empty or only whitespace.
    #[error("agent identity is empty")]
    Empty,
    /// The input is larger than [`crate::MAX_AGENT_IDENTITY_LEN`]; it was not decoded.
    #[error("agent identity is too large: {len} bytes, the limit is {limit} bytes")]
    TooLarge {
        /// Length in bytes of the trimmed input, or of the whole input
        /// when it is over the limit by more than 4 KiB (refused before
        /// it is even trimmed).
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The JWT does not have exactly three `.`-separated segments.
    #[error(
        "agent identity JWT must have 3 segments separated by '.', found {found} segment(s){hint}",
        hint = if *found == 5 { " (an encrypted JWE is not supported)" } else { "" }
    )]
    SegmentCount {
        /// Number of segments found.
        found: usize,
    },
    /// The third segment is empty: an unsigned token.
    #[error("agent identity JWT has an empty signature segment; unsigned tokens are refused")]
    MissingSignature,
    /// A segment is empty where content is required.
    #[error("agent identity JWT {0} segment is empty")]
    EmptySegment(Segment),
    /// A segment is not base64url.
    #[error("agent identity JWT {0} segment is not valid base64url")]
    InvalidBase64(Segment),
    /// A segment decoded but is not JSON.
    #[error("agent identity JWT {segment} is not valid json: {reason}")]
    InvalidJson {
        /// The segment.
        segment: Segment,
        /// What the parser found, with line and column; never input text.
        reason: String,
    },
    /// A segment is JSON but not a JSON object.
    #[error("agent identity JWT {segment} is JSON but not an object (found {found})")]
    NotAnObject {
        /// The segment.
        segment: Segment,
        /// The JSON type found, such as "a string".
        found: &'static str,
    },
    /// A required claim is absent or `null`.
    #[error("agent identity claim `{claim}` is missing")]
    MissingClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// A required claim is an empty string.
    #[error("agent identity claim `{claim}` is empty")]
    EmptyClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// A claim has the wrong JSON type.
    #[error("agent identity claim `{claim}` must be {expected}, found {found}")]
    ClaimType {
        /// The claim name.
        claim: &'static str,
        /// What the contract wants.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// Two claims naming the same thing (`workspace_id` and `account_id`)
    /// are both present and differ. Only the names are given, never the values.
    #[error(
        "agent identity claims `{first}` and `{second}` differ; both name the workspace and must be equal when both are present"
    )]
    ConflictingClaims {
        /// The first claim's name.
        first: &'static str,
        /// The second claim's name.
        second: &'static str,
    },
    /// `registered_at` is neither RFC 3339 nor an in-range NumericDate.
    #[error(
        "agent identity claim `registered_at` must be an RFC 3339 timestamp or a NumericDate (seconds since the epoch): {reason}"
    )]
    InvalidRegisteredAt {
        /// Why, without the value.
        reason: &'static str,
    },
    /// `agent_private_key` is not base64 PKCS#8 Ed25519.
    #[error("agent identity claim `agent_private_key` is invalid: {reason}")]
    InvalidPrivateKey {
        /// Why, without the key.
        reason: &'static str,
    },
    /// The object form is malformed JSON or has a duplicate key.
    #[error("agent identity object is invalid: {reason}")]
    InvalidObject {
        /// Why, with line and column where known; never input text.
        reason: String,
    },
    /// Verification: the header has no `kid`.
    #[error("agent identity JWT header has no `kid`; verification needs one to pick the key")]
    MissingKid,
    /// Verification: the `kid` is not in the JWK set.
    #[error("agent identity JWT `kid` is not in the JWK set")]
    UnknownKid,
    /// Verification: `alg` is `none`.
    #[error("agent identity JWT uses alg `none`; unsigned tokens are refused")]
    AlgNone,
    /// Verification: an HMAC algorithm (shared secret) was used.
    #[error(
        "agent identity JWT uses an HMAC algorithm ({alg}); only public-key algorithms are accepted"
    )]
    HmacRefused {
        /// The algorithm's standard name (`HS256`, `HS384`, `HS512`), or
        /// `HMAC` for another `HS*` value: never text copied from the token.
        alg: &'static str,
    },
    /// Verification: the JWK cannot be used (type, curve or algorithm unsupported).
    #[error("JWK for this `kid` is unusable: {reason}")]
    UnsupportedJwk {
        /// Why.
        reason: String,
    },
    /// Verification: the header's `alg` differs from the key's algorithm.
    #[error("agent identity JWT header alg `{header}` does not match the key's algorithm `{key}`")]
    AlgorithmMismatch {
        /// The header's algorithm by its standard name, or `unknown` when
        /// it names none: never text copied from the token.
        header: &'static str,
        /// The algorithm the JWK dictates.
        key: &'static str,
    },
    /// Verification: the signature does not verify with the key.
    #[error("agent identity JWT signature is invalid for the key in the JWK set")]
    InvalidSignature,
    /// Verification: `exp` is past (beyond the leeway).
    #[error("agent identity JWT has expired (`exp` is in the past)")]
    Expired,
    /// Verification: `nbf` is in the future (beyond the leeway).
    #[error("agent identity JWT is not valid yet (`nbf` is in the future)")]
    NotYetValid,
    /// Verification: `iat` is in the future (beyond the leeway).
    #[error("agent identity JWT was issued in the future (`iat` is after now)")]
    IssuedInTheFuture,
    /// Verification: `iss` differs from the expected issuer.
    #[error("agent identity JWT issuer (`iss`) is not the expected one")]
    InvalidIssuer,
    /// Verification: `aud` does not contain the expected audience.
    #[error("agent identity JWT audience (`aud`) is not the expected one")]
    InvalidAudience,
    /// Verification: `exp`, `nbf` or `iat` is not a number.
    #[error("agent identity JWT claim `{claim}` is malformed")]
    MalformedTimeClaim {
        /// `exp`, `nbf` or `iat`.
        claim: &'static str,
    },
    /// Verification failed for another reason reported by the JWT library.
    #[error("agent identity JWT verification failed: {reason}")]
    Verification {
        /// The library's description (never contains token text).
        reason: String,
    },
    /// Minting: the claims could not be serialized.
    #[error("cannot mint agent identity JWT: {reason}")]
    Mint {
        /// Why.
        reason: String,
    },
    /// A timestamp cannot be used in an `AgentAssertion`.
    #[error("the AgentAssertion timestamp is invalid: {reason}")]
    InvalidTimestamp {
        /// Why.
        reason: &'static str,
    },
    /// A signing key file or text is not a usable Ed25519 key.
    #[error("signing key is invalid: {reason}")]
    InvalidSigningKey {
        /// Why, without the key.
        reason: &'static str,
    },
}
