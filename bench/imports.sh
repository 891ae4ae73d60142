#!/usr/bin/env bash
# Bulk-import benchmark (issue 20, item 4): a do-not-disturb registry of N
# numbers imported with `omnigate dnd import` (or an account's N
# suppressions or consents: OMNIGATE_BENCH_KIND), on SQLite or PostgreSQL.
# Prints the wall time, rows/s, peak memory (GNU time's maximum resident
# set size) and the database's size after the import, and the load average.
#
# Usage: bench/imports.sh N sqlite|postgres [BINARY]
#   N        numbers in the file (1000000, 10000000, 100000000 by hand)
#   BINARY   the omnigate binary to measure (default: built from this tree)
#   OMNIGATE_BENCH_PG  server URL for postgres (default the local test server);
#                      the database imports_bench_N is made afresh.
#   OMNIGATE_BENCH_DIR where files and SQLite databases go (default /tmp/imports-bench)
#   OMNIGATE_BENCH_KIND dnd (default); suppressions (email addresses
#                      u0@example.com, u1@…, reason unsubscribe) or consents
#                      (marketing opt-ins of numbers from 31600000000 on, an
#                      opt-out every tenth row), imported into a new account
#                      with `omnigate suppression import` / `consent import`;
#                      numbers (an inventory of NL mobiles, `numbers import`)
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
kind=${OMNIGATE_BENCH_KIND:-dnd}
file=$dir/$kind-$n.csv
if [ ! -s "$file" ]; then
  case $kind in
  dnd) awk -v n="$n" 'BEGIN { print "number,listed"; for (i = 0; i < n; i++) printf "91%010d,2025-01-15\n", 7000000000 + 3*i }' > "$file" ;;
  suppressions) awk -v n="$n" 'BEGIN { print "channel,recipient,reason"; for (i = 0; i < n; i++) printf "email,u%d@example.com,unsubscribe\n", i }' > "$file" ;;
  consents) awk -v n="$n" 'BEGIN { print "recipient,purpose,action,date"; for (i = 0; i < n; i++) printf "316%08d,marketing,%s,2025-01-15T10:00:00Z\n", i, (i % 10 == 9 ? "opt_out" : "opt_in") }' > "$file" ;;
  numbers) awk -v n="$n" 'BEGIN { print "number,country,type,features,monthly_price"; for (i = 0; i < n; i++) printf "316%08d,NL,mobile,sms voice,1.50\n", i }' > "$file" ;;
  *) echo "OMNIGATE_BENCH_KIND: dnd, suppressions, consents or numbers" >&2; exit 2 ;;
  esac
fi
name=$(basename "$bin")-$engine-$kind-$n
[ "$kind" = dnd ] && name=$(basename "$bin")-$engine-$n
data=$dir/$name
rm -rf "$data"; mkdir -p "$data"
store=(--data "$data")
if [ "$engine" = postgres ]; then
  db=imports_bench_${n}_$(basename "$bin" | tr -c 'a-z0-9\n' _)
  [ "$kind" = dnd ] || db=${db}_$kind
  psql "$pg" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  url=${pg/\/postgres\?//$db?}
  store+=(--database "$url")
fi
case $kind in
dnd) args=(dnd import "$file" --registry BENCH) ;;
numbers) args=(numbers import --file "$file") ;;
*)
  account=$("$bin" account create --name imports "${store[@]}" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
  [ -n "$account" ] || { echo "account create printed no id" >&2; exit 1; }
  args=("${kind%s}" import "$file" --account "$account")
  ;;
esac
args+=("${store[@]}")
# Builds from before the streaming import have no --progress.
# With it, the progress line says when the file was read and the merge
# began ("merging…"): the merge's time is the rest of the wall time.
if "$bin" "${args[0]}" import x -h 2>&1 | grep -q -- -progress; then args+=(--progress always); fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v -o "$data/time.txt" "$bin" "${args[@]}" > "$data/out.json" 2> "$data/progress.txt" || { cat "$data/progress.txt" "$data/time.txt"; exit 1; }
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
read_s=$(tr '\r' '\n' < "$data/progress.txt" | sed -n 's/.*  \([0-9hms.]*\)  merging….*/\1/p' | tail -1 |
  awk '{ s = 0; t = $0; while (match(t, /^[0-9.]+[hms]/)) { v = substr(t, 1, RLENGTH - 1); u = substr(t, RLENGTH, 1);
    s += v * (u == "h" ? 3600 : u == "m" ? 60 : 1); t = substr(t, RLENGTH + 1) } print s }')
[ -n "$read_s" ] && echo "read and staged in ${read_s} s; merged in $(awk -v w="$secs" -v r="$read_s" 'BEGIN { printf "%.0f", w - r }') s (±1 s)"
printf '| %s | %s | %s | %s | %.1f s | %s rows/s | %s s CPU | %s MiB | %s MiB |\n' "$(basename "$bin")" "$kind" "$engine" "$n" "$secs" \
  "$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%d", n / s }')" "$cpu" "$rss" "$size"
