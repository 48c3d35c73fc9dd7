//! Fuzzing with `cargo fuzz` (libFuzzer). cargo-fuzz needs nightly-only
//! flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them.

use std::path::Path;

use crate::cmd::{Cmd, Error, Result};

/// Seconds each target runs during `fuzz-smoke`.
const SMOKE_SECONDS: u32 = 30;

/// Whether `root` has a cargo-fuzz project.
pub fn has_fuzz_dir(root: &Path) -> bool {
    root.join("fuzz").is_dir()
}

/// `cargo xtask fuzz <target> [--seconds N]`.
pub fn fuzz(root: &Path, target: &str, seconds: u32) -> Result {
    ensure_cargo_fuzz(root)?;
    run_target(root, target, seconds)
}

/// `cargo xtask fuzz-smoke`: every target listed by `cargo fuzz list`, briefly.
pub fn fuzz_smoke(root: &Path) -> Result {
    ensure_cargo_fuzz(root)?;
    let listing = fuzz_cmd(root, "list").read_stdout()?;
    let targets: Vec<&str> = listing
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if targets.is_empty() {
        return Err(Error::Other(
            "`cargo fuzz list` found no fuzz targets".to_owned(),
        ));
    }
    for target in targets {
        run_target(root, target, SMOKE_SECONDS)?;
    }
    Ok(())
}

fn run_target(root: &Path, target: &str, seconds: u32) -> Result {
    fuzz_cmd(root, "run")
        .args([target, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .run()
}

/// `cargo fuzz <sub> --fuzz-dir fuzz`, run from the repo root.
fn fuzz_cmd(root: &Path, sub: &str) -> Cmd {
    Cmd::cargo()
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", sub, "--fuzz-dir", "fuzz"])
        .current_dir(root)
}

/// Installs cargo-fuzz unless `cargo fuzz` already works.
fn ensure_cargo_fuzz(root: &Path) -> Result {
    if Cmd::cargo()
        .args(["fuzz", "--version"])
        .current_dir(root)
        .succeeds_quietly()
    {
        return Ok(());
    }
    eprintln!("xtask: `cargo fuzz` not found, installing cargo-fuzz");
    Cmd::cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .current_dir(root)
        .run()
}
