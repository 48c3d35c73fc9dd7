//! Table-driven edges of the claim rules with fixed inputs (the property
//! tests in `properties.rs` cover random ones): `registered_at` dates,
//! times, separators and offsets, and the JSON type named when a claim has
//! the wrong one. Every case goes through the three ways claims come in:
//! a JWT, the object form, and `AgentIdentityClaims::with_registered_at`.

use login_agent_identity::{AgentIdentity, AgentIdentityClaims, AgentIdentityError};
use serde_json::{Value, json};

use crate::common::{
    fresh_private_key, minimal_payload, token_with_payload, token_with_raw_payload,
};

/// `registered_at` as decoded from a JWT carrying `text` there.
fn jwt_registered_at(text: &str) -> Result<Option<String>, AgentIdentityError> {
    let mut payload = minimal_payload();
    payload["registered_at"] = json!(text);
    AgentIdentity::from_jwt_unverified(&token_with_payload(&payload))
        .map(|record| record.registered_at().map(str::to_owned))
}

/// `registered_at` as read from the object form carrying `text` there;
/// the error as text (serde wraps it).
fn object_registered_at(text: &str) -> Result<Option<String>, String> {
    let mut object = minimal_payload();
    object["registered_at"] = json!(text);
    serde_json::from_value::<AgentIdentity>(object)
        .map(|record| record.registered_at().map(str::to_owned))
        .map_err(|e| e.to_string())
}

/// `registered_at` as set through the claims builder.
fn builder_registered_at(text: &str) -> Result<Option<String>, AgentIdentityError> {
    AgentIdentityClaims::new("ws", "rt", fresh_private_key().into())
        .unwrap()
        .with_registered_at(text)
        .map(|claims| claims.registered_at().map(str::to_owned))
}

/// Asserts that every way in normalizes `given` to `expected`.
fn assert_accepted(given: &str, expected: &str) {
    let expected = Some(expected.to_owned());
    assert_eq!(jwt_registered_at(given).unwrap(), expected, "jwt: {given}");
    assert_eq!(
        object_registered_at(given).unwrap(),
        expected,
        "object: {given}"
    );
    assert_eq!(
        builder_registered_at(given).unwrap(),
        expected,
        "builder: {given}"
    );
}

/// Asserts that every way in refuses `given` as an invalid `registered_at`.
fn assert_refused(given: &str) {
    let error = jwt_registered_at(given).expect_err(given);
    assert!(
        matches!(error, AgentIdentityError::InvalidRegisteredAt { .. }),
        "jwt: {given}: {error}"
    );
    let error = builder_registered_at(given).expect_err(given);
    assert!(
        matches!(error, AgentIdentityError::InvalidRegisteredAt { .. }),
        "builder: {given}: {error}"
    );
    let message = object_registered_at(given).expect_err(given);
    assert!(
        message.contains("registered_at"),
        "object: {given}: {message}"
    );
}

#[test]
fn registered_at_accepts_february_29_only_in_leap_years() {
    for year in ["2000", "2024", "1600", "0400", "0000"] {
        let date = format!("{year}-02-29T12:00:00Z");
        assert_accepted(&date, &date);
    }
    for year in ["2026", "1900", "0100", "2100", "2023", "0001"] {
        assert_refused(&format!("{year}-02-29T12:00:00Z"));
    }
}

#[test]
fn registered_at_accepts_the_last_day_of_each_month_and_refuses_the_day_after() {
    let last_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (month, last) in (1..=12).zip(last_days) {
        let date = format!("2026-{month:02}-{last:02}T00:00:00Z");
        assert_accepted(&date, &date);
        assert_refused(&format!("2026-{month:02}-{:02}T00:00:00Z", last + 1));
    }
}

#[test]
fn registered_at_refuses_day_month_hour_minute_and_second_out_of_range() {
    for bad in [
        "2026-04-00T01:18:00Z",
        "2026-00-17T01:18:00Z",
        "2026-13-17T01:18:00Z",
        "2026-04-32T01:18:00Z",
        "2026-04-17T24:00:00Z",
        "2026-04-17T01:60:00Z",
        "2026-04-17T01:18:61Z",
        "2026-04-17T01:18:00+24:00",
        "2026-04-17T01:18:00+02:60",
    ] {
        assert_refused(bad);
    }
    for (given, expected) in [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-12-31T23:59:59Z", "2026-12-31T23:59:59Z"),
        ("2026-04-17T01:18:00+23:59", "2026-04-16T01:19:00Z"),
        ("2026-04-17T01:18:00-23:59", "2026-04-18T01:17:00Z"),
    ] {
        assert_accepted(given, expected);
    }
}

