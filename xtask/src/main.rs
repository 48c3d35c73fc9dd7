//! Developer tasks for this workspace, run as `cargo xtask <command>`.
//!
//! Every command echoes what it runs (`$ cargo ...`) to stderr and exits
//! with the exit code of the first command that fails. Its only dependency
//! is serde_json, so it builds in seconds. See [`USAGE`] for the commands.

mod bench;
mod cmd;
mod fuzz;
mod mutants;

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
  check [-p CRATE]...         cargo check --all-targets (the workspace, or each -p)
  clippy [-p CRATE]...        cargo clippy --all-targets -- -D warnings; for the
                              workspace, or with core-auth selected, also
                              core-auth without its default features
  fix [-p CRATE]...           cargo clippy --fix (dirty tree allowed), then fmt
  test [--slow] [-p CRATE]... [FILTER]...
                              tests (unit, integration, doc) inside a private
                              Secret Service session, only those whose name
                              contains a FILTER if any; --slow also runs #[ignore]d
                              tests; a test that printed SKIP counts as skipped
  fuzz <target> [--seconds N] cargo fuzz run <target> for N seconds (default 60) on
                              fuzz/corpus/<target>/ (ignored by git), first filled
                              from fuzz/seeds/ and fuzz/regressions/
  fuzz-smoke                  every fuzz target for 30 seconds, from its seeds and
                              regressions
  ci                          fmt --check, clippy, doc, test --slow (with CI=true,
                              the whole test also runs fuzz-smoke)
  doc                         cargo doc --workspace --all-features --no-deps with
                              broken intra-doc links denied
  man                         the agent-login man page into target/man/agent-login.1
  mutants [-p CRATE]... [--file PATH]... [--timeout N] [--build-timeout N] [-- ARGS]
                              mutation testing: cargo mutants (installed on
                              demand) inside the private Secret Service session,
                              one mutant at a time, each with a test timeout of N
                              seconds (default 300) and a build timeout (default
                              900); ARGS go to cargo-mutants (e.g. --list);
                              results in target/mutants/mutants.out/; slow, not
                              part of ci
  bench [--quick]             criterion suites (decode, storage, startup) and
                              agent-login process timing; writes BENCHMARKS.md;
                              --quick: 1 s warm-up, 2 s measurement per benchmark
  help                        this text

Environment:
  CI=true                     missing Secret Service tools fail `test` instead
                              of skipping those tests; `test` without -p or
                              FILTER runs fuzz-smoke
";

/// Default `--seconds` for `cargo xtask fuzz`.
const DEFAULT_FUZZ_SECONDS: u32 = 60;

/// Tools the Secret Service session (scripts/with-secret-service.sh) needs.
const SECRET_SERVICE_TOOLS: [&str; 3] = ["dbus-run-session", "gnome-keyring-daemon", "dbus-send"];

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Help,
    /// `fmt [--check]`.
    Fmt(bool),
    Check(Opts),
    Clippy(Opts),
    Fix(Opts),
    Test(Opts),
    /// Internal: the cargo test runs, started by `test` inside the session.
    TestInSession(Opts),
    Fuzz {
        target: String,
        seconds: u32,
    },
    FuzzSmoke,
    Ci,
    /// `bench [--quick]`.
    Bench(bool),
    Doc,
    Man,
    Mutants(mutants::Opts),
}

/// Options of `check`, `clippy`, `fix` and `test` (only `test` takes
/// `--slow` and filters).
#[derive(Debug, Default, PartialEq, Eq)]
struct Opts {
    /// `--slow`: also run the `#[ignore]`d tests.
    slow: bool,
    /// `-p <crate>`, repeatable; none means the whole workspace.
    packages: Vec<String>,
    /// Test name filters, passed to the test binaries.
    filters: Vec<String>,
}

impl Opts {
    /// `--workspace`, or `-p <crate>` for each selected crate.
    fn selection(&self) -> Vec<&str> {
        if self.packages.is_empty() {
            return vec!["--workspace"];
        }
        self.packages.iter().flat_map(|p| ["-p", p]).collect()
    }

