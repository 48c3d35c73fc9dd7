//! Fuzzing with `cargo fuzz` (libFuzzer). cargo-fuzz needs nightly-only
//! flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them.
//!
//! Layout (see `fuzz/README.md`): targets in `fuzz/fuzz_targets/`; committed,
//! at most 20 seed inputs per target in `fuzz/seeds/<target>/` and every
//! input that once crashed a target in `fuzz/regressions/<target>/`; the
//! working corpus `fuzz/corpus/<target>/`, ignored by git, which every run
//! first fills with the seeds and regressions. libFuzzer runs every input of
//! the corpus before mutating, so a regression fails the run.

use std::fs;
use std::path::Path;

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

/// `cargo xtask fuzz <target> [--seconds N]`: runs on the working corpus
/// `fuzz/corpus/<target>/`, rebuilt from the seeds and regressions (inputs
/// found by earlier runs stay), and adds the new inputs it finds there.
pub fn fuzz(root: &Path, target: &str, seconds: u32) -> Result {
    ensure_cargo_fuzz(root)?;
    let corpus = root.join("fuzz/corpus").join(target);
    run_target(root, target, seconds, &corpus)?;
    eprintln!(
        "xtask: new inputs are in {} (not committed); a crash input, once fixed, goes into \
         fuzz/regressions/{target}/",
        corpus.display()
    );
    Ok(())
}

/// `cargo xtask fuzz-smoke`: every target listed by `cargo fuzz list`,
/// briefly, each from its seeds and regressions. New inputs go to
/// `fuzz/target/smoke-corpus/<target>/`, so the working corpus is left as it
/// is.
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

/// `cargo fuzz run <target> <corpus>`, once the corpus holds the seeds and
/// regressions: libFuzzer replays the corpus, then adds the new inputs it
/// finds to it.
fn run_target(root: &Path, target: &str, seconds: u32, corpus: &Path) -> Result {
    let copied = fill_corpus(root, target, corpus)?;
    eprintln!(
        "xtask: {copied} seed and regression inputs copied into {}",
        corpus.display()
    );
    fuzz_cmd(root, "run")
        .arg(target)
        .arg(corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
        .run()
}

/// Copies `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` into
/// `corpus`, creating it; returns how many inputs were copied. Inputs are
/// named by their SHA-1, so one already there is the same input.
fn fill_corpus(root: &Path, target: &str, corpus: &Path) -> Result<usize> {
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        Error::Other(format!("cannot {what} {}: {e}", path.display()))
    };
    fs::create_dir_all(corpus).map_err(|e| fail("create", corpus, e))?;
    let mut copied = 0;
    for dir in ["fuzz/seeds", "fuzz/regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for input in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
            let to = corpus.join(input.file_name().unwrap_or_default());
            if !to.exists() {
                fs::copy(&input, &to).map_err(|e| fail("copy", &input, e))?;
                copied += 1;
            }
        }
    }
    Ok(copied)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_gets_seeds_and_regressions_and_keeps_its_inputs() {
        let root = std::env::temp_dir().join(format!("xtask-fuzz-test-{}", std::process::id()));
        for (dir, input) in [("seeds", "a"), ("seeds", "b"), ("regressions", "c")] {
            let dir = root.join("fuzz").join(dir).join("t");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(input), input).unwrap();
        }
        let corpus = root.join("fuzz/corpus/t");
        assert_eq!(fill_corpus(&root, "t", &corpus).unwrap(), 3);
        fs::write(corpus.join("found"), "new").unwrap();
        fs::remove_file(corpus.join("a")).unwrap();
        assert_eq!(fill_corpus(&root, "t", &corpus).unwrap(), 1);
        let mut names: Vec<_> = fs::read_dir(&corpus)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c", "found"]);
        assert_eq!(fill_corpus(&root, "other", &root.join("empty")).unwrap(), 0);
        fs::remove_dir_all(&root).unwrap();
    }
}
