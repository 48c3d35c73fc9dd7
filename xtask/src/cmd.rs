//! Running external commands: echo each one to stderr, run it, and turn a
//! failure into an [`Error`] that carries the exit code xtask should use.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Why a task failed.
#[derive(Debug)]
pub enum Error {
    /// A command ran and failed; xtask exits with the same code.
    Failed {
        /// The command as it was echoed.
        command: String,
        /// Its exit code (128 + signal number if it was killed).
        code: i32,
    },
    /// Bad command line; xtask prints usage and exits with 2.
    Usage(String),
    /// Anything else (missing tool, spawn failure); xtask exits with 1.
    Other(String),
}

impl Error {
    /// The process exit code that reports this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Failed { code, .. } => *code,
            Self::Usage(_) => 2,
            Self::Other(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { command, code } => write!(f, "`{command}` failed (exit code {code})"),
            Self::Usage(msg) | Self::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a task.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// A command to run, echoed as `$ NAME=value program args...` before it runs.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    /// Short name shown in the echo (`cargo` rather than its full path).
    shown: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    dir: Option<PathBuf>,
}

impl Cmd {
    /// A command running `program`, echoed as `shown`.
    pub fn new(program: impl Into<OsString>, shown: &str) -> Self {
        Self {
            program: program.into(),
            shown: shown.to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: None,
        }
    }

    /// The cargo that runs us (`$CARGO`, else the one that built us).
    pub fn cargo() -> Self {
        Self::new(cargo_program(), "cargo")
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the command.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the command in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Echoes and runs the command with inherited stdio; fails unless it
    /// exits successfully.
    pub fn run(&self) -> Result {
        eprintln!("$ {self}");
        let status = self.command().status();
        self.check(status.map_err(|e| Error::Other(format!("cannot run `{self}`: {e}")))?)
    }

    /// Echoes and runs a `cargo test` command, passing its output through
    /// line by line: libtest's `test result:` lines (stdout) and the
    /// `SKIP <test>: <reason>` lines tests print (stderr) go into `tally`.
    pub fn run_tallied(&self, tally: &mut TestTally) -> Result {
        use std::io::IsTerminal as _;
        eprintln!("$ {self}");
        let mut command = self.command();
        // Keep cargo's colors although its stderr is now a pipe.
        if std::io::stderr().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            command.env("CARGO_TERM_COLOR", "always");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Other(format!("cannot run `{self}`: {e}")))?;
        let stderr = child.stderr.take();
        let skips = std::thread::spawn(move || {
            let mut skips = TestTally::default();
            if let Some(stderr) = stderr {
                pump(stderr, std::io::stderr(), |line| {
                    skips.add_stderr_line(line)
                });
            }
            skips.skipped
        });
        if let Some(stdout) = child.stdout.take() {
            pump(stdout, std::io::stdout().lock(), |line| {
                tally.add_line(line)
            });
        }
        tally.skipped += skips.join().unwrap_or_default();
        let status = child
            .wait()
            .map_err(|e| Error::Other(format!("cannot wait for `{self}`: {e}")))?;
        self.check(status)
    }

    /// Echoes and runs the command, returning its stdout (stderr inherited).
    pub fn read_stdout(&self) -> Result<String> {
        eprintln!("$ {self}");
        let output = self
            .command()
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Error::Other(format!("cannot run `{self}`: {e}")))?;
        self.check(output.status)?;
        String::from_utf8(output.stdout)
            .map_err(|_| Error::Other(format!("`{self}` printed non-UTF-8 output")))
    }

    /// Runs the command silently (no echo, no output) and reports whether it
    /// succeeded. For probing whether a tool is installed.
    pub fn succeeds_quietly(&self) -> bool {
        let mut command = self.command();
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command.status().is_ok_and(|s| s.success())
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    fn check(&self, status: ExitStatus) -> Result {
        if status.success() {
            return Ok(());
        }
        Err(Error::Failed {
            command: self.to_string(),
            code: exit_code(status),
        })
    }
}

/// The path of the cargo that runs us (`$CARGO`, else the one that built
/// us), for commands that run cargo through a wrapper script.
pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")))
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{}={} ", key.to_string_lossy(), quote(value))?;
        }
        f.write_str(&self.shown)?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// Test counts summed over `cargo test` runs, from libtest's
