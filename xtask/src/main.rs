//! Developer tasks for this workspace, run as `cargo xtask <command>`.
//!
//! Every command echoes what it runs (`$ cargo ...`) to stderr and exits
//! with the exit code of the first command that fails. std only, so it
//! builds in about a second. See [`USAGE`] for the commands.

mod bench;
mod cmd;
mod fuzz;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process;

use cmd::{Cmd, Error, Result, TestTally};

/// Usage text for `cargo xtask help`.
const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  fmt [--check]               cargo fmt --all (only check with --check)
  check                       cargo check --workspace --all-targets
  clippy                      cargo clippy --workspace --all-targets -- -D warnings,
                              then core-auth alone (without its http feature)
  fix                         cargo clippy --fix (dirty tree allowed), then fmt
  test [--slow]               all tests (unit, integration, doc) inside a private
                              Secret Service session; --slow also runs #[ignore]d
                              tests; with CI=true and a fuzz/ dir, also fuzz-smoke
  fuzz <target> [--seconds N] cargo fuzz run <target> for N seconds (default 60)
  fuzz-smoke                  every fuzz target for 30 seconds
  ci                          fmt --check, clippy, test --slow
  bench [--quick]             criterion suites (decode, storage, startup) and
                              agent-login process timing; writes BENCHMARKS.md;
                              --quick: 1 s warm-up, 2 s measurement per benchmark
  help                        this text

Environment:
  CI=true                     missing Secret Service tools fail `test` instead
                              of skipping those tests; `test` runs fuzz-smoke
";

/// Default `--seconds` for `cargo xtask fuzz`.
const DEFAULT_FUZZ_SECONDS: u32 = 60;

/// Tools the Secret Service session (scripts/with-secret-service.sh) needs.
const SECRET_SERVICE_TOOLS: [&str; 3] = ["dbus-run-session", "gnome-keyring-daemon", "dbus-send"];

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Help,
    Fmt {
        check: bool,
    },
    Check,
    Clippy,
    Fix,
    Test {
        slow: bool,
    },
    /// Internal: the cargo test runs, started by `test` inside the session.
    TestInSession {
        slow: bool,
    },
    Fuzz {
        target: String,
        seconds: u32,
    },
    FuzzSmoke,
    Ci,
    Bench {
        quick: bool,
    },
}

fn main() {
    let Err(err) = try_main() else {
        return;
    };
    if matches!(err, Error::Usage(_)) {
        eprint!("{USAGE}");
    }
    eprintln!("xtask: error: {err}");
    process::exit(err.exit_code());
}

fn try_main() -> Result {
    let args = env::args_os()
        .skip(1)
        .map(OsString::into_string)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|arg| Error::Usage(format!("argument is not UTF-8: {}", arg.to_string_lossy())))?;
    let task = parse(&args)?;
    let root = repo_root()?;
    run(&root, task)
}

fn parse(args: &[String]) -> Result<Task> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Task::Help);
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let task = match (command.as_str(), rest.as_slice()) {
        ("help" | "-h" | "--help", []) => Task::Help,
        ("fmt", []) => Task::Fmt { check: false },
        ("fmt", ["--check"]) => Task::Fmt { check: true },
        ("check", []) => Task::Check,
        ("clippy", []) => Task::Clippy,
        ("fix", []) => Task::Fix,
        ("test", []) => Task::Test { slow: false },
        ("test", ["--slow"]) => Task::Test { slow: true },
        ("test-in-session", []) => Task::TestInSession { slow: false },
        ("test-in-session", ["--slow"]) => Task::TestInSession { slow: true },
        ("fuzz", [target]) if !target.starts_with('-') => Task::Fuzz {
            target: (*target).to_owned(),
            seconds: DEFAULT_FUZZ_SECONDS,
        },
        ("fuzz", [target, "--seconds", n]) if !target.starts_with('-') => Task::Fuzz {
            target: (*target).to_owned(),
            seconds: parse_seconds(n)?,
        },
        ("fuzz-smoke", []) => Task::FuzzSmoke,
        ("ci", []) => Task::Ci,
        ("bench", []) => Task::Bench { quick: false },
        ("bench", ["--quick"]) => Task::Bench { quick: true },
        (
            "help" | "-h" | "--help" | "fmt" | "check" | "clippy" | "fix" | "test"
            | "test-in-session" | "fuzz" | "fuzz-smoke" | "ci" | "bench",
            _,
        ) => {
            return Err(Error::Usage(format!(
                "bad arguments for `{command}`: {}",
                rest.join(" ")
            )));
        }
        (other, _) => return Err(Error::Usage(format!("unknown command `{other}`"))),
    };
    Ok(task)
}

fn parse_seconds(n: &str) -> Result<u32> {
    match n.parse::<u32>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(Error::Usage(format!(
            "--seconds needs a positive whole number, got `{n}`"
        ))),
    }
}

/// The workspace root: the parent of this crate's directory.
fn repo_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::Other("xtask crate has no parent directory".to_owned()))
}

fn run(root: &Path, task: Task) -> Result {
    match task {
        Task::Help => {
            print!("{USAGE}");
            Ok(())
        }
        Task::Fmt { check } => fmt(root, check),
        Task::Check => check(root),
        Task::Clippy => clippy(root),
        Task::Fix => fix(root),
        Task::Test { slow } => test(root, slow),
        Task::TestInSession { slow } => cargo_tests(root, slow),
        Task::Fuzz { target, seconds } => fuzz::fuzz(root, &target, seconds),
        Task::FuzzSmoke => fuzz::fuzz_smoke(root),
        Task::Ci => ci(root),
        Task::Bench { quick } => bench::bench(root, quick),
    }
}

