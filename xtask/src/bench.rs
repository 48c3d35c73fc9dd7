//! `cargo xtask bench [--quick]`: runs the criterion suites and times the
//! `agent-login` process, then writes `BENCHMARKS.md`: the median of every
//! benchmark, our JWT decoder against `jsonwebtoken`, and process timings.
//!
//! Each suite is listed (`cargo bench ... -- --list`), then run; its numbers
//! are read, with serde_json, from the `estimates.json` files criterion
//! wrote during this run. A suite that fails, a listed benchmark without a
//! fresh result, or a failed process timing is reported as missing, and the
//! command then exits non-zero: no number is carried over from an earlier
//! run. Targets that are not met are reported, not failed.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use std::{env, io, thread};

use serde_json::Value;

use crate::cmd::{Cmd, Error, Result};

/// The generated report, relative to the repository root.
const REPORT_FILE: &str = "BENCHMARKS.md";

/// Criterion arguments for `--quick`; without it, criterion's defaults
/// (3 s warm-up, 5 s measurement, 100 samples).
const QUICK_ARGS: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

/// The criterion suites, `(package, bench target)`, in report order.
const SUITES: [(&str, &str); 4] = [
    ("login-agent-identity", "decode"),
    ("login-storage", "storage"),
    ("core-auth", "startup"),
    ("core-auth", "request_headers"),
];

/// Benchmarks the report cannot do without.
const REQUIRED: [&str; 4] = [
    "decode/typical/ours",
    "decode/typical/jsonwebtoken",
    "startup/load_file_jwt_identity",
    "startup/auth_hot_path",
];

/// Our decoder and its peer (a title with the segment `ours` is paired with
/// the same title with `jsonwebtoken` in its place), and the target: ours /
/// jsonwebtoken at most 1.25 on `decode/typical`: a guard against
/// regressions, not a tuning target.
const OURS: &str = "ours";
const PEER: &str = "jsonwebtoken";
const TARGET_INPUT: &str = "decode/typical";
const TARGET_RATIO: f64 = 1.25;

/// Process timing: the two commands (`--version` first), unmeasured runs
/// of each, measured runs of each (full, quick), and the target: `status
/// --json` at most 2 ms over `--version` (difference of the medians).
const COMMANDS: [&[&str]; 2] = [&["--version"], &["status", "--json"]];
const WARMUP_RUNS: usize = 5;
const PROCESS_RUNS: [usize; 2] = [100, 30];
const TARGET_EXTRA_MS: f64 = 2.0;

/// Variables removed for every `agent-login` run, so that the identity in
/// the temporary home is what `status` resolves.
const CLEARED_VARS: [&str; 4] = [
    "CODEX_API_KEY",
    "CODEX_AGENT_IDENTITY",
    "CODEX_AUTH_STORE",
    "RUST_LOG",
];

/// One listed benchmark: its title and median (ns per iteration), or why
/// there is none.
type Measured = (String, std::result::Result<f64, String>);

/// Wall-clock milliseconds of one command: p25, median, p75, runs.
type Timing = [f64; 4];

