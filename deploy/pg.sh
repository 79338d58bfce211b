#!/usr/bin/env bash
# A throwaway PostgreSQL cluster inside the project folder, for development and tests.
#
#   deploy/pg.sh start    create (first time) and start; fine if already running
#   deploy/pg.sh stop     stop (fast shutdown); fine if not running
#   deploy/pg.sh status   say whether it runs, where, and how to connect
#   deploy/pg.sh url      print the libpq connection string for database kontor
#   deploy/pg.sh psql     open psql on database kontor as the superuser kontor
#   deploy/pg.sh reset-db drop database kontor and create it again, empty (make reset-demo)
#   deploy/pg.sh destroy  stop and delete the cluster's files
#
# Data: $KONTOR_HOME/var/pg (KONTOR_HOME defaults to the project root).
# Listens on a Unix socket in var/pg/run and on 127.0.0.1:$KONTOR_PG_PORT (default 55432).
# Local socket connections are trusted (the socket folder is private to its owner);
# TCP connections need a password (scram-sha-256): the superuser's is in var/pg/password.
# PostgreSQL refuses to run as root: when run as root, the server runs as the OS user
# postgres, which must be able to traverse every parent folder of the data directory.
set -euo pipefail

ROOT="${KONTOR_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PORT="${KONTOR_PG_PORT:-55432}"
BASE="$ROOT/var/pg"
DATA="$BASE/data"
RUN="$BASE/run"
LOG="$BASE/log/postgresql.log"
PWFILE="$BASE/password"

find_bindir() {
    if [ -n "${KONTOR_PG_BINDIR:-}" ]; then echo "$KONTOR_PG_BINDIR"; return; fi
    if command -v pg_config >/dev/null 2>&1; then
        local d; d="$(pg_config --bindir)"
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    fi
    local v
    for v in $(ls -1 /usr/lib/postgresql 2>/dev/null | sort -rn); do
        if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then echo "/usr/lib/postgresql/$v/bin"; return; fi
    done
    echo "deploy/pg.sh: cannot find initdb; install the PostgreSQL server (apt-get install postgresql)" >&2
    exit 1
}
BIN="$(find_bindir)"

as_owner() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_traversable() {
    # Every parent of $BASE must be searchable by the server's OS user.
    [ "$(id -u)" = "0" ] || return 0
    id postgres >/dev/null 2>&1 || { echo "deploy/pg.sh: running as root needs the OS user postgres (apt-get install postgresql)" >&2; exit 1; }
    local d="$BASE"
    while [ "$d" != "/" ]; do
        d="$(dirname "$d")"
        if ! runuser -u postgres -- test -x "$d"; then
            echo "deploy/pg.sh: making $d traversable (o+x) for the postgres user" >&2
            chmod o+x "$d"
        fi
    done
}

running() {
    [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

init_cluster() {
    mkdir -p "$BASE" "$RUN" "$(dirname "$LOG")"
    if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$BASE"; fi
    ensure_traversable
    if [ ! -s "$PWFILE" ]; then
        ( umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$PWFILE" )
    fi
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$PWFILE"; fi
    local pwtmp; pwtmp="$(mktemp)"
    cp "$PWFILE" "$pwtmp"; chmod 644 "$pwtmp"
    as_owner "$BIN/initdb" -D "$DATA" -U kontor --pwfile="$pwtmp" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwtmp"
    cat >> "$DATA/postgresql.conf" <<CONF

# --- deploy/pg.sh (throwaway development cluster) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
unix_socket_permissions = 0770
max_connections = 800
shared_buffers = 128MB
fsync = on
log_destination = 'stderr'
logging_collector = off
timezone = 'UTC'
CONF
}

start() {
    if [ ! -f "$DATA/PG_VERSION" ]; then
        echo "deploy/pg.sh: creating a PostgreSQL cluster in $DATA" >&2
        init_cluster
    fi
    ensure_traversable
    mkdir -p "$RUN"
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$RUN"; fi
    if running; then
        return 0
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        echo "deploy/pg.sh: port $PORT is already in use by another program; choose another with KONTOR_PG_PORT=..." >&2
        exit 1
    fi
    # A stale pid file after a crash is handled by pg_ctl itself. max_connections is
    # given here too, so that clusters made by older versions of this script get it.
    if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT -k $RUN -c max_connections=800" -w -t 60 start >/dev/null; then
        echo "deploy/pg.sh: PostgreSQL did not start; the end of its log ($LOG):" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    # The application database.
    if ! as_owner "$BIN/psql" -h "$RUN" -p "$PORT" -U kontor -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='kontor'" | grep -q 1; then
        as_owner "$BIN/createdb" -h "$RUN" -p "$PORT" -U kontor kontor
    fi
}

stop() {
    if running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    fi
}

url() {
    echo "host=$RUN port=$PORT dbname=${1:-kontor} user=kontor"
}

case "${1:-status}" in
    start) start; echo "PostgreSQL is running: $(url)" ;;
    stop) stop; echo "PostgreSQL stopped" ;;
    restart) stop; start; echo "PostgreSQL is running: $(url)" ;;
    status)
        if running; then
            echo "running: data $DATA, socket $RUN, tcp 127.0.0.1:$PORT"
            echo "connect: psql \"$(url)\""
        else
            echo "not running (data $DATA)"; exit 3
        fi ;;
    url) url "${2:-kontor}" ;;
    psql) shift; exec "$BIN/psql" "$(url)" "$@" ;;
    reset-db)
        start
        as_owner "$BIN/dropdb" -h "$RUN" -p "$PORT" -U kontor --if-exists --force kontor
        as_owner "$BIN/createdb" -h "$RUN" -p "$PORT" -U kontor kontor
        echo "database kontor is empty again: $(url)" ;;
    destroy) stop; rm -rf "$BASE"; echo "removed $BASE" ;;
    *) echo "usage: deploy/pg.sh start|stop|restart|status|url|psql|reset-db|destroy" >&2; exit 2 ;;
esac
