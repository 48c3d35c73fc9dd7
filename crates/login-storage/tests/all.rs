//! Integration tests of `login-storage`, one binary (see ARCHITECTURE.md).
//!
//! The real keyring tests (`real_keyring`) need the private Secret Service
//! session of `cargo xtask test`; elsewhere they print why they skip.

// Fixture helpers outside #[test] fns panic on setup failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auto;
mod bad_inputs;
mod crash_safety;
mod document;
mod ephemeral;
mod file;
mod file_errors;
mod hostile;
mod hostile_keyring;
mod keyring;
mod multi_process;
mod real_keyring;
mod support;