/// `cargo xtask bench [--quick]`.
pub fn bench(root: &Path, quick: bool) -> Result {
    let target_dir =
        env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    let criterion_dir =
        env::var_os("CRITERION_HOME").map_or_else(|| target_dir.join("criterion"), PathBuf::from);
    let (header, load_at_start) = (header(root, quick), load_average());
    let mut missing = Vec::new();
    let mut suites = Vec::new();
    for (package, name) in SUITES {
        let cmd = |args: &[&str]| {
            let cmd = Cmd::cargo()
                .args(["bench", "-p", package, "--bench", name, "--"])
                .current_dir(root);
            cmd.args(args)
        };
        let listing = match cmd(&["--list"]).read_stdout() {
            Ok(stdout) => parse_listing(&stdout),
            Err(e) => {
                missing.push(format!("suite `{name}`: {e}"));
                continue;
            }
        };
        // File times can lag the clock by a tick.
        let since = SystemTime::now().checked_sub(Duration::from_secs(2));
        let since = since.unwrap_or(SystemTime::UNIX_EPOCH);
        if let Err(e) = cmd(if quick { &QUICK_ARGS } else { &[] }).run() {
            missing.push(format!("suite `{name}`: {e}"));
        }
        let results = collect(&criterion_dir, &listing, since);
        missing.extend(
            results
                .iter()
                .filter_map(|(title, r)| r.as_ref().err().map(|why| format!("`{title}`: {why}"))),
        );
        suites.push((name, results));
    }
    let listed = |t: &str| suites.iter().any(|(_, r)| r.iter().any(|(x, _)| x == t));
    missing.extend(
        REQUIRED
            .iter()
            .filter(|t| !listed(t))
            .map(|t| format!("`{t}`: not listed")),
    );
    let runs = PROCESS_RUNS[usize::from(quick)];
    let process = time_processes(root, &target_dir, runs);
    if let Err(why) = &process {
        missing.push(format!("process timing: {why}"));
    }

    let header = format!(
        "{header} Load average (1, 5, 15 min): {load_at_start} at the start, {} at the end; \
         the machine may be shared, and a high load means noisy numbers.",
        load_average()
    );
    let report = render(&header, &suites, &process, &missing);
    let path = root.join(REPORT_FILE);
    fs::write(&path, report)
        .map_err(|e| Error::Other(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("xtask: wrote {}", path.display());
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

/// The report's first paragraph: when, where and how.
fn header(root: &Path, quick: bool) -> String {
    let output = |program: &str, args: &[&str]| {
        let out = Command::new(program).args(args).current_dir(root).output();
        let out = out.ok().filter(|o| o.status.success()).map(|o| o.stdout);
        out.map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o).trim().to_owned()
        })
    };
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'));
    let settings = if quick {
        "`cargo xtask bench --quick` (criterion: 1 s warm-up, 2 s measurement)"
    } else {
        "`cargo xtask bench` (criterion's defaults: 3 s warm-up, 5 s measurement)"
    };
    format!(
        "Run on {} at commit {}; {}, {} CPUs available, {}. Produced by {settings}.",
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        output("git", &["describe", "--always", "--dirty", "--exclude=*"]),
        cpu.map_or("unknown CPU", |(_, model)| model.trim()),
        thread::available_parallelism().map_or(0, usize::from),
        output("rustc", &["--version"]),
    )
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loadavg: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    loadavg.join(" ")
}

/// Benchmark titles from criterion's `--list` output (`<title>: benchmark`).
fn parse_listing(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.trim_end().strip_suffix(": benchmark"))
        .map(str::to_owned)
        .collect()
}

/// The medians of the benchmarks titled `titles`, from the results
/// criterion wrote under `dir` no earlier than `since`. A result is found by
/// the `title` in its `new/benchmark.json`; its median is in
/// `new/estimates.json`.
fn collect(dir: &Path, titles: &[String], since: SystemTime) -> Vec<Measured> {
    let mut found = Vec::new();
    walk(dir, 0, &mut found);
    titles
        .iter()
        .map(|title| {
            let median = match found.iter().find(|(t, _)| t == title) {
                Some((_, new)) => read_median(&new.join("estimates.json"), since),
                None => Err(format!("no result under {}", dir.display())),
            };
            (title.clone(), median)
        })
        .collect()
}

/// Every `new/` directory below `dir` (at most 6 levels), by title.
fn walk(dir: &Path, depth: usize, found: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        if !path.ends_with("new") {
            if depth < 6 {
                walk(&path, depth + 1, found);
            }
            continue;
        }
        let json = read_json(&path.join("benchmark.json")).ok();
        if let Some(title) = json.as_ref().and_then(|j| j["title"].as_str()) {
            found.push((title.to_owned(), path));
        }
    }
}

fn read_json(path: &Path) -> std::result::Result<Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_median(estimates: &Path, since: SystemTime) -> std::result::Result<f64, String> {
    let modified = fs::metadata(estimates).and_then(|m| m.modified());
    if modified.map_err(|e| format!("cannot read {}: {e}", estimates.display()))? < since {
        return Err(format!(
            "only a stale result from an earlier run ({})",
            estimates.display()
        ));
    }
    read_json(estimates)?["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{} has no median", estimates.display()))
}

