#!/usr/bin/env bash
# Interop test: nodemailer (10.6.1) sends through omnigate's SMTP submission
# door.
#
# Builds omnigate, makes a self-signed certificate for 127.0.0.1, starts
# `omnigate serve --demo --tls-cert … --tls-key … --smtp-submission …` on
# free loopback ports with a fresh data directory and account, runs test.mjs
# (STARTTLS, AUTH with the access key, a message with an attachment; the id
# in the 250 reply is read back through the API), then stops the server
# with SIGTERM and checks it exited 0.
#
# The demo account sends from its demo domain, which the demo sets up
# verified; its email falls back to the demo's built-in mail server.
#
# Usage: interop/nodemailer/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing) and openssl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=nodemailer
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: nodemailer as package-lock.json pins it (10.6.1).
ensure_node_modules nodemailer

# 2. The binary, and a certificate for 127.0.0.1 (the API and STARTTLS
# share it).
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"
make_cert localhost

# 3. The account: the demo's, whose sending domain (demo.omnigate.test)
# the demo sets up verified (a loopback test has no DNS to publish in;
# interop/postfix verifies a domain through DNS). Its keys are read from
# the data directory once the server has started.
FROM="news@demo.omnigate.test"
field() { json_field "$DATA/demo-account.json" "$1"; }

# 4. The server, on free loopback ports.
serve_args() {
  SMTP_PORT="$(free_port)"
  SERVE_ARGS=(--demo --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --data "$DATA"
    --smtp-submission "127.0.0.1:$SMTP_PORT")
}
start_omnigate https
LIVE_KEY="$(field key)" || die "no live key in the demo account"
TEST_KEY="$(field test_key)" || die "no test key in the demo account"

# 5. The test.
run_test env OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_TEST_KEY="$TEST_KEY" \
  OMNIGATE_SMTP_PORT="$SMTP_PORT" OMNIGATE_FROM="$FROM" \
  timeout --kill-after=10 300 node --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"

# 6. A clean stop.
stop_omnigate
log "OK: nodemailer interop passed and the server stopped cleanly"
