//! Agent key material: PKCS#8 Ed25519 parsing and [`AgentIdentityKey`].
//!
//! PKCS#8 is read and written by ed25519-dalek's `pkcs8` traits
//! ([`DecodePrivateKey`](ed25519_dalek::pkcs8::DecodePrivateKey),
//! [`EncodePrivateKey`](ed25519_dalek::pkcs8::EncodePrivateKey)). Validation
//! ([`check_pkcs8_ed25519`]) stops at the structure for a version 1 key (no
//! curve arithmetic); a version 2 key's embedded public key is checked
//! against the one derived from the seed, since a mismatched pair would
//! sign with one key while advertising another.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::spki::Error as SpkiError;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
#[cfg(feature = "mint")]
use getrandom::SysRng;
#[cfg(feature = "mint")]
use pkcs8::LineEnding;
#[cfg(feature = "mint")]
use rand_core::UnwrapErr;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::AgentIdentityError;
use crate::secret::{ExposeSecret as _, SecretString, secret_from};

/// Longest base64 text worth decoding: a version 2 key with attributes
/// fits comfortably; anything longer is not an Ed25519 key.
const MAX_KEY_BASE64_LEN: usize = 256;

fn invalid(reason: &'static str) -> AgentIdentityError {
    AgentIdentityError::InvalidPrivateKey { reason }
}

/// Checks that `base64_der` is standard base64 of a PKCS#8 Ed25519 key.
pub(crate) fn check_pkcs8_ed25519(base64_der: &str) -> Result<(), AgentIdentityError> {
    let keypair = parse_pkcs8_ed25519(base64_der)?;
    if keypair.public_key.is_some() {
        signing_key_of(&keypair)?;
    }
    Ok(())
}

/// The signing key of a standard base64 PKCS#8 Ed25519 key (v1 or v2).
pub(crate) fn signing_key_from_pkcs8_base64(
    base64_der: &str,
) -> Result<SigningKey, AgentIdentityError> {
    signing_key_of(&parse_pkcs8_ed25519(base64_der)?)
}

/// Parses standard base64 PKCS#8 (v1 or v2) into its key bytes, without
/// checking a v2 key's public half (see [`signing_key_of`]).
fn parse_pkcs8_ed25519(base64_der: &str) -> Result<KeypairBytes, AgentIdentityError> {
    if base64_der.len() > MAX_KEY_BASE64_LEN {
        return Err(invalid("too long for an Ed25519 PKCS#8 key"));
    }
    let der = Zeroizing::new(
        STANDARD
            .decode(base64_der.trim())
            .map_err(|_| invalid("not standard base64"))?,
    );
    KeypairBytes::from_pkcs8_der(&der).map_err(|error| match error {
        pkcs8::Error::PublicKey(SpkiError::OidUnknown { .. }) => {
            invalid("not an Ed25519 key (PKCS#8 algorithm is another, such as RSA or EC)")
        }
        pkcs8::Error::ParametersMalformed => {
            invalid("Ed25519 algorithm identifier must not have parameters")
        }
        pkcs8::Error::KeyMalformed(_) => invalid(
            "the Ed25519 private key is not a 32-byte seed (or its public key is not 32 bytes)",
        ),
        _ => invalid("not a PKCS#8 private key"),
    })
}

/// The signing key of `keypair`; ed25519-dalek refuses an embedded public
/// key that is not the seed's.
fn signing_key_of(keypair: &KeypairBytes) -> Result<SigningKey, AgentIdentityError> {
    SigningKey::try_from(keypair)
        .map_err(|_| invalid("the embedded public key does not match the private key"))
}

/// The operating system's random source, for new keys. It panics if the
/// source fails: no key can be made without it.
#[cfg(feature = "mint")]
pub(crate) fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// The version 1 PKCS#8 form of `key` (no embedded public key), as written
/// into `agent_private_key` and signing key files.
fn keypair_v1(key: &SigningKey) -> KeypairBytes {
    KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
}

/// The Ed25519 key of an agent identity, ready to sign.
///
/// Built from a validated record (which derives the public key) or freshly
/// generated. The secret lives in a [`SigningKey`], wiped on drop. `Debug`
/// shows the runtime id and public key only.
///
/// ```
/// use login_agent_identity::{AgentIdentityKey, ExposeSecret};
///
/// let key = AgentIdentityKey::generate("rt-1");
/// assert!(key.public_key_ssh().starts_with("ssh-ed25519 "));
/// let signature = key.sign_task_registration("2026-01-01T00:00:00Z");
/// assert_eq!(signature.expose_secret().len(), 88); // base64 of 64 bytes
/// ```
#[derive(Clone)]
pub struct AgentIdentityKey {
    signing_key: SigningKey,
    agent_runtime_id: String,
}

impl AgentIdentityKey {
    /// The key of `agent_runtime_id` from a standard base64 PKCS#8 Ed25519
    /// private key.
    pub(crate) fn from_pkcs8_base64(
        private_key: &SecretString,
        agent_runtime_id: &str,
    ) -> Result<Self, AgentIdentityError> {
        Ok(Self {
            signing_key: signing_key_from_pkcs8_base64(private_key.expose_secret())?,
            agent_runtime_id: agent_runtime_id.to_owned(),
        })
    }

