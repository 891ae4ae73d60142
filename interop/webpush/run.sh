#!/usr/bin/env bash
# Interop test: omnigate's Web Push (internal/webpush: RFC 8030 delivery,
# RFC 8291 aes128gcm encryption, RFC 8292 VAPID; docs/webpush.md) against
# independent implementations, all on loopback:
#
#  1. the npm `web-push` library (3.6.7: its own VAPID JWT and encryption)
#     sends to omnigate's Web Push service simulator (internal/pushsim,
#     over TLS with a self-signed certificate, as web-push speaks only
#     https), which verifies each JWT and decrypts each message; 403 for
#     another application server's key, 401 for a JWT of another audience,
#     an injected 429 with Retry-After, and 410 after unsubscribe reach
#     web-push as a real push service's would;
#  2. bodies made by omnigate's webpush.Encrypt are decrypted by the npm
#     `http_ece` library (1.2.0) with the subscription's private key, and
#     omnigate's VAPID JWT is verified by node's own crypto (ES256 with
#     IEEE P1363 signatures), a damaged body and signature failing.
#
# The Go side is interop/webpush/gohelper (the simulator, and a subscription
# with bodies and a JWT for the independent checks); test.mjs drives it.
# Chromium is not the receiver: its headless shell has no push service, and
# the full browser subscribes only through its own GCM client (Google's
# protocols, not RFC 8030) — see docs/webpush.md.
#
# Usage: interop/webpush/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, node >= 18, npm (node modules are installed when missing), openssl.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

INTEROP_NAME=webpush
# shellcheck source=../common.sh
source "$HERE/../common.sh"
interop_traps

# 1. Node modules: web-push and http_ece as package-lock.json pins them.
ensure_node_modules web-push http_ece

# 2. The Go side, and a certificate for 127.0.0.1.
log "building the Go helper"
(cd "$ROOT" && timeout 600 go build -o "$WORK/gohelper" ./interop/webpush/gohelper) || die "go build failed"
make_cert localhost

# 3. The checks.
export GOHELPER="$WORK/gohelper" TLS_CERT="$WORK/tls.crt" TLS_KEY="$WORK/tls.key" NODE_EXTRA_CA_CERTS="$WORK/tls.crt"
run_test timeout --kill-after=10 120 node test.mjs
(( TEST_RC == 0 )) || die "node test failed (status $TEST_RC)"
log "OK: web-push sends to the simulator; http_ece and node crypto accept omnigate's encryption and VAPID"