#[test]
fn registered_at_separates_date_and_time_only_by_t_or_a_space() {
    // RFC 3339 section 5.6: `T`, and by its note `t` or a space.
    for separator in ["T", "t", " "] {
        assert_accepted(
            &format!("2026-04-17{separator}01:18:00Z"),
            "2026-04-17T01:18:00Z",
        );
    }
    for separator in ["X", "_", "0", "1", "/", "\t", ""] {
        assert_refused(&format!("2026-04-17{separator}01:18:00Z"));
    }
}

#[test]
fn registered_at_refuses_malformed_dates_times_and_offsets() {
    for bad in [
        "2026/04/17T01:18:00Z",
        "2026-04-17T01-18-00Z",
        "2026-4-17T01:18:00Z",
        "2026-04-7T01:18:00Z",
        "26-04-17T01:18:00Z",
        "2026-04-17T1:18:00Z",
        "2026-04-17T01:18Z",
        "2026-04-17T01:18:00",
        "2026-04-17T01:18:00+02-00",
        "2026-04-17T01:18:00+2:00",
        "2026-04-17T01:18:00+0200",
        "2026-04-17T01:18:00+02",
        "2026-04-17T01:18:00 +02:00",
        "2026-04-17T01:18:00.Z",
        "2026-04-17T01:18:00ZZ",
        "+2026-04-17T01:18:00Z",
        " 2026-04-17T01:18:00Z",
    ] {
        assert_refused(bad);
    }
}

#[test]
fn registered_at_offsets_move_the_instant_to_utc() {
    for (given, expected) in [
        ("2026-04-17T03:18:00+02:00", "2026-04-17T01:18:00Z"),
        ("2026-04-16T23:18:00-02:00", "2026-04-17T01:18:00Z"),
        ("2026-04-17T01:48:00+00:30", "2026-04-17T01:18:00Z"),
        ("2026-04-17T01:18:00-00:00", "2026-04-17T01:18:00Z"),
        ("2026-04-17T01:18:00+00:00", "2026-04-17T01:18:00Z"),
        ("2026-04-17T01:18:00z", "2026-04-17T01:18:00Z"),
        ("2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00Z"),
        ("2024-02-29T23:00:00-02:00", "2024-03-01T01:00:00Z"),
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
        ("2026-04-17T01:18:00.999999999Z", "2026-04-17T01:18:00Z"),
    ] {
        assert_accepted(given, expected);
    }
    // Outside 0000-9999 once in UTC.
    assert_refused("0000-01-01T00:59:59+01:00");
    assert_refused("9999-12-31T23:59:59-00:01");
}

