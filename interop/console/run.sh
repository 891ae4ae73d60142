#!/usr/bin/env bash
# Browser test: the web console (/console) in Debian's Chromium, headless,
# driven by puppeteer-core (pinned by package-lock.json), with axe-core
# checking accessibility in every page.
#
# Builds omnigate, makes an operator with the CLI, starts
# `omnigate serve --demo` on a free loopback port, and runs test.mjs with
# node's test runner: the demo owner turns two factors on and signs in
# with them (TOTP computed by the test), a message sent over the REST API
# is watched until delivered in the messages log, searched, a statement is
# downloaded as CSV, a developer is invited, joins and is refused billing;
# then every page that the console's own navigation lists, for the owner,
# the developer and the operator, is loaded in English, French and Arabic
# at 1280 and 390 px: no serious or critical axe-core violation, dir=rtl
# and a mirrored navigation in Arabic, no horizontal overflow, no script
# or Content-Security-Policy error, a visible keyboard focus.
#
# Usage: interop/console/run.sh   (from anywhere; exits non-zero on failure)
#   OMNIGATE_CONSOLE_SHOTS=DIR   also write the screenshots there (the ones
#                                in docs/img/console/ come from this)
# Needs: go, node >= 18, npm, and Debian's chromium (installed with apt-get
# when missing and running as root; CHROMIUM=PATH picks another binary).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHOTS="${OMNIGATE_CONSOLE_SHOTS:-}" # read before common.sh unsets OMNIGATE_*

INTEROP_NAME=console
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]] ||
    die "$CHROMIUM is missing, and installing Debian's chromium needs apt-get as root"
  log "installing chromium with apt-get"
  { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends chromium fonts-dejavu-core ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends chromium fonts-dejavu-core; }; } \
    >"$WORK/apt.log" 2>&1 || die "apt-get install chromium failed: $(tail -3 "$WORK/apt.log")"
fi

ensure_node_modules puppeteer-core axe-core
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA"

OP_EMAIL=ops@console.interop.localhost
timeout 60 "$BIN" user create --email "$OP_EMAIL" --data "$DATA" >"$WORK/operator.json" || die "user create (operator) failed"
OP_PASSWORD="$(json_field "$WORK/operator.json" password)" || die "no password in the operator's JSON"
OP_SECRET="$(json_field "$WORK/operator.json" totp_secret)" || die "no totp_secret in the operator's JSON"

serve_args() { SERVE_ARGS=(--demo --data "$DATA"); }
start_omnigate http
# The banner's console sign-in is written once the demo owner is made.
for ((i = 0; i < 300; i++)); do
  [[ -s "$DATA/demo-console.json" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "server exited"
  sleep 0.1
done
OWNER_EMAIL="$(json_field "$DATA/demo-console.json" email)" || die "no demo owner"
OWNER_PASSWORD="$(json_field "$DATA/demo-console.json" password)" || die "no demo owner password"
KEY="$(json_field "$DATA/demo-account.json" key)" || die "no demo key"
log "omnigate on $URL; Chromium: $("$CHROMIUM" --version 2>/dev/null | head -1)"

mkdir -p "$WORK/shots"
force_exit=""
if node --help 2>/dev/null | grep -q -- '--test-force-exit'; then force_exit=--test-force-exit; fi
run_test env CONSOLE_URL="$URL" CONSOLE_KEY="$KEY" CHROMIUM="$CHROMIUM" \
  OWNER_EMAIL="$OWNER_EMAIL" OWNER_PASSWORD="$OWNER_PASSWORD" \
  OP_EMAIL="$OP_EMAIL" OP_PASSWORD="$OP_PASSWORD" OP_SECRET="$OP_SECRET" \
  SHOTS="${SHOTS:-$WORK/shots}" DOWNLOADS="$WORK/downloads" \
  timeout --kill-after=10 420 node $force_exit --test-reporter=spec test.mjs
(( TEST_RC == 0 )) || die "browser test failed (status $TEST_RC)"

stop_omnigate
log "OK: the console signs in with two factors, follows a message to delivered, searches, exports, invites and scopes roles in Chromium; every page passes axe-core and the layout rules in English, French and Arabic"
