#!/usr/bin/env bash
# Interop test: three `omnigate serve` nodes on one PostgreSQL database (a
# fresh one per run) and NATS, behind HAProxy (Debian's package) health-
# checking /readyz, sending through an `omnigate smsc` that allows two binds
# per system_id, as carriers limit them. A Go load program
# (interop/cluster/load) sends SMS, keeps Pusher clients subscribed and
# triggers events through HAProxy the whole time, and counts every outcome
# per phase:
#
#   warmup       steady state
#   rolling      SIGTERM one node at a time (lame duck, then stop), restart
#                it, wait until HAProxy has it again: no failed request, no
#                lost message, no lost event for a connected client
#   kill9        kill -9 of a node holding a bind: no accepted message
#                lost, its bind taken over by another node (the time is
#                printed), duplicates counted
#   pgrestart    pg_ctlcluster restart of the PostgreSQL server: 503 while
#                it is down, nothing accepted lost, the nodes recover by
#                themselves (CLUSTER_PG_RESTART=0 skips it)
#   natsrestart  the NATS server restarted: realtime recovers
#   after        everything up again: no failure, no loss
#
# It prints one table row per phase and exits non-zero when a rule broke.
# NATS is a server of its own on a free port, so that restarting it
# disturbs nothing else; PostgreSQL is the local server (.ci/run starts it).
#
# Usage: interop/cluster/run.sh   (from anywhere; about 2 minutes)
# Needs: go, node (for common.sh), PostgreSQL at 127.0.0.1:5432 (user
# postgres, trust), nats-server and haproxy (installed with apt-get when
# missing), curl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=cluster
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

PG_RESTART=${CLUSTER_PG_RESTART:-1}
# Another PostgreSQL server: CLUSTER_PG_BASE (a URL without the database)
# and CLUSTER_PG_RESTART_CMD (how to restart it).
PGBASE=${CLUSTER_PG_BASE:-"postgres://postgres@127.0.0.1:5432"}
DB="omnigate_cluster_$$"
LEASE=4s  # bind lease: a dead node's binds move within about 4/3 of it
DRAIN=2s  # lame duck: HAProxy notices /readyz failing in 2 × 300 ms
NODES=(1 2 3)
declare -A NODE_PID NODE_PORT
HAPROXY_PID="" NATS_PID="" DB_MADE=""

cleanup_more() {
  local n
  [[ -f "$WORK/stop" ]] || touch "$WORK/stop" 2>/dev/null || true
  for n in "${NODES[@]}"; do
    if [[ -n "${NODE_PID[$n]:-}" ]] && kill -0 "${NODE_PID[$n]}" 2>/dev/null; then
      stop_proc "${NODE_PID[$n]}" "node $n"
    fi
  done
  if (($1 != 0)); then
    for n in "${NODES[@]}"; do
      [[ -f "$WORK/node$n.err" ]] || continue
      log "node $n log (last 15 lines):"
      tail -n 15 "$WORK/node$n.err" >&2 || true
    done
  fi
  [[ -n "$HAPROXY_PID" ]] && kill -TERM "$HAPROXY_PID" 2>/dev/null && wait "$HAPROXY_PID" 2>/dev/null
  [[ -n "$NATS_PID" ]] && kill -TERM "$NATS_PID" 2>/dev/null && wait "$NATS_PID" 2>/dev/null
  [[ -n "$DB_MADE" ]] && psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  return 0
}

