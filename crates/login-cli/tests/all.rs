//! Integration tests of `agent-login`: the built binary, run in temporary
//! homes. One test binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chatgpt_login;
mod header;
mod hostile;
mod identity;
mod keyring_homes;
mod login_logout;
mod logout_revoke;
mod readme;
mod register_task;
mod secret_hygiene;
mod secret_leak;
mod status;
mod status_compat;
mod stores;
mod support;
mod ux;
