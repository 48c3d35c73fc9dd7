//! How fast an agent identity JWT is decoded, next to `jsonwebtoken`.
//!
//! `decode/{minimal,typical,near_60k}` time, on the same tokens,
//! [`AgentIdentity::from_jwt_unverified`] (every rule of the contract, including the
//! PKCS#8 parse of the private key and `registered_at` normalization) and
//! `jsonwebtoken::dangerous::insecure_decode` into a struct with the same
//! fields (base64url and JSON only). The guard is ours at most 1.25x
//! jsonwebtoken's median on `typical`: the decoder is plain library code
//! (base64, serde_json, `time`, ed25519-dalek's PKCS#8) and does more than
//! jsonwebtoken does, so it is not tuned to beat it, only kept from
//! drifting.
//!
//! `agent_identity_key/from_claims` times building an [`AgentIdentityKey`]
//! from a decoded identity, which derives the public key (one scalar
//! multiplication), so it is reported apart from decoding.
//!
//! `decode_by_size/{ours,jsonwebtoken}/{1k,8k,60k}` decode the typical
//! claims padded by an unknown claim to about 1, 8 and 60 KiB of token, with
//! byte throughput set, so the growth can be read off as linear.
//!
//! Every token is minted or assembled here from a fresh key (no committed
//! keys), and each builder checks once, outside the timing, that both
//! decoders accept it and read the same claims.
//!
//! ```text
//! cargo bench -p login-agent-identity --bench decode -- --warm-up-time 1 --measurement-time 3
//! ```

// Bench setup works on inputs built right here and known to be good; a
// failure there is a bug in the bench, and a panic is the right report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityKey, ExposeSecret, JwtSigningKey,
    MAX_AGENT_IDENTITY_LEN, mint_agent_identity_jwt,
};
use serde_json::{Value, json};

/// What jsonwebtoken decodes into: the fields of [`AgentIdentityClaims`].
#[derive(Debug, serde::Deserialize)]
struct JwtCrateClaims {
    workspace_id: String,
    agent_runtime_id: String,
    agent_private_key: String,
    chatgpt_user_id: Option<String>,
    registered_at: Option<Value>,
    // The newer shape's claims, which ours reads too (`exp` is in the
    // typical token).
    account_id: Option<String>,
    email: Option<String>,
    plan_type: Option<String>,
    chatgpt_account_is_fedramp: Option<bool>,
    exp: Option<i64>,
}

/// The benchmark tokens, built once.
struct Tokens {
    minimal: String,
    typical: String,
    near_60k: String,
    by_size: Vec<(&'static str, String)>,
}

impl Tokens {
    fn build() -> Self {
        let agent_key = AgentIdentityKey::generate("rt-bench-7f3a9c");
        let signer = JwtSigningKey::generate();
        let private_key = agent_key.private_key_pkcs8_base64();

        let minimal = mint_agent_identity_jwt(
            &AgentIdentityClaims::new("ws-1", "rt-1", private_key.clone()).unwrap(),
            &signer,
        )
        .unwrap()
        .expose_secret()
        .to_owned();

        // Minting writes only the claims this crate knows; a launcher's
        // token also carries the registered JWT claims. Take the header and
        // a real signature from a minted token and put the full payload in
        // between: the decoders under test do not verify.
        let full_claims = AgentIdentityClaims::new(
            "ws-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "rt-3c1b9a2e-8d4f-4e6a-9b7c-5d2e1f0a3b4c",
            private_key.clone(),
        )
        .unwrap()
        .with_chatgpt_user_id(Some("user-Zx8Kq2LmN4pR7sT1vW3yB6dF".into()))
        .with_registered_at("2026-04-17T03:18:00+02:00")
        .unwrap();
        let minted = mint_agent_identity_jwt(&full_claims, &signer).unwrap();
        let mut parts = minted.expose_secret().split('.');
        let header = parts.next().unwrap().to_owned();
        let signature = parts.nth(1).unwrap().to_owned();
        let typical_payload = json!({
            "iss": "https://auth.openai.com",
            "aud": "codex-agent-runtime",
            "sub": "agent:rt-3c1b9a2e-8d4f-4e6a-9b7c-5d2e1f0a3b4c",
            "iat": 1_776_388_680_i64,
            "nbf": 1_776_388_680_i64,
            "exp": 1_776_392_280_i64,
            "jti": "b7d0c4e2-1f3a-4c5d-8e9f-0a1b2c3d4e5f",
            "workspace_id": full_claims.workspace_id(),
            "agent_runtime_id": full_claims.agent_runtime_id(),
            "agent_private_key": private_key.expose_secret(),
            "chatgpt_user_id": full_claims.chatgpt_user_id(),
            "registered_at": full_claims.registered_at(),
        });
        let assemble = |payload: &Value| {
            let json = serde_json::to_vec(payload).unwrap();
            format!(
                "{header}.{}.{signature}",
                URL_SAFE_NO_PAD.encode(json.as_slice())
            )
        };
        let typical = assemble(&typical_payload);

        // Pads the typical payload with an unknown claim until the token is
        // `target` bytes long, give or take a base64 quantum.
        let padded = |target: usize| {
            let mut payload = typical_payload.clone();
            let mut pad_len = 0;
            loop {
                payload["x_bench_padding"] = Value::String(pad_text(pad_len));
                let token = assemble(&payload);
                if token.len() + 4 > target || pad_len > target {
                    return token;
                }
                pad_len += (target - token.len()) * 3 / 4;
                pad_len = pad_len.max(1);
            }
        };
        let near_60k = padded(60 * 1024);
        assert!(near_60k.len() <= MAX_AGENT_IDENTITY_LEN);
        let by_size = vec![
            ("1k", padded(1024)),
            ("8k", padded(8 * 1024)),
            ("60k", near_60k.clone()),
        ];

        let tokens = Self {
            minimal,
            typical,
            near_60k,
            by_size,
        };
        for token in tokens.all() {
            check_both_accept(token);
        }
        eprintln!(
            "token bytes: minimal {}, typical {}, near_60k {}, by size {:?}",
            tokens.minimal.len(),
            tokens.typical.len(),
            tokens.near_60k.len(),
            tokens
                .by_size
                .iter()
                .map(|(name, token)| (*name, token.len()))
                .collect::<Vec<_>>()
        );
        tokens
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        [&self.minimal, &self.typical, &self.near_60k]
            .into_iter()
            .chain(self.by_size.iter().map(|(_, token)| token))
    }
}

/// Printable padding of `len` bytes that is not one repeated character.
fn pad_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_";
    (0..len)
        .map(|i| char::from(ALPHABET[(i * 7 + i / 64) % ALPHABET.len()]))
        .collect()
}

