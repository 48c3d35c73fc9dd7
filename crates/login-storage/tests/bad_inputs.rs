//! The bad-input corpus: more than 60 malformed JWTs and `auth.json` files.
//! Each yields a typed error with a helpful message and leaves any file
//! involved byte-for-byte unchanged; input over a size limit is refused
//! before it is decoded or read.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use login_agent_identity::{
    AgentIdentity, AgentIdentityError, AgentIdentityKey, ExposeSecret as _, MAX_AGENT_IDENTITY_LEN,
};
use login_storage::{AuthStore, FileStore, StoreError};

/// Marks secrets in the inputs: no error may repeat it.
const MARKER: &str = "SECRETMARKER";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn key() -> String {
    AgentIdentityKey::generate("rt")
        .private_key_pkcs8_base64()
        .expose_secret()
        .to_owned()
}

fn token(payload: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"EdDSA"}"#),
        b64(payload),
        b64(MARKER.as_bytes())
    )
}

fn payload_with(extra: &str) -> String {
    format!(
        r#"{{"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"{}"{extra}}}"#,
        key()
    )
}

fn jwt_corpus() -> Vec<(&'static str, String, &'static str)> {
    let valid_header = b64(br#"{"alg":"EdDSA"}"#);
    let valid_payload = b64(payload_with("").as_bytes());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("empty", String::new(), "empty"),
        ("blank", " \n\t ".into(), "empty"),
        ("one segment", format!("{MARKER}abc"), "segment"),
        ("two segments", format!("{valid_header}.{valid_payload}"), "segment"),
        ("four segments", format!("{valid_header}.{valid_payload}.a.b"), "segment"),
        ("five segment JWE", "eyJhbGciOiJkaXIifQ..iv.ciphertext.tag".into(), "segment"),
        ("empty signature", format!("{valid_header}.{valid_payload}."), "signature"),
        ("empty header", format!(".{valid_payload}.sig"), "header"),
        ("empty payload", format!("{valid_header}..sig"), "payload"),
        ("header not base64", format!("!!{MARKER}!!.{valid_payload}.sig"), "header"),
        ("payload not base64", format!("{valid_header}.*{MARKER}*.sig"), "payload"),
        ("payload standard base64 chars", format!("{valid_header}.ab+/cd.sig"), "payload"),
        ("payload not json", token(b"not json"), "json"),
        ("payload array", token(b"[1,2,3]"), "object"),
        ("payload string", token(br#""SECRETMARKER""#), "object"),
        ("payload number", token(b"12345"), "object"),
        ("payload null", token(b"null"), "object"),
        ("payload truncated", token(br#"{"workspace_id":"ws","agent_runtime_id":"#), "payload"),
        ("payload invalid utf-8", token(b"{\"workspace_id\":\"\xff\xfe\"}"), "payload"),
        ("payload with BOM", token(format!("\u{feff}{}", payload_with("")).as_bytes()), "payload"),
        ("payload with NUL", token(b"{\"workspace_id\":\"a\0b\"}"), "payload"),
        ("payload NUL outside strings", token(b"{\0}"), "payload"),
        ("payload deeply nested", token(format!(r#"{{"workspace_id":{deep}}}"#).as_bytes()), "workspace_id"),
        ("payload truncated deep inside nesting", token(format!("{{\"a\":{}}}", "{\"a\":".repeat(200)).as_bytes()), "payload"),
        // Valid JSON (numbers keep their text, `arbitrary_precision`), so
        // the claim, not the payload, is refused.
        ("registered_at huge float", token(payload_with(r#","registered_at":1e400"#).as_bytes()), "registered_at"),
        ("registered_at huge integer", token(payload_with(r#","registered_at":99999999999999999999"#).as_bytes()), "registered_at"),
        ("registered_at i64 max", token(payload_with(r#","registered_at":9223372036854775807"#).as_bytes()), "registered_at"),
        ("registered_at negative year", token(payload_with(r#","registered_at":-99999999999"#).as_bytes()), "registered_at"),
        ("registered_at words", token(payload_with(r#","registered_at":"yesterday""#).as_bytes()), "registered_at"),
        ("registered_at date only", token(payload_with(r#","registered_at":"2026-01-01""#).as_bytes()), "registered_at"),
        ("registered_at object", token(payload_with(r#","registered_at":{"a":1}"#).as_bytes()), "registered_at"),
        ("duplicate claim", token(payload_with(r#","workspace_id":"other""#).as_bytes()), "duplicate"),
        ("workspace_id number", token(br#"{"workspace_id":7,"agent_runtime_id":"rt","agent_private_key":"k"}"#), "workspace_id"),
        ("workspace_id null", token(br#"{"workspace_id":null,"agent_runtime_id":"rt"}"#), "workspace_id"),
        ("agent_runtime_id empty", token(br#"{"workspace_id":"ws","agent_runtime_id":""}"#), "agent_runtime_id"),
        ("private key missing", token(br#"{"workspace_id":"ws","agent_runtime_id":"rt"}"#), "agent_private_key"),
        ("private key not base64", token(br#"{"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"SECRETMARKER!!"}"#), "agent_private_key"),
        ("private key random bytes", token(format!(r#"{{"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"{}"}}"#, STANDARD.encode([7u8; 48])).as_bytes()), "agent_private_key"),
        ("private key truncated", token(format!(r#"{{"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"{}"}}"#, &key()[..20]).as_bytes()), "agent_private_key"),
        ("private key huge", token(format!(r#"{{"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"{}"}}"#, "A".repeat(4096)).as_bytes()), "agent_private_key"),
        ("chatgpt_user_id boolean", token(payload_with(r#","chatgpt_user_id":true"#).as_bytes()), "chatgpt_user_id"),
        ("header array", format!("{}.{valid_payload}.sig", b64(b"[]")), "header"),
        ("header truncated", format!("{}.{valid_payload}.sig", b64(br#"{"alg":"#)), "header"),
        ("over 64 KiB", format!("{valid_header}.{}.sig", "A".repeat(70_000)), "large"),
        ("one gigantic segment", "A".repeat(1_000_000), "large"),
        ("NUL between segments", format!("{valid_header}\0.{valid_payload}.sig"), "header"),
    ]
}

#[test]
fn malformed_jwts_yield_typed_errors_that_name_the_problem() {
    let corpus = jwt_corpus();
    assert!(corpus.len() >= 40);
    for (name, input, mentions) in corpus {
        let error: AgentIdentityError = AgentIdentity::from_jwt_unverified(&input).expect_err(name);
        let message = error.to_string();
        assert!(
            message.to_lowercase().contains(mentions),
            "{name}: `{message}` should mention {mentions}"
        );
        assert!(
            !message.contains(MARKER),
            "{name}: error echoes input: {message}"
        );
    }
}

fn file_corpus() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let identity_without_workspace = format!(
        r#"{{"agent_identity":{{"agent_runtime_id":"rt","agent_private_key":"{}"}}}}"#,
        key()
    );
    vec![
        ("empty file", b"".to_vec(), "line"),
        ("whitespace only", b"  \n\n".to_vec(), "line"),
        ("truncated object", b"{".to_vec(), "line"),
        ("truncated secret", br#"{"OPENAI_API_KEY": "sk-SECRETMARKER"#.to_vec(), "line"),
        ("top-level array", b"[]".to_vec(), "line"),
        ("top-level string", br#""SECRETMARKER""#.to_vec(), "line"),
        ("top-level null", b"null".to_vec(), "line"),
        ("top-level number", b"42".to_vec(), "line"),
        ("invalid utf-8", b"{\"OPENAI_API_KEY\": \"\xff\xfe\"}".to_vec(), "line"),
        ("byte order mark", "\u{feff}{\"OPENAI_API_KEY\": null}".as_bytes().to_vec(), "line"),
        ("NUL bytes", b"{\"OPENAI_API_KEY\": null,\0}".to_vec(), "line"),
        ("deep nesting", format!(r#"{{"future":{deep}}}"#).into_bytes(), "line"),
        ("huge number as the api key", br#"{"OPENAI_API_KEY": 1e999}"#.to_vec(), "line"),
        ("integer api key", br#"{"OPENAI_API_KEY": 12345678901234}"#.to_vec(), "integer"),
        ("control character in a string", b"{\"OPENAI_API_KEY\": \"sk-SECRET\x01MARKER\"}".to_vec(), "control character"),
        ("escape outside a string", b"{\"OPENAI_API_KEY\": \\u0041}".to_vec(), "line"),
        ("DEL and C1 in an unknown key", "{\"future\u{7f}\u{85}\": 1, \"tokens\": 3}".as_bytes().to_vec(), "line"),
        ("unknown auth mode as an object", br#"{"auth_mode": {"SECRETMARKER": 1}}"#.to_vec(), "map"),
        ("duplicate keys", br#"{"OPENAI_API_KEY": "sk-a", "OPENAI_API_KEY": "sk-SECRETMARKER"}"#.to_vec(), "duplicate"),
        ("tokens as a string", br#"{"tokens": "SECRETMARKER"}"#.to_vec(), "line 1"),
        ("tokens missing access token", br#"{"tokens": {"id_token": "a.b.c", "refresh_token": "SECRETMARKER"}}"#.to_vec(), "access_token"),
        ("api key as a number", br#"{"OPENAI_API_KEY": 12345}"#.to_vec(), "line"),
        ("auth_mode as a number", br#"{"auth_mode": 3}"#.to_vec(), "line"),
        ("last_refresh not a date", br#"{"last_refresh": "SECRETMARKER"}"#.to_vec(), "line"),
        ("agent_identity as a number", br#"{"agent_identity": 7}"#.to_vec(), "agent identity"),
        ("agent_identity without workspace", identity_without_workspace.into_bytes(), "workspace_id"),
        ("agent_identity bad key", br#"{"agent_identity": {"workspace_id":"ws","agent_runtime_id":"rt","agent_private_key":"SECRETMARKER"}}"#.to_vec(), "agent_private_key"),
        ("unterminated string", b"{\"OPENAI_API_KEY\": \"sk-SECRETMARKER\n".to_vec(), "line"),
        ("trailing garbage", br#"{"OPENAI_API_KEY": null} trailing"#.to_vec(), "line"),
        ("two megabytes", format!(r#"{{"future":"{}"}}"#, "x".repeat(2 * 1024 * 1024)).into_bytes(), "too large"),
    ]
}

/// Loads and updates `auth.json` holding `bytes`; returns the error text.
fn refuse(home: &Path, name: &str, bytes: &[u8]) -> String {
    let path = home.join("auth.json");
    std::fs::write(&path, bytes).unwrap();
    let storage = FileStore::new(home);
    let load = storage.load().and_then(|document| match document {
        Some(document) => document
            .validated_agent_identity()
            .map(|_| ())
            .map_err(|error| StoreError::Serialize {
                reason: format!("agent identity: {error}"),
            }),
        None => Ok(()),
    });
    let message = load.expect_err(name).to_string();
    let update = storage.update(&mut |document| Ok(document));
    if !message.contains("agent identity:") {
        assert!(
            update.is_err(),
            "{name}: update must refuse a file that does not load"
        );
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "{name}: the file changed"
    );
    message
}

#[test]
fn malformed_auth_json_files_yield_typed_errors_and_stay_unchanged() {
    let corpus = file_corpus();
    assert!(corpus.len() >= 20);
    let home = tempfile::tempdir().unwrap();
    for (name, bytes, mentions) in corpus {
        let message = refuse(home.path(), name, &bytes);
        assert!(
            message.contains(mentions),
            "{name}: `{message}` should mention {mentions}"
        );
        assert!(
            !message.contains(MARKER),
            "{name}: error echoes content: {message}"
        );
    }
}

/// A JWT of exactly `len` bytes whose segments are valid base64url, so a
/// decoder that did not check the size first would decode it.
fn jwt_of_len(len: usize) -> String {
    let header = b64(br#"{"alg":"EdDSA"}"#);
    let payload = "A".repeat(len - header.len() - ".".len() - ".sig".len());
    let jwt = format!("{header}.{payload}.sig");
    assert_eq!(jwt.len(), len);
    jwt
}

#[test]
fn a_jwt_over_the_size_limit_is_refused_before_it_is_decoded() {
    let over = [
        ("one byte over", jwt_of_len(MAX_AGENT_IDENTITY_LEN + 1)),
        ("far over", jwt_of_len(16 * MAX_AGENT_IDENTITY_LEN)),
        (
            "over inside whitespace",
            format!(" {} ", jwt_of_len(MAX_AGENT_IDENTITY_LEN + 1)),
        ),
        ("one gigantic segment", "A".repeat(1_000_000)),
    ];
    for (name, input) in over {
        // `TooLarge` is the refusal before any decoding: a decoded input
        // fails on its segments, base64 or JSON instead.
        let error = AgentIdentity::from_jwt_unverified(&input).unwrap_err();
        assert!(
            matches!(error, AgentIdentityError::TooLarge { len, limit }
                if len > limit && limit == MAX_AGENT_IDENTITY_LEN),
            "{name}: {error:?}"
        );
    }
    // At the limit, the same shape is decoded, and refused for its payload.
    let error =
        AgentIdentity::from_jwt_unverified(&jwt_of_len(MAX_AGENT_IDENTITY_LEN)).unwrap_err();
    assert!(
        !matches!(error, AgentIdentityError::TooLarge { .. }),
        "{error:?}"
    );
}

/// Bytes this thread has read so far (`rchar` of Linux's per-thread I/O
/// accounting); `None` where the kernel does not keep it.
fn bytes_read_by_this_thread() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("rchar:"))?
        .trim()
        .parse()
        .ok()
}

#[test]
fn a_100_mib_auth_json_is_refused_before_it_is_read() {
    const LEN: u64 = 100 * 1024 * 1024;
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("auth.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(LEN).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

    let before = bytes_read_by_this_thread();
    let error = FileStore::new(home.path()).load().unwrap_err();
    let after = bytes_read_by_this_thread();

    // The length is the file's own, from its metadata: a bounded read
    // would have stopped one byte past the limit and reported that.
    assert!(
        matches!(error, StoreError::TooLarge { len, limit, .. } if len == LEN && limit < LEN),
        "{error:?}"
    );
    assert!(error.to_string().contains("too large") && error.to_string().contains("auth.json"));
    match (before, after) {
        // What this thread read in between is the first look at its own
        // I/O counters, not the file.
        (Some(before), Some(after)) => {
            assert!(after - before < 4096, "{} bytes read", after - before);
        }
        _ => test_support::print_skip(
            "a_100_mib_auth_json_is_refused_before_it_is_read",
            "no per-thread I/O accounting (/proc/thread-self/io): bytes read not counted",
        ),
    }
    let metadata = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (metadata.len(), metadata.modified().unwrap()),
        (LEN, modified)
    );
}
