#!/usr/bin/env bash
# Run a command inside a private, throwaway Secret Service session.
#
# Usage: scripts/with-secret-service.sh CMD [ARGS...]
#
# Starts a private D-Bus session bus (dbus-run-session) with a fresh,
# unlocked gnome-keyring "login" collection whose files live in a temporary
# directory, and a fresh Linux kernel session keyring (when one is missing).
# CMD sees LOGIN_TEST_SECRET_SERVICE=1. Nothing touches the caller's real
# keyring, HOME or bus. Works headless (no X11, no systemd), also as root.
#
# Exit status: CMD's exit status, or 2 when the session cannot be set up.

set -euo pipefail

readonly GUARD=LOGIN_WITH_SECRET_SERVICE_INNER
readonly READY_TIMEOUT_TENTHS=100 # 10 s

log() { printf 'with-secret-service: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}

if [[ $# -eq 0 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

# Already inside a private session (nested call from CMD): just run CMD.
if [[ "${!GUARD:-}" == active ]]; then
  exec "$@"
fi

# Stage 1 (outside): fresh temp dirs, then run this script again under a
# private session bus. Run as a child (not exec) so the temp dir is removed.
if [[ "${!GUARD:-}" != starting ]]; then
  for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "'$tool' not found (install: gnome-keyring dbus dbus-x11 libsecret-tools keyutils)"
  done

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/secret-service.XXXXXX")
  trap 'rm -rf -- "$tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -m 0700 "$tmp/runtime" "$tmp/data" "$tmp/home"
  export XDG_RUNTIME_DIR="$tmp/runtime" XDG_DATA_HOME="$tmp/data" HOME="$tmp/home"
  export "$GUARD=starting"
  # Never talk to the caller's bus or keyring daemon.
  unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL

  status=0
  dbus-run-session -- bash "$0" "$@" || status=$?
  exit "$status"
fi

# Stage 2 (inside the private bus): start and verify gnome-keyring.
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Asks the bus itself, so this never D-Bus-activates a second (locked) daemon.
secrets_on_bus() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q true
}

secret_service() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets "$@"
}

# --unlock reads the login keyring password from stdin (until EOF); the
# login collection is created with that password and left unlocked.
# --foreground gives us its PID so we can stop exactly this daemon.
daemon_out="$XDG_RUNTIME_DIR/gnome-keyring.out"
printf '%s' "throwaway-test-password" |
  gnome-keyring-daemon --foreground --unlock --components=secrets >"$daemon_out" &
daemon_pid=$!

tries=0
until secrets_on_bus; do
  kill -0 "$daemon_pid" 2>/dev/null || die "gnome-keyring-daemon exited early"
  tries=$((tries + 1))
  ((tries < READY_TIMEOUT_TENTHS)) || die "Secret Service did not appear on the bus within 10 s"
  sleep 0.1
done

# Export GNOME_KEYRING_CONTROL etc. if the daemon printed any (it usually
# does not with --foreground). Only accept plain NAME=value lines.
while IFS= read -r line; do
  if [[ "$line" =~ ^(GNOME_KEYRING_[A-Z_]+|SSH_AUTH_SOCK)=(.*)$ ]]; then
    export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  fi
done <"$daemon_out"

# The default alias must point at an existing, unlocked collection.
default=$(secret_service /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.ReadAlias string:default) ||
  die "ReadAlias(default) failed"
default=$(echo "$default" | tr -d '[:space:]')
[[ "$default" == /org/freedesktop/secrets/collection/* ]] ||
  die "no default collection (ReadAlias returned '$default')"
locked=$(secret_service "$default" org.freedesktop.DBus.Properties.Get \
  string:org.freedesktop.Secret.Collection string:Locked) ||
  die "cannot read Locked of $default"
[[ "$locked" == *false* ]] || die "default collection $default is locked"

# End-to-end round trip through libsecret, when secret-tool is installed.
if command -v secret-tool >/dev/null 2>&1; then
  printf 'probe' | secret-tool store --label=with-secret-service-probe \
    with-secret-service probe || die "secret-tool store failed"
  got=$(secret-tool lookup with-secret-service probe) || die "secret-tool lookup failed"
  [[ "$got" == probe ]] || die "secret-tool lookup returned '$got'"
  secret-tool clear with-secret-service probe || die "secret-tool clear failed"
fi

export LOGIN_TEST_SECRET_SERVICE=1
export "$GUARD=active"

# Without its own session keyring a process falls back to the shared
# "_uid_ses" keyring, and `keyctl add ... @s` then silently creates a
# keyring per process, so keys do not carry over between processes. Give
# CMD a fresh anonymous session keyring in that case (if keyctl works).
status=0
if command -v keyctl >/dev/null 2>&1 &&
  ! keyctl rdescribe @s 2>/dev/null | grep -q ';_ses$' &&
  keyctl session - true 2>/dev/null; then
  # keyctl prints "Joined session keyring: N" on stderr; hide only that.
  keyctl session - bash -c 'exec 2>&3 3>&-; exec "$@"' bash "$@" 3>&2 2>/dev/null ||
    status=$?
else
  "$@" || status=$?
fi
exit "$status"
