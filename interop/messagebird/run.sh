#!/usr/bin/env bash
# Interop test: the official messagebird Node SDK (4.0.1) against omnigate,
# and the Go SDK v9 (gotest/: conversation, sms, balance, lookup, hlr,
# verify, number).
#
# Builds omnigate, makes a self-signed certificate for rest.messagebird.com
# and 127.0.0.1, starts `omnigate serve --demo --tls-cert … --tls-key …` on a
# free loopback port with a fresh data directory and account, runs test.mjs
# with node's test runner (the SDK reaches omnigate over TLS as it would
# through a hosts-file entry), then stops the server with SIGTERM and checks
# it exited 0.
#
# Usage: interop/messagebird/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing) and openssl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=messagebird
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: messagebird as package-lock.json pins it (4.0.1).
ensure_node_modules messagebird

# 2. The binary, and a certificate for the names the SDK calls and 127.0.0.1.
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"
make_cert rest.messagebird.com conversations.messagebird.com numbers.messagebird.com

# 3. An account, made with the CLI.
timeout 60 "$BIN" account create --name interop-messagebird --balance 100 --data "$DATA" >"$WORK/account.json" \
  || die "account create failed"
field() { json_field "$WORK/account.json" "$1"; }
ACCOUNT_ID="$(field id)" || die "no id in the account JSON"
LIVE_KEY="$(field key)" || die "no live key in the account JSON"
TEST_KEY="$(field test_key)" || die "no test key in the account JSON"
SIGNING_KEY="$(field signing_key)" || die "no signing key in the account JSON"
[[ "$(field balance)" == "100" ]] || die "account balance is not 100"
# The tests send as "Omnigate": an alphanumeric sender needs an operator's
# approval first (sender identity, docs/compliance.md).
timeout 60 "$BIN" sender approve --account "$ACCOUNT_ID" --originator Omnigate --note interop --data "$DATA" >/dev/null \
  || die "sender approve failed"
# An sms channel for the Conversations API tests (conversations.mjs).
timeout 60 "$BIN" channel add --account "$ACCOUNT_ID" --kind sms --sender Omnigate --name interop --data "$DATA" >"$WORK/channel.json" \
  || die "channel add failed"
CHANNEL_ID="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).id' "$WORK/channel.json")" \
  || die "no id in the channel JSON"

# A number in the inventory for the Go SDK's number package to find and buy.
printf 'number,country,type,features,monthly_price\n31687659999,NL,mobile,sms voice,1.50\n' >"$WORK/numbers.csv"
timeout 60 "$BIN" numbers import --file "$WORK/numbers.csv" --data "$DATA" >/dev/null || die "numbers import failed"

# 4. The server, on a free loopback port.
serve_args() { SERVE_ARGS=(--demo --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --data "$DATA"); }
start_omnigate https

# 5. The test.
run_test env OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_TEST_KEY="$TEST_KEY" \
  OMNIGATE_SIGNING_KEY="$SIGNING_KEY" OMNIGATE_BALANCE=100 \
  timeout --kill-after=10 300 node --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"
run_test env OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_SIGNING_KEY="$SIGNING_KEY" \
  OMNIGATE_CHANNEL="$CHANNEL_ID" timeout --kill-after=10 120 node --test-reporter=spec conversations.mjs
(( TEST_RC == 0 )) || die "conversations.mjs failed (status $TEST_RC)"
# The Go SDK (conversation, sms, balance, lookup, hlr, verify, number), in
# its own module (gotest/go.mod pins github.com/messagebird/go-rest-api/v9
# v9.1.1, the newest the module proxy serves; v9.0.0 decodes prices as
# integers, messagebird/go-rest-api#125).
HERE="$HERE/gotest" run_test env OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_CHANNEL="$CHANNEL_ID" \
  OMNIGATE_NUMBER=31687659999 timeout --kill-after=10 600 go test -count=1 -v ./...
(( TEST_RC == 0 )) || die "the Go SDK test failed (status $TEST_RC)"

# 6. A clean stop.
stop_omnigate
log "OK: SDK interop passed and the server stopped cleanly"
