//! The newer shape of the mirrored CLI's identities: `account_id` instead
//! of `workspace_id`, plus `email`, `plan_type`,
//! `chatgpt_account_is_fedramp` and the JWT time claims, in both forms.

use login_agent_identity::{AgentIdentity, AgentIdentityError, AgentIdentityInput, PlanType};
use serde_json::{Value, json};

use crate::common::{fresh_private_key, token_with_payload};

/// A payload as the newer mirrored CLI issues it.
fn newer_payload() -> Value {
    json!({
        "iss": "https://auth.openai.invalid",
        "aud": "codex-agent",
        "iat": 1_767_225_600,
        "exp": 1_767_229_200,
        "agent_runtime_id": "rt-new",
        "agent_private_key": fresh_private_key(),
        "account_id": "acct-new",
        "chatgpt_user_id": "user-new",
        "email": "agent@example.invalid",
        "plan_type": "pro",
        "chatgpt_account_is_fedramp": true,
    })
}

fn assert_newer_details(identity: &AgentIdentity) {
    assert_eq!(identity.workspace_id(), "acct-new");
    assert_eq!(identity.agent_runtime_id(), "rt-new");
    assert_eq!(identity.chatgpt_user_id(), Some("user-new"));
    assert_eq!(identity.email(), Some("agent@example.invalid"));
    assert_eq!(identity.plan_type(), Some(&PlanType::Pro));
    assert_eq!(identity.chatgpt_account_is_fedramp(), Some(true));
    assert_eq!(
        identity
            .expires_at()
            .map(time::OffsetDateTime::unix_timestamp),
        Some(1_767_229_200)
    );
}

#[test]
fn newer_shape_jwt_takes_account_id_as_the_workspace_and_surfaces_the_account_details() {
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&newer_payload()))
        .expect("the newer shape is accepted");
    assert_newer_details(&identity);
    // `iss`, `aud` and `iat` are for verification only: not kept.
    assert!(identity.extra().is_empty());
}

#[test]
fn newer_shape_jwt_expired_long_ago_still_decodes_unverified() {
    let mut payload = newer_payload();
    payload["exp"] = json!(1);
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(
        identity.expires_at(),
        Some(time::OffsetDateTime::from_unix_timestamp(1).unwrap())
    );
}

#[test]
fn newer_shape_object_is_accepted_and_written_back_with_its_own_keys() {
    let mut object = newer_payload();
    let map = object.as_object_mut().unwrap();
    for key in ["iss", "aud", "iat", "exp"] {
        map.remove(key);
    }
    let text = serde_json::to_string(&object).unwrap();
    let input: AgentIdentityInput = text.parse().unwrap();
    let identity = input.clone().into_identity().unwrap();
    assert_eq!(identity.workspace_id(), "acct-new");
    assert_eq!(identity.email(), Some("agent@example.invalid"));
    assert_eq!(identity.plan_type(), Some(&PlanType::Pro));
    assert_eq!(identity.chatgpt_account_is_fedramp(), Some(true));
    assert_eq!(identity.expires_at(), None);
    // Written back as read: `account_id` stays, no `workspace_id` appears,
    // and the account details survive.
    let written = serde_json::to_value(&input).unwrap();
    assert_eq!(written, object);
    assert!(written.get("workspace_id").is_none());
}

#[test]
fn an_identity_decoded_from_a_newer_jwt_keeps_its_details_in_the_object_form() {
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&newer_payload()))
        .unwrap()
        .with_background_task_id(Some("task-1".into()));
    let stored = serde_json::to_string(&identity).unwrap();
    let reread: AgentIdentity = stored.parse().unwrap();
    assert_eq!(reread, identity);
    assert_newer_details(&reread);
    assert_eq!(reread.background_task_id(), Some("task-1"));
}

#[test]
fn workspace_id_and_an_equal_account_id_are_both_kept() {
    let mut payload = newer_payload();
    payload["workspace_id"] = json!("acct-new");
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(identity.workspace_id(), "acct-new");
    let written = serde_json::to_value(&identity).unwrap();
    assert_eq!(written["workspace_id"], "acct-new");
    assert_eq!(written["account_id"], "acct-new");
}

