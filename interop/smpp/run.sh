#!/usr/bin/env bash
# Interop test: the npm `smpp` package (0.5.1) against omnigate's SMPP side.
#
#   B. simulator.test.mjs — the package is the ESME, `omnigate smsc` the SMSC.
#   A. connector.test.mjs — the package is the SMSC, omnigate's carrier
#      connector the ESME, driven through `omnigate serve`'s REST API.
#
# Builds omnigate once into a temporary directory; every process listens on
# a loopback port it picks itself (port 0) and reports; data lives in a
# temporary directory. Each omnigate process is stopped with SIGTERM and must
# exit 0.
#
# Usage: interop/smpp/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=smpp
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: smpp as package-lock.json pins it (0.5.1).
ensure_node_modules smpp

# 2. The binary.
build_omnigate

# node runs each test file itself (no --test: that would put the tests in a
# grandchild process that a signal to this script would not reach), in the
# background so that a signal to this script is handled at once and cleanup
# can stop it.
# The spec report goes to the terminal, a TAP copy to $WORK for the summary
# of known bugs at the end.
run_node_test() { # FILE, with the environment set by the caller
  (cd "$HERE" && exec timeout --kill-after=10 120 node --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$WORK/$1.tap" "$1") &
  TEST_PID=$!
}

# ---------------------------------------------------------------------------
# B. The package as ESME against `omnigate smsc`.

SMSC_SYSTEM_ID=interop
SMSC_PASSWORD=smscpw1
start_smsc "$SMSC_SYSTEM_ID" "$SMSC_PASSWORD"
log "B: SMPP on $SMSC_ADDR, control on $SMSC_CONTROL; running simulator.test.mjs"

b_rc=0
SMSC_ADDR="$SMSC_ADDR" SMSC_CONTROL="$SMSC_CONTROL" SMSC_SYSTEM_ID="$SMSC_SYSTEM_ID" SMSC_PASSWORD="$SMSC_PASSWORD" \
  run_node_test simulator.test.mjs
wait "$TEST_PID" || b_rc=$?
TEST_PID=""

(( b_rc == 0 )) || die "simulator.test.mjs failed (status $b_rc)"
stop_smsc
log "B: OK, and omnigate smsc stopped cleanly"

# ---------------------------------------------------------------------------
# A. The package as SMSC; omnigate's connector as ESME.

DATA="$WORK/data"
mkdir -p "$DATA"
NUMBER=3197010000001
SYSTEM_ID=omnigate
PASSWORD=secret12
WRONG_PASSWORD=wrong123

timeout 60 "$BIN" account create --name interop-smpp --balance 100 --data "$DATA" >"$WORK/account.json" \
  || die "account create failed"
field() { json_field "$WORK/account.json" "$1"; }
ACCOUNT_ID="$(field id)" || die "no id in the account JSON"
LIVE_KEY="$(field key)" || die "no live key in the account JSON"
SIGNING_KEY="$(field signing_key)" || die "no signing key in the account JSON"
timeout 60 "$BIN" number add --account "$ACCOUNT_ID" --number "$NUMBER" --data "$DATA" >/dev/null || die "number add failed"
timeout 60 "$BIN" sender approve --account "$ACCOUNT_ID" --originator Omnigate --note interop --data "$DATA" >/dev/null \
  || die "sender approve failed"

# The test listens first and says where (READY_FILE); then the connectors
# are configured and the server started, so their first bind finds the SMSC.
READY_FILE="$WORK/a.ready"
URL_FILE="$WORK/a.url"
STOP_FILE="$WORK/a.stop"
log "A: starting connector.test.mjs (the SMSC)"
a_rc=0
OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_SIGNING_KEY="$SIGNING_KEY" OMNIGATE_NUMBER="$NUMBER" \
  SMPP_SYSTEM_ID="$SYSTEM_ID" SMPP_PASSWORD="$PASSWORD" SMPP_WRONG_PASSWORD="$WRONG_PASSWORD" \
  READY_FILE="$READY_FILE" URL_FILE="$URL_FILE" STOP_FILE="$STOP_FILE" \
  run_node_test connector.test.mjs

for ((i = 0; i < 300; i++)); do # 15 s
  [[ -s "$READY_FILE" ]] && break
  kill -0 "$TEST_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ ! -s "$READY_FILE" ]]; then
  wait "$TEST_PID" || a_rc=$?
  TEST_PID=""
  die "connector.test.mjs did not start its SMSC (status $a_rc)"
fi
ports="$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!Number.isInteger(r.smsc_port) || !Number.isInteger(r.hook_port)) process.exit(1);
  console.log(r.smsc_port, r.hook_port);' "$READY_FILE")" || die "cannot read $READY_FILE"
read -r SMSC_PORT HOOK_PORT <<<"$ports"

cli() { timeout 60 "$BIN" "$@" --data "$DATA" >/dev/null || die "omnigate $* failed"; }
cli connector add --name carrier --host 127.0.0.1 --port "$SMSC_PORT" --system-id "$SYSTEM_ID" --password "$PASSWORD" --window 10
cli connector add --name carrier-wrong-password --host 127.0.0.1 --port "$SMSC_PORT" --system-id "$SYSTEM_ID" --password "$WRONG_PASSWORD"
cli route add --connectors carrier
cli account update --id "$ACCOUNT_ID" --inbound-url "http://127.0.0.1:$HOOK_PORT/in"

log "A: starting omnigate serve (SMSC on 127.0.0.1:$SMSC_PORT)"
"$BIN" serve --http 127.0.0.1:0 --data "$DATA" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
line="$(wait_for_line "$WORK/serve.err" 'msg="omnigate serving" addr=127\.0\.0\.1:[0-9]+' "$SERVER_PID" "omnigate serve")" \
  || die "omnigate serve did not start"
[[ "$line" =~ addr=(127\.0\.0\.1:[0-9]+) ]] || die "cannot read the address from: $line"
URL="http://${BASH_REMATCH[1]}"
node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
    .then(async (r) => process.exit(r.ok && (await r.text()).trim() === "ok" ? 0 : 1), () => process.exit(1));' "$URL/healthz" \
  || die "GET $URL/healthz failed"
printf '%s\n' "$URL" >"$URL_FILE.tmp" && mv "$URL_FILE.tmp" "$URL_FILE"
log "A: omnigate serving on $URL"

# Wait for the test; stop the server when it asks (STOP_FILE), so that it
# can watch omnigate unbind.
server_rc=""
while kill -0 "$TEST_PID" 2>/dev/null; do
  if [[ -n "$SERVER_PID" && -e "$STOP_FILE" ]]; then
    log "A: stopping omnigate serve (SIGTERM)"
    stop_proc "$SERVER_PID" "omnigate serve"
    server_rc=$STOP_RC
    SERVER_PID=""
  fi
  sleep 0.05
done
wait "$TEST_PID" || a_rc=$?
TEST_PID=""
if [[ -n "$SERVER_PID" ]]; then # the test ended before it asked
  stop_proc "$SERVER_PID" "omnigate serve"
  server_rc=$STOP_RC
  SERVER_PID=""
fi
(( a_rc == 0 )) || die "connector.test.mjs failed (status $a_rc)"
[[ "$server_rc" == 0 ]] || die "omnigate serve exited with status $server_rc after SIGTERM, want 0"
grep -q 'omnigate stopping' "$WORK/serve.err" || die "server log has no 'omnigate stopping' line"
log "OK: both directions passed and every omnigate process stopped cleanly"
# Tests marked todo for known omnigate bugs do not fail the run; say which
# of them still fail.
if todo="$(grep -h '^ *not ok .* # TODO' "$WORK"/*.tap)"; then
  log "known omnigate bugs still present (todo tests, see above):"
  sed -e 's/^ *not ok [0-9]* - /  /' <<<"$todo" >&2
fi
