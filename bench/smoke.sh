#!/usr/bin/env bash
# CI smoke of the benchmarks, in seconds; judges no timing.
#
# 1. The load tool (bench/load) against a freshly started omnigate: the SMSC
#    simulator, an account with a large balance (charging on), a connector
#    and a catch-all route, serve; 3 s at 100 requests/s with delivery
#    tracking and --strict (no error, nothing lost), then its JSON and SVG
#    are checked.
# 2. The Kannel comparison in its tiny mode (bench/compare-kannel.sh
#    --smoke: a few hundred messages through omnigate and through Kannel,
#    both must report numbers and lose nothing). Kannel is installed when
#    missing; without apt-get this fails, it does not skip.
# 3. The Postfix comparison in its tiny mode (bench/compare-postfix.sh
#    --smoke: 200 emails through a private Postfix instance, from
#    smtp-source and from the SMTP generator, and through omnigate once
#    the email channel is there, to smtp-sink; every system that runs
#    must deliver everything). Postfix is installed when missing.
# 4. bench/smppserver on 100 messages per column: the SMPP server door,
#    the MessageBird door and Kannel's smsbox (installed by step 2), each
#    until every delivered receipt is back.
#
# Usage: bench/smoke.sh   (from anywhere; exits non-zero when the machinery breaks)
set -Eeuo pipefail

NAME=bench/smoke
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
STARTED=$SECONDS
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-bench-smoke.XXXXXX")"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  if ((rc != 0)); then
    for f in "$WORK"/*.log; do
      [[ -f "$f" ]] && { log "--- $(basename "$f") (last lines)"; tail -n 15 "$f" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$ROOT"
log "building omnigate and the load tool"
go build -o "$WORK/omnigate" ./cmd/omnigate
go build -o "$WORK/load" ./bench/load
OG="$WORK/omnigate"

log "1/4 load tool against omnigate (smsc + serve)"
"$OG" smsc --listen 127.0.0.1:0 --control 127.0.0.1:0 --receipt-delay 50ms \
  --system-id smoke --password smoke-pw >"$WORK/smsc.log" 2>&1 &
PIDS+=($!)
SMPP=$(address_in "$WORK/smsc.log" 'listening on 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
DATA="$WORK/data"
"$OG" account create --name smoke --balance 1000000 --data "$DATA" >"$WORK/account.json"
json_field() { grep -oE "\"$1\": *\"[^\"]+\"" "$WORK/account.json" | head -n 1 | sed 's/.*: *"\([^"]*\)"/\1/'; }
KEY=$(json_field key)
ACCOUNT=$(json_field id)
[[ $KEY == live_* && -n "$ACCOUNT" ]] || die "no id and live key in account create's output"
# An alphanumeric sender needs an operator's approval (compliance).
"$OG" sender approve --account "$ACCOUNT" --originator Bench --note smoke --data "$DATA" >/dev/null
"$OG" connector add --name carrier --host 127.0.0.1 --port "$SMPP" --system-id smoke \
  --password smoke-pw --window 10 --data "$DATA" >/dev/null
"$OG" route add --connectors carrier --data "$DATA" >/dev/null
"$OG" serve --http 127.0.0.1:0 --data "$DATA" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
# The API's address is on the "omnigate serving" line; other lines (the
# connector's bind) carry addr= too, and may come first.
API="http://$(address_in "$WORK/serve.log" 'omnigate serving" addr=127\.0\.0\.1:[0-9]+' | sed 's/.*addr=//')"
for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$API/readyz" >/dev/null || die "omnigate is not ready at $API"

"$WORK/load" --url "$API" --key "$KEY" --rate 100 --duration 3s --concurrency 8 \
  --recipients 2 --grace 30s --strict --quiet --json "$WORK/result.json" --svg "$WORK/result.svg" ||
  die "the load tool's run against omnigate failed"
grep -q '"delivered_per_second"' "$WORK/result.json" || die "no throughput in the JSON result"
grep -q '"lost": 0,' "$WORK/result.json" || die "the JSON result does not say zero lost"
head -c 200 "$WORK/result.svg" | grep -q '<svg' || die "the chart is not an SVG"
stop_all

log "2/4 omnigate vs Kannel, tiny mode"
"$HERE/compare-kannel.sh" --smoke || die "bench/compare-kannel.sh --smoke failed"

log "3/4 omnigate vs Postfix, tiny mode"
"$HERE/compare-postfix.sh" --smoke || die "bench/compare-postfix.sh --smoke failed"

# Kannel is installed by step 2, so the SMPP server comparison runs its
# three columns (SMPP door, MessageBird door, Kannel's smsbox) on 100
# messages each; every message must come back delivered.
log "4/4 SMPP server door vs MessageBird door vs Kannel, 100 messages each"
go run ./bench/smppserver --bin "$WORK/omnigate" --n 100 --kannel on --timeout 2m >"$WORK/smppserver.md" ||
  die "bench/smppserver failed"
grep -q '^| Kannel smsbox HTTP ' "$WORK/smppserver.md" || die "bench/smppserver has no Kannel row"

log "ok ($((SECONDS - STARTED)) s)"
