//! Tokens made by another implementation (PyJWT) decode as that
//! implementation's authors expect.

use login_agent_identity::AgentIdentity;
use serde_json::Value;

#[test]
fn peer_vectors_decode_as_expected() {
    let text = include_str!("fixtures/peer-agent-identity-jwts.json");
    let vectors: Value = serde_json::from_str(text).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let result = AgentIdentity::from_jwt_unverified(input);
        if case["ok"].as_bool().unwrap() {
            let record = result.unwrap_or_else(|e| panic!("{name}: refused: {e}"));
            let actual = serde_json::to_value(&record).unwrap();
            for (field, expected) in case["expect"].as_object().unwrap() {
                assert_eq!(
                    actual.get(field).unwrap_or(&Value::Null),
                    expected,
                    "{name}: field {field}"
                );
            }
        } else {
            let message = result.expect_err(name).to_string();
            for word in case["err_mentions"].as_array().unwrap() {
                let word = word.as_str().unwrap();
                assert!(
                    message.contains(word),
                    "{name}: `{message}` does not mention `{word}`"
                );
            }
            assert!(
                !message.contains(input.trim()),
                "{name}: error echoes the token"
            );
        }
    }
}
