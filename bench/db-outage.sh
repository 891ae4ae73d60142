#!/usr/bin/env bash
# A database stop under load (issue 13, item 4): omnigate on PostgreSQL
# sends at a fixed rate through the SMSC simulator, and the PostgreSQL
# server is stopped (`pg_ctl stop -m fast`: connections cut) for a while,
# then started again. Sends in flight at the stop have reached the SMSC but
# their outcomes cannot be recorded; the figure is how many parts the SMSC
# took more than once (its submits minus the parts accepted), and that
# nothing accepted is lost.
#
# It never touches another PostgreSQL: it makes a throwaway cluster of its
# own (initdb into a temporary directory, trust authentication, a free
# loopback port, run as the postgres user when started as root), with a
# fresh database per run, and removes it at the end.
#
# Usage: bench/db-outage.sh [--before REV] [--after REV] [--rate N]
#          [--throughput N] [--duration D] [--stop-at S] [--stop-for S]
#          [--runs N] [--out DIR]
#   --before REV   also run omnigate built from git revision REV (e.g. the
#                  commit before the fix); runs alternate before/after
#   --after REV    the build under test; default the working tree
#   --rate N       requests per second, open loop, one recipient each (100)
#   --throughput N the connector's cap on submits per second (80): a carrier
#                  slower than the load, so that sends queue in the
#                  dispatcher and many are in flight when the database stops
#   --duration D   how long the load runs, in seconds (30)
#   --stop-at S    seconds into the load when PostgreSQL stops (10)
#   --stop-for S   seconds it stays stopped (10)
#   --runs N       runs per build (1)
#   --out DIR      keep each run's JSON result and logs there
# Prints one table row per run: requests sent, accepted, failed (refused
# during the stop), recipients delivered, lost, parts sent twice.
set -Eeuo pipefail

NAME=bench/db-outage
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

RATE=100 THROUGHPUT=80 DURATION=30 STOP_AT=10 STOP_FOR=10
fault_options "$@"
set -- ${REST[@]+"${REST[@]}"}
while (($#)); do
  case $1 in
    --throughput) THROUGHPUT=$2; shift 2 ;;
    --duration) DURATION=${2%s}; shift 2 ;;
    --stop-at) STOP_AT=${2%s}; shift 2 ;;
    --stop-for) STOP_FOR=${2%s}; shift 2 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
PGDIR=""
# as_pg runs a PostgreSQL tool as the postgres user when this runs as root
# (the server refuses to run as root).
as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}
on_exit() {
  [[ -n "$PGDIR" && -f "$PGDIR/data/postmaster.pid" ]] || return 0
  as_pg pg_ctl -D "$PGDIR/data" stop -m immediate >/dev/null 2>&1 || true
}
fault_start initdb pg_ctl psql
PGDIR="$WORK/pg"

# A free loopback port for the cluster.
PGPORT=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PGPORT=$p; break; fi
done
[[ -n "$PGPORT" ]] || die "no free port for PostgreSQL"
mkdir -p "$PGDIR"
((EUID == 0)) && chown postgres "$PGDIR"
log "a throwaway PostgreSQL cluster on 127.0.0.1:$PGPORT in $PGDIR"
as_pg initdb -D "$PGDIR/data" -U postgres --auth=trust >"$WORK/initdb.log" 2>&1 || die "initdb failed: $(tail -3 "$WORK/initdb.log")"
pg_start() {
  as_pg pg_ctl -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}
pg_start
CONNECTOR_ARGS=(--throughput "$THROUGHPUT")
PGURL="postgres://postgres@127.0.0.1:$PGPORT"

# run BUILD I: one run; adds its table row to $WORK/rows.
run() {
  local build=$1 i=$2 dir="$WORK/$1-$2" bin="$WORK/$1" db="run_$1_$2" load segments submits
  mkdir -p "$dir"
  psql -q "$PGURL/postgres" -c "CREATE DATABASE $db" || die "creating database $db"
  start_smsc "$bin" "$dir" --receipt-delay 50ms
  setup_omnigate "$bin" "$dir" --database "$PGURL/$db?sslmode=disable" --data "$dir/data"
  start_serve "$bin" "$dir"
  log "$build run $i: $RATE/s for ${DURATION}s to a carrier taking $THROUGHPUT/s, PostgreSQL stopped at ${STOP_AT}s for ${STOP_FOR}s"
  "$WORK/load" --url "$API" --key "$KEY" --rate "$RATE" --duration "${DURATION}s" --concurrency 64 \
    --grace 10m --quiet --json "$dir/result.json" >"$dir/load.txt" 2>&1 &
  load=$!
  PIDS+=("$load")
  sleep "$STOP_AT"
  as_pg pg_ctl -D "$PGDIR/data" stop -m fast >/dev/null
  sleep "$STOP_FOR"
  pg_start
  wait "$load" || true
  segments=$(jq .recipients.segments "$dir/result.json")
  submits=$(smsc_stat submits)
  jq -r --arg b "$build" --arg i "$i" --arg dup "$((submits - segments))" \
    '[$b, $i, .requests.sent, .requests.accepted, .requests.errors, .recipients.delivered, .recipients.lost, $dup] | @tsv' \
    "$dir/result.json" >>"$WORK/rows"
  end_run "$dir"
  psql -q "$PGURL/postgres" -c "DROP DATABASE $db" || true
}

fault_runs '| build | run | requests | accepted | failed | delivered | lost | parts sent twice |'
