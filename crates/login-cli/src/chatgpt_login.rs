//! `login --chatgpt` and `login --device-auth`: signing in with ChatGPT
//! through `auth-http`'s [`BrowserLogin`] and [`DeviceLogin`]. This module
//! only talks to the person at the terminal (everything on stderr) and
//! turns Ctrl-C into a cancel; the tokens it returns are stored by the
//! caller through the ordinary login path.

use std::time::Duration;

use auth_http::{
    BrowserLogin, CancelToken, DEFAULT_BROWSER_TIMEOUT, DEFAULT_CALLBACK_PORT,
    DEFAULT_DEVICE_TIMEOUT, DeviceLogin, LoginConfig, LoginError,
};
use core_auth::{EnvSource, TokenData};
use login_agent_identity::ExposeSecret as _;

use crate::cli::LoginArgs;
use crate::error::{CliError, ErrorKind};
use crate::terminal;

/// Which flow ran, as `--json` names it.
pub fn flow_name(args: &LoginArgs) -> &'static str {
    if args.device_auth {
        "device"
    } else {
        "browser"
    }
}

/// Runs the flow `args` ask for and returns its tokens (nothing stored).
pub async fn run(args: &LoginArgs, env: &dyn EnvSource) -> Result<TokenData, CliError> {
    let config = LoginConfig::from_env(env, args.issuer.as_deref())?;
    if args.device_auth {
        let timeout = args
            .timeout
            .map_or(DEFAULT_DEVICE_TIMEOUT, Duration::from_secs);
        let login = tokio::task::spawn_blocking(move || DeviceLogin::start(config))
            .await
            .map_err(|error| CliError::new(ErrorKind::Login, error.to_string()))??;
        eprintln!("To sign in with ChatGPT on this machine:");
        eprintln!(
            "  1. Open {} in a browser, on any device",
            terminal::escape(login.verification_url())
        );
        eprintln!(
            "  2. Enter the code {}",
            terminal::escape(login.user_code().expose_secret())
        );
        eprintln!(
            "Never share this code, and enter it only on that page, opened yourself: device codes are a favorite of phishing, and whoever enters it signs this machine in to their account."
        );
        let waiting = format!("Waiting up to {}; Ctrl-C cancels.", minutes(timeout));
        return wait(&waiting, move |cancel| login.wait(timeout, cancel)).await;
    }
    let timeout = args
        .timeout
        .map_or(DEFAULT_BROWSER_TIMEOUT, Duration::from_secs);
    let port = args.port.unwrap_or(DEFAULT_CALLBACK_PORT);
    let login = BrowserLogin::start(config, port)?;
    eprintln!("Sign in with ChatGPT: open this URL in a browser on this machine:");
    eprintln!("{}", terminal::escape(login.authorize_url()));
    if !args.no_browser && !open_browser(login.authorize_url()) {
        eprintln!("(No browser could be opened here; open the URL above yourself.)");
    }
    let waiting = format!(
        "Waiting up to {} for the browser on 127.0.0.1:{}; Ctrl-C cancels.",
        minutes(timeout),
        login.port()
    );
    wait(&waiting, move |cancel| login.wait(timeout, cancel)).await
}

/// Prints `waiting` once Ctrl-C is caught, then runs `login` on the
/// blocking pool until it ends or Ctrl-C cancels it (then waits for it to
/// notice, within a fraction of a second).
async fn wait<F>(waiting: &str, login: F) -> Result<TokenData, CliError>
where
    F: FnOnce(&CancelToken) -> Result<TokenData, LoginError> + Send + 'static,
{
    let interrupted = interrupted();
    eprintln!("{waiting}");
    let cancel = CancelToken::new();
    let mut task = tokio::task::spawn_blocking({
        let cancel = cancel.clone();
        move || login(&cancel)
    });
    let result = tokio::select! {
        result = &mut task => result,
        () = interrupted => {
            cancel.cancel();
            task.await
        }
    };
    let result = result.map_err(|error| CliError::new(ErrorKind::Login, error.to_string()))?;
    Ok(result?)
}

/// Resolves on Ctrl-C. On Unix the handler is installed before this
/// returns (so "Ctrl-C cancels" is true once printed); where none can be
/// installed, never resolves, and Ctrl-C ends the process the default way,
/// which writes nothing either.
#[cfg(unix)]
fn interrupted() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let stream = signal(SignalKind::interrupt());
    async move {
        match stream {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

/// Resolves on Ctrl-C (never, when no handler can be installed).
#[cfg(not(unix))]
fn interrupted() -> impl std::future::Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Opens `url` in a graphical browser, if this session has a display: on
/// a headless Linux machine `xdg-open` may start a text browser inside
/// this very terminal. Whether one was started.
fn open_browser(url: &str) -> bool {
    let graphical = !cfg!(all(unix, not(target_os = "macos")))
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
    if !graphical {
        return false;
    }
    match open::that_detached(url) {
        Ok(()) => true,
        Err(error) => {
            tracing::debug!(%error, "no browser opened");
            false
        }
    }
}

/// `10 minutes`, `1 minute`, `45 seconds`.
fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        60 => "1 minute".to_owned(),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".to_owned(),
        s => format!("{s} seconds"),
    }
}
