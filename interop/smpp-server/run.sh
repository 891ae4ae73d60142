#!/usr/bin/env bash
# Interop test: the npm `smpp` package (0.5.1) as a customer's ESME bound to
# omnigate's SMPP server.
#
# Builds omnigate, starts the SMSC simulator (`omnigate smsc`, with its
# control port for injecting MO messages) and `omnigate serve --demo
# --smpp-listen …` routed to it (`connector add`, `route add`) on free
# loopback ports with a fresh data directory, reads the demo account from
# DATA/demo-account.json, issues its SMPP credentials with
# `omnigate smpp credentials --account ID`, gives it a number
# (`omnigate number add`), runs test.mjs (binds, a wrong password, submit_sm
# with a deliver_sm receipt back from the SMSC, query_sm, a scheduled submit
# cancelled with cancel_sm, replace_sm, message_payload, an MO message
# injected at the SMSC arriving as deliver_sm on a receiver bind, unbind),
# then stops the server with SIGTERM and checks it exited 0.
#
# Usage: interop/smpp-server/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SMPP_VERSION=0.5.1
STARTED=$SECONDS

INTEROP_NAME=smpp-server
# shellcheck source=../common.sh
source "$HERE/../common.sh"
SERVER_PID=""
SMSC_PID=""
TEST_PID=""
MO_NUMBER=3197010000001

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
  if [[ -n "$SMSC_PID" ]] && kill -0 "$SMSC_PID" 2>/dev/null; then
    stop_proc "$SMSC_PID" "omnigate smsc"
  fi
  if (( rc != 0 )) && [[ -f "$WORK/serve.err" ]]; then
    log "server log (last 40 lines):"
    tail -n 40 "$WORK/serve.err" >&2 || true
  fi
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Node modules: smpp pinned to $SMPP_VERSION by package-lock.json.
installed="$(cd "$HERE" && node -p 'try { require("smpp/package.json").version } catch { "" }' 2>/dev/null || true)"
if [[ "$installed" != "$SMPP_VERSION" ]]; then
  log "installing node modules"
  (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) >&2 || die "npm ci failed"
  installed="$(cd "$HERE" && node -p 'require("smpp/package.json").version')"
  [[ "$installed" == "$SMPP_VERSION" ]] || die "smpp $installed installed, want $SMPP_VERSION"
fi

# 2. The binary.
log "building omnigate"
(cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build failed"
BIN="$WORK/omnigate"
DATA="$WORK/data"
mkdir -p "$DATA"

field() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("account JSON has no " + process.argv[2]); process.exit(1); }
  console.log(v);' "$DATA/demo-account.json" "$1"; }
free_port() { node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
healthy_any() { node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' "$1"; }
healthy() { node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
    .then(async (r) => process.exit(r.ok && (await r.text()).trim() === "ok" ? 0 : 1), () => process.exit(1));' "$1"; }

# 3. The SMSC simulator, with its control port (POST /inject for MO), and
# the connector and route that send the server's SMS to it.
SMSC_PORT="$(free_port)"
CONTROL_PORT="$(free_port)"
"$BIN" smsc --listen "127.0.0.1:$SMSC_PORT" --control "127.0.0.1:$CONTROL_PORT" --system-id omnigate --password smsc-pw \
  --log-level warn >"$WORK/smsc.out" 2>"$WORK/smsc.err" &
SMSC_PID=$!
for ((i = 0; i < 100; i++)); do
  healthy_any "http://127.0.0.1:$CONTROL_PORT/stats" && break
  kill -0 "$SMSC_PID" 2>/dev/null || die "the SMSC simulator exited: $(tail -n 5 "$WORK/smsc.err")"
  sleep 0.1
done
timeout 120 "$BIN" connector add --name carrier --host 127.0.0.1 --port "$SMSC_PORT" --system-id omnigate --password smsc-pw \
  --data "$DATA" >/dev/null || die "omnigate connector add failed"
timeout 120 "$BIN" route add --connectors carrier --data "$DATA" >/dev/null || die "omnigate route add failed"

# 4. The server, on free loopback ports (retried if another process takes
# a port between picking and binding).
for attempt in 1 2 3; do
  PORT="$(free_port)"
  SMPP_PORT="$(free_port)"
  URL="http://127.0.0.1:$PORT"
  log "starting omnigate serve --demo on $URL, SMPP on 127.0.0.1:$SMPP_PORT (attempt $attempt)"
  "$BIN" serve --demo --http "127.0.0.1:$PORT" --smpp-listen "127.0.0.1:$SMPP_PORT" --data "$DATA" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  up=""
  for ((i = 0; i < 200; i++)); do # 20 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if healthy "$URL/healthz"; then up=1; break; fi
    sleep 0.1
  done
  [[ -n "$up" ]] && break
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    die "server did not answer GET /healthz within 20 s"
  fi
  rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  log "server exited with status $rc before it was ready:"
  tail -n 5 "$WORK/serve.err" >&2 || true
done
[[ -n "$up" ]] || die "server did not start"
ACCOUNT_ID="$(field id)" || die "no id in the demo account"
LIVE_KEY="$(field key)" || die "no live key in the demo account"

# 5. The account's SMPP credentials (issued while the server runs: binds
# read them from the store).
timeout 120 "$BIN" smpp credentials --account "$ACCOUNT_ID" --data "$DATA" >"$WORK/creds.txt" \
  || die "omnigate smpp credentials failed"
SYSTEM_ID="$(sed -n 's/^system_id: *\([^ ]*\).*/\1/p' "$WORK/creds.txt")"
PASSWORD="$(sed -n 's/^password: *\([^ ]*\).*/\1/p' "$WORK/creds.txt")"
[[ -n "$SYSTEM_ID" && -n "$PASSWORD" ]] || die "cannot read the credentials from: $(cat "$WORK/creds.txt")"
log "bound as system_id $SYSTEM_ID"
# A number of the account, for MO: the account has SMPP credentials and no
# inbound URL, so MO messages to it go to its SMPP receivers.
timeout 120 "$BIN" number add --account "$ACCOUNT_ID" --number "$MO_NUMBER" --data "$DATA" >/dev/null \
  || die "omnigate number add failed"

# 6. The test, in the background so that a signal to this script is handled
# at once and cleanup can stop it.
log "running test.mjs"
test_rc=0
(cd "$HERE" && SMPP_ADDR="127.0.0.1:$SMPP_PORT" SMPP_SYSTEM_ID="$SYSTEM_ID" SMPP_PASSWORD="$PASSWORD" \
  OMNIGATE_URL="$URL" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_FROM=omnigate \
  SMSC_CONTROL="http://127.0.0.1:$CONTROL_PORT" MO_NUMBER="$MO_NUMBER" \
  exec timeout --kill-after=10 180 node --test-reporter=spec test.mjs) &
TEST_PID=$!
wait "$TEST_PID" || test_rc=$?
TEST_PID=""

# 7. A clean stop.
stop_proc "$SERVER_PID" "omnigate serve"
server_rc=$STOP_RC
SERVER_PID=""
if [[ "$server_rc" != 0 ]]; then
  log "server exited with status $server_rc after SIGTERM, want 0"
fi
(( test_rc == 0 )) || die "node test failed (status $test_rc)"
[[ "$server_rc" == 0 ]] || die "server did not stop cleanly"
grep -q 'omnigate stopping' "$WORK/serve.err" || die "server log has no 'omnigate stopping' line"
log "OK: smpp-server interop passed and the server stopped cleanly"
