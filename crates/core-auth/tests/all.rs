//! Integration tests of `core-auth`, one binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capture;
mod contention;
mod extensibility;
#[cfg(feature = "http")]
mod http_registration;
#[cfg(feature = "http")]
mod jwks;
#[cfg(feature = "http")]
mod loopback;
mod manager;
#[cfg(feature = "http")]
mod refresh;
#[cfg(feature = "http")]
mod refresh_race;
#[cfg(feature = "http")]
mod request_headers;
mod resolution;
mod restrictions;
// Shared with login-storage's tests.
#[path = "../../login-storage/tests/secret_service_gate.rs"]
mod secret_service_gate;
mod support;
mod task_id;
mod tracing_redaction;