/// Rows `(input, ours, peer)` of the decode comparison, in listing order.
fn peer_pairs(results: &[Measured]) -> Vec<(String, f64, f64)> {
    let median = |title: &str| results.iter().find(|(t, _)| t == title)?.1.clone().ok();
    results
        .iter()
        .filter_map(|(title, ours)| {
            let parts: Vec<&str> = title.split('/').collect();
            let at = parts.iter().position(|p| *p == OURS)?;
            let mut peer = parts.clone();
            peer[at] = PEER;
            let input = [&parts[..at], &parts[at + 1..]].concat().join("/");
            Some((input, *ours.as_ref().ok()?, median(&peer.join("/"))?))
        })
        .collect()
}

/// The whole markdown file.
fn render(
    header: &str,
    suites: &[(&str, Vec<Measured>)],
    process: &std::result::Result<[Timing; 2], String>,
    missing: &[String],
) -> String {
    let mut doc = format!(
        "Generated by `cargo xtask bench`: do not edit by hand, rerun the command to update.\n\n\
         # Benchmarks\n\n{header} Criterion times are medians per iteration; lower is better.\n\n"
    );
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let decode = suites.iter().find(|(name, _)| *name == "decode");
    let pairs = decode
        .map(|(_, results)| peer_pairs(results))
        .unwrap_or_default();
    let _ = writeln!(
        doc,
        "## Decoding a JWT: `{OURS}` vs `{PEER}`\n\n\
         Same tokens, same fields (`crates/login-agent-identity/benches/decode.rs`); \
         below 1 means `{OURS}` is faster. Target: at most {TARGET_RATIO:.2}x on \
         `{TARGET_INPUT}`.\n\n\
         | Input | {OURS} | {PEER} | {OURS} / {PEER} |\n|:---|---:|---:|---:|"
    );
    for (input, ours, peer) in &pairs {
        let ratio = ours / peer;
        let target = if input == TARGET_INPUT {
            format!(" (target: {})", met(ratio <= TARGET_RATIO))
        } else {
            String::new()
        };
        let _ = writeln!(
            doc,
            "| `{input}` | {} | {} | {ratio:.2}x{target} |",
            ns(*ours),
            ns(*peer)
        );
    }
    let _ = writeln!(
        doc,
        "\n## Process: `agent-login status --json` vs `agent-login --version`\n\n\
         Release build; `status` resolves an agent identity JWT from `auth.json` in a temporary \
         `CODEX_HOME` ({} unset). Fresh processes, the two commands alternating, \
         {WARMUP_RUNS} warm-up runs each, then the runs counted below, timed from spawn to exit.\n",
        CLEARED_VARS.map(|v| format!("`{v}`")).join(", ")
    );
    match process {
        Ok([version, status]) => {
            let _ = writeln!(
                doc,
                "| Command | Median | p25 to p75 | Runs |\n|:---|---:|---:|---:|"
            );
            for (args, [p25, median, p75, runs]) in COMMANDS.iter().zip([version, status]) {
                let _ = writeln!(
                    doc,
                    "| `agent-login {}` | {median:.2} ms | {p25:.2} to {p75:.2} ms | {runs} |",
                    args.join(" ")
                );
            }
            let extra = status[1] - version[1];
            let _ = writeln!(
                doc,
                "\n`status --json` adds {extra:+.2} ms (target: at most {TARGET_EXTRA_MS:.2} ms, {}).\n",
                met(extra <= TARGET_EXTRA_MS)
            );
        }
        Err(why) => {
            let _ = writeln!(doc, "**Missing**: {why}.\n");
        }
    }
    let _ = writeln!(doc, "## Every benchmark\n");
    for (name, results) in suites {
        let _ = writeln!(doc, "### `{name}`\n\n| Benchmark | Median |\n|:---|---:|");
        for (title, median) in results {
            let median = median
                .as_ref()
                .map_or_else(|_| "missing".to_owned(), |m| ns(*m));
            let _ = writeln!(doc, "| `{title}` | {median} |");
        }
        doc.push('\n');
    }
    if !missing.is_empty() {
        let _ = writeln!(
            doc,
            "## Missing\n\nNot measured in this run (the command failed):\n"
        );
        for line in missing {
            let _ = writeln!(doc, "- {line}");
        }
        doc.push('\n');
    }
    doc.truncate(doc.trim_end().len());
    doc.push('\n');
    doc
}

