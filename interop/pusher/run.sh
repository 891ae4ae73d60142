#!/usr/bin/env bash
# Interop test: pusher-js 8, the pusher server SDK 5 and the ws client, then
# Laravel Echo 2 (laravel-echo over pusher-js) and pusher-client 1.1 (an
# older, independent Node implementation of the protocol), all pinned by
# package-lock.json, against omnigate's Pusher Channels-compatible server.
#
# Builds omnigate, makes an account and a realtime app with the CLI (the
# app's webhook points at the test), starts `omnigate serve` on a free
# loopback port with a fresh data directory, runs test.mjs, test-echo.mjs
# and test-pusher-client.mjs (one after the other, against the same server)
# with node's test runner, stops the server with SIGTERM, checks it exited 0
# and that the raw tests' errors are in the app's error log.
#
# Usage: interop/pusher/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=pusher
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules, exactly as package-lock.json pins them.
ensure_node_modules pusher-js pusher ws pusher-client laravel-echo

# 2. The binary.
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"
field() { json_field "$@"; }

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
# A second app with subscription_count events on.
timeout 60 "$BIN" app create --account "$ACCOUNT_ID" --name interop-count --subscription-count \
  --data "$DATA" >"$WORK/app-count.json" || die "app create --subscription-count failed"
COUNT_APP_ID="$(field "$WORK/app-count.json" app_id)" || die "no app_id"
COUNT_KEY="$(field "$WORK/app-count.json" key)" || die "no key"
COUNT_SECRET="$(field "$WORK/app-count.json" secret)" || die "no secret"

# 4. omnigate serve on a free loopback port.
serve_args() { SERVE_ARGS=(--data "$DATA" --sqlite-sync NORMAL); }
start_omnigate http
log "omnigate on 127.0.0.1:$PORT, app $APP_ID"

# 5. The test, in the background so that signals reach cleanup at once.
# Handles the clients leave open (keep-alive sockets, reconnect timers) would
# keep node alive ~30 s after the last test; end it when the tests are done.
force_exit=""
if node --help 2>/dev/null | grep -q -- '--test-force-exit'; then force_exit=--test-force-exit; fi
run_test env OMNIGATE_RT_PORT="$PORT" OMNIGATE_RT_APP_ID="$APP_ID" OMNIGATE_RT_KEY="$KEY" \
  OMNIGATE_RT_SECRET="$SECRET" OMNIGATE_RT_AUX_PORT="$AUX_PORT" \
  OMNIGATE_RT_COUNT_APP_ID="$COUNT_APP_ID" OMNIGATE_RT_COUNT_KEY="$COUNT_KEY" OMNIGATE_RT_COUNT_SECRET="$COUNT_SECRET" \
  timeout --kill-after=10 180 node $force_exit --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"
# Laravel Echo, then pusher-client, against the same server and app; each
# listens on the aux port itself (the previous test has exited).
for extra in test-echo.mjs test-pusher-client.mjs; do
  run_test env OMNIGATE_RT_PORT="$PORT" OMNIGATE_RT_APP_ID="$APP_ID" OMNIGATE_RT_KEY="$KEY" \
    OMNIGATE_RT_SECRET="$SECRET" OMNIGATE_RT_AUX_PORT="$AUX_PORT" \
    timeout --kill-after=10 120 node $force_exit --test-reporter=spec "$extra"
  (( TEST_RC == 0 )) || die "node test $extra failed (status $TEST_RC)"
done

# 6. A clean stop.
stop_omnigate
# The refused and closed connections of the raw tests are in the app's
# error log, with the client's address (flushed when the server stopped).
timeout 60 "$BIN" app errors --id "$APP_ID" --data "$DATA" >"$WORK/errors.json" || die "app errors failed"
node -e '
  const errs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const has = (code) => errs.some((e) => e.code === code && e.ip === "127.0.0.1");
  for (const code of [1003, 1009]) if (!has(code)) { console.error("no " + code + " from 127.0.0.1 in the error log: " + JSON.stringify(errs)); process.exit(1); }' \
  "$WORK/errors.json" || die "the error log lacks the raw tests' errors"
log "OK: pusher-js, the pusher SDK, ws, Laravel Echo and pusher-client interoperate with omnigate serve, and it stopped cleanly"