    /// The command line that parses back into these options.
    fn to_args(&self) -> Vec<&str> {
        let slow = self.slow.then_some("--slow");
        let packages = self.packages.iter().flat_map(|p| ["-p", p]);
        let filters = self.filters.iter().map(String::as_str);
        slow.into_iter().chain(packages).chain(filters).collect()
    }
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
    let opts = |test| parse_opts(command, &rest, test);
    let task = match (command.as_str(), rest.as_slice()) {
        ("help" | "-h" | "--help", []) => Task::Help,
        ("fmt", []) => Task::Fmt(false),
        ("fmt", ["--check"]) => Task::Fmt(true),
        ("check", _) => Task::Check(opts(false)?),
        ("clippy", _) => Task::Clippy(opts(false)?),
        ("fix", _) => Task::Fix(opts(false)?),
        ("test", _) => Task::Test(opts(true)?),
        ("test-in-session", _) => Task::TestInSession(opts(true)?),
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
        ("doc", []) => Task::Doc,
        ("man", []) => Task::Man,
        ("bench", []) => Task::Bench(false),
        ("bench", ["--quick"]) => Task::Bench(true),
        ("mutants", _) => Task::Mutants(mutants::parse(&rest)?),
        (
            "help" | "-h" | "--help" | "fmt" | "fuzz" | "fuzz-smoke" | "ci" | "bench" | "doc"
            | "man",
            _,
        ) => {
            return Err(bad_arguments(command, &rest.join(" ")));
        }
        (other, _) => return Err(Error::Usage(format!("unknown command `{other}`"))),
    };
    Ok(task)
}

/// `-p <crate>` (also `--package`), repeatable; with `test`, also
/// `--slow` and name filters.
fn parse_opts(command: &str, args: &[&str], test: bool) -> Result<Opts> {
    let mut opts = Opts::default();
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "-p" | "--package" => match args.next() {
                Some(package) if !package.starts_with('-') => {
                    opts.packages.push((*package).to_owned());
                }
                _ => return Err(bad_arguments(command, &format!("{arg} needs a crate name"))),
            },
            "--slow" if test => opts.slow = true,
            filter if test && !filter.starts_with('-') => opts.filters.push(filter.to_owned()),
            other => return Err(bad_arguments(command, other)),
        }
    }
    Ok(opts)
}

fn bad_arguments(command: &str, what: &str) -> Error {
    Error::Usage(format!("bad arguments for `{command}`: {what}"))
}

fn parse_seconds(n: &str) -> Result<u32> {
    let positive = n.parse::<u32>().ok().filter(|s| *s > 0);
    positive.ok_or_else(|| bad_arguments("fuzz", &format!("--seconds needs a number > 0: {n}")))
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
        Task::Fmt(check) => fmt(root, &[], check),
        Task::Check(opts) => check(root, &opts),
        Task::Clippy(opts) => clippy(root, &opts),
        Task::Fix(opts) => fix(root, &opts),
        Task::Test(opts) => test(root, &opts),
        Task::TestInSession(opts) => cargo_tests(root, &opts),
        Task::Fuzz { target, seconds } => fuzz::fuzz(root, &target, seconds),
        Task::FuzzSmoke => fuzz::fuzz_smoke(root),
        Task::Ci => ci(root),
        Task::Bench(quick) => bench::bench(root, quick),
        Task::Doc => doc(root),
        Task::Man => man(root),
        Task::Mutants(opts) => mutants::mutants(root, &opts),
    }
}

