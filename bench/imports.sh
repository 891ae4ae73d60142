#!/usr/bin/env bash
# Bulk-import benchmark (issue 20, item 4): a do-not-disturb registry of N
# numbers imported with `omnigate dnd import`, on SQLite or PostgreSQL.
# Prints the wall time, rows/s, peak memory (GNU time's maximum resident
# set size) and the database's size after the import, and the load average.
#
# Usage: bench/imports.sh N sqlite|postgres [BINARY]
#   N        numbers in the file (1000000, 10000000, 100000000 by hand)
#   BINARY   the omnigate binary to measure (default: built from this tree)
#   OMNIGATE_BENCH_PG  server URL for postgres (default the local test server);
#                      the database imports_bench_N is made afresh.
#   OMNIGATE_BENCH_DIR where files and SQLite databases go (default /tmp/imports-bench)
# The file has every third number from 917000000000 on, each with a date,
# registry BENCH: the database can then serve BenchmarkScreenDND
# (OMNIGATE_BENCH_DND_SQLITE / OMNIGATE_BENCH_DND_POSTGRES, OMNIGATE_BENCH_DND_ROWS=N).
set -euo pipefail
n=${1:?N numbers}; engine=${2:?sqlite or postgres}
dir=${OMNIGATE_BENCH_DIR:-/tmp/imports-bench}
pg=${OMNIGATE_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
mkdir -p "$dir"
bin=${3:-$dir/omnigate}
if [ -z "${3:-}" ]; then
  (cd "$(dirname "$0")/.." && go build -o "$bin" ./cmd/omnigate)
fi
file=$dir/dnd-$n.csv
if [ ! -s "$file" ]; then
  awk -v n="$n" 'BEGIN { print "number,listed"; for (i = 0; i < n; i++) printf "91%010d,2025-01-15\n", 7000000000 + 3*i }' > "$file"
fi
name=$(basename "$bin")-$engine-$n
data=$dir/$name
rm -rf "$data"; mkdir -p "$data"
args=(dnd import "$file" --registry BENCH --data "$data")
# Builds from before the streaming import have no --progress.
if "$bin" dnd import x -h 2>&1 | grep -q -- -progress; then args+=(--progress never); fi
if [ "$engine" = postgres ]; then
  db=imports_bench_${n}_$(basename "$bin" | tr -c 'a-z0-9\n' _)
  psql "$pg" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  url=${pg/\/postgres\?//$db?}
  args+=(--database "$url")
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v "$bin" "${args[@]}" > "$data/out.json" 2> "$data/time.txt" || { cat "$data/time.txt"; exit 1; }
secs=$(awk -F': ' '/Elapsed/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$data/time.txt")
rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$data/time.txt")
cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$data/time.txt")
if [ "$engine" = postgres ]; then
  size=$(psql "$url" -tAc "SELECT pg_database_size(current_database()) / 1048576")
  echo "database: $url"
else
  size=$(( $(stat -c %s "$data/omnigate.db") / 1048576 ))
  free=$(sqlite3 "$data/omnigate.db" "PRAGMA freelist_count; PRAGMA page_size;" 2>/dev/null | paste -sd' ' | awk '{ printf "%d", $1 * $2 / 1048576 }' || true)
  echo "database: $data/omnigate.db (free pages: ${free:-?} MiB)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %s | %s | %s | %.1f s | %s rows/s | %s s CPU | %s MiB | %s MiB |\n' "$(basename "$bin")" "$engine" "$n" "$secs" \
  "$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%d", n / s }')" "$cpu" "$rss" "$size"
