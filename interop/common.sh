# Shared by interop/*/run.sh, which source it after setting INTEROP_NAME:
# log and die with the script's name, a clean environment, the tools every
# interop test needs, a work directory ($WORK), and stop_proc.

log() { printf 'interop/%s: %s\n' "$INTEROP_NAME" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach omnigate (a
# PostgreSQL URL, a public URL for hrefs …): everything is passed as flags.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

for tool in go node npm timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 18 )) || die "node >= 18 is needed (have $(node --version))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-interop-$INTEROP_NAME.XXXXXX")"

# stop_proc PID WHAT sends SIGTERM and sets STOP_RC to the exit status.
# Bounded: 15 s, then SIGKILL (status 137). Only for this shell's own
# children: wait knows no others.
stop_proc() {
  local pid="$1" what="$2" i
  STOP_RC=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what ($pid) did not stop within 15 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || STOP_RC=$?
}

# ---------------------------------------------------------------------------
# The steps most interop scripts share. A script sets INTEROP_NAME, HERE and
# ROOT, sources this file, then uses what it needs:
#
#   interop_traps            the usual cleanup on exit: stop $TEST_PID and
#                            $SERVER_PID, show the server's log on failure,
#                            remove $WORK; a script with processes of its
#                            own defines cleanup_more, called first with
#                            the exit status
#   ensure_node_modules P…   npm ci when the packages P… are not installed at
#                            the versions package-lock.json pins
#   ensure_debian_packages P…  apt-get install the Debian packages P…
#                            that are missing
#   build_omnigate           go build into $WORK/omnigate, sets BIN
#   free_port                a free loopback port
#   json_field FILE NAME     a non-empty string field of a JSON file
#   make_cert NAME…          a self-signed certificate for the DNS names and
#                            127.0.0.1 in $WORK/tls.crt and $WORK/tls.key
#   start_omnigate SCHEME    `omnigate serve` on a free port, retried when
#                            the port is taken; the script's serve_args fills
#                            the array SERVE_ARGS from $PORT; sets PORT, URL
#                            and SERVER_PID once /healthz answers "ok"
#   start_smsc ID PASSWORD   `omnigate smsc` with its control API on free
#                            ports; sets SMSC_PID, SMSC_ADDR, SMSC_PORT and
#                            SMSC_CONTROL (stopped by the cleanup)
#   wait_for_line F RE PID W a line matching RE in file F while PID lives
#   run_test CMD…            CMD in $HERE in the background (so signals
#                            reach cleanup at once); sets TEST_RC
#   stop_omnigate            SIGTERM, then checks a clean exit and the
#                            "omnigate stopping" line

STARTED=${STARTED:-$SECONDS}
SERVER_PID=""
TEST_PID=""
SMSC_PID=""
SERVER_LOG="$WORK/serve.err"

interop_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if declare -F cleanup_more >/dev/null; then cleanup_more "$rc" || true; fi
  if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM "$TEST_PID" 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    stop_proc "$SERVER_PID" "omnigate serve"
  fi
  if [[ -n "$SMSC_PID" ]] && kill -0 "$SMSC_PID" 2>/dev/null; then
    stop_proc "$SMSC_PID" "omnigate smsc"
  fi
  if (( rc != 0 )) && [[ -f "$SERVER_LOG" ]]; then
    log "server log (last 40 lines):"
    tail -n 40 "$SERVER_LOG" >&2 || true
  fi
  if (( rc != 0 )) && [[ -s "$WORK/smsc.err" ]]; then
    log "smsc log (last 40 lines):"
    tail -n 40 "$WORK/smsc.err" >&2 || true
  fi
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}

