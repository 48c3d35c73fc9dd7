//! Integration tests of `auth-http` against loopback servers, one binary
//! (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_guard;
mod chatgpt_login;
mod error_redaction;
mod http_registration;
mod https_only;
mod jwks;
mod refresh;
mod refresh_race;
mod registration_race;
mod request_headers;
mod revoke;
mod tracing_redaction;
