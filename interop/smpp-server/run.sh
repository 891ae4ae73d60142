#!/usr/bin/env bash
# Interop test: the npm `smpp` package (0.5.1), then Perl's Net::SMPP
# (Debian's libnet-smpp-perl), as a customer's ESME bound to omnigate's SMPP
# server.
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
# then test_perl.pl against the same server (binds of all three kinds, a
# wrong password and an unknown system_id, enquire_link before a bind, a
# DELIVRD receipt with its TLVs, query_sm's final_date, cancel_sm and
# replace_sm of scheduled messages with absolute and relative times,
# message_payload, UDH concatenation (parts sent at once, and one at a
# time as a synchronous client sends them), UCS-2, generic_nack for an
# unknown command, MO in GSM 03.38 and UCS-2 on a receiver bind), then
# stops the server with SIGTERM and checks it exited 0.
#
# Usage: interop/smpp-server/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18 and npm (node modules are installed when missing),
# perl with libnet-smpp-perl (apt-get installed when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=smpp-server
# shellcheck source=../common.sh
source "$HERE/../common.sh"
MO_NUMBER=3197010000001
interop_traps

# 1. Node modules: smpp as package-lock.json pins it (0.5.1); Net::SMPP
# from Debian.
ensure_node_modules smpp
ensure_debian_packages libnet-smpp-perl

# 2. The binary.
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"
field() { json_field "$DATA/demo-account.json" "$1"; }

# 3. The SMSC simulator, with its control port (POST /inject for MO), and
# the connector and route that send the server's SMS to it.
start_smsc omnigate smsc-pw
timeout 120 "$BIN" connector add --name carrier --host 127.0.0.1 --port "$SMSC_PORT" --system-id omnigate --password smsc-pw \
  --data "$DATA" >/dev/null || die "omnigate connector add failed"
timeout 120 "$BIN" route add --connectors carrier --data "$DATA" >/dev/null || die "omnigate route add failed"

# 4. The server, on free loopback ports.
serve_args() {
  SMPP_PORT="$(free_port)"
  SERVE_ARGS=(--demo --smpp-listen "127.0.0.1:$SMPP_PORT" --data "$DATA")
}
start_omnigate http
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

# 6. The test.
run_test env SMPP_ADDR="127.0.0.1:$SMPP_PORT" SMPP_SYSTEM_ID="$SYSTEM_ID" SMPP_PASSWORD="$PASSWORD" \
  OMNIGATE_URL="$URL" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_FROM=omnigate \
  SMSC_CONTROL="$SMSC_CONTROL" MO_NUMBER="$MO_NUMBER" \
  timeout --kill-after=10 180 node --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"

# 7. The same server with Perl's Net::SMPP (test_perl.pl) as the ESME.
run_test env SMPP_ADDR="127.0.0.1:$SMPP_PORT" SMPP_SYSTEM_ID="$SYSTEM_ID" SMPP_PASSWORD="$PASSWORD" \
  OMNIGATE_URL="$URL" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_FROM=omnigate \
  SMSC_CONTROL="$SMSC_CONTROL" MO_NUMBER="$MO_NUMBER" \
  timeout --kill-after=10 180 perl test_perl.pl
(( TEST_RC == 0 )) || die "Net::SMPP test failed (status $TEST_RC)"

# 8. A clean stop.
stop_omnigate
stop_smsc
log "OK: smpp-server interop passed and the server stopped cleanly"
