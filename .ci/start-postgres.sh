#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the test suite and print its URL (one line on stdout).
#
# Debian's postgresql packages (apt-get install postgresql); the cluster lives in a temp folder
# (PLANTWATCH_PG_DIR, default /tmp/plantwatch-pg), listens on 127.0.0.1:PLANTWATCH_PG_PORT
# (default 55432) with trust authentication for local connections only, runs without fsync
# (test data, not worth the disk syncs), and holds an empty database plantwatch_test.
# Idempotent: when the server already runs it only prints the URL. Stop it with
#   pg_ctl -D /tmp/plantwatch-pg/data stop   (as the user that owns the folder)
# Usage in CI:  export PLANTWATCH_TEST_PG_URL="$(.ci/start-postgres.sh)"
set -euo pipefail

PGDIR="${PLANTWATCH_PG_DIR:-/tmp/plantwatch-pg}"
PORT="${PLANTWATCH_PG_PORT:-55432}"
DB=plantwatch_test
URL="postgresql+psycopg://postgres@127.0.0.1:${PORT}/${DB}"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$BIN" || ! -x "$BIN/pg_ctl" ]]; then
    echo "start-postgres: PostgreSQL server binaries not found under /usr/lib/postgresql;" \
        "install them with: apt-get install postgresql" >&2
    exit 1
fi

# The server refuses to run as root: run it as the postgres system user then.
if [[ "$(id -u)" == 0 ]]; then
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

if ! as_owner "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
    mkdir -p "$PGDIR"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$PGDIR"
    if [[ ! -f "$PGDIR/data/PG_VERSION" ]]; then
        as_owner "$BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-locale \
            >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; exit 1; }
        cat >"$PGDIR/data/pg_hba.conf" <<EOF
# throw-away test server: local socket and loopback only, no passwords
local all all trust
host  all all 127.0.0.1/32 trust
EOF
        [[ "$(id -u)" == 0 ]] && chown postgres: "$PGDIR/data/pg_hba.conf"
    fi
    # a stale pid file from a killed server would stop pg_ctl
    if [[ -f "$PGDIR/data/postmaster.pid" ]] && ! as_owner "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
        rm -f "$PGDIR/data/postmaster.pid"
    fi
    as_owner "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null || { tail -n 20 "$PGDIR/server.log" >&2; exit 1; }
fi

if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "$URL"
