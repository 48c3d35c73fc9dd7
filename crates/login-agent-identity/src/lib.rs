//! Agent identity for agent runtimes.
//!
//! An agent runtime authenticates as an *agent identity*: a workspace, a
//! runtime id and an Ed25519 private key. `auth.json` stores it as a JSON
//! object ([`AgentIdentityAuthRecord`]); a launcher hands it over as one
//! predictable string, a JWT whose payload carries the same fields. This
//! crate turns either form into the same validated record
//! ([`AgentIdentityInput::into_record`]), and provides the key operations
//! ([`AgentIdentityKey`]), minting ([`mint_agent_identity_jwt`]) and optional
//! verification ([`verify_agent_identity_jwt`]).
//!
//! Invariants:
//! - every error names the segment, claim or limit, and never contains the
//!   private key, the signature or the whole token;
//! - secrets (private keys, minted JWTs, signatures, assertion headers) are
//!   `secrecy`'s [`SecretString`]s: no `Display`, redacted in `Debug`, read
//!   only through [`ExposeSecret`], serialized only where a document names
//!   [`serde_secret`], zeroized on drop;
//! - no input panics.
//!
//! Modules depend on each other in one direction only (a module uses only
//! those before it): `error`, `secret`, `key`, `claims`, `jwt`, `record`,
//! `verify`. `AgentIdentityKey::from_record` is therefore defined in
//! `record`, next to the type it reads.
//!
//! ```
//! use login_agent_identity::{AgentIdentityInput, AgentIdentityJwtClaims, AgentIdentityKey,
//!     ExposeSecret, JwtSigningKey, mint_agent_identity_jwt};
//!
//! // A launcher mints one string...
//! let agent_key = AgentIdentityKey::generate("rt-1");
//! let claims = AgentIdentityJwtClaims {
//!     workspace_id: "ws-1".into(),
//!     agent_runtime_id: "rt-1".into(),
//!     agent_private_key: agent_key.private_key_pkcs8_base64(),
//!     chatgpt_user_id: None,
//!     registered_at: Some("2026-01-01T00:00:00Z".into()),
//! };
//! let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
//!
//! // ...and the runtime decodes it into the record it already stores.
//! let record = jwt.expose_secret().parse::<AgentIdentityInput>()?.into_record()?;
//! assert_eq!(record.workspace_id, "ws-1");
//! let key = AgentIdentityKey::from_record(&record)?;
//! assert_eq!(key.public_key_ssh(), agent_key.public_key_ssh());
//! # Ok::<(), login_agent_identity::AgentIdentityError>(())
//! ```

mod claims;
mod error;
mod jwt;
mod key;
mod record;
mod secret;
#[cfg(feature = "verify")]
mod verify;

pub use claims::AgentIdentityJwtClaims;
pub use error::{AgentIdentityError, Segment};
#[cfg(feature = "mint")]
pub use jwt::{JwtSigningKey, mint_agent_identity_jwt};
pub use jwt::{MAX_AGENT_IDENTITY_LEN, decode_agent_identity_jwt};
pub use key::AgentIdentityKey;
pub use record::{AgentIdentityAuthRecord, AgentIdentityInput};
pub use secret::{ExposeSecret, REDACTED, SecretString, serde_secret};
#[cfg(feature = "verify")]
pub use verify::{VerifyOptions, verify_agent_identity_jwt};

/// Re-export of the JWK set type [`verify_agent_identity_jwt`] takes.
#[cfg(feature = "verify")]
pub use jsonwebtoken::jwk::JwkSet;
