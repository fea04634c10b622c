#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: prints its SQLAlchemy URL on stdout, nothing else.
#   scripts/postgres.sh         install Debian's postgresql if missing, start (or reuse) a
#                               cluster in $SIMKYC_PG_DIR on a free localhost port, create the
#                               database, print postgresql+psycopg://postgres@127.0.0.1:PORT/simkyc_test
#   scripts/postgres.sh stop    stop that cluster (only that one) and remove its directory
#   scripts/postgres.sh halt    stop that cluster but keep its data; the next call starts it
#                               again on the same port (the outage tests of tests/deploy)
#   SIMKYC_PG_DURABLE=1 scripts/postgres.sh   the same with fsync on (benchmarks)
# Idempotent: a second call reuses the running cluster. Runs the server as `postgres` when
# started as root (initdb refuses root), as the calling user otherwise.
set -euo pipefail

PG_DIR=${SIMKYC_PG_DIR:-${TMPDIR:-/tmp}/simkyc-pg-$(id -u)}
DB_NAME=${SIMKYC_PG_DB:-simkyc_test}
log() { echo "postgres.sh: $*" >&2; }
# SIMKYC_PG_DURABLE=1: fsync, synchronous commit and full-page writes on (benchmarks of a
# durable deployment); else off (tests: no disk flush per commit).
if [ "${SIMKYC_PG_DURABLE:-0}" = 1 ]; then
    DURABILITY=""
else
    DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

install_postgres() {
    pg_bin >/dev/null && return 0
    [ "$(id -u)" -eq 0 ] || { log "postgresql is not installed and we are not root"; exit 1; }
    log "installing Debian's postgresql (quietly)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq postgresql >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null; }
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() {
    [ -f "$PG_DIR/port" ] && as_owner "$BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

start_cluster() {
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        as_owner "$BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
            --no-sync >/dev/null
    fi
    local port
    port=$(cat "$PG_DIR/port" 2>/dev/null || free_port)  # a halted cluster keeps its port
    # Throwaway data: durability off for speed; room for the concurrency tests' pools.
    as_owner "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start -o \
        "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 $DURABILITY" \
        >/dev/null
    echo "$port" >"$PG_DIR/port.tmp" && mv "$PG_DIR/port.tmp" "$PG_DIR/port"
    log "started PostgreSQL ($BIN) on port $port in $PG_DIR"
}

psql_admin() {
    as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

stop_cluster() {
    if running; then
        as_owner "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
        log "stopped the cluster in $PG_DIR"
    fi
    rm -rf "$PG_DIR"
}

install_postgres
BIN=$(pg_bin)
if [ "${1:-}" = "stop" ]; then
    stop_cluster
    exit 0
fi
if [ "${1:-}" = "halt" ]; then
    running && as_owner "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    log "halted the cluster in $PG_DIR (data kept)"
    exit 0
fi
running || start_cluster
PORT=$(cat "$PG_DIR/port")
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE $DB_NAME" >/dev/null
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB_NAME"
