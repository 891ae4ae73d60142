#!/usr/bin/env bash
# The cost of secrets at rest (issue 13, item 7; docs/operations.md,
# "Secrets at rest"):
#
# 1. sealing and opening one secret (AES-256-GCM under a data key);
# 2. reading an account (its signing key) through the store, stored in
#    clear (no keyring, as before) and sealed, on SQLite and PostgreSQL;
# 3. encrypting N accounts' signing keys stored in clear, as the first start
#    after an upgrade does, and re-encrypting them under a new data key, as
#    `omnigate secrets rotate` does (N = OMNIGATE_BENCH_ACCOUNTS, default 2000).
#
# PostgreSQL runs when OMNIGATE_TEST_POSTGRES holds a server URL (each
# benchmark gets a fresh schema, dropped after); otherwise only SQLite.
# Nothing leaves the machine.
#
# Usage: bench/secrets.sh [COUNT]   (COUNT: runs of 1 and 2, default 3)
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/.."
COUNT="${1:-3}"

command -v go >/dev/null || { echo "bench/secrets: go is not installed" >&2; exit 1; }
if [ -z "${OMNIGATE_TEST_POSTGRES:-}" ]; then
	echo "bench/secrets: OMNIGATE_TEST_POSTGRES is not set: SQLite only" >&2
fi

echo "## seal, open, read an account ($COUNT runs)"
go test -run '^$' -bench 'BenchmarkSeal|BenchmarkOpen|BenchmarkGetAccount' -benchmem -count "$COUNT" ./internal/keyring/ |
	grep -E '^(Benchmark|cpu)'

echo "## encrypt at upgrade, re-encrypt at rotation (${OMNIGATE_BENCH_ACCOUNTS:-2000} accounts, once)"
go test -run '^$' -bench 'BenchmarkReseal' -benchtime=1x ./internal/keyring/ | grep -E '^Benchmark'
