//! Agent key material: PKCS#8 Ed25519 parsing and [`AgentIdentityKey`].
//!
//! Validation ([`check_pkcs8_ed25519`]) is a structural parse only: a
//! version 1 key costs no curve arithmetic; a version 2 key's embedded
//! public key is checked against the one derived from the seed, since a
//! mismatched pair would sign with one key while advertising another.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use pkcs8::ObjectIdentifier;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::AgentIdentityError;
use crate::record::AgentIdentityAuthRecord;
use crate::secret::SecretString;

/// `id-Ed25519` from RFC 8410.
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// DER prefix of a version 1 PKCS#8 Ed25519 key; the 32-byte seed follows.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Longest base64 text worth decoding: a version 2 key with attributes
/// fits comfortably; anything longer is not an Ed25519 key.
const MAX_KEY_BASE64_LEN: usize = 256;

fn invalid(reason: &'static str) -> AgentIdentityError {
    AgentIdentityError::InvalidPrivateKey { reason }
}

/// Checks that `base64_der` is standard base64 of a PKCS#8 Ed25519 key.
pub(crate) fn check_pkcs8_ed25519(base64_der: &str) -> Result<(), AgentIdentityError> {
    parse_pkcs8_ed25519(base64_der).map(drop)
}

/// Parses standard base64 PKCS#8 (v1 or v2) into the 32-byte seed.
fn parse_pkcs8_ed25519(base64_der: &str) -> Result<Zeroizing<[u8; 32]>, AgentIdentityError> {
    if base64_der.len() > MAX_KEY_BASE64_LEN {
        return Err(invalid("too long for an Ed25519 PKCS#8 key"));
    }
    // On the stack: decoding is a hot path of every startup. The buffer
    // holds the decoded-length estimate of the longest accepted text, so it
    // accepts and refuses exactly what a heap `decode` would.
    let mut der = Zeroizing::new([0u8; MAX_KEY_BASE64_LEN / 4 * 3]);
    let len = STANDARD
        .decode_slice(base64_der.trim(), der.as_mut_slice())
        .map_err(|_| invalid("not standard base64"))?;
    seed_from_pkcs8_der(&der[..len])
}

fn seed_from_pkcs8_der(der: &[u8]) -> Result<Zeroizing<[u8; 32]>, AgentIdentityError> {
    // The version 1 form has one fixed layout: the prefix pins every field
    // but the seed, so the full parser would accept it as well.
    if let Some(seed_bytes) = der.strip_prefix(&PKCS8_V1_PREFIX)
        && seed_bytes.len() == 32
    {
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(seed_bytes);
        return Ok(seed);
    }
    let info =
        pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| invalid("not a PKCS#8 private key"))?;
    if info.algorithm.oid != ED25519_OID {
        return Err(invalid(
            "not an Ed25519 key (PKCS#8 algorithm is another, such as RSA or EC)",
        ));
    }
    if info.algorithm.parameters.is_some() {
        return Err(invalid(
            "Ed25519 algorithm identifier must not have parameters",
        ));
    }
    // The private key is an OCTET STRING wrapping the 32-byte seed.
    let seed_bytes = match info.private_key {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        _ => return Err(invalid("the Ed25519 private key is not a 32-byte seed")),
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(seed_bytes);
    if let Some(public) = info.public_key {
        let derived = SigningKey::from_bytes(&seed).verifying_key();
        if public != derived.as_bytes() {
            return Err(invalid(
                "the embedded public key does not match the private key",
            ));
        }
    }
    Ok(seed)
}

/// The Ed25519 key of an agent identity, ready to sign.
///
/// Built from a validated record (which derives the public key) or freshly
/// generated. The secret lives in a [`SigningKey`], wiped on drop. `Debug`
/// shows the runtime id and public key only.
///
/// ```
/// use login_agent_identity::AgentIdentityKey;
///
/// let key = AgentIdentityKey::generate("rt-1");
/// assert!(key.public_key_ssh().starts_with("ssh-ed25519 "));
/// let signature = key.sign_task_registration("2026-01-01T00:00:00Z");
/// assert_eq!(signature.len(), 88); // base64 of 64 bytes
/// ```
#[derive(Clone)]
pub struct AgentIdentityKey {
    signing_key: SigningKey,
    agent_runtime_id: String,
}

