#!/usr/bin/env bash
# Fuzzes a running omnigate's HTTP API from outside, on SQLite and (with
# --postgres) on PostgreSQL, and counts the answers that are 5xx and the
# values stored that no door should have let in.
#
# For each engine: a fresh data directory (and a fresh PostgreSQL schema),
# an account with a large balance, its sender approved, `omnigate serve
# --demo --admin-token …` on 127.0.0.1; then bench/fuzzhttp sends
# --requests requests (every door, every place a client puts text or a
# number: NUL, control characters, bytes that are not UTF-8, surrogates,
# out-of-range numbers, random bytes, mangled bodies), reads every text
# column of the database, checks /readyz and stops the server with SIGTERM
# (it must exit 0). Everything listens on loopback and stops by itself.
#
# Usage: bench/fuzz-http.sh [--requests N] [--seed N] [--concurrency N]
#                           [--postgres URL] [--omnigate BIN] [--json FILE]
#   --postgres URL   also PostgreSQL, in a fresh schema of that (throwaway)
#                    database, dropped afterwards; or OMNIGATE_BENCH_POSTGRES
#   --omnigate BIN   fuzz this omnigate binary instead of building one (e.g.
#                    an earlier commit's, to compare)
#   --json FILE      write every engine's figures to FILE (a JSON array)
# Exit status: 0 when no engine answered a 5xx, failed a request, stored bad
# text or failed to stop cleanly; 1 otherwise; 2 bad flags.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

log() { printf 'fuzz-http: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

REQUESTS=20000
SEED=1
CONCURRENCY=8
POSTGRES="${OMNIGATE_BENCH_POSTGRES:-}"
OMNIGATE=""
JSON=""
while (($#)); do
  case $1 in
    --requests) REQUESTS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --postgres) POSTGRES=$2; shift 2 ;;
    --omnigate) OMNIGATE=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown flag $1 (see -h)"; exit 2 ;;
  esac
done

# Settings from the caller's environment must not reach the server.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"
[[ -z "$POSTGRES" ]] || command -v psql >/dev/null || die "--postgres needs psql"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-fuzz-http.XXXXXX")"
SERVE_PID=""
SCHEMA=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$SERVE_PID" ]]; then kill -KILL "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  if [[ -n "$SCHEMA" ]]; then psql -q "$POSTGRES" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true; fi
  if ((rc != 0)) && [[ -f "$WORK/serve.log" ]]; then log "--- serve.log (last lines)"; tail -n 15 "$WORK/serve.log" >&2; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$ROOT"
if [[ -z "$OMNIGATE" ]]; then
  log "building omnigate"
  go build -o "$WORK/omnigate" ./cmd/omnigate
  OMNIGATE="$WORK/omnigate"
fi
log "building the fuzzer"
go build -o "$WORK/fuzzhttp" ./bench/fuzzhttp

# stop_serve: SIGTERM, up to 30 s, then the exit status must be 0.
stop_serve() {
  local rc=0
  kill -TERM "$SERVE_PID"
  for _ in $(seq 300); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  return "$rc"
}

TOKEN="fuzz-admin-token-$(date +%s)-0123456789"
FAILED=0
RESULTS=()

# run_engine NAME DATABASE_URL: one fuzzing run against a fresh server.
run_engine() {
  local engine=$1 db=$2 data="$WORK/data-$1" out="$WORK/$1.json" scan
  mkdir -m 700 "$data"
  local dbflag=(--data "$data")
  [[ -n "$db" ]] && dbflag+=(--database "$db")
  "$OMNIGATE" account create --name fuzz --balance 100000 "${dbflag[@]}" >"$WORK/account.json"
  local key account
  key=$(grep -oE '"key": *"[^"]+"' "$WORK/account.json" | head -n 1 | sed 's/.*: *"\([^"]*\)"/\1/')
  account=$(grep -oE '"id": *"[^"]+"' "$WORK/account.json" | head -n 1 | sed 's/.*: *"\([^"]*\)"/\1/')
  [[ $key == live_* && -n "$account" ]] || die "$engine: no id and live key in account create's output"
  "$OMNIGATE" sender approve --account "$account" --originator Shop --note fuzz "${dbflag[@]}" >/dev/null
  "$OMNIGATE" serve --http 127.0.0.1:0 --demo --admin-token "$TOKEN" "${dbflag[@]}" >"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  local api=""
  for _ in $(seq 200); do
    api=$(grep -oE 'omnigate serving" addr=127\.0\.0\.1:[0-9]+' "$WORK/serve.log" 2>/dev/null | head -n 1 | sed 's/.*addr=//' || true)
    [[ -n "$api" ]] && break
    sleep 0.1
  done
  [[ -n "$api" ]] || die "$engine: serve did not start"
  api="http://$api"
  for _ in $(seq 100); do curl -sf "$api/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "$api/readyz" >/dev/null || die "$engine: omnigate is not ready at $api"

  scan=$db
  [[ -z "$scan" ]] && scan="$data/omnigate.db"
  log "$engine: $REQUESTS requests, seed $SEED, $CONCURRENCY in flight"
  "$WORK/fuzzhttp" --url "$api" --key "$key" --account "$account" --admin-token "$TOKEN" --requests "$REQUESTS" \
    --seed "$SEED" --concurrency "$CONCURRENCY" --database "$scan" --label "$engine" --json "$out" --strict || FAILED=1
  kill -0 "$SERVE_PID" 2>/dev/null || { log "$engine: the server died"; FAILED=1; }
  if stop_serve; then log "$engine: the server stopped cleanly"; else log "$engine: the server did not stop cleanly"; FAILED=1; fi
  local errors
  errors=$(grep -c 'level=ERROR' "$WORK/serve.log" || true)
  log "$engine: $errors error lines in the server's log"
  grep 'level=ERROR' "$WORK/serve.log" | head -n 5 >&2 || true
  RESULTS+=("$out")
}

run_engine sqlite ""
if [[ -n "$POSTGRES" ]]; then
  SCHEMA="fuzz_$(date +%s)_$$"
  psql -q "$POSTGRES" -c "CREATE SCHEMA $SCHEMA" >/dev/null
  sep='?'
  [[ "$POSTGRES" == *\?* ]] && sep='&'
  run_engine postgres "${POSTGRES}${sep}search_path=$SCHEMA"
fi

if [[ -n "$JSON" ]]; then
  { echo "["; first=1; for f in "${RESULTS[@]}"; do ((first)) || echo ","; first=0; cat "$f"; done; echo "]"; } >"$JSON"
  log "figures written to $JSON"
fi
if ((FAILED)); then log "FAIL: see above"; exit 1; fi
log "ok: no 5xx, no failed request, no bad stored text, clean stops"