    #[cfg(feature = "mint")]
    /// New random key material for `agent_runtime_id`, from the OS RNG.
    pub fn generate(agent_runtime_id: impl Into<String>) -> Self {
        Self {
            signing_key: SigningKey::generate(&mut os_rng()),
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
    /// A secret: whoever holds it can register a task as this agent.
    pub fn sign_task_registration(&self, timestamp: &str) -> SecretString {
        self.sign_base64(&format!("{}:{timestamp}", self.agent_runtime_id))
    }

    /// Standard base64 of the Ed25519 signature over `message`.
    fn sign_base64(&self, message: &str) -> SecretString {
        SecretString::from(STANDARD.encode(self.signing_key.sign(message.as_bytes()).to_bytes()))
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
    /// use login_agent_identity::{AgentIdentityKey, ExposeSecret};
    /// use time::macros::datetime;
    ///
    /// let key = AgentIdentityKey::generate("rt-1");
    /// let header = key.agent_assertion_at("task-1", datetime!(2026-04-17 12:00:00 UTC))?;
    /// assert!(header.expose_secret().starts_with("AgentAssertion ey"));
    /// let debug = format!("{header:?}");
    /// assert!(!debug.contains(header.expose_secret()) && debug.contains("[REDACTED]"));
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
        let signature = self.sign_base64(&message);
        let json = Zeroizing::new(
            serde_json::to_vec(&Assertion {
                agent_runtime_id: &self.agent_runtime_id,
                signature: signature.expose_secret(),
                task_id,
                timestamp: &timestamp,
            })
            .map_err(|_| AgentIdentityError::InvalidTimestamp {
                reason: "the assertion could not be serialized",
            })?,
        );
        // Sized up front: a growing string would leave copies of the token.
        const SCHEME: &str = "AgentAssertion ";
        let token_len = base64::encoded_len(json.len(), false).unwrap_or(0);
        let mut header = String::with_capacity(SCHEME.len() + token_len);
        header.push_str(SCHEME);
        URL_SAFE_NO_PAD.encode_string(json.as_slice(), &mut header);
        Ok(secret_from(header))
    }

    /// The private key as standard base64 of a version 1 PKCS#8 document,
    /// the form `agent_private_key` holds.
    pub fn private_key_pkcs8_base64(&self) -> SecretString {
        match keypair_v1(&self.signing_key).to_pkcs8_der() {
            Ok(der) => SecretString::from(STANDARD.encode(der.as_bytes())),
            // Encoding 32 bytes into a fixed layout has no failure mode
            // short of memory exhaustion; the empty string is refused by
            // every reader.
            Err(_) => SecretString::default(),
        }
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
    let cannot = |reason| AgentIdentityError::InvalidTimestamp { reason };
    let utc = timestamp
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|_| cannot("it cannot be truncated to whole seconds"))?;
    if !(0..=9999).contains(&utc.year()) {
        return Err(cannot("the year must be between 0 and 9999"));
    }
    // RFC 3339 as `time` writes it: no fraction for whole seconds, `Z` for UTC.
    utc.format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| cannot("it cannot be written as RFC 3339"))
}

/// Parses an Ed25519 signing key given as PKCS#8: PEM text
/// (`-----BEGIN PRIVATE KEY-----`) or standard base64 of the DER.
#[cfg(feature = "mint")]
pub(crate) fn signing_key_from_pkcs8_text(text: &str) -> Result<SigningKey, AgentIdentityError> {
    let invalid_signing = |reason| AgentIdentityError::InvalidSigningKey { reason };
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let label = pkcs8::der::pem::decode_label(text.as_bytes())
            .map_err(|_| invalid_signing("not base64 or PEM"))?;
        if label != "PRIVATE KEY" {
            return Err(invalid_signing(
                "PEM must be an unencrypted PKCS#8 `PRIVATE KEY`",
            ));
        }
        return SigningKey::from_pkcs8_pem(text)
            .map_err(|_| invalid_signing("not a PKCS#8 Ed25519 private key"));
    }
    let body = Zeroizing::new(text.split_whitespace().collect::<String>());
    let der = Zeroizing::new(
        STANDARD
            .decode(body.as_bytes())
            .map_err(|_| invalid_signing("not base64 or PEM"))?,
    );
    SigningKey::from_pkcs8_der(&der)
        .map_err(|_| invalid_signing("not a PKCS#8 Ed25519 private key"))
}

/// PEM of a version 1 PKCS#8 document for `key`.
#[cfg(feature = "mint")]
pub(crate) fn signing_key_to_pkcs8_pem(key: &SigningKey) -> SecretString {
    match keypair_v1(key).to_pkcs8_pem(LineEnding::LF) {
        Ok(pem) => SecretString::from(pem.as_str()),
        // As in `private_key_pkcs8_base64`: no failure mode for this input.
        Err(_) => SecretString::default(),
    }
}
