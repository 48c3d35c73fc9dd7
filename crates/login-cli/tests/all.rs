//! Integration tests of `agent-login`: the built binary, run in temporary
//! homes. One test binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Shared with core-auth's tests.
#[path = "../../core-auth/tests/capture.rs"]
mod capture;
mod header;
mod identity;
// Shared with core-auth's tests, which use more of it.
mod login_logout;
#[allow(dead_code)]
#[path = "../../core-auth/tests/loopback.rs"]
mod loopback;
mod readme;
mod register_task;
mod secret_hygiene;
mod secret_leak;
mod status;
mod stores;
// Shared with login-storage's tests.
#[path = "../../login-storage/tests/secret_service_gate.rs"]
mod secret_service_gate;
mod support;
