//! `agent-login header`: the headers that authenticate a model request,
//! printed on purpose (like `gh auth token`), for scripts and `curl -H`.

use core_auth::{AuthConfig, AuthManager};
use login_agent_identity::ExposeSecret as _;
use serde_json::{Map, Value, json};

use crate::error::CliError;

/// Runs `header`; `Ok(false)` (and nothing on stdout but `--json`'s object)
/// when nobody is logged in.
pub async fn run(config: AuthConfig, json_output: bool) -> Result<bool, CliError> {
    let manager = AuthManager::load(config).await?;
    let Some(auth) = manager.auth() else {
        if json_output {
            println!(
                "{}",
                json!({ "schema_version": crate::SCHEMA_VERSION, "logged_in": false, "mode": null, "source": null, "headers": {} })
            );
        } else {
            eprintln!("agent-login: not logged in; `agent-login status` shows where it looked");
        }
        return Ok(false);
    };
    let headers = manager.request_headers().await?;
    // The source as the runtime resolved it after any refresh or registration.
    let auth = manager.auth().unwrap_or(auth);
    if json_output {
        let headers: Map<String, Value> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value.expose_secret())))
            .collect();
        println!(
            "{}",
            json!({
                "schema_version": crate::SCHEMA_VERSION,
                "logged_in": true,
                "mode": auth.mode().to_string(),
                "source": auth.source().to_string(),
                "headers": headers,
            })
        );
        return Ok(true);
    }
    for (name, value) in &headers {
        println!("{name}: {}", value.expose_secret());
    }
    Ok(true)
}
