#!/usr/bin/env bash
# Interop test: Debian's Postfix as the receiving MX for omnigate's email,
# and Debian's dkimpy as the independent DKIM verifier.
#
# Installs postfix and python3-dkim when missing (Debian packages, no
# prompts, "No configuration": the system's own instance on port 25 is
# never configured nor started), builds omnigate and the test program
# (interop/postfix/main.go), and runs it: a private Postfix instance in a
# temporary directory on a free loopback port (its own main.cf, master.cf,
# queue, maildir and log; no DNS), the test's own DNS zone on loopback,
# omnigate serve with its inbound listener, five emails through
# POST /v1/send, and the checks (see main.go's doc comment). Everything
# stops by itself; the work directory is removed.
#
# Usage: interop/postfix/run.sh [--postfix-only] [--retry-wait 3m]   (from anywhere; root or sudo to install)
# --postfix-only runs the self-check of the Postfix side alone.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STARTED=$SECONDS

INTEROP_NAME=postfix
# shellcheck source=../common.sh
source "$HERE/../common.sh"
TEST_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    # The program stops Postfix and omnigate on SIGTERM's way out.
    stop_proc "$TEST_PID" "the test program"
  fi
  # A safety net: the private instance's master is a daemon.
  if [[ -f "$WORK/postfix/queue/pid/master.pid" ]]; then
    /usr/sbin/postfix -c "$WORK/postfix/conf" stop >/dev/null 2>&1 || true
  fi
  if (( rc != 0 )) && [[ -f "$WORK/serve.log" ]]; then
    log "omnigate log (last 30 lines):"
    tail -n 30 "$WORK/serve.log" >&2 || true
  fi
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Postfix and dkimpy from Debian.
need=()
[[ -x /usr/sbin/postfix && -x /usr/sbin/smtp-sink ]] || need+=(postfix)
/usr/bin/python3 -c 'import dkim' 2>/dev/null || need+=(python3-dkim)
if ((${#need[@]})); then
  command -v apt-get >/dev/null || die "${need[*]} missing and apt-get is not available: install them and run again"
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "installing ${need[*]} needs root (or sudo)"
    sudo=(sudo)
  fi
  log "installing ${need[*]} (Debian packages)"
  out="$WORK/apt.log"
  # No configuration: no /etc/postfix/main.cf, so the package starts no
  # system instance; the test runs its own.
  echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
  if ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq >"$out" 2>&1 || { tail -n 20 "$out" >&2; die "apt-get update failed"; }
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >"$out" 2>&1 ||
    { tail -n 20 "$out" >&2; die "apt-get install ${need[*]} failed"; }
fi
# The private instance needs root: postfix start, virtual(8) delivering as nobody.
[[ $(id -u) == 0 ]] || die "the private Postfix instance is started as root (run with sudo)"

# 2. The binaries.
log "building omnigate and the test program"
(cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build ./cmd/omnigate failed"
(cd "$ROOT" && timeout 600 go build -o "$WORK/postfix-interop" ./interop/postfix) || die "go build ./interop/postfix failed"

# 3. The test, in the background so that a signal reaches cleanup at once.
"$WORK/postfix-interop" --omnigate "$WORK/omnigate" --work "$WORK" --dkimcheck "$HERE/dkimcheck.py" "$@" &
TEST_PID=$!
rc=0
wait "$TEST_PID" || rc=$?
TEST_PID=""
((rc == 0)) || die "the Postfix interop test failed (status $rc)"
log "OK"
