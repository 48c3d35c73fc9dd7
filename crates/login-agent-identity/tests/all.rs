//! Integration tests of `login-agent-identity`, one binary (see ARCHITECTURE.md).

mod common;
mod decode_rules;
mod key_material;
mod mint;
mod object_form;
mod peer_vectors;
mod properties;
mod redaction;
mod verify;
