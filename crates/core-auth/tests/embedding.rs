//! What an embedder meets: the mode of a resolved auth matches without a
//! wildcard, shadowed credentials are reported, and every example in the
//! crate docs compiles in a new crate that depends on core-auth alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use core_auth::{AuthManager, AuthMode, AuthSource, CODEX_AGENT_IDENTITY_VAR, CODEX_API_KEY_VAR};
use test_support::{TestEnv, config, identity};

/// Exhaustive: no `_` arm, so a new variant would break this test's build.
fn words(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::ApiKey => "API key",
        AuthMode::Chatgpt => "ChatGPT",
        AuthMode::AgentIdentity => "agent identity",
    }
}

#[tokio::test]
async fn the_mode_of_a_resolved_auth_matches_without_a_wildcard_and_keeps_its_machine_name() {
    let home = tempfile::tempdir().unwrap();
    let env = TestEnv::default();
    env.set(CODEX_API_KEY_VAR, "sk-embedder-key");
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    let mode = manager.auth().unwrap().mode();
    assert_eq!(words(mode), mode.description());
    assert_eq!(mode.to_string(), "apikey");
    assert_eq!(mode, login_storage::AuthMode::ApiKey);
    assert_ne!(mode, login_storage::AuthMode::from_wire("someday"));
}

#[tokio::test]
async fn shadowed_names_the_env_identity_and_the_stored_login_behind_codex_api_key() {
    let home = tempfile::tempdir().unwrap();
    let quiet = TestEnv::default();
    let writer = AuthManager::load(config(home.path(), &quiet))
        .await
        .unwrap();
    writer
        .login_with_api_key("sk-stored-key".into())
        .await
        .unwrap();
    assert!(
        writer.shadowed().await.unwrap().is_empty(),
        "nothing behind the file"
    );

    let env = TestEnv::default();
    env.set(CODEX_API_KEY_VAR, "sk-env-key");
    env.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt").0);
    let manager = AuthManager::load(config(home.path(), &env)).await.unwrap();
    let shadowed = manager.shadowed().await.unwrap();
    let sources: Vec<AuthSource> = shadowed.iter().map(|s| s.source()).collect();
    assert_eq!(sources, [AuthSource::EnvAgentIdentity, AuthSource::File]);
    assert!(
        shadowed
            .iter()
            .all(|s| s.shadowed_by() == AuthSource::EnvApiKey)
    );
}

#[tokio::test]
async fn shadowed_lists_neither_the_source_in_use_nor_a_stored_document_without_credentials() {
    let home = tempfile::tempdir().unwrap();
    // A document with no credential in it: nothing is behind the env.
    std::fs::write(
        home.path().join("auth.json"),
        r#"{"OPENAI_API_KEY": null, "future_key": 1}"#,
    )
    .unwrap();

    let api_key_only = TestEnv::default();
    api_key_only.set(CODEX_API_KEY_VAR, "sk-env-key");
    let manager = AuthManager::load(config(home.path(), &api_key_only))
        .await
        .unwrap();
    assert_eq!(manager.auth().unwrap().source(), AuthSource::EnvApiKey);
    assert!(manager.shadowed().await.unwrap().is_empty());

    let identity_only = TestEnv::default();
    identity_only.set(CODEX_AGENT_IDENTITY_VAR, &identity("ws", "rt").0);
    let manager = AuthManager::load(config(home.path(), &identity_only))
        .await
        .unwrap();
    assert_eq!(
        manager.auth().unwrap().source(),
        AuthSource::EnvAgentIdentity
    );
    assert!(
        manager.shadowed().await.unwrap().is_empty(),
        "the identity in use does not shadow itself"
    );
}

/// The Rust code blocks of the doc comments in `dir`, hidden lines
/// included (rustdoc compiles them too), as (file, code).
fn doc_examples(dir: &Path, found: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            doc_examples(&path, found);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut block: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            let Some(doc) = trimmed
                .strip_prefix("///")
                .or_else(|| trimmed.strip_prefix("//!"))
            else {
                continue;
            };
            let doc = doc.strip_prefix(' ').unwrap_or(doc);
            if let Some(fence) = doc.strip_prefix("```") {
                match block.take() {
                    Some(code) => found.push((path.clone(), code)),
                    None if fence.is_empty() || fence == "rust" => block = Some(String::new()),
                    None => block = None,
                }
                continue;
            }
            if let Some(code) = &mut block {
                let line = if doc == "#" {
                    ""
                } else {
                    doc.strip_prefix("# ").unwrap_or(doc)
                };
                code.push_str(line);
                code.push('\n');
            }
        }
    }
}

/// Slow (builds a crate): `cargo xtask test --slow` runs it.
#[test]
#[ignore = "slow: builds a scratch crate; run by cargo xtask test --slow"]
fn every_doc_example_compiles_in_a_new_crate_that_depends_only_on_core_auth_and_tokio() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().unwrap().parent().unwrap();
    let mut examples = Vec::new();
    doc_examples(&manifest_dir.join("src"), &mut examples);
    assert!(examples.len() >= 6, "{} examples", examples.len());

    let scratch = tempfile::tempdir().unwrap();
    let bins = scratch.path().join("src/bin");
    std::fs::create_dir_all(&bins).unwrap();
    std::fs::write(
        scratch.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"embedder\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ncore-auth = {{ path = {:?} }}\ntokio = {{ version = \"1\", features = [\"rt\"] }}\n\n[workspace]\n",
            manifest_dir.display().to_string()
        ),
    )
    .unwrap();
    // The workspace's versions, so that --offline finds every crate and
    // the shared target dir already holds them built.
    std::fs::copy(
        workspace.join("Cargo.lock"),
        scratch.path().join("Cargo.lock"),
    )
    .unwrap();
    for (index, (file, code)) in examples.iter().enumerate() {
        // As rustdoc does: a block without `fn main` is a main body; a
        // closure takes the result type its `Ok::<..>(())` names.
        let source = if code.contains("fn main") {
            code.clone()
        } else {
            format!(
                "// {}\nfn main() {{\n    let _example = || {{\n{code}    }};\n}}\n",
                file.display()
            )
        };
        std::fs::write(
            bins.join(format!("core_auth_doc_example_{index}.rs")),
            source,
        )
        .unwrap();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let output = Command::new("timeout")
        .arg("1200")
        .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--offline", "--bins", "--quiet"])
        .current_dir(scratch.path())
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the doc examples do not build in a crate depending on core-auth alone:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