impl AgentIdentityKey {
    /// The key of `record`; fails when its private key is not PKCS#8 Ed25519.
    pub fn from_record(record: &AgentIdentityAuthRecord) -> Result<Self, AgentIdentityError> {
        let seed = parse_pkcs8_ed25519(record.agent_private_key.expose_secret())?;
        Ok(Self {
            signing_key: SigningKey::from_bytes(&seed),
            agent_runtime_id: record.agent_runtime_id.clone(),
        })
    }

    /// New random key material for `agent_runtime_id`, from the OS RNG.
    pub fn generate(agent_runtime_id: impl Into<String>) -> Self {
        Self {
            signing_key: SigningKey::generate(&mut rand_core::OsRng),
            agent_runtime_id: agent_runtime_id.into(),
        }
    }

    /// The runtime id the task-registration signature covers.
    pub fn agent_runtime_id(&self) -> &str {
        &self.agent_runtime_id
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// `ssh-ed25519 <base64 of the SSH wire blob>` (RFC 8709 section 4).
    pub fn public_key_ssh(&self) -> String {
        const ALGORITHM: &[u8] = b"ssh-ed25519";
        let public = self.signing_key.verifying_key();
        let mut blob = Vec::with_capacity(4 + ALGORITHM.len() + 4 + 32);
        blob.extend_from_slice(&(ALGORITHM.len() as u32).to_be_bytes());
        blob.extend_from_slice(ALGORITHM);
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(public.as_bytes());
        format!("ssh-ed25519 {}", STANDARD.encode(blob))
    }

    /// Standard base64 of the Ed25519 signature over
    /// `"{agent_runtime_id}:{timestamp}"`, as task registration expects.
    pub fn sign_task_registration(&self, timestamp: &str) -> String {
        let message = format!("{}:{timestamp}", self.agent_runtime_id);
        STANDARD.encode(self.signing_key.sign(message.as_bytes()).to_bytes())
    }

    /// The `Authorization` header value that authenticates a request of
    /// task `task_id` without tokens, stamped with the current time: see
    /// [`agent_assertion_at`](Self::agent_assertion_at). Build a fresh one
    /// per request; the timestamp is part of what the server checks.
    pub fn agent_assertion(&self, task_id: &str) -> Result<SecretString, AgentIdentityError> {
        self.agent_assertion_at(task_id, OffsetDateTime::now_utc())
    }

    /// The `Authorization` header value `AgentAssertion <token>` for task
    /// `task_id` at `timestamp`.
    ///
    /// `<token>` is unpadded base64url of the compact JSON object
    /// `{"agent_runtime_id","signature","task_id","timestamp"}` (keys in
    /// that sorted order, no spaces), where `timestamp` is RFC 3339 UTC with
    /// whole seconds and `Z` (sub-seconds are dropped, other offsets
    /// converted) and `signature` is standard base64 of the Ed25519
    /// signature over `"{agent_runtime_id}:{task_id}:{timestamp}"`.
    ///
    /// Fails only for a timestamp outside years 0 to 9999, which RFC 3339
    /// cannot write.
    ///
    /// ```
    /// use login_agent_identity::AgentIdentityKey;
    /// use time::macros::datetime;
    ///
    /// let key = AgentIdentityKey::generate("rt-1");
    /// let header = key.agent_assertion_at("task-1", datetime!(2026-04-17 12:00:00 UTC))?;
    /// assert!(header.expose_secret().starts_with("AgentAssertion ey"));
    /// assert_eq!(format!("{header:?}"), "<redacted>");
    /// # Ok::<(), login_agent_identity::AgentIdentityError>(())
    /// ```
    pub fn agent_assertion_at(
        &self,
        task_id: &str,
        timestamp: OffsetDateTime,
    ) -> Result<SecretString, AgentIdentityError> {
        /// Field order is the wire order: serde writes declaration order.
        #[derive(serde::Serialize)]
        struct Assertion<'a> {
            agent_runtime_id: &'a str,
            signature: &'a str,
            task_id: &'a str,
            timestamp: &'a str,
        }
        let timestamp = assertion_timestamp(timestamp)?;
        let message = format!("{}:{task_id}:{timestamp}", self.agent_runtime_id);
        let signature = STANDARD.encode(self.signing_key.sign(message.as_bytes()).to_bytes());
        let json = Zeroizing::new(
            serde_json::to_vec(&Assertion {
                agent_runtime_id: &self.agent_runtime_id,
                signature: &signature,
                task_id,
                timestamp: &timestamp,
            })
            .map_err(|_| AgentIdentityError::InvalidTimestamp {
                reason: "the assertion could not be serialized",
            })?,
        );
        Ok(SecretString::new(format!(
            "AgentAssertion {}",
            URL_SAFE_NO_PAD.encode(json.as_slice())
        )))
    }