/// `cargo <args>` run from the repo root.
fn cargo(root: &Path) -> Cmd {
    Cmd::cargo().current_dir(root)
}

fn fmt(root: &Path, check: bool) -> Result {
    let cmd = cargo(root).args(["fmt", "--all"]);
    let cmd = if check {
        cmd.args(["--", "--check"])
    } else {
        cmd
    };
    cmd.run()
}

fn check(root: &Path) -> Result {
    cargo(root)
        .args(["check", "--workspace", "--all-targets"])
        .run()
}

fn clippy(root: &Path) -> Result {
    cargo(root)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .run()?;
    // In the workspace, login-cli turns core-auth's `http` feature on; check
    // the crate alone too, as an embedder without HTTP builds it.
    cargo(root)
        .args([
            "clippy",
            "-p",
            "core-auth",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .run()
}

fn fix(root: &Path) -> Result {
    cargo(root)
        .args(["clippy", "--fix", "--allow-dirty", "--allow-staged"])
        .args(["--workspace", "--all-targets"])
        .run()?;
    fmt(root, false)
}

fn ci(root: &Path) -> Result {
    fmt(root, true)?;
    clippy(root)?;
    test(root, true)
}

/// `cargo xtask test`: the cargo test runs inside a private Secret Service
/// session when the tools are installed, then fuzz-smoke on CI.
fn test(root: &Path, slow: bool) -> Result {
    let missing: Vec<&str> = SECRET_SERVICE_TOOLS
        .into_iter()
        .filter(|tool| !on_path(tool))
        .collect();
    // Fuzzing first on CI, so the test totals close the output.
    if is_ci() && fuzz::has_fuzz_dir(root) {
        fuzz::fuzz_smoke(root)?;
    }
    if missing.is_empty() {
        let xtask = env::current_exe()
            .map_err(|e| Error::Other(format!("cannot find the xtask executable: {e}")))?;
        let mut session = Cmd::new("bash", "bash")
            .arg("scripts/with-secret-service.sh")
            .arg(xtask)
            .arg("test-in-session")
            .current_dir(root);
        if slow {
            session = session.arg("--slow");
        }
        session.run()?;
    } else {
        let missing = missing.join(", ");
        if is_ci() {
            return Err(Error::Other(format!(
                "CI=true but {missing} not found: cannot run the Secret Service tests. \
                 Install gnome-keyring dbus dbus-x11 libsecret-tools keyutils (see .ci/run)."
            )));
        }
        eprintln!(
            "xtask: note: Secret Service tests will skip: {missing} not found \
             (install gnome-keyring dbus dbus-x11 libsecret-tools keyutils to run them)"
        );
        cargo_tests(root, slow)?;
    }
    Ok(())
}

/// The cargo test runs proper (inside the Secret Service session if any),
/// closed by one line with the totals of every run.
fn cargo_tests(root: &Path, slow: bool) -> Result {
    let mut tally = TestTally::default();
    cargo(root)
        .args(["test", "--workspace", "--all-targets"])
        .run_tallied(&mut tally)?;
    cargo(root)
        .args(["test", "--workspace", "--doc"])
        .run_tallied(&mut tally)?;
    if slow {
        // `--tests` (lib, bins, integration tests), not the default target
        // set: with `-- --ignored` the default set would also try to compile
        // and run ```ignore doctests, which are not meant to build.
        let mut slow_tally = TestTally::default();
        cargo(root)
            .args(["test", "--workspace", "--tests", "--", "--ignored"])
            .run_tallied(&mut slow_tally)?;
        tally.add_ignored_run(slow_tally);
    }
    println!("{}", tally.totals());
    Ok(())
}

fn is_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether an executable called `name` is on `PATH`.
fn on_path(name: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Task> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        parse(&args)
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse_strs(&[]).unwrap(), Task::Help);
        assert_eq!(
            parse_strs(&["fmt", "--check"]).unwrap(),
            Task::Fmt { check: true }
        );
        assert_eq!(
            parse_strs(&["test", "--slow"]).unwrap(),
            Task::Test { slow: true }
        );
        assert_eq!(
            parse_strs(&["bench"]).unwrap(),
            Task::Bench { quick: false }
        );
        assert_eq!(
            parse_strs(&["bench", "--quick"]).unwrap(),
            Task::Bench { quick: true }
        );
        assert_eq!(
            parse_strs(&["fuzz", "parse"]).unwrap(),
            Task::Fuzz {
                target: "parse".to_owned(),
                seconds: 60
            }
        );
        assert_eq!(
            parse_strs(&["fuzz", "parse", "--seconds", "5"]).unwrap(),
            Task::Fuzz {
                target: "parse".to_owned(),
                seconds: 5
            }
        );
    }

    #[test]
    fn rejects_bad_command_lines() {
        for args in [
            &["nope"][..],
            &["fmt", "--chek"],
            &["test", "--fast"],
            &["bench", "--fast"],
            &["fuzz"],
            &["fuzz", "--seconds", "5"],
            &["fuzz", "t", "--seconds", "x"],
            &["fuzz", "t", "--seconds", "0"],
        ] {
            let err = parse_strs(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn repo_root_has_workspace_manifest() {
        assert!(repo_root().unwrap().join("Cargo.toml").is_file());
    }
}