/// `cargo doc` of every crate with every feature (as docs.rs builds
/// core-auth), failing on a broken intra-doc link.
fn doc(root: &Path) -> Result {
    cargo(root)
        .args(["doc", "--workspace", "--all-features", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D rustdoc::broken_intra_doc_links")
        .run()
}

/// The man page: the built `agent-login` prints it (`agent-login __man`,
/// not a clap command; clap_mangen), so xtask stays free of clap.
fn man(root: &Path) -> Result {
    cargo(root).args(["build", "-p", "login-cli"]).run()?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join("debug").join("agent-login");
    let page = Cmd::new(binary.as_os_str(), "agent-login")
        .arg("__man")
        .read_stdout()?;
    let dir = target.join("man");
    std::fs::create_dir_all(&dir)
        .map_err(|error| Error::Other(format!("cannot create {}: {error}", dir.display())))?;
    let path = dir.join("agent-login.1");
    std::fs::write(&path, page)
        .map_err(|error| Error::Other(format!("cannot write {}: {error}", path.display())))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `cargo <args>` run from the repo root.
fn cargo(root: &Path) -> Cmd {
    Cmd::cargo().current_dir(root)
}

/// `cargo fmt`, of the whole workspace or of `packages`.
fn fmt(root: &Path, packages: &[String], check: bool) -> Result {
    let mut cmd = cargo(root).arg("fmt");
    cmd = if packages.is_empty() {
        cmd.arg("--all")
    } else {
        cmd.args(packages.iter().flat_map(|p| ["-p", p]))
    };
    if check {
        cmd = cmd.args(["--", "--check"]);
    }
    cmd.run()
}

/// `cargo <sub> <--workspace or -p ...> --all-targets`.
fn cargo_all(root: &Path, sub: &[&str], opts: &Opts) -> Cmd {
    cargo(root)
        .args(sub)
        .args(opts.selection())
        .arg("--all-targets")
}

fn check(root: &Path, opts: &Opts) -> Result {
    cargo_all(root, &["check"], opts).run()
}

fn clippy(root: &Path, opts: &Opts) -> Result {
    let deny_warnings = ["--", "-D", "warnings"];
    cargo_all(root, &["clippy"], opts)
        .args(deny_warnings)
        .run()?;
    // Built with login-cli, core-auth has every feature on; check it alone
    // without its default features too, as a lean embedder builds it.
    let core_auth = opts.packages.iter().any(|p| p == "core-auth");
    if opts.packages.is_empty() || core_auth {
        lean_core_auth(root, "clippy").args(deny_warnings).run()?;
    }
    Ok(())
}

/// `cargo SUB -p core-auth --no-default-features`: the embedder that keeps
/// `auth.json` in a file and neither verifies nor mints identities.
fn lean_core_auth(root: &Path, sub: &str) -> Cmd {
    cargo(root).args([
        sub,
        "-p",
        "core-auth",
        "--no-default-features",
        "--all-targets",
    ])
}

fn fix(root: &Path, opts: &Opts) -> Result {
    let fix = ["clippy", "--fix", "--allow-dirty", "--allow-staged"];
    cargo_all(root, &fix, opts).run()?;
    fmt(root, &opts.packages, false)
}

fn ci(root: &Path) -> Result {
    fmt(root, &[], true)?;
    clippy(root, &Opts::default())?;
    doc(root)?;
    // The lean configuration's tests (its doc examples mint, so --tests).
    cargo(root)
        .args([
            "test",
            "-p",
            "core-auth",
            "--no-default-features",
            "--tests",
        ])
        .run()?;
    let slow = Opts {
        slow: true,
        ..Opts::default()
    };
    test(root, &slow)
}

/// `cargo xtask test`: the cargo test runs inside a private Secret Service
/// session when the tools are installed, then fuzz-smoke on CI.
fn test(root: &Path, opts: &Opts) -> Result {
    let missing = missing_secret_service_tools();
    // Fuzzing first on CI, so the test totals close the output.
    let everything = opts.packages.is_empty() && opts.filters.is_empty();
    if is_ci() && everything && fuzz::has_fuzz_dir(root) {
        fuzz::fuzz_smoke(root)?;
    }
    if missing.is_empty() {
        let xtask = env::current_exe()
            .map_err(|e| Error::Other(format!("cannot find the xtask executable: {e}")))?;
        return Cmd::new("bash", "bash")
            .arg("scripts/with-secret-service.sh")
            .arg(xtask)
            .arg("test-in-session")
            .args(opts.to_args())
            .current_dir(root)
            .run();
    }
    let missing = missing.join(", ");
    if is_ci() {
        return Err(Error::Other(format!(
            "CI=true but {missing} not found: cannot run the Secret Service tests. \
             Install gnome-keyring dbus dbus-x11 libsecret-tools keyutils e2fsprogs bsdutils (see .ci/run)."
        )));
    }
    eprintln!(
        "xtask: note: Secret Service tests will skip: {missing} not found \
         (install gnome-keyring dbus dbus-x11 libsecret-tools keyutils e2fsprogs bsdutils to run them)"
    );
    cargo_tests(root, opts)
}

/// The cargo test runs proper (inside the Secret Service session if any),
/// closed by one line with the totals of every run.
fn cargo_tests(root: &Path, opts: &Opts) -> Result {
    let mut tally = TestTally::default();
    let test = || cargo(root).arg("test");
    let filters = opts.filters.iter().map(String::as_str);
    let filters: Vec<&str> = ["--"].into_iter().chain(filters).collect();
    let filters = if opts.filters.is_empty() {
        &[]
    } else {
        &filters[..]
    };
    test()
        .args(opts.selection())
        .arg("--all-targets")
        .args(filters)
        .run_tallied(&mut tally)?;
    // Only libraries have doctests; cargo refuses `--doc` when no selected
    // crate has one.
    let libraries = libraries(root, opts)?;
    if !libraries.is_empty() {
        test()
            .args(libraries)
            .arg("--doc")
            .args(filters)
            .run_tallied(&mut tally)?;
    }
    if opts.slow {
        // `--tests` (lib, bins, integration tests), not the default target
        // set: with `-- --ignored` the default set would also try to compile
        // and run ```ignore doctests, which are not meant to build.
        let mut slow_tally = TestTally::default();
        test()
            .args(opts.selection())
            .args(["--tests", "--", "--ignored"])
            .args(&opts.filters)
            .run_tallied(&mut slow_tally)?;
        tally.add_ignored_run(slow_tally);
    }
    println!("{}", tally.totals());
    Ok(())
}

/// `--workspace`, or `-p <crate>` for each selected crate with a library
/// target (per `cargo metadata`).
fn libraries(root: &Path, opts: &Opts) -> Result<Vec<String>> {
    if opts.packages.is_empty() {
        return Ok(vec!["--workspace".to_owned()]);
    }
    let metadata = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .read_stdout()?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|e| Error::Other(format!("cannot read `cargo metadata`: {e}")))?;
    let lib = serde_json::Value::from("lib");
    let has_lib = |name: &str| {
        let packages = metadata["packages"].as_array().into_iter().flatten();
        packages.filter(|p| p["name"] == name).any(|p| {
            let targets = p["targets"].as_array().into_iter().flatten();
            targets
                .filter_map(|t| t["kind"].as_array())
                .any(|kinds| kinds.contains(&lib))
        })
    };
    let libraries = opts.packages.iter().filter(|p| has_lib(p));
    Ok(libraries
        .flat_map(|p| ["-p".to_owned(), p.clone()])
        .collect())
}

/// The tools of the Secret Service session that are not on `PATH`.
fn missing_secret_service_tools() -> Vec<&'static str> {
    SECRET_SERVICE_TOOLS
        .into_iter()
        .filter(|tool| !on_path(tool))
        .collect()
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
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let opts = |slow, packages: &[&str], filters: &[&str]| Opts {
            slow,
            packages: strings(packages),
            filters: strings(filters),
        };
        let fuzz = |seconds| Task::Fuzz {
            target: "parse".to_owned(),
            seconds,
        };
        let storage_auth = ["login-storage", "core-auth"];
        for (args, task) in [
            (&[][..], Task::Help),
            (&["fmt", "--check"], Task::Fmt(true)),
            (&["test", "--slow"], Task::Test(opts(true, &[], &[]))),
            (&["doc"], Task::Doc),
            (&["man"], Task::Man),
            (
                &["check", "-p", "login-storage", "-p", "core-auth"],
                Task::Check(opts(false, &storage_auth, &[])),
            ),
            (
                &["fix", "--package", "login-storage"],
                Task::Fix(opts(false, &["login-storage"], &[])),
            ),
            (
                &["test", "-p", "x", "--slow", "f", "g"],
                Task::Test(opts(true, &["x"], &["f", "g"])),
            ),
            (&["bench"], Task::Bench(false)),
            (&["bench", "--quick"], Task::Bench(true)),
            (&["fuzz", "parse"], fuzz(60)),
            (&["fuzz", "parse", "--seconds", "5"], fuzz(5)),
            (
                &["mutants", "-p", "login-storage"],
                Task::Mutants(mutants::Opts {
                    packages: strings(&["login-storage"]),
                    ..mutants::Opts::default()
                }),
            ),
        ] {
            assert_eq!(parse_strs(args).unwrap(), task, "{args:?}");
        }
        // `test` hands its options on to `test-in-session` unchanged.
        let test = opts(true, &["login-agent-identity"], &["agent_identity"]);
        let again = [&["test-in-session"][..], &test.to_args()].concat();
        assert_eq!(parse_strs(&again).unwrap(), Task::TestInSession(test));
    }

    #[test]
    fn rejects_bad_command_lines() {
        for args in [
            &["nope"][..],
            &["fmt", "--chek"],
            &["test", "--fast"],
            &["check", "-p"],
            &["clippy", "-p", "--all-targets"],
            &["fix", "login-storage"],
            &["check", "--slow"],
            &["bench", "--fast"],
            &["fuzz"],
            &["fuzz", "--seconds", "5"],
            &["fuzz", "t", "--seconds", "x"],
            &["fuzz", "t", "--seconds", "0"],
            &["mutants", "--slow"],
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