    /// The private key as standard base64 of a version 1 PKCS#8 document,
    /// the form `agent_private_key` holds.
    pub fn private_key_pkcs8_base64(&self) -> SecretString {
        SecretString::new(pkcs8_v1_base64(&self.signing_key).to_string())
    }

    /// The 32-byte Ed25519 seed, for protocols that derive other keys from
    /// it (such as X25519 for sealed task ids). Keep it in the wrapper.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing_key.to_bytes())
    }
}

impl fmt::Debug for AgentIdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentIdentityKey")
            .field("agent_runtime_id", &self.agent_runtime_id)
            .field("public_key", &self.public_key_ssh())
            .field("private_key", &crate::secret::REDACTED)
            .finish()
    }
}

/// `timestamp` in UTC as `YYYY-MM-DDTHH:MM:SSZ`, sub-seconds dropped.
fn assertion_timestamp(timestamp: OffsetDateTime) -> Result<String, AgentIdentityError> {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let utc = timestamp.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return Err(AgentIdentityError::InvalidTimestamp {
            reason: "the year must be between 0 and 9999",
        });
    }
    utc.format(FORMAT)
        .map_err(|_| AgentIdentityError::InvalidTimestamp {
            reason: "it cannot be written as RFC 3339",
        })
}

/// Parses an Ed25519 signing key given as PKCS#8: PEM text
/// (`-----BEGIN PRIVATE KEY-----`) or standard base64 of the DER.
pub(crate) fn signing_key_from_pkcs8_text(text: &str) -> Result<SigningKey, AgentIdentityError> {
    let invalid_signing = |reason| AgentIdentityError::InvalidSigningKey { reason };
    let body: String = if text.contains("-----BEGIN") {
        if !text.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(invalid_signing(
                "PEM must be an unencrypted PKCS#8 `PRIVATE KEY`",
            ));
        }
        text.lines()
            .filter(|line| !line.starts_with("-----"))
            .flat_map(str::chars)
            .filter(|c| !c.is_whitespace())
            .collect()
    } else {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    };
    let body = Zeroizing::new(body);
    let der = Zeroizing::new(
        STANDARD
            .decode(body.as_bytes())
            .map_err(|_| invalid_signing("not base64 or PEM"))?,
    );
    let seed = seed_from_pkcs8_der(&der)
        .map_err(|_| invalid_signing("not a PKCS#8 Ed25519 private key"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// PEM of a version 1 PKCS#8 document for `key`.
pub(crate) fn signing_key_to_pkcs8_pem(key: &SigningKey) -> SecretString {
    let body = pkcs8_v1_base64(key);
    SecretString::new(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.as_str()
    ))
}

/// Standard base64 of the version 1 PKCS#8 DER of `key`.
fn pkcs8_v1_base64(key: &SigningKey) -> Zeroizing<String> {
    let mut der = Zeroizing::new([0u8; 48]);
    der[..16].copy_from_slice(&PKCS8_V1_PREFIX);
    der[16..].copy_from_slice(key.as_bytes());
    Zeroizing::new(STANDARD.encode(der.as_slice()))
}
