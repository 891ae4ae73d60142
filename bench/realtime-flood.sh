#!/usr/bin/env bash
# Repeats issue 13's WebSocket flood against a real `omnigate serve` and
# reports what it does to the SMS API (docs/operations.md, "WebSocket
# flood"): GET /balance latency idle and during the flood, connections
# established and refused, the server's file descriptors.
#
# It builds omnigate (or takes --omnigate BINARY, e.g. an older build to
# compare), creates an account and a realtime app in a fresh data
# directory, starts `serve` on a loopback port with the open files limit at
# its hard limit, and runs bench/realtime-flood against it. Everything
# stays on loopback; the attack comes from 127.0.0.2 onwards.
#
# Usage: bench/realtime-flood.sh [--omnigate BINARY] [--serve-flags "FLAGS"] [realtime-flood flags]
#   bench/realtime-flood.sh                                  # 20,000 connections from one address
#   bench/realtime-flood.sh --sources 20 --first-source 30   # … from 20 addresses
#   bench/realtime-flood.sh --serve-flags "--ws-conns-per-ip 0" --json out.json
# realtime-flood's flags: go run ./bench/realtime-flood -h
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

log() { printf 'bench/realtime-flood: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach the server.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

OG=""
SERVE_FLAGS=""
ARGS=()
while (($#)); do
  case $1 in
    --omnigate) OG=$2; shift 2 ;;
    --serve-flags) SERVE_FLAGS=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

# Both sides need descriptors: the server's limit is what the flood is
# about, the attacker's must not stop it first (it also spreads over
# several processes).
ulimit -n "$(ulimit -Hn)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-flood.XXXXXX")"
SERVE_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$SERVE_PID" ]]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -f "$WORK/serve.log" ]]; then
    log "--- serve.log (last lines)"; tail -n 20 "$WORK/serve.log" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$ROOT"
if [[ -z "$OG" ]]; then
  log "building omnigate"
  go build -o "$WORK/omnigate" ./cmd/omnigate
  OG="$WORK/omnigate"
fi
log "building the flood"
go build -o "$WORK/realtime-flood" ./bench/realtime-flood

export OMNIGATE_DATA="$WORK/data"
json_field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" | head -n 1; }
ACCOUNT_JSON=$("$OG" account create --name flood --balance 100)
KEY=$(json_field key <<<"$ACCOUNT_JSON")
ACCOUNT=$(json_field id <<<"$ACCOUNT_JSON")
APP_KEY=$("$OG" app create --account "$ACCOUNT" --name flood | json_field key)
[[ -n "$KEY" && -n "$APP_KEY" ]] || die "could not create the account and app"

# shellcheck disable=SC2086 # SERVE_FLAGS are words
"$OG" serve --http 127.0.0.1:0 $SERVE_FLAGS >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
ADDR=""
for _ in $(seq 200); do
  ADDR=$(grep -oE 'msg="omnigate serving" addr=[0-9.:]+' "$WORK/serve.log" 2>/dev/null | head -n 1 | sed 's/.*addr=//' || true)
  [[ -n "$ADDR" ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "serve exited"
  sleep 0.1
done
[[ -n "$ADDR" ]] || die "serve did not start"
grep -E 'open files limit' "$WORK/serve.log" >&2 || true
log "serve (pid $SERVE_PID) at $ADDR, open files limit $(awk '/Max open files/ {print $4}' "/proc/$SERVE_PID/limits")"

"$WORK/realtime-flood" --url "http://$ADDR" --key "$KEY" --app-key "$APP_KEY" --pid "$SERVE_PID" "${ARGS[@]}"
if grep -q 'too many open files' "$WORK/serve.log"; then
  log "the server ran out of file descriptors: $(grep -c 'too many open files' "$WORK/serve.log") log lines say \"too many open files\""
fi
