//! Process-level cost of `agent-login status --json` against
//! `agent-login --version`: both run as fresh processes, alternately, so
//! they share the machine's noise; the difference of the medians is what
//! resolving auth from a file-stored JWT identity adds to a process start.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::json::Json;
use super::stats::Summary;
use crate::cmd::Cmd;

/// Variables cleared for every `agent-login` run, so that the identity in
/// the temporary home is what `status` resolves.
pub const CLEARED_VARS: [&str; 4] = [
    "CODEX_API_KEY",
    "CODEX_AGENT_IDENTITY",
    "CODEX_AUTH_STORE",
    "RUST_LOG",
];

/// Unmeasured runs of each command before the measured ones.
pub const WARMUP_RUNS: usize = 5;

/// The target: `status --json` costs at most this many ms more than
/// `--version` (difference of medians).
pub const TARGET_EXTRA_MS: f64 = 2.0;

/// The two timed command lines, `--version` first.
pub const COMMANDS: [&[&str]; 2] = [&["--version"], &["status", "--json"]];

/// Wall-clock times, in milliseconds, of the two commands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// `agent-login --version`.
    pub version: Summary,
    /// `agent-login status --json`.
    pub status: Summary,
}

impl Comparison {
    /// Median of `status` minus median of `--version`, in ms.
    pub fn extra_ms(&self) -> f64 {
        self.status.median - self.version.median
    }

    /// Median of `status` over median of `--version`.
    pub fn ratio(&self) -> f64 {
        self.status.median / self.version.median
    }

    /// Whether the extra cost is within [`TARGET_EXTRA_MS`].
    pub fn meets_target(&self) -> bool {
        self.extra_ms() <= TARGET_EXTRA_MS
    }
}

/// Builds `agent-login` in release, sets up a home holding a freshly minted
/// JWT identity, and times `runs` runs of each command after
/// [`WARMUP_RUNS`] warm-up runs. Errors say why nothing was measured.
pub fn compare(root: &Path, target_dir: &Path, runs: usize) -> Result<Comparison, String> {
    Cmd::cargo()
        .args(["build", "--release", "-p", "login-cli"])
        .current_dir(root)
        .run()
        .map_err(|e| e.to_string())?;
    let bin = target_dir
        .join("release")
        .join(format!("agent-login{}", env::consts::EXE_SUFFIX));
    let home = TempHome::create().map_err(|e| format!("cannot create a temporary home: {e}"))?;
    let jwt = mint(&bin, home.path())?;
    write_auth_json(home.path(), &jwt)
        .map_err(|e| format!("cannot write auth.json in the temporary home: {e}"))?;
    check_status(&bin, home.path())?;
    eprintln!(
        "xtask: timing `agent-login --version` and `agent-login status --json`, \
         {WARMUP_RUNS} warm-up + {runs} runs each, interleaved"
    );
    time_interleaved(&bin, home.path(), runs)
}

/// `agent-login` with `CODEX_HOME=home`, the [`CLEARED_VARS`] removed and
/// stdin closed.
fn agent_login(bin: &Path, home: &Path) -> Command {
    let mut command = Command::new(bin);
    command.env("CODEX_HOME", home).stdin(Stdio::null());
    for var in CLEARED_VARS {
        command.env_remove(var);
    }
    command
}

/// Mints an agent identity JWT with the binary itself. The JWT holds a
/// private key, so it never appears in a message.
fn mint(bin: &Path, home: &Path) -> Result<String, String> {
    let args = [
        "identity",
        "mint",
        "--workspace-id",
        "ws-bench",
        "--agent-runtime-id",
        "rt-bench",
    ];
    let shown = format!("agent-login {}", args.join(" "));
    eprintln!("$ {shown}");
    let output = agent_login(bin, home)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run `{shown}` ({}): {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!("`{shown}` failed ({})", output.status));
    }
    let jwt = String::from_utf8(output.stdout).unwrap_or_default();
    let jwt = jwt.trim();
    if !is_jwt_shaped(jwt) {
        return Err(format!("`{shown}` did not print a compact JWT"));
    }
    Ok(jwt.to_owned())
}

