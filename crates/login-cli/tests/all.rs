//! Integration tests of `agent-login`: the built binary, run in temporary
//! homes. One test binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod header;
mod hostile;
mod identity;
mod login_logout;
mod readme;
mod register_task;
mod secret_hygiene;
mod secret_leak;
mod status;
mod stores;
mod support;
mod ux;
