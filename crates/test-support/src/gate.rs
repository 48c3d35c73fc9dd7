//! Whether the real Secret Service tests may run, for the test binaries of
//! login-storage, core-auth and login-cli.

/// `LOGIN_TEST_SECRET_SERVICE=1` is set by `scripts/with-secret-service.sh`
/// (which `cargo xtask test` uses). Under `CI=true` a missing session is a
/// failure; elsewhere the test prints why it skips.
pub fn secret_service_available(test: &str) -> bool {
    if std::env::var("LOGIN_TEST_SECRET_SERVICE").is_ok_and(|value| value == "1") {
        return true;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|value| value == "true"),
        "{test}: CI=true but LOGIN_TEST_SECRET_SERVICE is not set: run the tests through \
         `cargo xtask test` (scripts/with-secret-service.sh) so the real keyring tests run"
    );
    print_skip(
        test,
        "no private Secret Service session (LOGIN_TEST_SECRET_SERVICE unset); run `cargo xtask test` \
         or `bash scripts/with-secret-service.sh cargo test`",
    );
    false
}

/// Prints `SKIP test: reason` straight to stderr: `eprintln!` would be
/// captured, and hidden, by the test harness for a passing test. Under
/// `CI=true` a skip is a failure instead: CI installs everything the tests
/// need (see `.ci/run`), so a skip there means a check did not run.
pub fn print_skip(test: &str, reason: &str) {
    assert!(
        !std::env::var("CI").is_ok_and(|value| value == "true"),
        "{test}: would skip under CI=true, which is a failure: {reason}"
    );
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {reason}");
}