/// `test result: ok. 3 passed; 0 failed; 1 ignored; ...` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestTally {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests skipped as `#[ignore]`d.
    pub ignored: u64,
    /// `SKIP <test>: <reason>` lines on stderr: tests that returned early
    /// (libtest counted them as passed).
    pub skipped: u64,
}

impl TestTally {
    /// Adds the counts of one line, if it is a libtest summary.
    pub fn add_line(&mut self, line: &str) {
        let Some(counts) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in counts.split(';') {
            let mut words = part.split_whitespace().rev();
            let label = words.next();
            match (words.next().and_then(|n| n.parse::<u64>().ok()), label) {
                (Some(n), Some("passed")) => self.passed += n,
                (Some(n), Some("failed")) => self.failed += n,
                (Some(n), Some("ignored")) => self.ignored += n,
                _ => {}
            }
        }
    }

    /// Counts a line of a test's stderr if it is `SKIP <test>: <reason>`.
    pub fn add_stderr_line(&mut self, line: &str) {
        self.skipped += u64::from(line.starts_with("SKIP "));
    }

    /// Adds a run of the `#[ignore]`d tests, which the earlier runs counted
    /// as ignored.
    pub fn add_ignored_run(&mut self, run: Self) {
        self.passed += run.passed;
        self.failed += run.failed;
        self.ignored = self.ignored.saturating_sub(run.passed + run.failed);
        self.skipped += run.skipped;
    }

    /// `totals: N passed, N failed, N skipped`: a test that printed `SKIP`
    /// counts as skipped, not passed.
    pub fn totals(&self) -> String {
        let skipped = self.skipped.min(self.passed);
        format!(
            "totals: {} passed, {} failed, {} skipped",
            self.passed - skipped,
            self.failed,
            self.ignored + skipped
        )
    }
}

/// Copies `from` to `to` line by line, handing each line (lossy UTF-8,
/// without its line break) to `inspect`. A closed `to` does not stop the
/// copy: the child must never block on a full pipe.
fn pump(from: impl std::io::Read, mut to: impl std::io::Write, mut inspect: impl FnMut(&str)) {
    use std::io::BufRead as _;
    let mut reader = std::io::BufReader::new(from);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        inspect(String::from_utf8_lossy(&line).trim_end());
        let _ = to.write_all(&line);
        line.clear();
    }
    let _ = to.flush();
}

/// Quotes `s` for display if a shell would need it.
fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(unix)]
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|sig| 128 + sig))
        .unwrap_or(1)
}

#[cfg(not(unix))]
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_when_needed() {
        let cmd = Cmd::new("/usr/bin/cargo", "cargo")
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "a b", "--", "-max_total_time=30", "it's"]);
        assert_eq!(
            cmd.to_string(),
            r"RUSTC_BOOTSTRAP=1 cargo fuzz run 'a b' -- -max_total_time=30 'it'\''s'"
        );
    }

    #[test]
    fn tally_sums_libtest_summaries_and_ignores_other_lines() {
        let mut tally = TestTally::default();
        tally.add_line("test result: ok. 76 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 3.50s");
        tally.add_line(
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 5 filtered out",
        );
        tally.add_line("test foo ... ok");
        tally.add_line("running 12 tests");
        assert_eq!((tally.passed, tally.failed, tally.ignored), (79, 1, 2));
    }

    #[test]
    fn totals_count_skips_as_skipped() {
        let mut tally = TestTally::default();
        tally.add_line("test result: ok. 10 passed; 0 failed; 3 ignored; 0 measured");
        tally.skipped = 2;
        let mut slow = TestTally::default();
        slow.add_line("test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured");
        slow.skipped = 1;
        tally.add_ignored_run(slow);
        assert_eq!(tally.totals(), "totals: 10 passed, 0 failed, 3 skipped");
    }

    #[test]
    fn pump_passes_lines_through_and_counts_skips() {
        let stderr = b"   Compiling x\nSKIP a: no session\nnote: SKIP b\n\xff\nSKIP c: x";
        let mut copy = Vec::new();
        let mut tally = TestTally::default();
        pump(&stderr[..], &mut copy, |line| tally.add_stderr_line(line));
        assert_eq!(copy, stderr);
        assert_eq!(tally.skipped, 2);
    }

    #[cfg(unix)]
    #[test]
    fn failure_carries_exit_code() {
        let err = Cmd::new("sh", "sh").args(["-c", "exit 7"]).run();
        assert_eq!(err.map_err(|e| e.exit_code()), Err(7));
    }
}
