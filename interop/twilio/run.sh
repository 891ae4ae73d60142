#!/usr/bin/env bash
# Interop test: the official Twilio helper libraries against omnigate's
# Twilio Messaging door (docs/twilio.md) — the npm `twilio` package
# (6.3.1, test.mjs) and github.com/twilio/twilio-go (v1.30.2, gotest/, its
# own Go module so that omnigate's module does not depend on it).
#
# Builds omnigate, makes a self-signed certificate for 127.0.0.1, starts
# `omnigate serve --demo --tls-cert … --tls-key …` on a free loopback port
# with a fresh data directory, issues the demo account's Twilio credentials
# with `omnigate twilio credentials --account ID --api-key`, runs test.mjs
# (create, fetch, list/each/page with paging, cancel of a scheduled
# message, redaction and deletion of a delivered one, RestExceptions with
# Twilio's codes, validateRequest on the status
# callbacks a local receiver gets) and the twilio-go test (create, fetch,
# list with paging, cancel), then stops the server with SIGTERM and checks
# it exited 0.
#
# Usage: interop/twilio/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing),
# openssl, and the Go module proxy (or a module cache) for twilio-go.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SDK_VERSION=6.3.1
STARTED=$SECONDS

INTEROP_NAME=twilio
# shellcheck source=../common.sh
source "$HERE/../common.sh"
SERVER_PID=""
TEST_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM "$TEST_PID" 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    stop_proc "$SERVER_PID" "omnigate serve"
  fi
  if (( rc != 0 )) && [[ -f "$WORK/serve.err" ]]; then
    log "server log (last 40 lines):"
    tail -n 40 "$WORK/serve.err" >&2 || true
  fi
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Node modules: twilio pinned to $SDK_VERSION by package-lock.json.
installed="$(cd "$HERE" && node -p 'try { require("twilio/package.json").version } catch { "" }' 2>/dev/null || true)"
if [[ "$installed" != "$SDK_VERSION" ]]; then
  log "installing node modules"
  if [[ -f "$HERE/package-lock.json" ]]; then
    (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) >&2 || die "npm ci failed"
  else
    (cd "$HERE" && timeout 300 npm install --no-audit --no-fund) >&2 || die "npm install failed"
  fi
  installed="$(cd "$HERE" && node -p 'require("twilio/package.json").version')"
  [[ "$installed" == "$SDK_VERSION" ]] || die "twilio $installed installed, want $SDK_VERSION"
fi

# 2. The binary.
log "building omnigate"
(cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build failed"
BIN="$WORK/omnigate"
DATA="$WORK/data"
mkdir -p "$DATA"

# A certificate for 127.0.0.1.
command -v openssl >/dev/null || die "openssl is not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || die "openssl could not make a certificate"

# 3. The account: the demo's (it sends as its approved sender "omnigate");
# its id is read from the data directory once the server has started.
field() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("account JSON has no " + process.argv[2]); process.exit(1); }
  console.log(v);' "$DATA/demo-account.json" "$1"; }

# 4. The server, on a free loopback port (retried if another process takes
# the port between picking and binding).
free_port() { node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
healthy() { node -e '
  const req = require("https").get(process.argv[1], { ca: require("fs").readFileSync(process.argv[2]), timeout: 1000 }, (r) => {
    let body = "";
    r.on("data", (c) => (body += c));
    r.on("end", () => process.exit(r.statusCode === 200 && body.trim() === "ok" ? 0 : 1));
  });
  req.on("error", () => process.exit(1));
  req.on("timeout", () => req.destroy());' "$1" "$WORK/tls.crt"; }

for attempt in 1 2 3; do
  PORT="$(free_port)"
  URL="https://127.0.0.1:$PORT"
  log "starting omnigate serve --demo on $URL (attempt $attempt)"
  "$BIN" serve --demo --http "127.0.0.1:$PORT" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --data "$DATA" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  up=""
  for ((i = 0; i < 200; i++)); do # 20 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if healthy "$URL/healthz"; then up=1; break; fi
    sleep 0.1
  done
  [[ -n "$up" ]] && break
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    die "server did not answer GET /healthz within 20 s"
  fi
  rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  log "server exited with status $rc before it was ready:"
  tail -n 5 "$WORK/serve.err" >&2 || true
done
[[ -n "$up" ]] || die "server did not start"
ACCOUNT_ID="$(field id)" || die "no id in the demo account"
# Verify v2 sends codes from "Code" (docs/verify.md): approve it for the
# account, as an operator would.
timeout 60 "$BIN" sender approve --account "$ACCOUNT_ID" --originator Code --note interop --data "$DATA" >/dev/null \
  || die "sender approve failed"
timeout 60 "$BIN" twilio credentials --account "$ACCOUNT_ID" --api-key --data "$DATA" >"$WORK/twilio.json" \
  || die "omnigate twilio credentials failed"
cred() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("credentials JSON has no " + process.argv[2]); process.exit(1); }
  console.log(v);' "$WORK/twilio.json" "$1"; }
TWILIO_SID="$(cred account_sid)" || die "no account_sid"
TWILIO_TOKEN="$(cred auth_token)" || die "no auth_token"
TWILIO_KEY_SID="$(cred api_key_sid)" || die "no api_key_sid"
TWILIO_KEY_SECRET="$(cred api_key_secret)" || die "no api_key_secret"
export OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" TWILIO_SID TWILIO_TOKEN TWILIO_KEY_SID TWILIO_KEY_SECRET

# 5. The test.
# node runs the file itself (no --test: that would put the tests in a
# grandchild process that a signal to this script would not reach), in the
# background so that a signal to this script is handled at once (bash runs
# traps only between foreground commands) and cleanup can stop it.
log "running test.mjs"
test_rc=0
(cd "$HERE" && exec timeout --kill-after=10 300 node --test-reporter=spec test.mjs) &
TEST_PID=$!
wait "$TEST_PID" || test_rc=$?
TEST_PID=""

# The twilio-go test, in its own module (gotest/go.mod pins v1.30.2).
go_rc=0
if (( test_rc == 0 )); then
  log "running the twilio-go test"
  (cd "$HERE/gotest" && exec timeout --kill-after=10 600 go test -count=1 -v ./...) >&2 &
  TEST_PID=$!
  wait "$TEST_PID" || go_rc=$?
  TEST_PID=""
fi

# 6. A clean stop.
stop_proc "$SERVER_PID" "omnigate serve"
server_rc=$STOP_RC
SERVER_PID=""
if [[ "$server_rc" != 0 ]]; then
  log "server exited with status $server_rc after SIGTERM, want 0"
fi
if (( test_rc != 0 )); then
  die "node test failed (status $test_rc)"
fi
(( go_rc == 0 )) || die "twilio-go test failed (status $go_rc)"
[[ "$server_rc" == 0 ]] || die "server did not stop cleanly"
grep -q 'omnigate stopping' "$WORK/serve.err" || die "server log has no 'omnigate stopping' line"
log "OK: twilio (npm) and twilio-go interop passed and the server stopped cleanly"