# 1. What the test needs from Debian, PostgreSQL running.
command -v curl >/dev/null || die "curl is not installed"
need=()
command -v haproxy >/dev/null || need+=(haproxy)
[[ -x /usr/sbin/nats-server ]] || command -v nats-server >/dev/null || need+=(nats-server)
if ((${#need[@]})); then
  log "installing ${need[*]} with apt-get"
  { apt-get -o DPkg::Lock::Timeout=120 install -y "${need[@]}" || { apt-get update && apt-get -o DPkg::Lock::Timeout=120 install -y "${need[@]}"; }; } \
    >"$WORK/apt.log" 2>&1 || die "apt-get install ${need[*]} failed: $(tail -3 "$WORK/apt.log")"
fi
NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
PG_VERSION=$(ls /etc/postgresql | sort -n | tail -1)
if [[ -z "${CLUSTER_PG_BASE:-}" ]] && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
  for _ in $(seq 50); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
fi
psql "$PGBASE/postgres" -qc "CREATE DATABASE $DB" >/dev/null || die "cannot create database $DB"
DB_MADE=1
DBURL="$PGBASE/$DB?sslmode=disable"

# 2. The binaries.
build_omnigate
(cd "$ROOT" && go build -o "$WORK/load" ./interop/cluster/load) || die "building the load program failed"

# 3. NATS of its own, the SMSC allowing two binds, the account, connector,
# route and realtime app (one master key for every node).
NATS_PORT=$(free_port)
start_nats() {
  "$NATS_BIN" -a 127.0.0.1 -p "$NATS_PORT" >>"$WORK/nats.log" 2>&1 &
  NATS_PID=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return 0; sleep 0.1; done
  die "nats-server did not start"
}
start_nats
"$BIN" smsc --listen 127.0.0.1:0 --control 127.0.0.1:0 --max-binds 2 --receipt-delay 50ms \
  --submits-log "$WORK/submits.log" >"$WORK/smsc.out" 2>"$WORK/smsc.err" &
SMSC_PID=$!
line="$(wait_for_line "$WORK/smsc.out" 'listening on .*control on http://' "$SMSC_PID" "omnigate smsc")" || die "omnigate smsc did not start"
[[ "$line" =~ listening\ on\ ([0-9.]+):([0-9]+)\ .*control\ on\ (http://[0-9.]+:[0-9]+) ]] || die "cannot read the simulator's addresses from: $line"
SMSC_PORT="${BASH_REMATCH[2]}" SMSC_CONTROL="${BASH_REMATCH[3]}"
smsc_bound() { curl -sf "$SMSC_CONTROL/stats" | sed -n 's/.*"bound":\([0-9]*\).*/\1/p'; }

OMNIGATE_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export OMNIGATE_MASTER_KEY
DBARGS=(--database "$DBURL" --data "$WORK/cli")
"$BIN" account create --name cluster --balance 100000000 "${DBARGS[@]}" >"$WORK/account.json" || die "account create failed"
KEY=$(json_field "$WORK/account.json" key)
ACCOUNT=$(json_field "$WORK/account.json" id)
"$BIN" sender approve --account "$ACCOUNT" --originator Load --note cluster "${DBARGS[@]}" >/dev/null
"$BIN" connector add --name carrier --settings \
  "{\"host\":\"127.0.0.1\",\"port\":$SMSC_PORT,\"system_id\":\"cluster\",\"binds\":2,\"reconnect_min\":\"200ms\",\"reconnect_max\":\"2s\"}" \
  "${DBARGS[@]}" >/dev/null || die "connector add failed"
"$BIN" route add --connectors carrier "${DBARGS[@]}" >/dev/null
"$BIN" app create --account "$ACCOUNT" --name cluster "${DBARGS[@]}" >"$WORK/app.json" || die "app create failed"
APP_ID=$(json_field "$WORK/app.json" app_id)
APP_KEY=$(json_field "$WORK/app.json" key)
APP_SECRET=$(json_field "$WORK/app.json" secret)

# 4. Three nodes, each its own data directory (node id) and port.
start_node() {
  local n=$1 i
  "$BIN" serve --http "127.0.0.1:${NODE_PORT[$n]}" --database "$DBURL" --data "$WORK/node$n" \
    --nats "nats://127.0.0.1:$NATS_PORT" --bind-lease "$LEASE" --drain "$DRAIN" \
    --conn-limit-exempt 127.0.0.1 >>"$WORK/node$n.out" 2>>"$WORK/node$n.err" &
  NODE_PID[$n]=$!
  for ((i = 0; i < 200; i++)); do
    kill -0 "${NODE_PID[$n]}" 2>/dev/null || die "node $n exited while starting"
    curl -sf "http://127.0.0.1:${NODE_PORT[$n]}/readyz" >/dev/null && return 0
    sleep 0.1
  done
  die "node $n was not ready within 20 s"
}
for n in "${NODES[@]}"; do
  NODE_PORT[$n]=$(free_port)
  start_node "$n"
done
log "three nodes up on ports ${NODE_PORT[*]}"

# 5. HAProxy before them, health-checking /readyz; a connection a stopping
# node closes under a request is retried on another node.
LB_PORT=$(free_port)
{
  cat <<EOF
global
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  retries 3
  option redispatch 1
  option http-buffer-request
  retry-on conn-failure empty-response junk-response
frontend api
  bind 127.0.0.1:$LB_PORT
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 300ms fastinter 200ms downinter 300ms fall 2 rise 2
EOF
  for n in "${NODES[@]}"; do echo "  server n$n 127.0.0.1:${NODE_PORT[$n]} check"; done
} >"$WORK/haproxy.cfg"
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
LB="http://127.0.0.1:$LB_PORT"
for _ in $(seq 100); do curl -sf "$LB/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$LB/readyz" >/dev/null || die "HAProxy does not answer: $(tail -3 "$WORK/haproxy.log")"

# 6. The load, for the whole test.
phase() { log "phase: $1"; echo "$1" >>"$WORK/phases"; }
# in_lb: long enough for HAProxy to have a node that became ready up
# again (its check passes rise = 2 times, 300 ms apart).
in_lb() { sleep 1; }
RULES="warmup=failures+lost+rtlost+eventfailures,rolling=failures+lost+rtlost+eventfailures,kill9=lost,natsrestart=lost,after=failures+lost+rtlost+eventfailures"
[[ "$PG_RESTART" == 1 ]] && RULES+=",pgrestart=lost"
phase warmup
"$WORK/load" --url "$LB" --key "$KEY" --app-id "$APP_ID" --app-key "$APP_KEY" --app-secret "$APP_SECRET" \
  --rate 40 --event-rate 10 --clients 12 --channels 3 --phases "$WORK/phases" --stop "$WORK/stop" \
  --submits "$WORK/submits.log" --json "$WORK/result.json" \
  --rules "$RULES" \
  >"$WORK/load.out" 2>"$WORK/load.err" &
TEST_PID=$!
sleep 4

phase rolling
t0=$SECONDS
for n in "${NODES[@]}"; do
  stop_proc "${NODE_PID[$n]}" "node $n"
  [[ "$STOP_RC" == 0 ]] || die "node $n exited with status $STOP_RC after SIGTERM, want 0"
  grep -q 'draining' "$WORK/node$n.err" || die "node $n did not drain"
  start_node "$n"
  in_lb "$n"
done
ROLLING=$((SECONDS - t0))
log "rolling restart of three nodes: ${ROLLING} s"

# A node that holds a bind, by its last lease line.
holder=""
for n in "${NODES[@]}"; do
  last=$(grep 'binds leased' "$WORK/node$n.err" | tail -1 || true)
  [[ "$last" =~ held=([0-9]+) ]] && ((BASH_REMATCH[1] > 0)) && holder=$n && break
done
[[ -n "$holder" ]] || die "no node says it holds a bind"
phase kill9
kill -KILL "${NODE_PID[$holder]}"
killed=$(date +%s%N)
wait "${NODE_PID[$holder]}" 2>/dev/null || true
NODE_PID[$holder]=""
FAILOVER=""
for _ in $(seq 200); do
  sleep 0.1
  if [[ "$(smsc_bound)" == 2 ]]; then FAILOVER=$(( ($(date +%s%N) - killed) / 1000000 )); break; fi
done
[[ -n "$FAILOVER" ]] || die "the killed node's bind was not taken over within 20 s (lease $LEASE)"
log "kill -9 of node $holder: its bind was taken over after ${FAILOVER} ms (lease $LEASE)"
start_node "$holder"
in_lb "$holder"
sleep 1

if [[ "$PG_RESTART" == 1 ]]; then
  phase pgrestart
  t0=$SECONDS
  if [[ -n "${CLUSTER_PG_RESTART_CMD:-}" ]]; then
    bash -c "$CLUSTER_PG_RESTART_CMD" || die "$CLUSTER_PG_RESTART_CMD failed"
  else
    pg_ctlcluster --skip-systemctl-redirect -m fast "$PG_VERSION" main restart || die "pg_ctlcluster restart failed"
  fi
  for n in "${NODES[@]}"; do
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:${NODE_PORT[$n]}/readyz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:${NODE_PORT[$n]}/readyz" >/dev/null || die "node $n did not recover from the PostgreSQL restart within 30 s"
  done
  log "PostgreSQL restarted; every node ready again after $((SECONDS - t0)) s"
  in_lb
  sleep 1
else
  log "CLUSTER_PG_RESTART=0: no PostgreSQL restart"
fi

phase natsrestart
kill -TERM "$NATS_PID"
wait "$NATS_PID" 2>/dev/null || true
sleep 1
start_nats
sleep 3 # the nodes reconnect (nats.go: every 2 s)

phase after
sleep 4
touch "$WORK/stop"
TEST_RC=0
wait "$TEST_PID" || TEST_RC=$?
TEST_PID=""
cat "$WORK/load.out"
[[ -s "$WORK/load.err" ]] && { log "load program errors:"; cat "$WORK/load.err" >&2; }
log "rolling restart: ${ROLLING} s; bind failover after kill -9: ${FAILOVER} ms (lease $LEASE); SMSC binds refused over the limit: $(curl -sf "$SMSC_CONTROL/stats" | sed -n 's/.*"refused":\([0-9]*\).*/\1/p')"
((TEST_RC == 0)) || die "a phase broke its rule (see the table)"
for n in "${NODES[@]}"; do
  stop_proc "${NODE_PID[$n]}" "node $n"
  [[ "$STOP_RC" == 0 ]] || die "node $n exited with status $STOP_RC after SIGTERM, want 0"
  NODE_PID[$n]=""
done
log "PASS"
