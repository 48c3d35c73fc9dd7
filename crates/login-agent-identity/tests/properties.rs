//! Property tests: no input makes the decoder panic, and minting then
//! decoding returns what went in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityInput, AgentIdentityKey, ExposeSecret as _,
    JwtSigningKey, mint_agent_identity_jwt,
};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("workspace_id".to_owned()),
                    Just("agent_runtime_id".to_owned()),
                    Just("agent_private_key".to_owned()),
                    Just("registered_at".to_owned()),
                    Just("chatgpt_user_id".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..8
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn from_jwt_never_panics_on_arbitrary_strings(input in any::<String>()) {
        // Random text is never an identity: it is refused with a message.
        let error = AgentIdentity::from_jwt_unverified(&input).unwrap_err();
        prop_assert!(!error.to_string().is_empty());
        let parsed = input.parse::<AgentIdentityInput>().and_then(AgentIdentityInput::into_identity);
        prop_assert!(parsed.is_err());
    }

    #[test]
    fn from_jwt_never_panics_on_arbitrary_three_segment_inputs(
        header in "[A-Za-z0-9_=+/-]{0,64}",
        payload in "[A-Za-z0-9_=+/-]{0,256}",
        signature in "[A-Za-z0-9_=+/-]{0,64}",
    ) {
        // Without the required claims no such token is an identity.
        let result = AgentIdentity::from_jwt_unverified(&format!("{header}.{payload}.{signature}"));
        prop_assert!(result.is_err());
    }

    #[test]
    fn from_jwt_never_panics_on_arbitrary_json_payloads(payload in json_value(), header in json_value()) {
        let token = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
        );
        let decoded = AgentIdentity::from_jwt_unverified(&token);
        let object = serde_json::from_value::<AgentIdentityInput>(payload.clone())
            .map_err(|e| e.to_string())
            .and_then(|input| input.into_identity().map_err(|e| e.to_string()));
        // Whatever the JWT form accepts holds the payload's own claims, and
        // the object form of the same payload reads the same claims.
        if let Ok(record) = decoded {
            prop_assert_eq!(Some(record.workspace_id()), payload["workspace_id"].as_str());
            prop_assert_eq!(Some(record.agent_runtime_id()), payload["agent_runtime_id"].as_str());
            let object = object.map_err(TestCaseError::fail)?;
            prop_assert_eq!(object.claims(), record.claims());
        }
    }

    #[test]
    fn mint_then_decode_round_trips(
        workspace_id in "[^\u{0}]{1,24}",
        agent_runtime_id in "[^\u{0}]{1,24}",
        chatgpt_user_id in proptest::option::of(".{0,24}"),
        registered_at in proptest::option::of(0i64..253_402_300_799),
    ) {
        let registered_at = registered_at.map(|seconds| {
            time::OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        });
        let private_key = AgentIdentityKey::generate(agent_runtime_id.clone()).private_key_pkcs8_base64();
        let mut claims = AgentIdentityClaims::new(workspace_id, agent_runtime_id, private_key)
            .unwrap()
            .with_chatgpt_user_id(chatgpt_user_id);
        if let Some(registered_at) = registered_at {
            claims = claims.with_registered_at(&registered_at).unwrap();
        }
        let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate()).unwrap();
        let decoded = AgentIdentity::from_jwt_unverified(jwt.expose_secret()).unwrap();
        prop_assert_eq!(decoded.claims(), &claims);
    }

    #[test]
    fn registered_at_string_normalizes_to_the_same_instant_in_utc_whole_seconds(
        year in 0u16..=9999, month in 0u8..=13, day in 0u8..=32,
        hour in 0u8..=24, minute in 0u8..=60, second in 0u8..=61,
        offset in prop_oneof![Just("Z".to_owned()), Just("z".to_owned()), "[+-][0-2][0-9]:[0-6][0-9]"],
        separator in prop_oneof![Just('T'), Just('t'), Just(' ')],
        fraction in prop_oneof![Just(String::new()), "[.][0-9]{1,9}"],
    ) {
        use time::format_description::well_known::Rfc3339;
        let text = format!("{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}");
        let decoded = registered_at_of(serde_json::json!(text));
        match time::OffsetDateTime::parse(&text, &Rfc3339) {
            // Not RFC 3339: refused.
            Err(_) => prop_assert_eq!(decoded, None),
            Ok(instant) => {
                let seconds = instant.unix_timestamp();
                prop_assert_eq!(decoded.is_some(), UTC_YEARS_0000_TO_9999.contains(&seconds), "{}", text);
                if let Some(normalized) = decoded {
                    assert_utc_whole_seconds(&normalized, seconds)?;
                    // Normalizing the normalized form changes nothing.
                    prop_assert_eq!(registered_at_of(serde_json::json!(normalized.clone())), Some(normalized));
                }
            }
        }
    }

    #[test]
    fn registered_at_numeric_date_normalizes_to_utc_whole_seconds(seconds in -100_000_000_000i64..300_000_000_000) {
        let decoded = registered_at_of(serde_json::json!(seconds));
        prop_assert_eq!(decoded.is_some(), UTC_YEARS_0000_TO_9999.contains(&seconds));
        if let Some(normalized) = decoded {
            assert_utc_whole_seconds(&normalized, seconds)?;
        }
    }
}

/// Seconds since the epoch from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z:
/// the instants `registered_at` can be written as `YYYY-MM-DDTHH:MM:SSZ`.
const UTC_YEARS_0000_TO_9999: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// `registered_at` of a decoded JWT whose payload carries `value` there;
/// `None` when the token is refused.
fn registered_at_of(value: serde_json::Value) -> Option<String> {
    let mut payload = crate::common::minimal_payload();
    payload["registered_at"] = value;
    AgentIdentity::from_jwt_unverified(&crate::common::token_with_payload(&payload))
        .ok()
        .and_then(|record| record.registered_at().map(str::to_owned))
}

/// `normalized` is `YYYY-MM-DDTHH:MM:SSZ` and names `unix_seconds`.
fn assert_utc_whole_seconds(normalized: &str, unix_seconds: i64) -> Result<(), TestCaseError> {
    use time::format_description::well_known::Rfc3339;
    let shape =
        normalized
            .bytes()
            .zip("dddd-dd-ddTdd:dd:ddZ".bytes())
            .all(|(byte, want)| match want {
                b'd' => byte.is_ascii_digit(),
                _ => byte == want,
            });
    prop_assert!(normalized.len() == 20 && shape, "{}", normalized);
    let back = time::OffsetDateTime::parse(normalized, &Rfc3339).unwrap();
    prop_assert_eq!(back.unix_timestamp(), unix_seconds, "{}", normalized);
    Ok(())
}
