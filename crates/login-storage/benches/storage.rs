//! Criterion benchmarks of the file store: `load`, `save` (atomic write with
//! two `fsync`s) and `update` (the same under the cross-process lock) of a
//! typical document (ChatGPT tokens and an agent identity in object form),
//! and `load` by file size (`load_by_size`: ~1 KiB, 64 KiB, 512 KiB, padded
//! with an unknown top-level key).
//!
//! Quick run: `cargo bench -p login-storage --bench storage -- --warm-up-time 1 --measurement-time 3`.

// A benchmark's setup has no caller to report to: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityInput, AgentIdentityKey, SecretString,
};
use login_storage::{AuthDotJson, AuthMode, AuthStore, FileStore, IdToken, TokenData};
use serde_json::json;

/// Tokens and an agent identity, as a logged-in runtime stores them.
fn typical_document() -> AuthDotJson {
    let payload = json!({
        "email": "dev@example.com",
        "https://api.openai.com/auth": {
            "chatgpt_plan_type": "pro",
            "chatgpt_user_id": "user-123",
            "chatgpt_account_id": "acct-456",
        },
    });
    let id_token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256]),
    );
    let claims = AgentIdentityClaims::new(
        "ws-1",
        "rt-1",
        AgentIdentityKey::generate("rt-1").private_key_pkcs8_base64(),
    )
    .unwrap()
    .with_chatgpt_user_id(Some("user-123".into()))
    .with_registered_at("2026-01-01T00:00:00Z")
    .unwrap();
    // The object form, parsed: the one way to an identity without a JWT.
    let record: AgentIdentity =
        serde_json::from_value(serde_json::to_value(claims).unwrap()).unwrap();
    AuthDotJson {
        auth_mode: Some(AuthMode::Chatgpt),
        openai_api_key: None,
        tokens: Some(TokenData {
            id_token: Some(IdToken::new(SecretString::from(id_token))),
            access_token: SecretString::from("a".repeat(900)),
            refresh_token: SecretString::from("r".repeat(60)),
            account_id: Some("acct-456".into()),
            extra: login_storage::UnknownKeys::new(),
        }),
        last_refresh: Some(time::OffsetDateTime::UNIX_EPOCH),
        agent_identity: Some(AgentIdentityInput::Object(record)),
        extra: login_storage::UnknownKeys::new(),
    }
}

fn file_home(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let storage = FileStore::new(dir.path());
    let document = typical_document();
    storage.save(&document).unwrap();

    let mut group = c.benchmark_group("file");
    group.bench_function("load", |b| {
        b.iter(|| black_box(storage.load().unwrap()));
    });
    group.bench_function("save", |b| {
        b.iter(|| storage.save(black_box(&document)).unwrap());
    });
    let mut counter = 0u64;
    group.bench_function("update", |b| {
        b.iter(|| {
            counter += 1;
            storage
                .update(&mut |current| {
                    let mut next = current.unwrap_or_default();
                    next.extra.insert("counter".into(), json!(counter));
                    Ok(Some(next))
                })
                .unwrap()
        });
    });
    group.finish();
}

fn load_by_size(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_by_size");
    for (label, target) in [
        ("1KiB", 1024usize),
        ("64KiB", 64 * 1024),
        ("512KiB", 512 * 1024),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let storage = FileStore::new(dir.path());
        let mut document = AuthDotJson::with_api_key(SecretString::from("sk-bench"));
        let base = serde_json::to_vec_pretty(&document).unwrap().len();
        let padding = target.saturating_sub(base + 20);
        document
            .extra
            .insert("padding".into(), json!("x".repeat(padding)));
        storage.save(&document).unwrap();
        let len = std::fs::metadata(storage.auth_file()).unwrap().len();
        group.throughput(Throughput::Bytes(len));
        group.bench_with_input(
            BenchmarkId::from_parameter(label),
            &storage,
            |b, storage| {
                b.iter(|| black_box(storage.load().unwrap()));
            },
        );
    }
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out so
// that no undocumented `pub fn` is generated (`missing_docs`).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    file_home(&mut criterion);
    load_by_size(&mut criterion);
    criterion.final_summary();
}
