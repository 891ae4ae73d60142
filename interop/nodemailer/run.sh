#!/usr/bin/env bash
# Interop test: nodemailer (10.6.1), Python's smtplib and Debian's msmtp
# send through omnigate's SMTP submission door.
#
# Builds omnigate, makes a self-signed certificate for 127.0.0.1, starts
# `omnigate serve --demo --tls-cert … --tls-key … --smtp-submission …` on
# free loopback ports with a fresh data directory and account, runs test.mjs
# (nodemailer: STARTTLS, AUTH with the access key, a message with an
# attachment; the id in the 250 reply is read back through the API), then
# test_smtplib.py (/usr/bin/python3's smtplib: EHLO, STARTTLS, AUTH PLAIN
# and LOGIN, MIME with an attachment and a UTF-8 subject to several
# recipients, read back through the API and from the demo mail sink's
# maildir; a recipient refused at RCPT, wrong credentials, SIZE, 8BITMIME,
# CHUNKING, SMTPUTF8 (a UTF-8 address), a test key) and test_msmtp.py (msmtp with
# AUTH PLAIN and LOGIN, recipients on the command line and from the headers,
# a wrong key), then stops the server with SIGTERM and checks it exited 0.
# All three run even if one fails; the script fails if any did.
#
# The demo account sends from its demo domain, which the demo sets up
# verified; its email falls back to the demo's built-in mail server.
#
# Usage: interop/nodemailer/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing),
# openssl, /usr/bin/python3 and msmtp (installed with apt-get when missing).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=nodemailer
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: nodemailer as package-lock.json pins it (10.6.1); msmtp
# and Debian's python3 (smtplib is in its standard library).
ensure_node_modules nodemailer
ensure_debian_packages msmtp python3

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

# 5. The tests: nodemailer, smtplib, msmtp, against the same server. The
# demo mail sink keeps each recipient's copy in $DATA/demo-mail/<rcpt>/new.
TEST_ENV=(OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_TEST_KEY="$TEST_KEY"
  OMNIGATE_SMTP_PORT="$SMTP_PORT" OMNIGATE_FROM="$FROM" OMNIGATE_DEMO_MAIL="$DATA/demo-mail")
# The Python tests import support.py from this directory; no __pycache__ is
# left here.
failed=()
run_test env "${TEST_ENV[@]}" timeout --kill-after=10 300 node --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || failed+=("nodemailer (status $TEST_RC)")
run_test env "${TEST_ENV[@]}" TMPDIR="$WORK" PYTHONDONTWRITEBYTECODE=1 timeout --kill-after=10 300 /usr/bin/python3 test_smtplib.py
(( TEST_RC == 0 )) || failed+=("smtplib (status $TEST_RC)")
run_test env "${TEST_ENV[@]}" TMPDIR="$WORK" PYTHONDONTWRITEBYTECODE=1 timeout --kill-after=10 120 /usr/bin/python3 test_msmtp.py
(( TEST_RC == 0 )) || failed+=("msmtp (status $TEST_RC)")

# 6. A clean stop (checked whatever the tests said), then the tests' verdict.
stop_omnigate
((${#failed[@]} == 0)) || die "tests failed: ${failed[*]}"
log "OK: nodemailer, smtplib and msmtp interop passed and the server stopped cleanly"