fn decode_with_jsonwebtoken(token: &str) -> JwtCrateClaims {
    jsonwebtoken::dangerous::insecure_decode::<JwtCrateClaims>(token)
        .expect("jsonwebtoken accepts the bench token")
        .claims
}

/// Both decoders accept `token` and read the same claims.
fn check_both_accept(token: &str) {
    let ours = AgentIdentity::from_jwt_unverified(token).expect("ours accepts the bench token");
    let theirs = decode_with_jsonwebtoken(token);
    assert_eq!(ours.workspace_id(), theirs.workspace_id);
    assert_eq!(ours.agent_runtime_id(), theirs.agent_runtime_id);
    assert_eq!(
        ours.agent_private_key().expose_secret(),
        theirs.agent_private_key
    );
    assert_eq!(ours.chatgpt_user_id(), theirs.chatgpt_user_id.as_deref());
    assert_eq!(
        ours.registered_at().is_some(),
        theirs.registered_at.is_some()
    );
    let claims = ours.claims();
    assert_eq!(
        claims.workspace_id(),
        theirs
            .account_id
            .as_deref()
            .unwrap_or(claims.workspace_id())
    );
    assert_eq!(claims.email(), theirs.email.as_deref());
    assert_eq!(
        claims.plan_type().map(|plan| plan.as_str()),
        theirs.plan_type.as_deref()
    );
    assert_eq!(
        claims.chatgpt_account_is_fedramp(),
        theirs.chatgpt_account_is_fedramp
    );
    assert_eq!(
        claims.expires_at().map(|at| at.unix_timestamp()),
        theirs.exp
    );
}

fn bench_decode(c: &mut Criterion, tokens: &Tokens) {
    for (name, token) in [
        ("minimal", &tokens.minimal),
        ("typical", &tokens.typical),
        ("near_60k", &tokens.near_60k),
    ] {
        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.bench_function("ours", |b| {
            b.iter(|| AgentIdentity::from_jwt_unverified(black_box(token)));
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| jsonwebtoken::dangerous::insecure_decode::<JwtCrateClaims>(black_box(token)));
        });
        group.finish();
    }
}

fn bench_key(c: &mut Criterion, tokens: &Tokens) {
    let identity = AgentIdentity::from_jwt_unverified(&tokens.typical).unwrap();
    let mut group = c.benchmark_group("agent_identity_key");
    group.bench_function("from_claims", |b| {
        b.iter(|| AgentIdentityKey::from_claims(black_box(identity.claims())));
    });
    group.finish();
}

fn bench_by_size(c: &mut Criterion, tokens: &Tokens) {
    let mut group = c.benchmark_group("decode_by_size");
    for (size, token) in &tokens.by_size {
        group.throughput(Throughput::Bytes(token.len() as u64));
        group.bench_with_input(BenchmarkId::new("ours", size), token, |b, token| {
            b.iter(|| AgentIdentity::from_jwt_unverified(black_box(token)));
        });
        group.bench_with_input(BenchmarkId::new("jsonwebtoken", size), token, |b, token| {
            b.iter(|| jsonwebtoken::dangerous::insecure_decode::<JwtCrateClaims>(black_box(token)));
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let tokens = Tokens::build();
    bench_decode(c, &tokens);
    bench_key(c, &tokens);
    bench_by_size(c, &tokens);
}

// What `criterion_group!` and `criterion_main!` expand to, written out so
// that no undocumented `pub fn` is generated (`missing_docs`).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
