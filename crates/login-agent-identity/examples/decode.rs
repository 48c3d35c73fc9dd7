//! Decodes an agent identity the way a runtime does at startup.
//!
//! With no argument it mints a throwaway example token first; with `-` it
//! decodes the JWT or JSON object piped in on stdin. The private key is
//! never printed.
//!
//! ```text
//! cargo run -p login-agent-identity --example decode
//! cargo run -p login-agent-identity --example decode - < identity.jwt
//! ```

use std::io::Read as _;
use std::process::ExitCode;

use login_agent_identity::{
    AgentIdentity, AgentIdentityClaims, AgentIdentityKey, ExposeSecret, JwtSigningKey,
    SecretString, mint_agent_identity_jwt,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let read_stdin = std::env::args().nth(1).is_some_and(|arg| arg == "-");
    let input = if !read_stdin {
        let claims = AgentIdentityClaims::new(
            "ws-example",
            "rt-example",
            AgentIdentityKey::generate("rt-example").private_key_pkcs8_base64(),
        )?
        .with_registered_at("2026-04-17T03:18:00+02:00")?;
        let jwt = mint_agent_identity_jwt(&claims, &JwtSigningKey::generate())?;
        println!(
            "example token: {} characters (not shown: it carries a private key)",
            jwt.expose_secret().len()
        );
        jwt
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        SecretString::from(text)
    };
    let identity = input.expose_secret().parse::<AgentIdentity>()?;
    let key = AgentIdentityKey::from_claims(identity.claims())?;
    println!("{identity:#?}");
    println!("public key: {}", key.public_key_ssh());
    Ok(())
}
