//! `agent-login identity decode|mint`.

use auth_http::{HttpOptions, fetch_jwk_set};
use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityKey, ExposeSecret as _, JwkSet, JwtSigningKey,
    REDACTED, VerifyOptions, mint_agent_identity_jwt, verify_agent_identity_jwt,
};
use serde_json::{Value, json};
use std::fs::OpenOptions;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

use crate::cli::{DecodeArgs, MintArgs};
use crate::error::{CliError, ErrorKind};
use crate::input::{self, Limit};
use crate::terminal;

/// The identity with the private key redacted, the derived public key, and
/// only the NAMES of keys this tool does not know (`unknown_keys`): their
/// values may be anything, secrets included, so they are never shown.
fn identity_json(identity: &AgentIdentity, verified: bool) -> Result<Value, CliError> {
    let key = AgentIdentityKey::from_claims(identity.claims())?;
    let mut value =
        serde_json::to_value(identity).map_err(|error| CliError::invalid(error.to_string()))?;
    let unknown: Vec<&str> = identity.extra().keys().collect();
    if let Some(object) = value.as_object_mut() {
        for name in &unknown {
            object.remove(*name);
        }
    }
    value["agent_private_key"] = json!(REDACTED);
    value["public_key"] = json!(key.public_key_ssh());
    value["unknown_keys"] = json!(unknown);
    value["verified"] = json!(verified);
    Ok(value)
}

/// Why a text is not JSON of the expected shape: the position, never the
/// text (serde_json's messages for unexpected values quote them).
fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => error.to_string(),
        Category::Data => format!(
            "unexpected value at line {} column {}",
            error.line(),
            error.column()
        ),
    }
}

/// The JWK set `--jwks FILE` or `--jwks-url URL` names, if either.
fn key_set(args: &DecodeArgs) -> Result<Option<JwkSet>, CliError> {
    if let Some(path) = &args.jwks {
        let jwks_text = input::read_file("--jwks", path, Limit::KeySet)?;
        let jwks = serde_json::from_str(jwks_text.expose_secret()).map_err(|error| {
            CliError::invalid(format!(
                "--jwks: {} is not a JWK set: {}",
                input::describe_path(path),
                describe_json_error(&error)
            ))
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
    let text = input::read_file_or_stdin("identity decode", args.input.as_deref(), Limit::Secret)?;
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
    let (identity, verified) = match key_set(args)? {
        None => (text.expose_secret().parse::<AgentIdentity>()?, false),
        Some(jwks) => {
            let mut options = VerifyOptions::default();
            if let Some(issuer) = &args.issuer {
                options = options.with_issuer(issuer);
            }
            if let Some(audience) = &args.audience {
                options = options.with_audience(audience);
            }
            let identity = verify_agent_identity_jwt(text.expose_secret(), &jwks, &options)?;
            (identity, true)
        }
    };
    let value = identity_json(&identity, verified)?;
    if json_output {
        let mut value = value;
        value["schema_version"] = json!(crate::SCHEMA_VERSION);
        println!("{value}");
        return Ok(());
    }
    if let Some(object) = value.as_object() {
        for (key, value) in object {
            let shown = match value {
                Value::String(text) => text.clone(),
                Value::Array(names) => names
                    .iter()
                    .map(|name| name.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            println!("{}: {}", terminal::escape(key), terminal::escape(&shown));
        }
    }
    Ok(())
}

/// `--registered-at`: a timestamp as given, or `now` as RFC 3339 UTC.
fn registered_at(value: &str) -> Result<String, CliError> {
    if value != "now" {
        return Ok(value.to_owned());
    }
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|error| CliError::invalid(error.to_string()))?;
    now.format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| CliError::invalid(error.to_string()))
}

/// Runs `identity mint`.
pub fn mint(args: &MintArgs, json_output: bool) -> Result<(), CliError> {
    let signing_key = match &args.signing_key {
        Some(path) => JwtSigningKey::from_pkcs8_text(
            input::read_file("--signing-key", path, Limit::Secret)?.expose_secret(),
        )?,
        None => JwtSigningKey::generate(),
    };
    let agent_key = AgentIdentityKey::generate(args.agent_runtime_id.clone());
    let mut claims = AgentIdentityClaims::new(
        args.workspace_id.clone(),
        args.agent_runtime_id.clone(),
        agent_key.private_key_pkcs8_base64(),
    )?
    .with_chatgpt_user_id(args.chatgpt_user_id.clone());
    if let Some(value) = args.registered_at.as_deref() {
        claims = claims.with_registered_at(&registered_at(value)?)?;
    }
    let jwt = mint_agent_identity_jwt(&claims, &signing_key)?;
    if let Some(path) = &args.output {
        write_private(path, jwt.expose_secret(), args.force)?;
        if json_output {
            let output = json!({
                "schema_version": crate::SCHEMA_VERSION,
                "output": path.display().to_string(),
                "public_key": agent_key.public_key_ssh(),
                "signing_public_jwk": signing_key.public_jwk(),
            });
            println!("{output}");
        } else {
            println!(
                "Wrote the agent identity to {} (mode 0600; it holds the agent's private key).",
                terminal::escape(&path.display().to_string())
            );
        }
        return Ok(());
    }
    if std::io::stdout().is_terminal() {
        eprintln!("{TTY_WARNING}");
    }
    // The token is the output: printed on purpose, like `header`.
    if json_output {
        let output = json!({
            "schema_version": crate::SCHEMA_VERSION,
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

/// What `mint` says on stderr before it prints a token to a terminal.
const TTY_WARNING: &str = "agent-login: warning: the token below holds the agent's private key; anyone who sees it can act as this agent. Prefer --output FILE (written 0600).";

/// Writes `text` to a new file readable by its owner only (0600), created
/// with `O_EXCL` so that an existing file, or a symlink planted in its
/// place, is never followed or overwritten; with `force`, an existing
/// regular file is replaced by a rename from a new 0600 file beside it.
fn write_private(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let shown = input::describe_path(path);
    let target = if force {
        let name = path.file_name().map_or_else(
            || std::ffi::OsString::from("identity"),
            std::ffi::OsStr::to_os_string,
        );
        let mut temporary = std::ffi::OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".tmp-{}", std::process::id()));
        path.with_file_name(temporary)
    } else {
        path.to_path_buf()
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&target).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists && !force {
            return CliError::invalid(format!(
                "--output: {shown} already exists; pass --force to replace it"
            ));
        }
        CliError::new(
            ErrorKind::Storage,
            format!("--output: cannot create {shown}: {error}"),
        )
    })?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all());
    let result = written.and_then(|()| {
        if force {
            std::fs::rename(&target, path)
        } else {
            Ok(())
        }
    });
    result.map_err(|error| {
        let _ = std::fs::remove_file(&target);
        CliError::new(
            ErrorKind::Storage,
            format!("--output: cannot write {shown}: {error}"),
        )
    })
}
