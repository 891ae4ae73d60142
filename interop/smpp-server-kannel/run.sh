#!/usr/bin/env bash
# Interop test: Kannel (the Debian package, bearerbox + smsbox) as a
# customer's SMS gateway with omnigate's SMPP server as its SMSC.
#
# Builds omnigate, starts `omnigate serve --demo --smpp-listen …` on free
# loopback ports with a fresh data directory, issues the demo account's
# SMPP credentials (`omnigate smpp credentials --account ID`), writes a
# kannel.conf whose smsc group (smsc = smpp, transceiver) binds to omnigate
# with them, starts bearerbox and smsbox, and runs dlr.mjs: one SMS through
# Kannel's sendsms HTTP interface with dlr-mask=3 and a dlr-url to a local
# receiver; omnigate's receipt (deliver_sm) must come back through Kannel to
# that URL as a delivered report. Everything is stopped with SIGTERM;
# omnigate must exit 0.
#
# Usage: interop/smpp-server-kannel/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, and Kannel (bearerbox, smsbox), which it installs
# from Debian's package when missing (as root).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=smpp-server-kannel
# shellcheck source=../common.sh
source "$HERE/../common.sh"
BEARER_PID=""
SMSBOX_PID=""

find_kannel() {
  local b
  for b in "$1" "/usr/sbin/$1" "/usr/local/sbin/$1"; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
  done
  return 1
}
if ! find_kannel bearerbox >/dev/null || ! find_kannel smsbox >/dev/null; then
  # Installed from Debian's package when missing (root, as CI runs), like
  # bench/compare-kannel.sh; the system Kannel the package may start is
  # stopped again: the test runs its own on free ports.
  command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]] ||
    die "Kannel (bearerbox, smsbox) is not installed, and installing it needs apt-get as root"
  log "Kannel is not installed: installing the Debian package kannel"
  running_before=0
  pgrep -x bearerbox >/dev/null 2>&1 && running_before=1
  apt-cache show kannel >/dev/null 2>&1 || apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold kannel >/dev/null 2>&1 || die "apt-get install kannel failed"
  if ((running_before == 0)) && pgrep -x bearerbox >/dev/null 2>&1 && [[ -x /etc/init.d/kannel ]]; then
    /etc/init.d/kannel stop >/dev/null 2>&1 || true
  fi
fi
BEARERBOX="$(find_kannel bearerbox)" || die "bearerbox not found after installing kannel"
SMSBOX="$(find_kannel smsbox)" || die "smsbox not found after installing kannel"

cleanup_more() {
  [[ -n "$SMSBOX_PID" ]] && stop_proc "$SMSBOX_PID" smsbox
  [[ -n "$BEARER_PID" ]] && stop_proc "$BEARER_PID" bearerbox
  if (( $1 != 0 )); then
    for f in kannel/bearerbox.log kannel/smsc.log kannel/smsbox.log; do
      if [[ -s "$WORK/$f" ]]; then
        log "$f (last 30 lines):"
        tail -n 30 "$WORK/$f" >&2 || true
      fi
    done
  fi
}
interop_traps

# 1. The binary.
build_omnigate
DATA="$WORK/data"
mkdir -p "$DATA" "$WORK/kannel"
field() { json_field "$DATA/demo-account.json" "$1"; }

# 2. omnigate, on free loopback ports.
serve_args() {
  SMPP_PORT="$(free_port)"
  SERVE_ARGS=(--demo --smpp-listen "127.0.0.1:$SMPP_PORT" --data "$DATA")
}
start_omnigate http
ACCOUNT_ID="$(field id)" || die "no id in the demo account"
LIVE_KEY="$(field key)" || die "no live key in the demo account"

timeout 120 "$BIN" smpp credentials --account "$ACCOUNT_ID" --data "$DATA" >"$WORK/creds.txt" \
  || die "omnigate smpp credentials failed"
