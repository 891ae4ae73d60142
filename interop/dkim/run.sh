#!/usr/bin/env bash
# Interop test: DKIM signatures made by omnigate (internal/email/dkim)
# verified by dkimpy, an independent implementation (Debian's python3-dkim;
# Ed25519 through python3-nacl, RFC 8463).
#
# Builds interop/dkim/signer, which signs one message with an RSA 2048 and
# one with an Ed25519 key and writes a copy of each with its body changed;
# verify.py checks them with dkim.verify and a dnsfunc answering the
# signer's DNS records (no network). The signed ones must verify, the
# changed ones must not.
#
# Usage: interop/dkim/run.sh   (from anywhere; exits non-zero on failure)
# Needs: go, and python3-dkim and python3-nacl (installed with apt-get when
# missing, which needs root).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STARTED=$SECONDS

INTEROP_NAME=dkim
# shellcheck source=../common.sh
source "$HERE/../common.sh"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  rm -rf "$WORK"
  log "finished in $((SECONDS - STARTED)) s with status $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. dkimpy and PyNaCl from Debian, for Debian's python.
PY=/usr/bin/python3
[[ -x "$PY" ]] || die "/usr/bin/python3 is missing (Debian's python3, which python3-dkim installs into)"
if ! "$PY" -c 'import dkim, nacl' 2>/dev/null; then
  ensure_debian_packages python3-dkim python3-nacl
  "$PY" -c 'import dkim, nacl' || die "python3-dkim or python3-nacl still not importable"
fi
log "dkimpy $(dpkg-query -W -f='${Version}' python3-dkim 2>/dev/null || echo '?'), PyNaCl $("$PY" -c 'import nacl; print(nacl.__version__)')"

# 2. Sign.
log "building and running the signer"
(cd "$ROOT" && timeout 600 go build -o "$WORK/signer" ./interop/dkim/signer) || die "go build failed"
"$WORK/signer" "$WORK" || die "the signer failed"

# 3. Verify.
timeout 120 "$PY" "$HERE/verify.py" "$WORK" || die "dkimpy did not agree (see above)"
log "OK: dkimpy verifies omnigate's RSA and Ed25519 signatures and refuses the changed messages"
