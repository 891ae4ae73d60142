# Shared by the bench/ scripts that run omnigate against its SMSC simulator
# (smoke.sh, link-drops.sh, db-outage.sh); source it after setting NAME and
# ROOT. It gives: logging, processes started and stopped, addresses printed
# by processes, omnigate built from a git revision, a server with an SMSC
# simulator set up as an operator would (account, approved sender,
# connector, route), and the before/after runs of the fault scripts.

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach the servers.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

PIDS=()

# stop_all SIGTERMs every process started here, newest first; bounded: 15 s
# each, then SIGKILL.
stop_all() {
  local pid i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# address_in FILE PATTERN waits up to 10 s for PATTERN's first match (an
# address printed by a starting process) in FILE and prints it.
address_in() {
  local file=$1 pattern=$2 addr=""
  for _ in $(seq 100); do
    addr=$(grep -oE "$pattern" "$file" 2>/dev/null | head -n 1 || true)
    [[ -n "$addr" ]] && { printf '%s' "$addr"; return 0; }
    sleep 0.1
  done
  die "no address matching $pattern in $file"
}

# build_omnigate REV OUT builds omnigate at git revision REV ("" for the
# working tree) into the binary OUT. A revision is exported with git
# archive into a temporary directory: the repository and its worktrees are
# left as they are.
build_omnigate() {
  local rev=$1 out=$2 src
  if [[ -z "$rev" ]]; then
    (cd "$ROOT" && go build -o "$out" ./cmd/omnigate)
    return
  fi
  src=$(mktemp -d "${TMPDIR:-/tmp}/omnigate-src.XXXXXX")
  git -C "$ROOT" archive "$rev" | tar -x -C "$src"
  (cd "$src" && go build -o "$out" ./cmd/omnigate)
  rm -rf "$src"
}

# start_smsc BIN DIR ARGS… starts the simulator with ARGS on free loopback
# ports and sets SMPP_PORT and CONTROL (its control URL).
start_smsc() {
  local bin=$1 dir=$2
  shift 2
  "$bin" smsc --listen 127.0.0.1:0 --control 127.0.0.1:0 "$@" >"$dir/smsc.log" 2>&1 &
  PIDS+=($!)
  SMPP_PORT=$(address_in "$dir/smsc.log" 'listening on 127\.0\.0\.1:[0-9]+' | sed 's/.*://')
  CONTROL=$(address_in "$dir/smsc.log" 'control on http://127\.0\.0\.1:[0-9]+' | sed 's/control on //')
}

# smsc_stat NAME prints one of the simulator's counters (submits, drops …).
smsc_stat() { curl -sf "$CONTROL/stats" | jq -r ".$1"; }

# setup_omnigate BIN DIR ARGS… sets up, with the CLI, an account with a
# large balance and an approved sender "Bench", a connector "carrier" to the
# simulator at SMPP_PORT (default settings but a window of 10, and the
# array CONNECTOR_ARGS when set, e.g. (--throughput 50)) and a catch-all
# route; ARGS (e.g. --database URL) go to every command, and --data
# DIR/data when they name no database. Sets KEY and DB_ARGS.
setup_omnigate() {
  local bin=$1 dir=$2 account
  shift 2
  DB_ARGS=("$@")
  ((${#DB_ARGS[@]})) || DB_ARGS=(--data "$dir/data")
  "$bin" account create --name bench --balance 100000000 "${DB_ARGS[@]}" >"$dir/account.json"
  KEY=$(jq -r .key "$dir/account.json")
  account=$(jq -r .id "$dir/account.json")
  [[ $KEY == live_* && -n "$account" ]] || die "no id and live key in account create's output"
  "$bin" sender approve --account "$account" --originator Bench --note bench "${DB_ARGS[@]}" >/dev/null
  "$bin" connector add --name carrier --host 127.0.0.1 --port "$SMPP_PORT" --system-id bench --window 10 \
    ${CONNECTOR_ARGS[@]+"${CONNECTOR_ARGS[@]}"} "${DB_ARGS[@]}" >/dev/null
  "$bin" route add --connectors carrier "${DB_ARGS[@]}" >/dev/null
}

# start_serve BIN DIR starts `serve` on a free loopback port with DB_ARGS
# and sets API once it is ready.
start_serve() {
  local bin=$1 dir=$2
  "$bin" serve --http 127.0.0.1:0 "${DB_ARGS[@]}" >>"$dir/serve.log" 2>&1 &
  PIDS+=($!)
  API="http://$(address_in "$dir/serve.log" 'omnigate serving" addr=127\.0\.0\.1:[0-9]+' | sed 's/.*addr=//')"
  for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done
  die "omnigate is not ready at $API"
}

# Before/after runs of a fault under load (link-drops.sh, db-outage.sh).
#
# A script sets its defaults, calls fault_options "$@" (which takes --before,
# --after, --rate, --runs, --out and --help, and leaves the rest in REST),
# parses REST, then calls fault_start (work directory, clean-up, builds),
# defines run BUILD I (one run: it starts what it needs, appends a
# tab-separated row to "$WORK/rows" and calls end_run), and calls
# fault_runs "| column | … |" to run every build RUNS times, alternating,
# and print the table. A script that must clean up more defines on_exit.

BEFORE="" AFTER="" RUNS=1 OUT="" REST=()

fault_options() {
  while (($#)); do
    case $1 in
      --before) BEFORE=$2; shift 2 ;;
      --after) AFTER=$2; shift 2 ;;
      --rate) RATE=$2; shift 2 ;;
      --runs) RUNS=$2; shift 2 ;;
      --out) OUT=$2; shift 2 ;;
      -h|--help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) REST+=("$1"); shift ;;
    esac
  done
}

on_exit() { :; }

fault_start() {
  local tool
  for tool in go curl jq "$@"; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-${NAME#bench/}.XXXXXX")"
  chmod 755 "$WORK"
  trap fault_cleanup EXIT
  trap 'exit 130' INT TERM
  log "building"
  build_omnigate "$AFTER" "$WORK/after"
  BUILDS=(after)
  if [[ -n "$BEFORE" ]]; then
    build_omnigate "$BEFORE" "$WORK/before"
    BUILDS=(before after)
  fi
  (cd "$ROOT" && go build -o "$WORK/load" ./bench/load)
}

fault_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  on_exit
  rm -rf "$WORK"
  exit "$rc"
}

# end_run DIR stops the run's processes and keeps DIR in OUT when set.
end_run() {
  stop_all
  if [[ -n "$OUT" ]]; then mkdir -p "$OUT" && cp -r "$1" "$OUT/"; fi
}

fault_runs() {
  local header=$1 i b
  for ((i = 1; i <= RUNS; i++)); do
    for b in "${BUILDS[@]}"; do run "$b" "$i"; done
  done
  printf '\n%s\n%s\n' "$header" "$(sed 's/[^|]//g; s/|/|---/g; s/---$//' <<<"$header")"
  sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$WORK/rows"
}