SYSTEM_ID="$(sed -n 's/^system_id: *\([^ ]*\).*/\1/p' "$WORK/creds.txt")"
PASSWORD="$(sed -n 's/^password: *\([^ ]*\).*/\1/p' "$WORK/creds.txt")"
[[ -n "$SYSTEM_ID" && -n "$PASSWORD" ]] || die "cannot read the credentials from: $(cat "$WORK/creds.txt")"

# 3. Kannel: one SMPP transceiver bind to omnigate, sendsms on loopback.
ADMIN_PORT="$(free_port)"
BOX_PORT="$(free_port)"
SEND_PORT="$(free_port)"
KPASS="interop$RANDOM"
K="$WORK/kannel"
cat >"$K/kannel.conf" <<CONF
group = core
admin-port = $ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = "$KPASS"
status-password = "$KPASS"
admin-allow-ip = "127.0.0.1"
smsbox-port = $BOX_PORT
box-allow-ip = "127.0.0.1"
log-file = "$K/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = omnigate
host = 127.0.0.1
port = $SMPP_PORT
transceiver-mode = true
smsc-username = "$SYSTEM_ID"
smsc-password = "$PASSWORD"
system-type = "kannel"
source-addr-ton = 5
source-addr-npi = 0
max-pending-submits = 10
log-file = "$K/smsc.log"
log-level = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BOX_PORT
sendsms-port = $SEND_PORT
sendsms-interface = 127.0.0.1
log-file = "$K/smsbox.log"
log-level = 1

group = sendsms-user
username = "interop"
password = "$KPASS"

group = sms-service
keyword = default
text = "ok"
catch-all = true
CONF
log "starting bearerbox and smsbox (smsc: omnigate on 127.0.0.1:$SMPP_PORT as $SYSTEM_ID)"
(cd "$K" && exec "$BEARERBOX" "$K/kannel.conf") >"$K/bearerbox.out" 2>&1 &
BEARER_PID=$!
# smsbox gives up at once when bearerbox's box port is not open yet: wait
# for it (bearerbox opens it after its SMSC threads start).
for ((i = 0; i < 100; i++)); do # 10 s
  kill -0 "$BEARER_PID" 2>/dev/null || die "bearerbox exited"
  if (exec 3<>"/dev/tcp/127.0.0.1/$BOX_PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$BOX_PORT") 2>/dev/null || die "bearerbox did not open its box port $BOX_PORT within 10 s"
(cd "$K" && exec "$SMSBOX" "$K/kannel.conf") >"$K/smsbox.out" 2>&1 &
SMSBOX_PID=$!

# Kannel's status page says "online" once the SMPP bind to omnigate is up.
status() { node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(1000) }).then((r) => r.text()).then((t) => console.log(t), () => {});' \
  "http://127.0.0.1:$ADMIN_PORT/status.txt?password=$KPASS"; }
bound=""
for ((i = 0; i < 300; i++)); do # 30 s
  kill -0 "$BEARER_PID" 2>/dev/null || die "bearerbox exited"
  kill -0 "$SMSBOX_PID" 2>/dev/null || die "smsbox exited"
  if status | grep -q 'omnigate\[.*online'; then bound=1; break; fi
  sleep 0.1
done
[[ -n "$bound" ]] || { status >&2; die "Kannel's SMSC did not come online within 30 s"; }
log "Kannel is bound to omnigate"

# 4. The test.
run_test env SENDSMS_URL="http://127.0.0.1:$SEND_PORT/cgi-bin/sendsms" SENDSMS_USER=interop SENDSMS_PASSWORD="$KPASS" \
  OMNIGATE_URL="$URL" OMNIGATE_KEY="$LIVE_KEY" FROM=omnigate \
  timeout --kill-after=10 120 node dlr.mjs
(( TEST_RC == 0 )) || die "dlr.mjs failed (status $TEST_RC)"

# 5. Stop Kannel, then omnigate.
stop_proc "$SMSBOX_PID" smsbox; SMSBOX_PID=""
stop_proc "$BEARER_PID" bearerbox; BEARER_PID=""
stop_omnigate
log "OK: Kannel sent through omnigate's SMPP server and got the DLR back; everything stopped cleanly"
