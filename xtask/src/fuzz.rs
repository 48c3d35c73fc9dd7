//! Fuzzing with `cargo fuzz` (libFuzzer). cargo-fuzz needs nightly-only
//! flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them.
//!
//! Layout (see `fuzz/README.md`): targets in `fuzz/fuzz_targets/`, the
//! committed, minimized corpus in `fuzz/corpus/<target>/`, and inputs that
//! once crashed a target in `fuzz/regressions/<target>/`. Every run replays
//! the corpus and the regressions first (libFuzzer runs every input of every
//! corpus directory before mutating), so a regression fails the run.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, Error, Result};

/// Seconds each target runs during `fuzz-smoke`.
const SMOKE_SECONDS: u32 = 30;

/// The cargo-fuzz versions `ensure_cargo_fuzz` installs: the 0.13 series
/// builds on the stable toolchain this workspace uses.
const CARGO_FUZZ_VERSION: &str = "~0.13";

/// One input running longer than this is reported as a hang (libFuzzer's
/// default is 20 minutes, longer than any run here).
const INPUT_TIMEOUT_SECONDS: u32 = 60;

/// Whether `root` has a cargo-fuzz project.
pub fn has_fuzz_dir(root: &Path) -> bool {
    root.join("fuzz").is_dir()
}

/// `cargo xtask fuzz <target> [--seconds N]`: new inputs go into the
/// committed corpus `fuzz/corpus/<target>/` (minimize it with
/// `cargo fuzz cmin` before committing).
pub fn fuzz(root: &Path, target: &str, seconds: u32) -> Result {
    ensure_cargo_fuzz(root)?;
    let corpus = root.join("fuzz/corpus").join(target);
    run_target(root, target, seconds, &corpus)?;
    eprintln!(
        "xtask: new inputs are in {}; before committing, minimize with\n  \
         RUSTC_BOOTSTRAP=1 cargo fuzz cmin {target} --fuzz-dir fuzz",
        corpus.display()
    );
    Ok(())
}

/// `cargo xtask fuzz-smoke`: every target listed by `cargo fuzz list`,
/// briefly. New inputs go to `fuzz/target/smoke-corpus/<target>/`, so the
/// committed corpus is left as it is.
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
        let output = root.join("fuzz/target/smoke-corpus").join(target);
        run_target(root, target, SMOKE_SECONDS, &output)?;
    }
    Ok(())
}

/// `cargo fuzz run <target> <output> [corpus] [regressions] -- ...`:
/// libFuzzer writes new inputs into `output`, the first directory, and only
/// reads the others.
fn run_target(root: &Path, target: &str, seconds: u32, output: &Path) -> Result {
    fs::create_dir_all(output)
        .map_err(|e| Error::Other(format!("cannot create {}: {e}", output.display())))?;
    let mut dirs: Vec<PathBuf> = vec![output.to_path_buf()];
    for dir in ["fuzz/corpus", "fuzz/regressions"] {
        let dir = root.join(dir).join(target);
        if dir.is_dir() && dir != output {
            dirs.push(dir);
        }
    }
    fuzz_cmd(root, "run")
        .arg(target)
        .args(&dirs)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
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
        .args(["install", "cargo-fuzz", "--locked", "--version"])
        .arg(CARGO_FUZZ_VERSION)
        .current_dir(root)
        .run()
}
