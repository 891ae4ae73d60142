#!/usr/bin/env bash
# Interop test: the official messagebird Node SDK (4.0.1) against omnigate,
# and the Go SDK's conversation package (gotest/).
#
# Builds omnigate, makes a self-signed certificate for rest.messagebird.com
# and 127.0.0.1, starts `omnigate serve --demo --tls-cert … --tls-key …` on a
# free loopback port with a fresh data directory and account, runs test.mjs
# with node's test runner (the SDK reaches omnigate over TLS as it would
# through a hosts-file entry), then stops the server with SIGTERM and checks
# it exited 0.
#
# Usage: interop/messagebird/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing) and openssl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SDK_VERSION=4.0.1
STARTED=$SECONDS

INTEROP_NAME=messagebird
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

# 1. Node modules: messagebird pinned to $SDK_VERSION by package-lock.json.
installed="$(cd "$HERE" && node -p 'try { require("messagebird/package.json").version } catch { "" }' 2>/dev/null || true)"
if [[ "$installed" != "$SDK_VERSION" ]]; then
  log "installing node modules"
  if [[ -f "$HERE/package-lock.json" ]]; then
    (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) >&2 || die "npm ci failed"
  else
    (cd "$HERE" && timeout 300 npm install --no-audit --no-fund) >&2 || die "npm install failed"
  fi
  installed="$(cd "$HERE" && node -p 'require("messagebird/package.json").version')"
  [[ "$installed" == "$SDK_VERSION" ]] || die "messagebird $installed installed, want $SDK_VERSION"
fi

# 2. The binary.
log "building omnigate"
(cd "$ROOT" && timeout 600 go build -o "$WORK/omnigate" ./cmd/omnigate) || die "go build failed"
BIN="$WORK/omnigate"
DATA="$WORK/data"
mkdir -p "$DATA"

# A certificate for the name the SDK calls, and for 127.0.0.1.
command -v openssl >/dev/null || die "openssl is not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=rest.messagebird.com" -addext "subjectAltName=DNS:rest.messagebird.com,DNS:conversations.messagebird.com,IP:127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || die "openssl could not make a certificate"

# 3. An account, made with the CLI.
timeout 60 "$BIN" account create --name interop-messagebird --balance 100 --data "$DATA" >"$WORK/account.json" \
  || die "account create failed"
field() { node -e '
  const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const v = a[process.argv[2]];
  if (typeof v !== "string" || v === "") { console.error("account JSON has no " + process.argv[2]); process.exit(1); }
  console.log(v);' "$WORK/account.json" "$1"; }
ACCOUNT_ID="$(field id)" || die "no id in the account JSON"
LIVE_KEY="$(field key)" || die "no live key in the account JSON"
TEST_KEY="$(field test_key)" || die "no test key in the account JSON"
SIGNING_KEY="$(field signing_key)" || die "no signing key in the account JSON"
[[ "$(field balance)" == "100" ]] || die "account balance is not 100"
# The tests send as "Omnigate": an alphanumeric sender needs an operator's
# approval first (sender identity, docs/compliance.md).
timeout 60 "$BIN" sender approve --account "$ACCOUNT_ID" --originator Omnigate --note interop --data "$DATA" >/dev/null \
  || die "sender approve failed"
# An sms channel for the Conversations API tests (conversations.mjs).
timeout 60 "$BIN" channel add --account "$ACCOUNT_ID" --kind sms --sender Omnigate --name interop --data "$DATA" >"$WORK/channel.json" \
  || die "channel add failed"
CHANNEL_ID="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).id' "$WORK/channel.json")" \
  || die "no id in the channel JSON"

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

# 5. The test.
# node runs the file itself (no --test: that would put the tests in a
# grandchild process that a signal to this script would not reach), in the
# background so that a signal to this script is handled at once (bash runs
# traps only between foreground commands) and cleanup can stop it.
log "running test.mjs"
test_rc=0
(cd "$HERE" && OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_TEST_KEY="$TEST_KEY" \
  OMNIGATE_SIGNING_KEY="$SIGNING_KEY" OMNIGATE_BALANCE=100 \
  exec timeout --kill-after=10 300 node --test-reporter=spec test.mjs) &
TEST_PID=$!
wait "$TEST_PID" || test_rc=$?
TEST_PID=""
if (( test_rc == 0 )); then
  log "running conversations.mjs"
  (cd "$HERE" && OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_SIGNING_KEY="$SIGNING_KEY" \
    OMNIGATE_CHANNEL="$CHANNEL_ID" exec timeout --kill-after=10 120 node --test-reporter=spec conversations.mjs) &
  TEST_PID=$!
  wait "$TEST_PID" || test_rc=$?
  TEST_PID=""
fi
# The Go SDK's conversation package, in its own module (gotest/go.mod pins
# github.com/messagebird/go-rest-api/v9 v9.0.0).
if (( test_rc == 0 )); then
  log "running the Go SDK conversation test"
  (cd "$HERE/gotest" && OMNIGATE_URL="$URL" OMNIGATE_CA="$WORK/tls.crt" OMNIGATE_KEY="$LIVE_KEY" OMNIGATE_CHANNEL="$CHANNEL_ID" \
    exec timeout --kill-after=10 600 go test -count=1 -v ./...) >&2 &
  TEST_PID=$!
  wait "$TEST_PID" || test_rc=$?
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
[[ "$server_rc" == 0 ]] || die "server did not stop cleanly"
grep -q 'omnigate stopping' "$WORK/serve.err" || die "server log has no 'omnigate stopping' line"
log "OK: SDK interop passed and the server stopped cleanly"