#[test]
fn workspace_id_and_account_id_that_differ_are_refused_naming_both_without_values() {
    let mut payload = newer_payload();
    payload["workspace_id"] = json!("ws-SECRETLY-OTHER");
    for error in [
        AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap_err(),
        serde_json::to_string(&payload)
            .unwrap()
            .parse::<AgentIdentity>()
            .unwrap_err(),
    ] {
        assert_eq!(
            error,
            AgentIdentityError::ConflictingClaims {
                first: "workspace_id",
                second: "account_id"
            }
        );
        let message = error.to_string();
        assert!(message.contains("`workspace_id`"), "{message}");
        assert!(message.contains("`account_id`"), "{message}");
        assert!(!message.contains("SECRETLY"), "{message}");
        assert!(!message.contains("acct-new"), "{message}");
    }
}

#[test]
fn neither_workspace_id_nor_account_id_is_a_missing_workspace_id() {
    let mut payload = newer_payload();
    payload.as_object_mut().unwrap().remove("account_id");
    let error = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap_err();
    assert_eq!(
        error,
        AgentIdentityError::MissingClaim {
            claim: "workspace_id"
        }
    );
}

#[test]
fn newer_shape_claims_of_the_wrong_type_are_refused_naming_the_claim() {
    let cases = [
        ("account_id", json!(""), "account_id"),
        ("account_id", json!(7), "account_id"),
        ("email", json!(["a"]), "email"),
        ("plan_type", json!(1), "plan_type"),
        (
            "chatgpt_account_is_fedramp",
            json!("yes"),
            "chatgpt_account_is_fedramp",
        ),
        ("exp", json!("tomorrow"), "exp"),
        ("exp", json!(1.5), "exp"),
        ("exp", json!(i64::MAX), "exp"),
    ];
    for (claim, value, named) in cases {
        let mut payload = newer_payload();
        payload[claim] = value.clone();
        let message = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload))
            .unwrap_err()
            .to_string();
        assert!(message.contains(named), "{claim}={value}: {message}");
    }
}

#[test]
fn null_newer_shape_claims_count_as_absent() {
    let mut payload = newer_payload();
    for claim in ["email", "plan_type", "chatgpt_account_is_fedramp", "exp"] {
        payload[claim] = Value::Null;
    }
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(identity.email(), None);
    assert_eq!(identity.plan_type(), None);
    assert_eq!(identity.chatgpt_account_is_fedramp(), None);
    assert_eq!(identity.expires_at(), None);
}

#[test]
fn plan_type_mapping() {
    let known = [
        ("free", PlanType::Free),
        ("plus", PlanType::Plus),
        ("pro", PlanType::Pro),
        ("team", PlanType::Team),
        ("business", PlanType::Business),
        ("enterprise", PlanType::Enterprise),
        ("edu", PlanType::Edu),
    ];
    for (wire, plan) in known {
        assert_eq!(PlanType::from_wire(wire), plan);
        assert_eq!(plan.as_str(), wire);
        assert_eq!(plan.to_string(), wire);
        assert_eq!(serde_json::to_value(&plan).unwrap(), json!(wire));
        assert_eq!(
            serde_json::from_value::<PlanType>(json!(wire)).unwrap(),
            plan
        );
    }
    // Anything else is kept verbatim, the mirrored CLI's `unknown` too, and
    // matching is exact (no case folding, no aliases).
    for raw in ["unknown", "prolite", "Pro", "education", ""] {
        let plan = PlanType::from_wire(raw);
        assert_eq!(plan, PlanType::Unknown(raw.to_owned()));
        assert_eq!(plan.as_str(), raw);
        assert_eq!(serde_json::to_value(&plan).unwrap(), json!(raw));
    }
    // On an identity, an unknown plan survives a round trip unchanged.
    let mut payload = newer_payload();
    payload["plan_type"] = json!("enterprise_cbp_usage_based");
    let identity = AgentIdentity::from_jwt_unverified(&token_with_payload(&payload)).unwrap();
    assert_eq!(
        identity.plan_type(),
        Some(&PlanType::Unknown("enterprise_cbp_usage_based".into()))
    );
    let written = serde_json::to_value(&identity).unwrap();
    assert_eq!(written["plan_type"], "enterprise_cbp_usage_based");
}
