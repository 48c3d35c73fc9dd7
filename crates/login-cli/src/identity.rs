//! `agent-login identity decode|mint`.

use auth_http::{HttpOptions, fetch_jwk_set};
use login_agent_identity::{
    AgentIdentityAuthRecord, AgentIdentityInput, AgentIdentityJwtClaims, AgentIdentityKey,
    ExposeSecret as _, JwkSet, JwtSigningKey, REDACTED, VerifyOptions, mint_agent_identity_jwt,
    verify_agent_identity_jwt,
};
use serde_json::{Value, json};

use crate::cli::{DecodeArgs, MintArgs};
use crate::error::CliError;
use crate::input;

/// The record with the private key redacted and the derived public key.
fn record_json(record: &AgentIdentityAuthRecord, verified: bool) -> Result<Value, CliError> {
    let key = AgentIdentityKey::from_record(record)?;
    let mut value =
        serde_json::to_value(record).map_err(|error| CliError::invalid(error.to_string()))?;
    value["agent_private_key"] = json!(REDACTED);
    value["public_key"] = json!(key.public_key_ssh());
    value["verified"] = json!(verified);
    Ok(value)
}

/// The JWK set `--jwks FILE` or `--jwks-url URL` names, if either.
fn key_set(args: &DecodeArgs) -> Result<Option<JwkSet>, CliError> {
    if let Some(path) = &args.jwks {
        let jwks_text = std::fs::read_to_string(path).map_err(|error| {
            CliError::invalid(format!("cannot read {}: {error}", path.display()))
        })?;
        let jwks = serde_json::from_str(&jwks_text).map_err(|error| {
            CliError::invalid(format!("{} is not a JWK set: {error}", path.display()))
        })?;
        return Ok(Some(jwks));
    }
    match &args.jwks_url {
        Some(url) => Ok(Some(fetch_jwk_set(url, HttpOptions::default())?)),
        None => Ok(None),
    }
}

/// Runs `identity decode`.
pub fn decode(args: &DecodeArgs, json_output: bool) -> Result<(), CliError> {
    let text = input::read_file_or_stdin(args.input.as_deref())?;
    let flag = match (&args.jwks, &args.jwks_url) {
        (Some(_), _) => Some("--jwks"),
        (None, Some(_)) => Some("--jwks-url"),
        (None, None) => None,
    };
    if let Some(flag) = flag
        && text.expose_secret().trim_start().starts_with('{')
    {
        // Checked before any fetch: there is nothing to verify.
        return Err(CliError::invalid(format!(
            "{flag} verifies a JWT; an identity object carries no signature"
        )));
    }
    let (record, verified) = match key_set(args)? {
        None => (
            text.expose_secret()
                .parse::<AgentIdentityInput>()?
                .into_record()?,
            false,
        ),
        Some(jwks) => {
            let mut options = VerifyOptions::default();
            if let Some(issuer) = &args.issuer {
                options = options.with_issuer(issuer);
            }
            if let Some(audience) = &args.audience {
                options = options.with_audience(audience);
            }
            let claims = verify_agent_identity_jwt(text.expose_secret(), &jwks, &options)?;
            (AgentIdentityAuthRecord::from(claims), true)
        }
    };
    let value = record_json(&record, verified)?;
    if json_output {
        println!("{value}");
        return Ok(());
    }
    if let Some(object) = value.as_object() {
        for (key, value) in object {
            let shown = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            println!("{key}: {shown}");
        }
    }
    Ok(())
}

fn registered_at(value: Option<&str>) -> Result<Option<String>, CliError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value != "now" {
        return Ok(Some(value.to_owned()));
    }
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|error| CliError::invalid(error.to_string()))?;
    now.format(&time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|error| CliError::invalid(error.to_string()))
}

/// Runs `identity mint`.
pub fn mint(args: &MintArgs, json_output: bool) -> Result<(), CliError> {
    let signing_key = match &args.signing_key {
        Some(path) => JwtSigningKey::from_pkcs8_text(input::read_file(path)?.expose_secret())?,
        None => JwtSigningKey::generate(),
    };
    let agent_key = AgentIdentityKey::generate(args.agent_runtime_id.clone());
    let claims = AgentIdentityJwtClaims {
        workspace_id: args.workspace_id.clone(),
        agent_runtime_id: args.agent_runtime_id.clone(),
        agent_private_key: agent_key.private_key_pkcs8_base64(),
        chatgpt_user_id: args.chatgpt_user_id.clone(),
        registered_at: registered_at(args.registered_at.as_deref())?,
    };
    let jwt = mint_agent_identity_jwt(&claims, &signing_key)?;
    // The token is the output: printed on purpose, like `header`.
    if json_output {
        let output = json!({
            "jwt": jwt.expose_secret(),
            "public_key": agent_key.public_key_ssh(),
            "signing_public_jwk": signing_key.public_jwk(),
        });
        println!("{output}");
    } else {
        println!("{}", jwt.expose_secret());
    }
    Ok(())
}