interop_traps() {
  trap interop_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

ensure_node_modules() {
  local check='
    const lock = require("./package-lock.json").packages;
    for (const n of process.argv.slice(1)) {
      // Read from the file: a package whose exports map hides its
      // package.json (laravel-echo) cannot be require()d for it.
      const have = (() => { try { return JSON.parse(require("fs").readFileSync("node_modules/" + n + "/package.json", "utf8")).version } catch { return "" } })();
      if (have !== lock["node_modules/" + n].version) process.exit(1);
    }'
  if ! (cd "$HERE" && node -e "$check" "$@" 2>/dev/null); then
    log "installing node modules"
    (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) >&2 || die "npm ci failed"
    (cd "$HERE" && node -e "$check" "$@") || die "node modules do not match package-lock.json"
  fi
}

# ensure_debian_packages P…: apt-get install the Debian packages P… that
# are not installed (as root, or through sudo), refreshing the package
# lists once if the first try fails.
ensure_debian_packages() {
  local need=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  ((${#need[@]})) || return 0
  (( EUID == 0 )) || sudo="sudo"
  log "installing ${need[*]} with apt-get"
  $sudo env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${need[@]}" >&2 \
    || { $sudo timeout 300 apt-get update >&2 && $sudo env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${need[@]}" >&2; } \
    || die "apt-get install ${need[*]} failed"
}

build_omnigate() {
  log "building omnigate"
  (cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build failed"
  BIN="$WORK/omnigate"
}

free_port() { node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }

json_field() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("no " + process.argv[2] + " in " + process.argv[1]); process.exit(1); }
  console.log(v);' "$1" "$2"; }

make_cert() {
  command -v openssl >/dev/null || die "openssl is not installed"
  local san="" name
  for name in "$@"; do san+="DNS:$name,"; done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1" -addext "subjectAltName=${san}IP:127.0.0.1" \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || die "openssl could not make a certificate"
}

# healthy URL: GET URL answers 200 "ok" (over TLS trusting $WORK/tls.crt).
healthy() { node -e '
  const u = process.argv[1];
  const opts = { timeout: 1000 };
  if (u.startsWith("https:")) opts.ca = require("fs").readFileSync(process.argv[2]);
  const req = require(u.startsWith("https:") ? "https" : "http").get(u, opts, (r) => {
    let body = "";
    r.on("data", (c) => (body += c));
    r.on("end", () => process.exit(r.statusCode === 200 && body.trim() === "ok" ? 0 : 1));
  });
  req.on("error", () => process.exit(1));
  req.on("timeout", () => req.destroy());' "$1" "$WORK/tls.crt"; }

start_omnigate() {
  local scheme="$1" attempt i up="" rc
  for attempt in 1 2 3; do
    PORT="$(free_port)"
    URL="$scheme://127.0.0.1:$PORT"
    SERVE_ARGS=()
    serve_args
    log "starting omnigate serve on $URL (attempt $attempt)"
    "$BIN" serve --http "127.0.0.1:$PORT" "${SERVE_ARGS[@]}" >"$WORK/serve.out" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    for ((i = 0; i < 200; i++)); do # 20 s
      kill -0 "$SERVER_PID" 2>/dev/null || break
      if healthy "$URL/healthz"; then up=1; break; fi
      sleep 0.1
    done
    [[ -n "$up" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null && die "server did not answer GET /healthz within 20 s"
    rc=0; wait "$SERVER_PID" || rc=$?
    SERVER_PID=""
    log "server exited with status $rc before it was ready:"
    tail -n 5 "$SERVER_LOG" >&2 || true
  done
  die "server did not start"
}

# wait_for_line FILE REGEX PID WHAT: waits up to 15 s for a line matching
# REGEX (extended) in FILE while PID lives; prints the line.
wait_for_line() {
  local file="$1" re="$2" pid="$3" what="$4" i line
  for ((i = 0; i < 300; i++)); do
    if line="$(grep -E -m1 "$re" "$file" 2>/dev/null)"; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { log "$what exited before it was ready"; return 1; }
    sleep 0.05
  done
  log "$what was not ready within 15 s"
  return 1
}

start_smsc() {
  local line
  log "starting omnigate smsc"
  "$BIN" smsc --listen 127.0.0.1:0 --control 127.0.0.1:0 --system-id "$1" --password "$2" \
    --receipt-delay 50ms >"$WORK/smsc.out" 2>"$WORK/smsc.err" &
  SMSC_PID=$!
  line="$(wait_for_line "$WORK/smsc.out" 'listening on .*control on http://' "$SMSC_PID" "omnigate smsc")" \
    || die "omnigate smsc did not start"
  [[ "$line" =~ listening\ on\ ([0-9.]+):([0-9]+)\ .*control\ on\ (http://[0-9.]+:[0-9]+) ]] \
    || die "cannot read the simulator's addresses from: $line"
  SMSC_ADDR="${BASH_REMATCH[1]}:${BASH_REMATCH[2]}"
  SMSC_PORT="${BASH_REMATCH[2]}"
  SMSC_CONTROL="${BASH_REMATCH[3]}"
}

# stop_smsc stops the simulator and checks it exited 0.
stop_smsc() {
  stop_proc "$SMSC_PID" "omnigate smsc"
  SMSC_PID=""
  [[ "$STOP_RC" == 0 ]] || die "omnigate smsc exited with status $STOP_RC after SIGTERM, want 0"
}

# node runs test files itself (no --test: that would put the tests in a
# grandchild process that a signal to the script would not reach).
run_test() {
  log "running: $*"
  TEST_RC=0
  (cd "$HERE" && exec "$@") &
  TEST_PID=$!
  wait "$TEST_PID" || TEST_RC=$?
  TEST_PID=""
}

stop_omnigate() {
  stop_proc "$SERVER_PID" "omnigate serve"
  local server_rc=$STOP_RC
  SERVER_PID=""
  [[ "$server_rc" == 0 ]] || die "server exited with status $server_rc after SIGTERM, want 0"
  grep -q 'omnigate stopping' "$SERVER_LOG" || die "server log has no 'omnigate stopping' line"
}
