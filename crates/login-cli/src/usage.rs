//! Usage errors, rendered here instead of by clap: clap's messages quote
//! the offending argument whole, and an argument may be a token pasted
//! where a path or a flag belongs. Here an argument is named by its
//! position and quoted only when it is short and does not look like a
//! token ([`terminal::describe_argument`]), escaped either way. `--help`
//! and `--version` stay clap's.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::terminal;

/// Exit code of a usage error (clap's too).
const USAGE: u8 = 2;

/// Prints `error` (and, with `--json`, a JSON error on stdout) and returns
/// the exit code; help and version are printed by clap, which exits.
pub fn report(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let arguments: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    let message = message(error, &arguments);
    eprintln!(
        "agent-login: {message}\nRun `agent-login --help` (or `agent-login COMMAND --help`) for usage."
    );
    if arguments.iter().any(|argument| argument == "--json") {
        println!("{}", to_json(error, &message));
    }
    ExitCode::from(USAGE)
}

/// The JSON error: the message, and the names (ours, from the
/// definition) of the arguments that are `missing` or `conflicting`, so a
/// program need not parse the message.
fn to_json(error: &clap::Error, message: &str) -> serde_json::Value {
    let (missing, conflicting) = match error.kind() {
        ErrorKind::MissingRequiredArgument => (
            expand_groups(context(error, ContextKind::InvalidArg)),
            Vec::new(),
        ),
        ErrorKind::ArgumentConflict => {
            let mut conflicting = context(error, ContextKind::InvalidArg);
            conflicting.extend(context(error, ContextKind::PriorArg));
            (Vec::new(), conflicting)
        }
        _ => (Vec::new(), Vec::new()),
    };
    serde_json::json!({
        "schema_version": crate::SCHEMA_VERSION,
        "error": {
            "kind": "usage",
            "message": message,
            "missing": missing,
            "conflicting": conflicting,
        },
    })
}

/// The one-line message for `error`; `arguments` are the command line's,
/// to name an offending one by position.
fn message(error: &clap::Error, arguments: &[String]) -> String {
    let invalid_arg = context(error, ContextKind::InvalidArg);
    match error.kind() {
        ErrorKind::UnknownArgument => {
            let named = invalid_arg.first().map_or_else(String::new, |argument| {
                format!(" {}", positioned(argument, arguments))
            });
            format!("unexpected argument{named}{}", suggestion(error))
        }
        ErrorKind::InvalidSubcommand => {
            let named = context(error, ContextKind::InvalidSubcommand)
                .first()
                .map_or_else(String::new, |argument| {
                    format!(" {}", positioned(argument, arguments))
                });
            format!("unrecognized command{named}{}", suggestion(error))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(error, ContextKind::InvalidValue)
                .first()
                .map_or_else(String::new, |value| {
                    format!(" {}", positioned(value, arguments))
                });
            let valid = context(error, ContextKind::ValidValue);
            let expected = if valid.is_empty() {
                String::new()
            } else {
                format!("; expected one of: {}", names(&valid))
            };
            format!("invalid value{value} for {}{expected}", names(&invalid_arg))
        }
        ErrorKind::ArgumentConflict => format!(
            "the argument {} cannot be used with {}",
            names(&invalid_arg),
            names(&context(error, ContextKind::PriorArg))
        ),
        ErrorKind::MissingRequiredArgument => {
            let missing = invalid_arg.iter().map(|name| {
                let members = expand_groups(vec![name.clone()]);
                if members.len() > 1 {
                    format!("one of {}", names(&members))
                } else {
                    names(&members)
                }
            });
            format!(
                "the following required arguments were not provided: {}",
                missing.collect::<Vec<_>>().join(", ")
            )
        }
        ErrorKind::MissingSubcommand => "a command is required".to_owned(),
        kind => {
            let named = if invalid_arg.is_empty() {
                String::new()
            } else {
                format!(" ({})", names(&invalid_arg))
            };
            format!("{kind}{named}")
        }
    }
}

/// A required group (`<--a|--b|--c <PATH>>`) as its members.
fn expand_groups(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .flat_map(|name| {
            match name
                .strip_prefix('<')
                .and_then(|inner| inner.strip_suffix('>'))
            {
                Some(inner) if inner.contains('|') => inner.split('|').map(str::to_owned).collect(),
                _ => vec![name],
            }
        })
        .collect()
}

/// The texts clap recorded under `kind`.
fn context(error: &clap::Error, kind: ContextKind) -> Vec<String> {
    match error.get(kind) {
        Some(ContextValue::String(text)) => vec![text.clone()],
        Some(ContextValue::Strings(texts)) => texts.clone(),
        Some(ContextValue::StyledStr(text)) => vec![text.to_string()],
        Some(ContextValue::StyledStrs(texts)) => texts.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Argument names (ours, from the definition), quoted and escaped.
fn names(names: &[String]) -> String {
    names
        .iter()
        .map(|name| terminal::quote(name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// clap's "did you mean" for an unknown argument or command: a name of
/// ours, never the user's text.
fn suggestion(error: &clap::Error) -> String {
    let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand]
        .into_iter()
        .flat_map(|kind| context(error, kind))
        .collect::<Vec<_>>();
    if suggested.is_empty() {
        return String::new();
    }
    format!(" (did you mean {}?)", names(&suggested))
}

/// A user's argument: "#3 `--bogus`", or for a token-like one
/// "#3: a 1,234-character argument; did you pass a token ...".
fn positioned(argument: &str, arguments: &[String]) -> String {
    let described = terminal::describe_argument(argument);
    let separator = if terminal::is_token_like(argument) {
        ": "
    } else {
        " "
    };
    match arguments.iter().position(|given| given == argument) {
        Some(index) => format!("#{}{separator}{described}", index + 1),
        None => described,
    }
}
