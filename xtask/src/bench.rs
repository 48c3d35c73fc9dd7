//! `cargo xtask bench [--quick]`: runs the criterion suites and a
//! process-level timing of `agent-login`, then writes `BENCHMARKS.md`.
//!
//! Each suite is first listed (`cargo bench ... -- --list`), then run; the
//! report takes, for every listed benchmark, the numbers criterion wrote
//! during this run (see [`results`]). A benchmark the contract needs that
//! has no fresh result, a suite that fails or defines nothing, or a failed
//! process timing is reported as missing in the file, and the command then
//! exits non-zero: no number is ever carried over from an earlier run or
//! made up. Targets that are not met are reported, not failed.

mod json;
mod machine;
mod process;
mod report;
mod results;
mod stats;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cmd::{Cmd, Error, Result};
use report::{Report, SuiteRun};

/// The generated report, relative to the repository root.
const REPORT_FILE: &str = "BENCHMARKS.md";

/// Criterion arguments for `--quick`: a full run in a few minutes.
const QUICK_ARGS: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

/// Criterion arguments otherwise: criterion's defaults (3 s warm-up, 5 s
/// measurement, 100 samples).
const FULL_ARGS: [&str; 0] = [];

/// Measured runs of each command in the process-level comparison.
const QUICK_PROCESS_RUNS: usize = 30;
const FULL_PROCESS_RUNS: usize = 100;

/// Slack when deciding whether a result was written during this run:
/// file times can lag the system clock by a tick.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// A criterion bench target.
#[derive(Debug)]
pub struct Suite {
    /// The bench target's name (`cargo bench --bench <name>`).
    pub name: &'static str,
    /// Its package.
    pub package: &'static str,
    /// Its source, for the report.
    pub source: &'static str,
    /// Benchmark titles the contract requires of it.
    pub required: &'static [&'static str],
}

/// The suites, in the order they run and are reported.
static SUITES: [Suite; 3] = [
    Suite {
        name: "decode",
        package: "login-agent-identity",
        source: "crates/login-agent-identity/benches/decode.rs",
        required: &["decode/typical/ours", "decode/typical/jsonwebtoken"],
    },
    Suite {
        name: "storage",
        package: "login-storage",
        source: "crates/login-storage/benches/storage.rs",
        required: &[],
    },
    Suite {
        name: "startup",
        package: "core-auth",
        source: "crates/core-auth/benches/startup.rs",
        required: &["startup/load_file_jwt_identity", "startup/auth_hot_path"],
    },
];

/// Our decoder against its peer, within the decode suite.
#[derive(Debug)]
pub struct PeerComparison {
    /// The suite holding both.
    pub suite: &'static str,
    /// Function name of our implementation in each group.
    pub ours: &'static str,
    /// Function name of the peer in each group.
    pub peer: &'static str,
    /// The group the target applies to.
    pub target_group: &'static str,
    /// Target: ours / peer at most this.
    pub target_ratio: f64,
}

const PEER: PeerComparison = PeerComparison {
    suite: "decode",
    ours: "ours",
    peer: "jsonwebtoken",
    target_group: "decode/typical",
    // A guard, not a goal: the decoder is plain library code and is kept
    // from drifting, not tuned to beat its peer (see benches/decode.rs).
    target_ratio: 1.25,
};

/// A by-size group whose growth with input size is reported.
#[derive(Debug)]
pub struct Growth {
    /// The suite holding the group.
    pub suite: &'static str,
    /// Matches the criterion group whose name contains this.
    pub group: &'static str,
    /// What is measured, for the report.
    pub what: &'static str,
    /// Sizes (KiB) the contract requires.
    pub sizes_kib: &'static [u64],
}

const GROWTH: [Growth; 2] = [
    Growth {
        suite: "decode",
        group: "decode_by_size",
        what: "Decoding an agent identity JWT",
        sizes_kib: &[1, 8, 60],
    },
    Growth {
        suite: "storage",
        group: "load_by_size",
        what: "Loading auth.json from the file home",
        sizes_kib: &[1, 64, 512],
    },
];

/// `cargo xtask bench [--quick]`.
pub fn bench(root: &Path, quick: bool) -> Result {
    let machine = machine::describe(root);
    let target_dir = target_dir(root);
    let criterion_dir = results::criterion_dir(&target_dir);
    let criterion_args: &[&str] = if quick { &QUICK_ARGS } else { &FULL_ARGS };
    let suites: Vec<SuiteRun> = SUITES
        .iter()
        .map(|suite| run_suite(root, &criterion_dir, suite, criterion_args))
        .collect();
    let runs = if quick {
        QUICK_PROCESS_RUNS
    } else {
        FULL_PROCESS_RUNS
    };
    let process = process::compare(root, &target_dir, runs);
    if let Err(reason) = &process {
        eprintln!("xtask: process-level comparison failed: {reason}");
    }

    let report = Report {
        quick,
        criterion_args,
        process_runs: runs,
        machine,
        suites,
        process,
    };
    let path = root.join(REPORT_FILE);
    fs::write(&path, report.render())
        .map_err(|e| Error::Other(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("xtask: wrote {}", path.display());
    for line in report.unmet_targets() {
        eprintln!("xtask: target not met: {line}");
    }
    let missing = report.missing();
    if missing.is_empty() {
        return Ok(());
    }
    for line in &missing {
        eprintln!("xtask: missing: {line}");
    }
    Err(Error::Other(format!(
        "{REPORT_FILE} written, but {} result(s) are missing",
        missing.len()
    )))
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// `cargo bench -p <package> --bench <name>`, with `args` after `--`.
fn bench_cmd(root: &Path, suite: &Suite, args: &[&str]) -> Cmd {
    let cmd = Cmd::cargo()
        .args(["bench", "-p", suite.package, "--bench", suite.name])
        .current_dir(root);
    if args.is_empty() {
        return cmd;
    }
    cmd.arg("--").args(args)
}

/// Lists, runs and collects one suite; a failure is kept for the report.
fn run_suite(root: &Path, criterion_dir: &Path, suite: &'static Suite, args: &[&str]) -> SuiteRun {
    let listing = match bench_cmd(root, suite, &["--list"]).read_stdout() {
        Ok(stdout) => results::parse_listing(&stdout),
        Err(e) => return SuiteRun::failed(suite, format!("listing failed: {e}")),
    };
    if listing.is_empty() {
        return SuiteRun::failed(suite, "the suite defines no benchmarks".to_owned());
    }
    let since = SystemTime::now()
        .checked_sub(CLOCK_SLACK)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let failure = bench_cmd(root, suite, args)
        .run()
        .err()
        .map(|e| e.to_string());
    SuiteRun {
        suite,
        results: results::collect(criterion_dir, &listing, since),
        failure,
    }
}
