//! Integration tests of `core-auth`, one binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contention;
mod embedding;
mod extensibility;
mod manager;
mod missing_id_token;
mod resolution;
mod restrictions;
mod stored_errors;
mod task_id;
mod tracing_redaction;