#[test]
fn registered_at_numeric_dates_at_the_edges_of_the_years_0000_to_9999() {
    for (seconds, expected) in [
        (0_i64, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (-62_167_219_200, "0000-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] {
        let mut payload = minimal_payload();
        payload["registered_at"] = json!(seconds);
        let record = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
        assert_eq!(record.registered_at(), Some(expected), "{seconds}");
    }
    for seconds in [-62_167_219_201_i64, 253_402_300_800, i64::MIN, i64::MAX] {
        let mut payload = minimal_payload();
        payload["registered_at"] = json!(seconds);
        let error = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap_err();
        assert!(
            matches!(error, AgentIdentityError::InvalidRegisteredAt { .. }),
            "{seconds}: {error}"
        );
    }
}

/// JSON texts of each kind a claim may wrongly hold, with the name the
/// error must give it.
const WRONG_KINDS: [(&str, &str); 10] = [
    ("1.5", "a number with a fraction"),
    ("-0.5", "a number with a fraction"),
    ("1e3", "a number with a fraction"),
    ("18446744073709551615", "an out-of-range number"),
    ("99999999999999999999999", "an out-of-range number"),
    ("true", "a boolean"),
    ("false", "a boolean"),
    ("[]", "an array"),
    ("[\"ws\"]", "an array"),
    ("{\"a\":1}", "an object"),
];

/// The `ClaimType` error of a JWT whose payload holds `json` (raw text,
/// so numbers keep their exact form) under `claim`.
fn claim_type_error(claim: &str, json: &str) -> (String, String, String) {
    let key = fresh_private_key();
    let mut fields = vec![
        ("workspace_id", "\"ws\"".to_owned()),
        ("agent_runtime_id", "\"rt\"".to_owned()),
        ("agent_private_key", format!("\"{key}\"")),
    ];
    fields.retain(|(name, _)| *name != claim);
    fields.push((claim, json.to_owned()));
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    let payload = format!("{{{}}}", body.join(","));
    let jwt_error = AgentIdentity::from_jwt_unverified(&token_with_raw_payload(payload.as_bytes()))
        .expect_err(&payload);
    let AgentIdentityError::ClaimType {
        claim: named,
        expected,
        found,
    } = jwt_error.clone()
    else {
        panic!("{claim} = {json}: not a claim type error: {jwt_error}");
    };
    // The object form (parsed from text, and from a `Value`) names the same.
    let object_error = serde_json::from_str::<AgentIdentity>(&payload)
        .expect_err(&payload)
        .to_string();
    assert!(
        object_error.contains(&jwt_error.to_string()),
        "{claim} = {json}: object form says {object_error}, JWT {jwt_error}"
    );
    let value: Value = serde_json::from_str(&payload).unwrap();
    let value_error = serde_json::from_value::<AgentIdentity>(value)
        .expect_err(&payload)
        .to_string();
    assert!(
        value_error.contains(&jwt_error.to_string()),
        "{claim} = {json}: object value says {value_error}, JWT {jwt_error}"
    );
    (named.to_owned(), expected.to_owned(), found.to_owned())
}

#[test]
fn claim_type_errors_name_the_claim_what_it_wants_and_the_json_kind_found() {
    for (claim, expected) in [
        ("workspace_id", "a string"),
        ("agent_runtime_id", "a string"),
        ("agent_private_key", "a string"),
        ("chatgpt_user_id", "a string or null"),
        (
            "registered_at",
            "an RFC 3339 string or an integer NumericDate",
        ),
    ] {
        for (json, kind) in WRONG_KINDS {
            assert_eq!(
                claim_type_error(claim, json),
                (claim.to_owned(), expected.to_owned(), kind.to_owned()),
                "{claim} = {json}"
            );
        }
    }
    // An integer is a wrong kind only for the string claims.
    for claim in ["workspace_id", "agent_runtime_id", "agent_private_key"] {
        for json in ["0", "-7", "9223372036854775807"] {
            assert_eq!(
                claim_type_error(claim, json),
                (
                    claim.to_owned(),
                    "a string".to_owned(),
                    "an integer".to_owned()
                ),
                "{claim} = {json}"
            );
        }
    }
    assert_eq!(
        claim_type_error("chatgpt_user_id", "42"),
        (
            "chatgpt_user_id".to_owned(),
            "a string or null".to_owned(),
            "an integer".to_owned()
        ),
    );
}

#[test]
fn claims_differing_in_any_one_claim_are_not_equal() {
    let full = || {
        let mut payload = minimal_payload();
        let extra = json!({
            "chatgpt_user_id": "user-1",
            "registered_at": "2026-04-17T01:18:00Z",
            "account_id": "ws-1234",
            "email": "dev@example.com",
            "plan_type": "pro",
            "chatgpt_account_is_fedramp": false,
            "exp": 2_000_000_000_i64,
        });
        for (key, value) in extra.as_object().unwrap() {
            payload[key] = value.clone();
        }
        payload
    };
    let base = full();
    let claims = |payload: &Value| {
        serde_json::from_value::<AgentIdentity>(payload.clone())
            .unwrap()
            .claims()
            .clone()
    };
    assert_eq!(claims(&base), claims(&base.clone()));
    for (key, other) in [
        ("workspace_id", json!("ws-other")),
        ("account_id", Value::Null),
        ("agent_runtime_id", json!("rt-other")),
        ("agent_private_key", json!(fresh_private_key())),
        ("chatgpt_user_id", json!("user-2")),
        ("registered_at", json!("2026-04-17T01:18:01Z")),
        ("email", json!("other@example.com")),
        ("plan_type", json!("team")),
        ("chatgpt_account_is_fedramp", json!(true)),
        ("exp", json!(2_000_000_001_i64)),
    ] {
        let mut row = base.clone();
        if key == "workspace_id" {
            // `account_id` must equal `workspace_id` when both are there.
            row["account_id"] = Value::Null;
        }
        let mut changed = row.clone();
        changed[key] = other;
        assert_ne!(claims(&row), claims(&changed), "{key} differs");
    }
}

#[test]
fn exp_is_accepted_from_the_year_0000_and_refused_before_it() {
    // 0000-01-01T00:00:00Z and one second earlier (year -1).
    for (exp, accepted) in [(-62_167_219_200_i64, true), (-62_167_219_201, false)] {
        let mut payload = minimal_payload();
        payload["exp"] = json!(exp);
        let decoded = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload));
        assert_eq!(decoded.is_ok(), accepted, "exp {exp}: {decoded:?}");
        if let Err(error) = decoded {
            assert!(error.to_string().contains("exp"), "{error}");
        }
    }
}