/// Nanoseconds in the largest unit that keeps the value at least 1, to
/// three significant figures.
fn ns(value: f64) -> String {
    let (scaled, unit) = match value {
        v if v < 1e3 => (v, "ns"),
        v if v < 1e6 => (v / 1e3, "µs"),
        v if v < 1e9 => (v / 1e6, "ms"),
        v => (v / 1e9, "s"),
    };
    let digits = match scaled {
        s if s >= 100.0 => 0,
        s if s >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.digits$} {unit}")
}

/// Builds `agent-login` in release, gives it a temporary home holding a
/// freshly minted JWT identity, checks `status --json` finds it, then times
/// both [`COMMANDS`], alternating, `runs` times each after warm-up.
fn time_processes(
    root: &Path,
    target_dir: &Path,
    runs: usize,
) -> std::result::Result<[Timing; 2], String> {
    let build = ["build", "--release", "-p", "login-cli"];
    Cmd::cargo()
        .args(build)
        .current_dir(root)
        .run()
        .map_err(|e| e.to_string())?;
    let bin = target_dir
        .join("release")
        .join(format!("agent-login{}", env::consts::EXE_SUFFIX));
    let home = TempHome(env::temp_dir().join(format!("xtask-bench-{}", std::process::id())));
    let mut private = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut private, 0o700);
    private
        .create(&home.0)
        .map_err(|e| format!("cannot create {}: {e}", home.0.display()))?;
    let agent_login = |args: &[&str]| {
        let mut command = Command::new(&bin);
        command
            .args(args)
            .env("CODEX_HOME", &home.0)
            .stdin(Stdio::null());
        for var in CLEARED_VARS {
            command.env_remove(var);
        }
        command
    };
    // The JWT holds a private key: it never appears in a message.
    let mint = "identity mint --workspace-id ws-bench --agent-runtime-id rt-bench";
    let mint: Vec<&str> = mint.split(' ').collect();
    let output = agent_login(&mint).stderr(Stdio::inherit()).output();
    let jwt = match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => return Err("`agent-login identity mint` failed".to_owned()),
    };
    let auth_json = serde_json::json!({ "agent_identity": jwt }).to_string();
    write_private(&home.0.join("auth.json"), &auth_json)
        .map_err(|e| format!("cannot write auth.json in the temporary home: {e}"))?;
    let status = agent_login(COMMANDS[1]).stderr(Stdio::inherit()).output();
    let status: Value = status
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| serde_json::from_slice(&out.stdout).ok())
        .unwrap_or_default();
    if status["mode"] != "agentIdentity" || status["source"] != "file" {
        return Err(
            "`agent-login status --json` did not report the agent identity in auth.json".to_owned(),
        );
    }
    eprintln!(
        "xtask: timing `agent-login --version` and `agent-login status --json`, {WARMUP_RUNS} warm-up + {runs} runs each"
    );
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..WARMUP_RUNS + runs {
        // Which command goes first swaps every round.
        for which in [round % 2, 1 - round % 2] {
            let mut command = agent_login(COMMANDS[which]);
            command.stdout(Stdio::null()).stderr(Stdio::null());
            let start = Instant::now();
            let ok = command.status().is_ok_and(|s| s.success());
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            if !ok {
                return Err(format!(
                    "`agent-login {}` failed during timing",
                    COMMANDS[which].join(" ")
                ));
            }
            if round >= WARMUP_RUNS {
                times[which].push(ms);
            }
        }
    }
    Ok(times.map(quartiles))
}

/// p25, median, p75 (interpolated between ranks) and count of `values`.
fn quartiles(mut values: Vec<f64>) -> Timing {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = p * values.len().saturating_sub(1) as f64;
        let (low, high) = (
            values.get(rank.floor() as usize),
            values.get(rank.ceil() as usize),
        );
        low.zip(high)
            .map_or(f64::NAN, |(l, h)| l + (h - l) * rank.fract())
    };
    [at(0.25), at(0.5), at(0.75), values.len() as f64]
}

/// Writes `text` to a new file readable by the owner only.
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

/// A private temporary directory, removed on drop.
struct TempHome(PathBuf);

impl Drop for TempHome {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(rows: &[(&str, f64)]) -> Vec<Measured> {
        rows.iter()
            .map(|(t, m)| ((*t).to_owned(), Ok(*m)))
            .collect()
    }

    #[test]
    fn listing_keeps_only_benchmark_lines() {
        let out = "token bytes: 1\ndecode/typical/ours: benchmark\n\
                   decode_by_size/ours/1k: benchmark\n\nother\n";
        assert_eq!(
            parse_listing(out),
            ["decode/typical/ours", "decode_by_size/ours/1k"]
        );
    }

