//! Mutation testing with `cargo mutants` (cargo-mutants): it changes the
//! code one small edit at a time (a `<` into `<=`, a body into
//! `Ok(Default::default())`, ...) and runs the tests of the mutated crate; a
//! mutant the tests still pass is a gap in the tests.
//!
//! Slow (one build and one test run per mutant), so not part of `ci`: run it
//! on one crate or one file. Each mutant runs inside the private Secret
//! Service session, so the keyring tests count; one at a time (`--jobs 1`)
//! as the keyring tests share that session. Results go to
//! `target/mutants/mutants.out/` (`outcomes.json`, `caught.txt`,
//! `missed.txt`, `timeout.txt`, `unviable.txt`).

use std::path::Path;

use crate::cmd::{self, Cmd, Error, Result};

/// The cargo-mutants versions `ensure_cargo_mutants` installs.
const CARGO_MUTANTS_VERSION: &str = "~27";

/// Default `--timeout`: seconds one mutant's test run may take before it
/// counts as a timeout (a mutant that makes a loop endless). The slowest
/// crate's whole suite takes well under a minute on an idle machine; this
/// leaves room for a loaded one.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 300;

/// Default `--build-timeout`: seconds one mutant's build may take (an
/// incremental rebuild of the crate and its dependents' tests).
pub const DEFAULT_BUILD_TIMEOUT_SECONDS: u32 = 900;

/// Where cargo-mutants writes `mutants.out/`, relative to the repo root.
const OUTPUT_DIR: &str = "target/mutants";

/// Options of `cargo xtask mutants`.
#[derive(Debug, PartialEq, Eq)]
pub struct Opts {
    /// `-p <crate>`, repeatable; none means every crate.
    pub packages: Vec<String>,
    /// `--file <path>`, repeatable: only mutate these source files.
    pub files: Vec<String>,
    /// `--timeout <seconds>` for one mutant's tests.
    pub timeout: u32,
    /// `--build-timeout <seconds>` for one mutant's build.
    pub build_timeout: u32,
    /// Everything after `--`, passed on to cargo-mutants as it is.
    pub extra: Vec<String>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            packages: Vec::new(),
            files: Vec::new(),
            timeout: DEFAULT_TIMEOUT_SECONDS,
            build_timeout: DEFAULT_BUILD_TIMEOUT_SECONDS,
            extra: Vec::new(),
        }
    }
}

