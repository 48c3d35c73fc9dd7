//! `-v` logging to stderr. `RUST_LOG` (with `-v`) chooses what is logged,
//! except for the libraries that speak D-Bus to the keyring: they could
//! trace message bodies (secrets among them), so a separate per-layer filter
//! drops everything of theirs below WARN, whatever `RUST_LOG` says
//! (`RUST_LOG=zbus=trace` included: the two filters must both pass).
//!
//! Log lines carry values from input too (a path, a server's answer): the
//! writer escapes them like every other output ([`crate::terminal`]).

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, FilterFn, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, fmt};

/// Crates (log targets) capped at WARN.
const QUIET_CRATES: &[&str] = &[
    "zbus",
    "zbus_names",
    "zvariant",
    "secret_service",
    "keyring",
    "async_io",
    "async_executor",
    "polling",
];

/// Whether an event or span passes the D-Bus cap: anything outside
/// [`QUIET_CRATES`], and WARN or ERROR from them.
pub fn passes_dbus_cap(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::WARN || !is_quiet_target(metadata.target())
}

/// `target` is one of [`QUIET_CRATES`] or a module of one.
fn is_quiet_target(target: &str) -> bool {
    let crate_name = target.split("::").next().unwrap_or(target);
    QUIET_CRATES.contains(&crate_name)
}

fn dbus_cap() -> FilterFn<fn(&Metadata<'_>) -> bool> {
    filter_fn(passes_dbus_cap as fn(&Metadata<'_>) -> bool)
}

/// Installs the stderr logger: WARN without `-v`; with `-v`, `RUST_LOG`
/// or DEBUG (TRACE with `-vv`); the D-Bus cap always applies.
pub fn init(verbose: u8) {
    let base = match verbose {
        0 => "warn".to_owned(),
        1 => std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".to_owned()),
        _ => std::env::var("RUST_LOG").unwrap_or_else(|_| "trace".to_owned()),
    };
    let env_filter = EnvFilter::try_new(base).unwrap_or_else(|_| EnvFilter::new("warn"));
    let layer = fmt::layer()
        .with_writer(|| EscapingStderr)
        .with_ansi(false)
        .with_filter(env_filter.and(dbus_cap()));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Stderr, with every unsafe character but the line break escaped. The
/// formatter writes one event per call, so a character is never split.
struct EscapingStderr;

impl std::io::Write for EscapingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let escaped: Vec<String> = text
            .split('\n')
            .map(|line| crate::terminal::escape(line).into_owned())
            .collect();
        std::io::stderr().write_all(escaped.join("\n").as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use tracing::subscriber::with_default;
    use tracing_subscriber::filter::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Records the targets and levels of the events that get through.
    #[derive(Clone, Default)]
    struct Seen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let metadata = event.metadata();
            if let Ok(mut seen) = self.0.lock() {
                seen.push(format!("{} {}", metadata.target(), metadata.level()));
            }
        }
    }

    #[test]
    fn rust_log_trace_cannot_lift_the_dbus_cap() {
        for rust_log in ["trace", "zbus=trace,secret_service=trace,keyring=trace"] {
            let seen = Seen::default();
            let env_filter = EnvFilter::new(rust_log);
            let subscriber = tracing_subscriber::registry()
                .with(seen.clone().with_filter(env_filter.and(dbus_cap())));
            with_default(subscriber, || {
                tracing::trace!(target: "zbus::connection", "message body");
                tracing::debug!(target: "secret_service", "secret");
                tracing::info!(target: "keyring::linux", "entry");
                tracing::warn!(target: "zbus", "a warning passes");
                tracing::trace!(target: "login_cli", "ours passes");
                tracing::trace!(target: "my_zbus", "another crate is not capped");
            });
            let seen = seen.0.lock().unwrap().clone();
            let ours: Vec<&str> = if rust_log == "trace" {
                vec!["zbus WARN", "login_cli TRACE", "my_zbus TRACE"]
            } else {
                vec!["zbus WARN"]
            };
            assert_eq!(seen, ours, "RUST_LOG={rust_log}");
        }
    }

    #[test]
    fn the_cap_passes_warnings_and_other_targets() {
        assert!(is_quiet_target("zbus"));
        assert!(is_quiet_target("zvariant::dbus"));
        assert!(!is_quiet_target("core_auth::manager"));
    }
}
