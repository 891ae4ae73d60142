#!/usr/bin/env bash
# Interop test: Meta's WhatsApp Cloud API Node SDK (npm "whatsapp",
# 0.0.5-Alpha) against omnigate's Cloud API simulator.
#
# Builds omnigate, makes a self-signed certificate for 127.0.0.1, starts
# `omnigate chatsim --tls-cert … --tls-key …` on a free loopback port (the
# SDK speaks only HTTPS) with its webhooks going to the SDK's own webhook
# listener, runs test.mjs (text, template, interactive, media upload, the
# signed webhooks and the handshake through the SDK), then stops the
# simulator with SIGTERM and checks it exited 0.
#
# Usage: interop/whatsapp/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing) and openssl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=whatsapp
# shellcheck source=../common.sh
source "$HERE/../common.sh"
SIM_PID=""
cleanup_more() {
  if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
    stop_proc "$SIM_PID" "omnigate chatsim"
  fi
  if (( $1 != 0 )) && [[ -f "$WORK/sim.err" ]]; then
    log "simulator log (last 40 lines):"
    tail -n 40 "$WORK/sim.err" >&2 || true
  fi
}
interop_traps

# 1. Node modules: whatsapp as package-lock.json pins it (0.0.5-Alpha).
ensure_node_modules whatsapp

# 2. The binary and a certificate for 127.0.0.1.
build_omnigate
make_cert localhost

# 3. The simulator, on a free loopback port (retried if another process
# takes the port between picking and binding); its webhooks go to the SDK's
# listener, which test.mjs starts on LISTENER_PORT (the SDK's own answers
# the handshake on SDK_LISTENER_PORT).
LISTENER_PORT="$(free_port)"
SDK_LISTENER_PORT="$(free_port)"
up=""
for attempt in 1 2 3; do
  PORT="$(free_port)"
  log "starting omnigate chatsim on https://127.0.0.1:$PORT (attempt $attempt)"
  "$BIN" chatsim --listen "127.0.0.1:$PORT" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --window=false \
    --webhook "http://127.0.0.1:$LISTENER_PORT/webhook" >"$WORK/sim.out" 2>"$WORK/sim.err" &
  SIM_PID=$!
  for ((i = 0; i < 200; i++)); do # 20 s
    if ! kill -0 "$SIM_PID" 2>/dev/null; then break; fi
    if grep -q 'listening on' "$WORK/sim.out" 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [[ -n "$up" ]] && break
  kill -0 "$SIM_PID" 2>/dev/null && die "the simulator did not start within 20 s"
  rc=0; wait "$SIM_PID" || rc=$?
  SIM_PID=""
  log "simulator exited with status $rc before it was ready:"
  tail -n 5 "$WORK/sim.err" >&2 || true
done
[[ -n "$up" ]] || die "the simulator did not start"

# 4. The test.
run_test env SIM_URL="https://127.0.0.1:$PORT" SIM_PORT="$PORT" NODE_EXTRA_CA_CERTS="$WORK/tls.crt" NODE_ENV=production \
  WA_BASE_URL=127.0.0.1 CLOUD_API_VERSION=v21.0 CLOUD_API_ACCESS_TOKEN=test-token WA_PHONE_NUMBER_ID=1055 \
  WA_BUSINESS_ACCOUNT_ID=2055 M4D_APP_ID=1 M4D_APP_SECRET=test-secret WEBHOOK_ENDPOINT=webhook \
  WEBHOOK_VERIFICATION_TOKEN=test-verify LISTENER_PORT="$LISTENER_PORT" SDK_LISTENER_PORT="$SDK_LISTENER_PORT" \
  timeout --kill-after=10 300 node --test-reporter=spec test.mjs
test_rc=$TEST_RC

# 5. A clean stop.
stop_proc "$SIM_PID" "omnigate chatsim"
sim_rc=$STOP_RC
SIM_PID=""
(( test_rc == 0 )) || die "node test failed (status $test_rc)"
[[ "$sim_rc" == 0 ]] || die "the simulator exited with status $sim_rc after SIGTERM, want 0"
log "OK: the WhatsApp Node SDK against the simulator passed and it stopped cleanly"
