//! Integration tests of `login-agent-identity`, one binary (see ARCHITECTURE.md).

// Test support code outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent_assertion;
mod claim_tables;
mod common;
mod decode_rules;
mod key_material;
mod mint;
mod newer_shape;
mod object_form;
mod peer_vectors;
mod properties;
mod redaction;
mod verify;
