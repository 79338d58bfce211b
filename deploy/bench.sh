#!/usr/bin/env bash
# make bench: a release kontord on a fresh database, driven by kontor-bench; checks the
# speed and memory goals in bench/goals.json (exit 1 when one is missed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${KONTOR_PG_PORT:-55432}"
RUN="$ROOT/var/pg/run"
BIN="${KONTOR_BENCH_BIN:-$ROOT/.build/release}"
DB=kontor_bench
psql_admin() { psql "host=$RUN port=$PORT dbname=postgres user=kontor" -v ON_ERROR_STOP=1 -qAtc "$1"; }
psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
psql_admin "CREATE DATABASE $DB"
URL="host=$RUN port=$PORT dbname=$DB user=kontor"
"$BIN/kontord" migrate --database-url "$URL" >/dev/null
KONTOR_ADMIN_PASSWORD=bench-pass-1 KONTOR_BCRYPT_COST=4 "$BIN/kontord" user add-admin --database-url "$URL" --login admin >/dev/null
mkdir -p var
rm -f var/bench.port
KONTOR_LOG_LEVEL=warning KONTOR_DB_POOL=16 "$BIN/kontord" serve --database-url "$URL" --port 0 --port-file var/bench.port >var/bench-kontord.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s var/bench.port ] && break; sleep 0.1; done
[ -s var/bench.port ] || { echo "kontord did not start; see var/bench-kontord.log"; exit 1; }
echo "kontord ($BIN, pid $PID) on port $(cat var/bench.port); $(nproc) cores"
KONTOR_PASSWORD=bench-pass-1 "$BIN/kontor-bench" --server "127.0.0.1:$(cat var/bench.port)" --server-pid "$PID" \
    --goals bench/goals.json --duration "${BENCH_SECONDS:-5}" "$@"