    #[test]
    fn reads_fresh_medians_from_criterion_results() {
        let dir = env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        let new = dir.join("decode_typical/ours/new");
        fs::create_dir_all(&new).unwrap();
        fs::write(
            new.join("benchmark.json"),
            r#"{"title":"decode/typical/ours"}"#,
        )
        .unwrap();
        let estimates = r#"{"mean":{"point_estimate":2.0},"median":{"point_estimate":700.5}}"#;
        fs::write(new.join("estimates.json"), estimates).unwrap();
        let titles = [
            "decode/typical/ours".to_owned(),
            "startup/auth_hot_path".to_owned(),
        ];
        let found = collect(&dir, &titles, SystemTime::UNIX_EPOCH);
        assert_eq!(found[0].1, Ok(700.5));
        assert!(
            found[1]
                .1
                .clone()
                .unwrap_err()
                .starts_with("no result under")
        );
        let later = SystemTime::now() + Duration::from_secs(60);
        let stale = collect(&dir, &titles, later).remove(0).1;
        assert!(stale.unwrap_err().contains("stale"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pairs_ours_with_the_peer() {
        let decode = results(&[
            ("decode/typical/ours", 700.0),
            ("decode/typical/jsonwebtoken", 1000.0),
            ("agent_identity_key/from_record", 5.0),
            ("decode_by_size/ours/1k", 1000.0),
            ("decode_by_size/jsonwebtoken/1k", 1500.0),
            ("decode_by_size/ours/8k", 8000.0),
        ]);
        assert_eq!(
            peer_pairs(&decode),
            [
                ("decode/typical".to_owned(), 700.0, 1000.0),
                ("decode_by_size/1k".to_owned(), 1000.0, 1500.0)
            ]
        );
    }

    #[test]
    fn report_shows_medians_ratio_and_process_timings() {
        let decode = results(&[
            ("decode/typical/ours", 1300.0),
            ("decode/typical/jsonwebtoken", 1000.0),
        ]);
        let mut startup = results(&[("startup/auth_hot_path", 19.4)]);
        startup.push((
            "startup/load_file_jwt_identity".to_owned(),
            Err("no result".to_owned()),
        ));
        let suites = [("decode", decode), ("startup", startup)];
        let process = Ok([[1.1, 1.2, 1.3, 100.0], [1.5, 1.6, 1.7, 100.0]]);
        let text = render(
            "Run on today.",
            &suites,
            &process,
            &["`x`: no result".to_owned()],
        );
        assert!(text.starts_with("Generated by `cargo xtask bench`"));
        assert!(
            text.contains("| `decode/typical` | 1.30 µs | 1.00 µs | 1.30x (target: NOT met) |")
        );
        assert!(text.contains("| `agent-login status --json` | 1.60 ms | 1.50 to 1.70 ms | 100 |"));
        assert!(text.contains("adds +0.40 ms (target: at most 2.00 ms, met)"));
        assert!(text.contains("| `startup/auth_hot_path` | 19.4 ns |"));
        assert!(text.contains("| `startup/load_file_jwt_identity` | missing |"));
        assert!(text.contains(
            "## Missing\n\nNot measured in this run (the command failed):\n\n- `x`: no result\n"
        ));
        let failed = render("", &suites, &Err("build failed".to_owned()), &[]);
        assert!(failed.contains("**Missing**: build failed."));
        assert!(!failed.contains("## Missing"));
    }

    #[test]
    fn quartiles_interpolate_between_ranks() {
        assert_eq!(quartiles(vec![4.0, 1.0, 3.0, 2.0]), [1.75, 2.5, 3.25, 4.0]);
        assert_eq!(quartiles(vec![7.0]), [7.0, 7.0, 7.0, 1.0]);
        assert!(quartiles(Vec::new())[1].is_nan());
    }

    #[test]
    fn formats_durations() {
        assert_eq!(ns(12.345), "12.3 ns");
        assert_eq!(ns(999.0), "999 ns");
        assert_eq!(ns(1234.0), "1.23 µs");
        assert_eq!(ns(45_600_000.0), "45.6 ms");
        assert_eq!(ns(2.5e9), "2.50 s");
    }
}
