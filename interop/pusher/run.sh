#!/usr/bin/env bash
# Interop test: pusher-js 8, the pusher server SDK 5 and the ws client
# (pinned by package-lock.json) against omnigate's Pusher Channels-compatible
# server.
#
# Builds omnigate, makes an account and a realtime app with the CLI (the
# app's webhook points at the test), starts `omnigate serve` on a free
# loopback port with a fresh data directory, runs test.mjs with node's test
# runner, stops the server with SIGTERM, checks it exited 0 and that the
# raw tests' errors are in the app's error log.
#
# Usage: interop/pusher/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STARTED=$SECONDS

INTEROP_NAME=pusher
# shellcheck source=../common.sh
source "$HERE/../common.sh"
SERVER_PID=""
TEST_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM "$TEST_PID" 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    stop_proc "$SERVER_PID" "omnigate serve"
  fi
  if (( rc != 0 )) && [[ -f "$WORK/server.err" ]]; then
    log "server log (last 40 lines):"
    tail -n 40 "$WORK/server.err" >&2 || true
  fi
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Node modules, exactly as package-lock.json pins them.
want_versions() { (cd "$HERE" && node -e '
  const lock = require("./package-lock.json").packages;
  for (const n of ["pusher-js", "pusher", "ws"]) {
    const have = (() => { try { return require(n + "/package.json").version } catch { return "" } })();
    if (have !== lock["node_modules/" + n].version) process.exit(1);
  }' 2>/dev/null); }
if ! want_versions; then
  log "installing node modules"
  (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) >&2 || die "npm ci failed"
  want_versions || die "node modules do not match package-lock.json"
fi

# 2. The binary.
log "building omnigate"
(cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build failed"
BIN="$WORK/omnigate"
DATA="$WORK/data"
mkdir -p "$DATA"

free_port() { node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
field() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("no " + process.argv[2] + " in " + process.argv[1]); process.exit(1); }
  console.log(v);' "$1" "$2"; }

# 3. An account and a realtime app, made with the CLI; the app's webhook
# points at the port the test will listen on.
AUX_PORT="$(free_port)"
timeout 60 "$BIN" account create --name interop-pusher --data "$DATA" >"$WORK/account.json" \
  || die "account create failed"
ACCOUNT_ID="$(field "$WORK/account.json" id)" || die "no id in the account JSON"
timeout 60 "$BIN" app create --account "$ACCOUNT_ID" --name interop \
  --webhook "http://127.0.0.1:$AUX_PORT/pusher/webhook" --data "$DATA" >"$WORK/app.json" \
  || die "app create failed"
APP_ID="$(field "$WORK/app.json" app_id)" || die "no app_id"
KEY="$(field "$WORK/app.json" key)" || die "no key"
SECRET="$(field "$WORK/app.json" secret)" || die "no secret"

# 4. omnigate serve on a free loopback port (retried if another process
# takes the port between picking and binding).
healthy() { node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
    .then(async (r) => process.exit(r.ok && (await r.text()).trim() === "ok" ? 0 : 1), () => process.exit(1));' "$1"; }
up=""
for attempt in 1 2 3; do
  PORT="$(free_port)"
  log "starting omnigate serve on 127.0.0.1:$PORT (attempt $attempt)"
  "$BIN" serve --http "127.0.0.1:$PORT" --data "$DATA" --sqlite-sync NORMAL >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for ((i = 0; i < 200; i++)); do # 20 s
    kill -0 "$SERVER_PID" 2>/dev/null || break
    if healthy "http://127.0.0.1:$PORT/healthz"; then up=1; break; fi
    sleep 0.1
  done
  [[ -n "$up" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null && die "server did not answer GET /healthz within 20 s"
  rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  log "server exited with status $rc before it was ready:"
  tail -n 5 "$WORK/server.err" >&2 || true
done
[[ -n "$up" ]] || die "server did not start"
log "omnigate on 127.0.0.1:$PORT, app $APP_ID"

# 5. The test, in the background so that signals reach cleanup at once.
log "running test.mjs"
# Handles the clients leave open (keep-alive sockets, reconnect timers) would
# keep node alive ~30 s after the last test; end it when the tests are done.
force_exit=""
if node --help 2>/dev/null | grep -q -- '--test-force-exit'; then force_exit=--test-force-exit; fi
test_rc=0
(cd "$HERE" && OMNIGATE_RT_PORT="$PORT" OMNIGATE_RT_APP_ID="$APP_ID" OMNIGATE_RT_KEY="$KEY" \
  OMNIGATE_RT_SECRET="$SECRET" OMNIGATE_RT_AUX_PORT="$AUX_PORT" \
  exec timeout --kill-after=10 180 node $force_exit --test-reporter=spec test.mjs) &
TEST_PID=$!
wait "$TEST_PID" || test_rc=$?
TEST_PID=""

# 6. A clean stop.
stop_proc "$SERVER_PID" "omnigate serve"
server_rc=$STOP_RC
SERVER_PID=""
(( test_rc == 0 )) || die "node test failed (status $test_rc)"
[[ "$server_rc" == 0 ]] || die "server exited with status $server_rc after SIGTERM, want 0"
grep -q 'omnigate stopping' "$WORK/server.err" || die "server log has no 'omnigate stopping' line"
# The refused and closed connections of the raw tests are in the app's
# error log, with the client's address (flushed when the server stopped).
timeout 60 "$BIN" app errors --id "$APP_ID" --data "$DATA" >"$WORK/errors.json" || die "app errors failed"
node -e '
  const errs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const has = (code) => errs.some((e) => e.code === code && e.ip === "127.0.0.1");
  for (const code of [1003, 1009]) if (!has(code)) { console.error("no " + code + " from 127.0.0.1 in the error log: " + JSON.stringify(errs)); process.exit(1); }' \
  "$WORK/errors.json" || die "the error log lacks the raw tests' errors"
log "OK: pusher-js, the pusher SDK and ws interoperate with omnigate serve, and it stopped cleanly"
