//! Helpers shared by the integration tests of every crate in the
//! workspace (dev-only, never published):
//! - [`fixtures`]: identities, id tokens and ChatGPT tokens, a changeable
//!   environment, a manager configuration, registrars;
//! - [`FakeKeyring`]: the keyring fake, in memory, with fault injection;
//! - [`loopback`]: an HTTP server on 127.0.0.1 for the HTTP client tests;
//! - [`Capture`]: all tracing output in memory, to search for secrets;
//! - [`secret_service_available`]: whether the real keyring tests may run;
//! - [`worker`]: the test binary started again as a worker process.

// Test support: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod capture;
pub mod fixtures;
mod gate;
mod keyring;
pub mod loopback;
pub mod oauth;
pub mod worker;

pub use capture::Capture;
pub use fixtures::*;
pub use gate::{print_skip, secret_service_available};
pub use keyring::{FakeKeyring, Fault};
