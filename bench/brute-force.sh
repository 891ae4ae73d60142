#!/usr/bin/env bash
# Brute force against a real omnigate serve, on loopback: how many wrong
# credentials a second an attacker gets checked — access keys, the admin
# token, Pusher signatures — from one address and from many addresses
# aiming at one key prefix, while a legitimate client keeps calling
# (bench/bruteforce does the attacking and prints the table).
#
# Runs, each against a fresh serve (SQLite) with an account, a realtime app
# and an admin token (from the environment, 64 characters):
#   after   — this tree, default limits;
#   off     — this tree, limits off (--auth-failures-per-address 0
#             --auth-failures-per-prefix 0);
#   before  — with --before BIN: a binary built before the limits existed
#             (e.g. git worktree add /tmp/before 80909ec && go build -o
#             /tmp/omnigate-before /tmp/before/cmd/omnigate).
#
# Usage: bench/brute-force.sh [--duration 10s] [--concurrency 16]
#                             [--addresses 64] [--runs after,off] [--before BIN]
#                             [--json DIR]
# Linux only (binds source addresses in 127.0.0.0/8). Judges nothing; prints
# Markdown tables to paste into docs/operations.md (Security, Brute force).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

DURATION=10s CONCURRENCY=16 ADDRESSES=64 RUNS="after,off" BEFORE="" JSON_DIR=""
while (($#)); do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --addresses) ADDRESSES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --before) BEFORE=$2; RUNS="$RUNS,before"; shift 2 ;;
    --json) JSON_DIR=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench/brute-force: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf 'bench/brute-force: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach the server.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)
command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-brute-force.XXXXXX")"
SERVE_PID=""
stop_serve() {
  [[ -n $SERVE_PID ]] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_serve
  ((rc != 0)) && [[ -f $WORK/serve.log ]] && { log "--- serve.log (last lines)"; tail -n 15 "$WORK/serve.log" >&2; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$ROOT"
log "building omnigate and bench/bruteforce"
go build -o "$WORK/omnigate" ./cmd/omnigate
go build -o "$WORK/bruteforce" ./bench/bruteforce

field() { grep -oE "\"$1\": *\"[^\"]+\"" "$2" | head -n 1 | sed 's/.*: *"\([^"]*\)"/\1/'; }

# run_one NAME BINARY [serve flags…]
run_one() {
  local name=$1 bin=$2
  shift 2
  local data="$WORK/data-$name"
  export OMNIGATE_ADMIN_TOKEN
  OMNIGATE_ADMIN_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$bin" account create --name brute --data "$data" >"$WORK/account.json"
  local key account
  key=$(field key "$WORK/account.json") account=$(field id "$WORK/account.json")
  [[ $key == live_* ]] || die "$name: no live key in account create's output"
  "$bin" app create --account "$account" --name brute --data "$data" >"$WORK/app.json"
  "$bin" serve --http 127.0.0.1:0 --data "$data" "$@" >"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  local api=""
  for _ in $(seq 100); do
    api=$(grep -oE 'omnigate serving" addr=127\.0\.0\.1:[0-9]+' "$WORK/serve.log" | sed 's/.*addr=//' || true)
    [[ -n $api ]] && break
    sleep 0.1
  done
  [[ -n $api ]] || die "$name: serve did not start"
  for _ in $(seq 100); do curl -sf "http://$api/readyz" >/dev/null && break; sleep 0.1; done
  log "$name: attacking http://$api for $DURATION per attack"
  "$WORK/bruteforce" -url "http://$api" -key "$key" -admin-token "$OMNIGATE_ADMIN_TOKEN" \
    -app-id "$(field app_id "$WORK/app.json")" -app-key "$(field key "$WORK/app.json")" \
    -app-secret "$(field secret "$WORK/app.json")" -duration "$DURATION" -concurrency "$CONCURRENCY" \
    -addresses "$ADDRESSES" -label "$name" ${JSON_DIR:+-json "$JSON_DIR/brute-force-$name.json"}
  stop_serve
  unset OMNIGATE_ADMIN_TOKEN
}

IFS=, read -ra runs <<<"$RUNS"
for r in "${runs[@]}"; do
  case $r in
    after) run_one after "$WORK/omnigate" ;;
    off) run_one off "$WORK/omnigate" --auth-failures-per-address 0 --auth-failures-per-prefix 0 ;;
    before) [[ -x $BEFORE ]] || die "--before: $BEFORE is not an executable"; run_one before "$BEFORE" ;;
    *) die "unknown run $r (after, off, before)" ;;
  esac
done
