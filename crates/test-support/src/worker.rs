//! Multi-process tests: the running test binary started again to run one
//! worker test, with the environment that tells it what to do.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts this test binary again running only the test `test` (its full
/// path, such as `registration_race::registration_worker`), with `envs`
/// set, no stdin, stdout discarded and stderr written to `stderr`.
pub fn spawn_worker(test: &str, envs: &[(&str, &OsStr)], stderr: &Path) -> Child {
    let stderr = std::fs::File::create(stderr).unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    for (name, value) in envs {
        command.env(name, value);
    }
    command.spawn().unwrap()
}
