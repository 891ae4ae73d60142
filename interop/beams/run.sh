#!/usr/bin/env bash
# Interop test: the official Pusher Beams server SDK
# (@pusher/push-notifications-server, pinned by package-lock.json) against
# omnigate's Beams-compatible push API.
#
# Builds omnigate, makes an account and a Beams instance with the CLI,
# starts `omnigate serve --push-simulator` (APNs and FCM deliveries go to
# the built-in simulators) on a free loopback port, runs test.mjs with
# node's test runner, and stops the server with SIGTERM. The test is also a
# browser's push service on loopback: the Web Push deliveries are decrypted
# with the http_ece npm library and their VAPID JWTs verified with node's
# crypto, independently of omnigate's code.
#
# Usage: interop/beams/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=beams
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

ensure_node_modules @pusher/push-notifications-server http_ece
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"

timeout 60 "$BIN" account create --name interop-beams --data "$DATA" >"$WORK/account.json" || die "account create failed"
ACCOUNT_ID="$(json_field "$WORK/account.json" id)" || die "no id in the account JSON"
timeout 60 "$BIN" beams create --account "$ACCOUNT_ID" --name interop --data "$DATA" >"$WORK/instance.json" || die "beams create failed"
INSTANCE="$(json_field "$WORK/instance.json" instanceId)" || die "no instanceId"
SECRET="$(json_field "$WORK/instance.json" secretKey)" || die "no secretKey"

serve_args() { SERVE_ARGS=(--data "$DATA" --sqlite-sync NORMAL --push-simulator); }
start_omnigate http
log "omnigate on 127.0.0.1:$PORT, Beams instance $INSTANCE"

force_exit=""
if node --help 2>/dev/null | grep -q -- '--test-force-exit'; then force_exit=--test-force-exit; fi
run_test env OMNIGATE_BEAMS_PORT="$PORT" OMNIGATE_BEAMS_INSTANCE="$INSTANCE" OMNIGATE_BEAMS_SECRET="$SECRET" \
  timeout --kill-after=10 120 node $force_exit --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"

stop_omnigate
log "OK: the Beams server SDK publishes to interests and users through omnigate (APNs, FCM, Web Push), and its tokens are accepted"
