#!/usr/bin/env bash
# omnigate's realtime server against Centrifugo on this machine, in one run.
#
# Builds omnigate and the comparison (bench/compare-centrifugo), installs
# Centrifugo v6.9.1 with `go install` (through the Go module proxy) into a
# bench-local GOBIN when it is not there yet, and runs the comparison: each
# server in turn on 127.0.0.1 in a temporary directory, the same load for
# both. Prints the side-by-side table.
#
# Usage: bench/compare-centrifugo.sh [--quick] [flags]    (from anywhere)
#        bench/compare-centrifugo.sh -h                   lists the flags
# CENTRIFUGO_GOBIN=DIR: where Centrifugo is installed
#   (default ${XDG_CACHE_HOME:-~/.cache}/omnigate-bench/bin).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CENTRIFUGO_VERSION=v6.9.1

log() { printf 'compare-centrifugo: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not installed"
for arg in "$@"; do
  case "$arg" in -h | -help | --help) cd "$ROOT" && exec go run ./bench/compare-centrifugo -h ;; esac
done

GOBIN_DIR="${CENTRIFUGO_GOBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/omnigate-bench/bin}"
mkdir -p "$GOBIN_DIR"
# `go install` leaves the binary's own version string at v0.0.0, so the
# module version recorded in the build info is what tells which one it is.
if ! go version -m "$GOBIN_DIR/centrifugo" 2>/dev/null |
  grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/centrifugal/centrifugo/v6[[:space:]]+$CENTRIFUGO_VERSION([[:space:]]|\$)"; then
  log "installing Centrifugo $CENTRIFUGO_VERSION into $GOBIN_DIR (go install; takes a few minutes)"
  GOBIN="$GOBIN_DIR" go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION" ||
    die "go install github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION failed"
fi

BIN="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-compare-bin.XXXXXX")"
trap 'rm -rf "$BIN"' EXIT
cd "$ROOT"
go build -o "$BIN/omnigate" ./cmd/omnigate || die "building omnigate"
go build -o "$BIN/compare" ./bench/compare-centrifugo || die "building bench/compare-centrifugo"
"$BIN/compare" --omnigate-bin "$BIN/omnigate" --centrifugo-bin "$GOBIN_DIR/centrifugo" "$@"
