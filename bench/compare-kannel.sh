#!/usr/bin/env bash
# omnigate against Kannel on this machine, in one run.
#
# Installs Kannel from the Debian package when bearerbox/smsbox are missing,
# builds omnigate and the comparison (bench/kannel), and runs it: for each
# phase and system a fresh SMSC simulator (omnigate smsc, same receipt
# delay) and a fresh gateway — omnigate serve with one SMPP connector
# (window 10), or Kannel bearerbox + smsbox (max-pending-submits 10) — all
# on 127.0.0.1 in temporary directories, driven by bench/load's generator
# with the same load and delivery reports tracked on both sides. Prints the
# tables and writes bench/results/DATE-kannel.{json,md} plus a chart per run.
# Everything stops by itself (bounded by --timeout, 15 minutes by default).
#
# Usage: bench/compare-kannel.sh [--smoke] [flags]     (from anywhere)
#        bench/compare-kannel.sh -h                    lists the flags
# OMNIGATE_BENCH_POSTGRES=postgres://… adds omnigate on PostgreSQL.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

log() { printf 'compare-kannel: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

have_kannel() {
  { command -v bearerbox && command -v smsbox; } >/dev/null 2>&1 ||
    [[ -x /usr/sbin/bearerbox && -x /usr/sbin/smsbox ]]
}

install_kannel() {
  have_kannel && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "Kannel (bearerbox, smsbox) is not installed and apt-get is not available here: install Kannel 1.4 and run again"
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "Kannel is not installed, and installing it needs root (or sudo)"
    sudo=(sudo)
  fi
  log "Kannel is not installed: installing the Debian package kannel"
  local out running_before=0
  out="$(mktemp "${TMPDIR:-/tmp}/omnigate-apt.XXXXXX")"
  pgrep -x bearerbox >/dev/null 2>&1 && running_before=1
  if ! apt-cache show kannel >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq >"$out" 2>&1 ||
      { tail -n 20 "$out" >&2; rm -f "$out"; die "apt-get update failed (are Debian's package mirrors reachable?)"; }
  fi
  # Non-interactive: no prompts, keep existing configuration files.
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kannel >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "apt-get install kannel failed"
  fi
  rm -f "$out"
  have_kannel || die "the kannel package is installed but bearerbox/smsbox are not found"
  # Where the package's init script started the system-wide Kannel (no
  # policy-rc.d), stop it again: the comparison starts its own, on free
  # ports, and leaves nothing running.
  if ((running_before == 0)) && pgrep -x bearerbox >/dev/null 2>&1 && [[ -x /etc/init.d/kannel ]]; then
    log "stopping the system Kannel that the package's installation started"
    "${sudo[@]}" /etc/init.d/kannel stop >/dev/null 2>&1 || log "could not stop it: /etc/init.d/kannel stop"
  fi
}

for arg in "$@"; do
  case "$arg" in -h | -help | --help) cd "$ROOT" && exec go run ./bench/kannel -h ;; esac
done

command -v go >/dev/null 2>&1 || die "go is not installed"
install_kannel

BIN="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-compare-bin.XXXXXX")"
trap 'rm -rf "$BIN"' EXIT
cd "$ROOT"
go build -o "$BIN/omnigate" ./cmd/omnigate || die "building omnigate"
go build -o "$BIN/compare" ./bench/kannel || die "building bench/kannel"
"$BIN/compare" --omnigate-bin "$BIN/omnigate" --repo "$ROOT" "$@"
