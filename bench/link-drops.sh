#!/usr/bin/env bash
# Link drops under load (issue 13, item 3): the SMSC simulator cuts the SMPP
# connection after every N submits it carried (`omnigate smsc --drop-every
# N`, without unbinding, as a failing network would), while the load tool
# sends at a fixed rate; the load tool's end-to-end latency (request due
# time → delivered status report) is the figure. Each build runs on a fresh
# SQLite data directory and a fresh simulator, the connector with default
# settings (reconnect backoff 1 s to 1 min), a receipt delay of 50 ms.
#
# Usage: bench/link-drops.sh [--before REV] [--after REV] [--rate N]
#          [--duration D] [--drop-every N] [--grace D] [--runs N] [--out DIR]
#   --before REV   also run omnigate built from git revision REV (e.g. the
#                  commit before the fix); runs alternate before/after
#   --after REV    the build under test; default the working tree
#   --rate N       requests per second, open loop, one recipient each (100)
#   --duration D   how long the load runs (60s)
#   --drop-every N submits per connection before the simulator drops it
#                  (300; 0: never, the baseline)
#   --grace D      how long the load tool waits for the last reports (20m)
#   --runs N       runs per build (1)
#   --out DIR      keep each run's JSON result and logs there
# Prints one table row per run: accepted, delivered, lost (not delivered
# within --grace), drops, submits beyond the parts accepted (sent twice;
# negative when parts were still waiting to be sent), end-to-end
# p50/p90/p99/p99.9/max.
set -Eeuo pipefail

NAME=bench/link-drops
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

RATE=100 DURATION=60s DROP_EVERY=300 GRACE=20m
fault_options "$@"
set -- ${REST[@]+"${REST[@]}"}
while (($#)); do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --drop-every) DROP_EVERY=$2; shift 2 ;;
    --grace) GRACE=$2; shift 2 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
fault_start

# run BUILD I: one run; adds its table row to $WORK/rows.
run() {
  local build=$1 i=$2 dir="$WORK/$1-$2" bin="$WORK/$1" segments submits
  mkdir -p "$dir"
  start_smsc "$bin" "$dir" --drop-every "$DROP_EVERY" --receipt-delay 50ms
  setup_omnigate "$bin" "$dir"
  start_serve "$bin" "$dir"
  log "$build run $i: $RATE/s for $DURATION, the link dropped every $DROP_EVERY submits"
  "$WORK/load" --url "$API" --key "$KEY" --rate "$RATE" --duration "$DURATION" --concurrency 64 \
    --grace "$GRACE" --quiet --json "$dir/result.json" >"$dir/load.txt" || true
  segments=$(jq .recipients.segments "$dir/result.json")
  submits=$(smsc_stat submits)
  jq -r --arg b "$build" --arg i "$i" --arg drops "$(smsc_stat drops)" --arg dup "$((submits - segments))" \
    '[$b, $i, .recipients.accepted, .recipients.delivered, .recipients.lost, $drops, $dup,
      (.end_to_end // {} | .p50_ms, .p90_ms, .p99_ms, .p99_9_ms, .max_ms | . // 0 | floor)] | @tsv' "$dir/result.json" >>"$WORK/rows"
  end_run "$dir"
}

fault_runs '| build | run | accepted | delivered | lost | drops | sent twice | e2e p50 ms | p90 | p99 | p99.9 | max |'
