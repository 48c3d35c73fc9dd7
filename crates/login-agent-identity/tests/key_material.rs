//! `AgentIdentityKey`: SSH public key form, task-registration signatures,
//! generation.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Verifier as _};
use login_agent_identity::{AgentIdentity, AgentIdentityKey, ExposeSecret as _};

use crate::common::{minimal_payload, pkcs8_v2};

fn record() -> AgentIdentity {
    serde_json::from_value(minimal_payload()).unwrap()
}

#[test]
fn key_from_record_round_trips_through_pkcs8() {
    let record = record();
    let key = AgentIdentityKey::from_claims(record.claims()).unwrap();
    assert_eq!(
        key.private_key_pkcs8_base64().expose_secret(),
        record.agent_private_key().expose_secret()
    );
    assert_eq!(key.agent_runtime_id(), "rt-abcd");
}

#[test]
fn key_from_pkcs8_v2_record_matches_v1() {
    let v1 = AgentIdentityKey::generate("rt");
    let mut payload = minimal_payload();
    payload["agent_private_key"] = pkcs8_v2(&v1.seed(), &v1.verifying_key().to_bytes()).into();
    let record: AgentIdentity = serde_json::from_value(payload).unwrap();
    let v2 = AgentIdentityKey::from_claims(record.claims()).unwrap();
    assert_eq!(v2.public_key_ssh(), v1.public_key_ssh());
}

#[test]
fn public_key_ssh_is_the_ssh_wire_blob_of_the_public_key() {
    let key = AgentIdentityKey::generate("rt");
    let ssh = key.public_key_ssh();
    let blob = STANDARD
        .decode(ssh.strip_prefix("ssh-ed25519 ").unwrap())
        .unwrap();
    assert_eq!(&blob[..4], &11u32.to_be_bytes());
    assert_eq!(&blob[4..15], b"ssh-ed25519");
    assert_eq!(&blob[15..19], &32u32.to_be_bytes());
    assert_eq!(&blob[19..], key.verifying_key().as_bytes());
}

#[test]
fn task_registration_signature_covers_runtime_id_and_timestamp() {
    let key = AgentIdentityKey::from_claims(record().claims()).unwrap();
    let timestamp = "2026-04-17T01:18:00Z";
    let signature = STANDARD
        .decode(key.sign_task_registration(timestamp).expose_secret())
        .unwrap();
    let signature = Signature::from_slice(&signature).unwrap();
    let public = key.verifying_key();
    public
        .verify(format!("rt-abcd:{timestamp}").as_bytes(), &signature)
        .unwrap();
    assert!(
        public
            .verify(b"rt-other:2026-04-17T01:18:00Z", &signature)
            .is_err()
    );
}

#[test]
fn generated_keys_differ_and_decode_as_valid_claims() {
    let a = AgentIdentityKey::generate("rt");
    let b = AgentIdentityKey::generate("rt");
    assert_ne!(a.public_key_ssh(), b.public_key_ssh());
    let mut payload = minimal_payload();
    payload["agent_private_key"] = a.private_key_pkcs8_base64().expose_secret().into();
    serde_json::from_value::<AgentIdentity>(payload).unwrap();
}
