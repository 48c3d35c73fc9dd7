//! Agent identity for agent runtimes.
//!
//! An agent runtime authenticates as an *agent identity*: a workspace, a
//! runtime id and an Ed25519 private key. `auth.json` stores it as a JSON
//! object; a launcher hands it over as one predictable string, a JWT whose
//! payload carries the same claims. This crate parses either form into one
//! validated type, [`AgentIdentity`] (parse, don't validate: its fields are
//! private and every way in applies the same rules), and provides the key
//! operations ([`AgentIdentityKey`]), minting ([`mint_agent_identity_jwt`])
//! and optional verification ([`verify_agent_identity_jwt`]).
//!
//! The ways in, one per form:
//! - a JWT: [`AgentIdentity::from_jwt_unverified`] (no signature check, as
//!   the name says) or [`verify_agent_identity_jwt`];
//! - the stored object: `Deserialize` for [`AgentIdentity`];
//! - raw text of either form: `FromStr` for [`AgentIdentity`], or for
//!   [`AgentIdentityInput`], which keeps the form (for `auth.json`) and
//!   validates with [`AgentIdentityInput::into_identity`];
//! - claims to mint: [`AgentIdentityClaims::new`] and its `with_*` methods,
//!   checked by the same rules as the parsers.
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
//! those before it): `error`, `secret`, `key`, `claims`, `jwt`, `identity`,
//! `verify`. `AgentIdentityKey::from_claims` is therefore defined in
//! `claims`, next to the type it reads.
//!
//! ```
//! use login_agent_identity::{AgentIdentity, AgentIdentityClaims, AgentIdentityKey,
//!     ExposeSecret, JwtSigningKey, mint_agent_identity_jwt};
//!
//! // A launcher mints one string...
//! let agent_key = AgentIdentityKey::generate("rt-1");
//! let claims = AgentIdentityClaims::new("ws-1", "rt-1", agent_key.private_key_pkcs8_base64())?
//!     .with_registered_at("2026-01-01T00:00:00Z")?;
//! let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
//!
//! // ...and the runtime decodes it into the identity it already stores.
//! let identity: AgentIdentity = jwt.expose_secret().parse()?;
//! assert_eq!(identity.workspace_id(), "ws-1");
//! let key = AgentIdentityKey::from_claims(identity.claims())?;
//! assert_eq!(key.public_key_ssh(), agent_key.public_key_ssh());
//! # Ok::<(), login_agent_identity::AgentIdentityError>(())
//! ```

mod claims;
mod error;
mod identity;
mod jwt;
mod key;
mod secret;
mod unknown_keys;
#[cfg(feature = "verify")]
mod verify;

pub use claims::{AgentIdentityClaims, PlanType};
pub use error::{AgentIdentityError, Segment};
pub use identity::{AgentIdentity, AgentIdentityInput};
#[cfg(feature = "mint")]
pub use jwt::{JwtSigningKey, mint_agent_identity_jwt};
pub use jwt::{MAX_AGENT_IDENTITY_LEN, unverified_jwt_payload};
pub use key::AgentIdentityKey;
pub use secret::{ExposeSecret, REDACTED, SecretString, serde_secret};
pub use unknown_keys::UnknownKeys;
#[cfg(feature = "verify")]
pub use verify::{VerifyOptions, verify_agent_identity_jwt};

/// Re-export of the JWK set type [`verify_agent_identity_jwt`] takes.
#[cfg(feature = "verify")]
pub use jsonwebtoken::jwk::JwkSet;
