#!/usr/bin/env bash
# Throughput of 1, 2 and 3 `omnigate serve` nodes on one PostgreSQL
# database (issue 21), behind HAProxy, sending through the SMSC simulator
# with a connector of two binds shared out between the nodes. For each
# node count: a fresh database, the nodes, closed-loop load (bench/load,
# delivery tracked by status reports), and the CPU each node used per
# delivered message (/proc/PID/stat, user + system).
#
# Usage: bench/cluster.sh [--nodes "1 2 3"] [--duration 15s] [--concurrency 64]
# Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), haproxy, jq,
# curl. Prints a Markdown table.
set -Eeuo pipefail

NAME=bench/cluster
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

COUNTS="1 2 3" DURATION=15s CONCURRENCY=64
while (($#)); do
  case $1 in
    --nodes) COUNTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
for tool in haproxy jq curl psql; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
PGBASE="postgres://postgres@127.0.0.1:5432"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/omnigate-bench-cluster.XXXXXX")
DBS=()
cleanup() {
  stop_all
  for db in ${DBS[@]+"${DBS[@]}"}; do psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log "building"
build_omnigate "" "$WORK/omnigate"
(cd "$ROOT" && go build -o "$WORK/load" ./bench/load)
BIN="$WORK/omnigate"
TICK=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "| nodes | accepted/s | delivered/s | request p50 ms | request p99 ms | lost | CPU s per node (each) | CPU ms per delivered message, all nodes |"
echo "|---|---|---|---|---|---|---|---|"
for n in $COUNTS; do
  dir="$WORK/n$n" db="bench_cluster_$$_$n"
  mkdir -p "$dir"
  psql "$PGBASE/postgres" -qc "CREATE DATABASE $db" >/dev/null
  DBS+=("$db")
  dburl="$PGBASE/$db?sslmode=disable"
  start_smsc "$BIN" "$dir" --receipt-delay 20ms
  export OMNIGATE_MASTER_KEY
  OMNIGATE_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
  "$BIN" account create --name bench --balance 100000000 --database "$dburl" --data "$dir/cli" >"$dir/account.json"
  KEY=$(jq -r .key "$dir/account.json")
  "$BIN" sender approve --account "$(jq -r .id "$dir/account.json")" --originator Bench --note bench --database "$dburl" --data "$dir/cli" >/dev/null
  "$BIN" connector add --name carrier --host 127.0.0.1 --port "$SMPP_PORT" --system-id bench --window 10 --binds 2 --database "$dburl" --data "$dir/cli" >/dev/null
  "$BIN" route add --connectors carrier --database "$dburl" --data "$dir/cli" >/dev/null
  pids=() servers=""
  for i in $(seq "$n"); do
    port=$(free_port)
    "$BIN" serve --http "127.0.0.1:$port" --database "$dburl" --data "$dir/node$i" --conn-limit-exempt 127.0.0.1 >"$dir/node$i.log" 2>&1 &
    PIDS+=($!) pids+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    servers+="  server n$i 127.0.0.1:$port check"$'\n'
  done
  lb=$(free_port)
  cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
backend nodes
  balance roundrobin
  option httpchk GET /readyz
  default-server inter 1s
$servers
frontend api
  bind 127.0.0.1:$lb
  default_backend nodes
EOF
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$lb/readyz" >/dev/null && break; sleep 0.1; done
  sleep 2 # binds leased and bound
  before=()
  for p in "${pids[@]}"; do before+=("$(cpu_of "$p")"); done
  "$WORK/load" --url "http://127.0.0.1:$lb" --key "$KEY" --rate 0 --concurrency "$CONCURRENCY" --duration "$DURATION" \
    --grace 60s --quiet --json "$dir/result.json" >"$dir/load.txt" 2>&1 || true
  per="" total=0
  for i in "${!pids[@]}"; do
    used=$(( $(cpu_of "${pids[$i]}") - before[i] ))
    total=$((total + used))
    per+="$(awk -v t="$used" -v k="$TICK" 'BEGIN{printf "%.1f", t/k}') "
  done
  jq -r --arg n "$n" --arg per "${per% }" --arg total "$total" --arg tick "$TICK" \
    '"| \($n) | \(.throughput.accepted_per_second|floor) | \(.throughput.delivered_per_second|floor) | \(.request_latency.p50_ms) | \(.request_latency.p99_ms) | \(.recipients.lost) | \($per) | \(if .recipients.delivered > 0 then (($total|tonumber) / ($tick|tonumber) * 1000 / .recipients.delivered * 100 | floor) / 100 else "-" end) |"' \
    "$dir/result.json"
  stop_all
done