/// Three non-empty base64url segments separated by dots; such a string
/// needs no escaping inside a JSON string.
fn is_jwt_shaped(s: &str) -> bool {
    let segments: Vec<&str> = s.split('.').collect();
    segments.len() == 3
        && segments.iter().all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Writes the startup-only `auth.json` `{"agent_identity": "<jwt>"}`,
/// readable by the owner only.
fn write_auth_json(home: &Path, jwt: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(home.join("auth.json"))?;
    io::Write::write_all(
        &mut file,
        format!("{{\"agent_identity\": \"{jwt}\"}}\n").as_bytes(),
    )
}

/// `status --json` exits 0 and reports the file-stored agent identity.
fn check_status(bin: &Path, home: &Path) -> Result<(), String> {
    eprintln!("$ CODEX_HOME={} agent-login status --json", home.display());
    let output = agent_login(bin, home)
        .args(COMMANDS[1])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run `agent-login status --json`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`agent-login status --json` failed ({}) on a home holding a JWT identity",
            output.status
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let json = Json::parse(&text)
        .map_err(|e| format!("`agent-login status --json` printed invalid JSON: {e}"))?;
    let mode = json.string(&["mode"]);
    let source = json.string(&["source"]);
    if mode != Some("agentIdentity") || source != Some("file") {
        return Err(format!(
            "`agent-login status --json` reported mode {mode:?} and source {source:?}, \
             expected \"agentIdentity\" and \"file\""
        ));
    }
    Ok(())
}

/// Alternates the two commands, swapping which goes first every round.
fn time_interleaved(bin: &Path, home: &Path, runs: usize) -> Result<Comparison, String> {
    let mut times: [Vec<f64>; 2] = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    for round in 0..WARMUP_RUNS + runs {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let ms = time_once(bin, home, COMMANDS[which])?;
            if round >= WARMUP_RUNS {
                times[which].push(ms);
            }
        }
    }
    let [version, status] = times;
    let summarize = |ms: &[f64]| Summary::of(ms).ok_or_else(|| "no runs were measured".to_owned());
    Ok(Comparison {
        version: summarize(&version)?,
        status: summarize(&status)?,
    })
}

/// Wall-clock milliseconds of one run, from spawn to exit; the run must
/// succeed.
fn time_once(bin: &Path, home: &Path, args: &[&str]) -> Result<f64, String> {
    let mut command = agent_login(bin, home);
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = command.status();
    let elapsed = start.elapsed();
    let shown = format!("agent-login {}", args.join(" "));
    let status = status.map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if !status.success() {
        return Err(format!("`{shown}` failed ({status}) during timing"));
    }
    Ok(elapsed.as_secs_f64() * 1000.0)
}

/// A private temporary directory, removed on drop.
struct TempHome(PathBuf);

impl TempHome {
    fn create() -> io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = env::temp_dir().join(format!("xtask-bench-{}-{nanos}", process::id()));
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_compact_jwts() {
        assert!(is_jwt_shaped("eyJh.eyJw-_9.c2ln"));
        for bad in [
            "", "a.b", "a.b.c.d", "a..c", "a.b\".c", "a.b c.d", "a.b.c\n",
        ] {
            assert!(!is_jwt_shaped(bad), "{bad:?}");
        }
    }

    #[test]
    fn compares_medians() {
        let ms = |median: f64| Summary {
            count: 3,
            min: median - 1.0,
            p25: median - 0.5,
            median,
            p75: median + 0.5,
            max: median + 1.0,
        };
        let within = Comparison {
            version: ms(2.0),
            status: ms(3.5),
        };
        assert_eq!(within.extra_ms(), 1.5);
        assert_eq!(within.ratio(), 1.75);
        assert!(within.meets_target());
        let over = Comparison {
            version: ms(2.0),
            status: ms(4.5),
        };
        assert!(!over.meets_target());
    }
}
