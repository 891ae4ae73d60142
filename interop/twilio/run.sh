#!/usr/bin/env bash
# Interop test: the official Twilio helper libraries against omnigate's
# Twilio Messaging door (docs/twilio.md) — the npm `twilio` package
# (6.3.1, test.mjs), Debian's python3-twilio (7.7.1, test_python.py) and
# github.com/twilio/twilio-go (v1.30.2, gotest/, its own Go module so
# that omnigate's module does not depend on it).
#
# Builds omnigate, makes a self-signed certificate for 127.0.0.1, starts
# `omnigate serve --demo --tls-cert … --tls-key …` on a free loopback port
# with a fresh data directory — its SMS routed to an `omnigate smsc`
# simulator (connector "carrier"), whose control API injects messages from
# handsets — assigns the demo account a number (`omnigate number add`),
# issues its Twilio credentials with `omnigate twilio credentials
# --account ID --api-key`, runs test.mjs
# (create, fetch, list/each/page with paging, cancel of a scheduled
# message, redaction and deletion of a delivered one, RestExceptions with
# Twilio's codes, validateRequest on the status
# callbacks a local receiver gets; a Messaging Service created, given the
# number and used to send; an inbound SMS injected at the simulator, posted
# to the number's SmsUrl — a local webhook that checks validateRequest and
# answers TwiML — whose reply is delivered), test_python.py (the Account
# resource, Verify v2 services listed, updated and deleted, RequestValidator
# on status callbacks, and the messages and Messaging Service calls again)
# and the twilio-go test (create,
# fetch, list with paging, cancel, a Messaging Service and its number,
# IncomingPhoneNumbers), then stops the server and the simulator with
# SIGTERM and checks they exited 0.
#
# Usage: interop/twilio/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing),
# Debian's python3-twilio (installed with apt-get when missing),
# openssl, and the Go module proxy (or a module cache) for twilio-go.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=twilio
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: twilio as package-lock.json pins it (6.3.1).
ensure_node_modules twilio

# 2. The binary, and a certificate for 127.0.0.1.
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"
make_cert localhost

# The carrier: `omnigate smsc` on free loopback ports, with its control API
# (POST /inject: a message from a handset); every SMS is routed to it.
SMSC_SYSTEM_ID=omnigate
SMSC_PASSWORD=smscpw1
NUMBER=3197010000001
start_smsc "$SMSC_SYSTEM_ID" "$SMSC_PASSWORD"
cli() { timeout 60 "$BIN" "$@" --data "$DATA" >/dev/null || die "omnigate $* failed"; }
cli connector add --name carrier --host 127.0.0.1 --port "$SMSC_PORT" --system-id "$SMSC_SYSTEM_ID" --password "$SMSC_PASSWORD"
cli route add --connectors carrier

# 3. The account: the demo's (it sends as its approved sender "omnigate");
# its id is read from the data directory once the server has started.
field() { json_field "$DATA/demo-account.json" "$1"; }

# 4. The server, on a free loopback port.
serve_args() { SERVE_ARGS=(--demo --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --data "$DATA"); }
start_omnigate https
ACCOUNT_ID="$(field id)" || die "no id in the demo account"
cli number add --account "$ACCOUNT_ID" --number "$NUMBER"
# Verify v2 sends codes from "Code" (docs/verify.md): approve it for the
# account, as an operator would.
cli sender approve --account "$ACCOUNT_ID" --originator Code --note interop
timeout 60 "$BIN" twilio credentials --account "$ACCOUNT_ID" --api-key --data "$DATA" >"$WORK/twilio.json" \
  || die "omnigate twilio credentials failed"
cred() { json_field "$WORK/twilio.json" "$1"; }
TWILIO_SID="$(cred account_sid)" || die "no account_sid"
TWILIO_TOKEN="$(cred auth_token)" || die "no auth_token"
TWILIO_KEY_SID="$(cred api_key_sid)" || die "no api_key_sid"
TWILIO_KEY_SECRET="$(cred api_key_secret)" || die "no api_key_secret"
export OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" TWILIO_SID TWILIO_TOKEN TWILIO_KEY_SID TWILIO_KEY_SECRET
export SMSC_CONTROL SMSC_SYSTEM_ID TWILIO_NUMBER="+$NUMBER"

# 5. The tests: the npm library's, then Python's (Debian's python3-twilio,
# installed when missing; Debian's own python3, which has it), then
# twilio-go's in its own module (gotest/go.mod pins v1.30.2).
run_test timeout --kill-after=10 300 node --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"
ensure_debian_packages python3-twilio
run_test timeout --kill-after=10 300 /usr/bin/python3 test_python.py
(( TEST_RC == 0 )) || die "python test failed (status $TEST_RC)"
HERE="$HERE/gotest" run_test timeout --kill-after=10 600 go test -count=1 -v ./...
(( TEST_RC == 0 )) || die "twilio-go test failed (status $TEST_RC)"

# 6. A clean stop.
stop_omnigate
stop_smsc
log "OK: twilio (npm) and twilio-go interop passed and the server stopped cleanly"
