#!/usr/bin/env bash
# omnigate against Postfix as an email relay on this machine, in one run.
#
# Installs Debian's postfix when missing (no prompts, "No configuration":
# the system's own instance on port 25 is never configured nor started),
# builds omnigate and the comparison (bench/postfix), and runs it: the
# same load of emails (5 KiB bodies, 20 parallel senders, a new SMTP
# connection per message) to the same sink MX — Postfix's smtp-sink, a
# fresh one per system — through
#   postfix/smtp-source  smtp-source → a private Postfix instance (stock:
#                        an fsync per message) → smtp-sink  (the issue's bar)
#   postfix              the same, fed by bench/postfix's SMTP generator
#   omnigate/http        POST /v1/send → omnigate (SQLite FULL, DKIM) → smtp-sink
#   omnigate/submission  SMTP submission (AUTH) → omnigate → smtp-sink
# all on 127.0.0.1 in temporary directories. Prints the table (accepted/s,
# delivered/s, CPU per message, latency percentiles, ratios omnigate /
# Postfix) and writes bench/results/DATE-postfix.{md,json}. The omnigate
# rows run once the email channel is merged; until then they say what they
# wait for. Needs root (the private Postfix instance).
#
# Usage: bench/compare-postfix.sh [--smoke] [--messages N] [--sessions N] [--size BYTES] [--systems a,b] [--name NAME] [--note TEXT]
#        bench/compare-postfix.sh -h      lists the flags
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

log() { printf 'compare-postfix: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach omnigate.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

for arg in "$@"; do
  case "$arg" in -h | -help | --help) cd "$ROOT" && exec go run ./bench/postfix -h ;; esac
done
command -v go >/dev/null 2>&1 || die "go is not installed"

if ! [[ -x /usr/sbin/postfix && -x /usr/sbin/smtp-sink && -x /usr/sbin/smtp-source ]]; then
  command -v apt-get >/dev/null 2>&1 || die "Postfix is not installed and apt-get is not available here: install postfix and run again"
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "Postfix is not installed, and installing it needs root (or sudo)"
    sudo=(sudo)
  fi
  log "Postfix is not installed: installing the Debian package postfix (No configuration)"
  out="$(mktemp "${TMPDIR:-/tmp}/omnigate-apt.XXXXXX")"
  echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
  if ! apt-cache show postfix >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq >"$out" 2>&1 ||
      { tail -n 20 "$out" >&2; rm -f "$out"; die "apt-get update failed (are Debian's package mirrors reachable?)"; }
  fi
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postfix >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "apt-get install postfix failed"
  fi
  rm -f "$out"
fi
[[ $(id -u) == 0 ]] || die "the private Postfix instance is started as root (run with sudo)"

BIN="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-compare-postfix-bin.XXXXXX")"
trap 'rm -rf "$BIN"' EXIT
cd "$ROOT"
go build -o "$BIN/omnigate" ./cmd/omnigate || die "building omnigate"
go build -o "$BIN/compare" ./bench/postfix || die "building bench/postfix"
"$BIN/compare" --omnigate-bin "$BIN/omnigate" --repo "$ROOT" "$@"