impl Opts {
    /// The arguments after `cargo mutants`.
    fn cargo_mutants_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "--jobs",
            "1",
            "--output",
            OUTPUT_DIR,
            "--timeout",
            &self.timeout.to_string(),
            "--build-timeout",
            &self.build_timeout.to_string(),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        for package in &self.packages {
            args.extend(["--package".to_owned(), package.clone()]);
        }
        for file in &self.files {
            args.extend(["--file".to_owned(), file.clone()]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }
}

/// Parses the arguments after `mutants`: `[-p CRATE]... [--file PATH]...
/// [--timeout N] [--build-timeout N] [-- ARGS...]`.
pub fn parse(args: &[&str]) -> Result<Opts> {
    let mut opts = Opts::default();
    let mut args = args.iter();
    let bad = |what: &str| Error::Usage(format!("bad arguments for `mutants`: {what}"));
    let value = |flag: &str, next: Option<&&str>| match next {
        Some(v) if !v.starts_with('-') => Ok((*v).to_owned()),
        _ => Err(bad(&format!("{flag} needs a value"))),
    };
    let seconds = |flag: &str, v: String| {
        let positive = v.parse::<u32>().ok().filter(|s| *s > 0);
        positive.ok_or_else(|| bad(&format!("{flag} needs a number of seconds > 0: {v}")))
    };
    while let Some(&arg) = args.next() {
        match arg {
            "-p" | "--package" => opts.packages.push(value(arg, args.next())?),
            "-f" | "--file" => opts.files.push(value(arg, args.next())?),
            "--timeout" => opts.timeout = seconds(arg, value(arg, args.next())?)?,
            "--build-timeout" => opts.build_timeout = seconds(arg, value(arg, args.next())?)?,
            "--" => {
                opts.extra = args.map(|a| (*a).to_owned()).collect();
                break;
            }
            other => return Err(bad(other)),
        }
    }
    Ok(opts)
}

/// `cargo xtask mutants`: installs cargo-mutants if needed, then runs it
/// inside the private Secret Service session (without it when the session's
/// tools are missing, as `test` does: the keyring tests then skip, and
/// mutants only they would catch are missed).
pub fn mutants(root: &Path, opts: &Opts) -> Result {
    ensure_cargo_mutants(root)?;
    let args = opts.cargo_mutants_args();
    let missing = crate::missing_secret_service_tools();
    let result = if missing.is_empty() {
        Cmd::new("bash", "bash")
            .arg("scripts/with-secret-service.sh")
            .arg(cmd::cargo_program())
            .arg("mutants")
            .args(&args)
            .current_dir(root)
            .run()
    } else {
        if crate::is_ci() {
            return Err(Error::Other(format!(
                "CI=true but {} not found: cannot run the Secret Service tests",
                missing.join(", ")
            )));
        }
        eprintln!(
            "xtask: note: {} not found: the keyring tests will skip during mutation testing",
            missing.join(", ")
        );
        Cmd::cargo()
            .arg("mutants")
            .args(&args)
            .current_dir(root)
            .run()
    };
    // cargo-mutants exits non-zero when a mutant is missed or times out;
    // the results are written either way.
    eprintln!(
        "xtask: results in {}/mutants.out/ (outcomes.json, caught.txt, missed.txt, timeout.txt, \
         unviable.txt)",
        root.join(OUTPUT_DIR).display()
    );
    result
}

/// Installs cargo-mutants unless `cargo mutants` already works.
fn ensure_cargo_mutants(root: &Path) -> Result {
    if Cmd::cargo()
        .args(["mutants", "--version"])
        .current_dir(root)
        .succeeds_quietly()
    {
        return Ok(());
    }
    eprintln!("xtask: `cargo mutants` not found, installing cargo-mutants");
    Cmd::cargo()
        .args(["install", "cargo-mutants", "--locked", "--version"])
        .arg(CARGO_MUTANTS_VERSION)
        .current_dir(root)
        .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_crates_files_timeouts_and_extra_arguments() {
        assert_eq!(parse(&[]).unwrap(), Opts::default());
        let opts = parse(&[
            "-p",
            "login-storage",
            "--file",
            "crates/login-storage/src/file.rs",
            "--package",
            "core-auth",
            "-f",
            "crates/core-auth/src/resolve.rs",
            "--timeout",
            "60",
            "--build-timeout",
            "120",
            "--",
            "--list",
            "-p",
            "x",
        ])
        .unwrap();
        assert_eq!(
            opts,
            Opts {
                packages: strings(&["login-storage", "core-auth"]),
                files: strings(&[
                    "crates/login-storage/src/file.rs",
                    "crates/core-auth/src/resolve.rs"
                ]),
                timeout: 60,
                build_timeout: 120,
                extra: strings(&["--list", "-p", "x"]),
            }
        );
    }

    #[test]
    fn rejects_bad_mutants_arguments() {
        for args in [
            &["-p"][..],
            &["-p", "--file"],
            &["--file"],
            &["--timeout", "0"],
            &["--timeout", "x"],
            &["--timeout"],
            &["--build-timeout", "-1"],
            &["login-storage"],
            &["--list"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn runs_one_mutant_at_a_time_with_timeouts_into_target_mutants() {
        let opts = parse(&["-p", "core-auth", "--file", "f.rs", "--", "--list"]).unwrap();
        assert_eq!(
            opts.cargo_mutants_args(),
            strings(&[
                "--jobs",
                "1",
                "--output",
                "target/mutants",
                "--timeout",
                "300",
                "--build-timeout",
                "900",
                "--package",
                "core-auth",
                "--file",
                "f.rs",
                "--list",
            ])
        );
    }
}
