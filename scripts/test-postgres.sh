#!/usr/bin/env bash
# A private, throw-away PostgreSQL server for the storage tests.
#
#   scripts/test-postgres.sh start    initdb if needed, start, (re)create kapsession_test
#   scripts/test-postgres.sh stop     stop the server (data stays for a faster next start)
#   scripts/test-postgres.sh status   exit 0 when it runs
#   scripts/test-postgres.sh url      print the SQLAlchemy URL (psycopg 3) of kapsession_test
#   scripts/test-postgres.sh destroy  stop and delete the whole directory
#
# It listens only on a unix socket inside ${KAPSESSION_PG_DIR:-/tmp/kapsession-pg}, with trust
# authentication and no durability (fsync off): never point it at real data. As root the server
# runs as user `postgres`. `start` on a running server does nothing.
set -euo pipefail

pg_dir=${KAPSESSION_PG_DIR:-/tmp/kapsession-pg}
data_dir=$pg_dir/data
log_file=$pg_dir/server.log
db_name=kapsession_test
db_user=postgres

usage() {
    echo "usage: $0 start|stop|status|url|destroy" >&2
    exit 2
}
[[ $# -eq 1 ]] || usage

say() { echo "test-postgres: $*" >&2; }

find_bin_dir() {
    local dir
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
        return
    fi
    # Debian keeps the server binaries out of PATH, one folder per major version: take the newest.
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null \
        | sort -V | tail -n 1)
    if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
        echo "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    else
        say "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin and PATH)."
        say "install it with: scripts/system-deps.sh test   (Debian package 'postgresql')"
        exit 1
    fi
}

# Run a server command as the owner of the data: `postgres` when we are root (the server refuses
# to run as root), else ourselves. Run from the socket folder so `postgres` can read its cwd.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$pg_dir" && runuser -u postgres -- "$@")
    else
        (cd "$pg_dir" && "$@")
    fi
}

is_running() {
    [[ -f "$data_dir/PG_VERSION" ]] || return 1
    as_owner "$bin/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

psql_admin() {
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir" -U "$db_user" -d postgres "$@"
}

prepare_dir() {
    if [[ ${#pg_dir} -gt 90 ]]; then
        say "KAPSESSION_PG_DIR is too long for a unix socket path (${#pg_dir} characters)."
        exit 1
    fi
    mkdir -p "$pg_dir"
    if [[ $EUID -eq 0 ]]; then
        if ! id -u postgres >/dev/null 2>&1; then
            say "there is no 'postgres' user to run the server as (we are root)."
            say "install PostgreSQL with: scripts/system-deps.sh test"
            exit 1
        fi
        chown -R postgres:postgres "$pg_dir"
    elif [[ ! -w "$pg_dir" ]]; then
        say "cannot write to $pg_dir (left by another user?)."
        say "remove it, or choose another folder: KAPSESSION_PG_DIR=/tmp/kapsession-pg-\$USER"
        exit 1
    fi
    chmod 0755 "$pg_dir"
}

init_cluster() {
    local major
    major=$(basename "$(dirname "$bin")")
    if [[ -f "$data_dir/PG_VERSION" && "$(cat "$data_dir/PG_VERSION")" != "$major" ]]; then
        say "removing a data folder of PostgreSQL $(cat "$data_dir/PG_VERSION")"
        rm -rf "$data_dir"
    fi
    [[ -f "$data_dir/PG_VERSION" ]] && return
    rm -rf "$data_dir"
    as_owner "$bin/initdb" -D "$data_dir" -U "$db_user" -A trust -E UTF8 --locale=C \
        --no-sync >"$pg_dir/initdb.log" 2>&1 || {
        say "initdb failed; its output:"
        cat "$pg_dir/initdb.log" >&2
        exit 1
    }
    # Socket only, in our own folder; speed over durability (the data is thrown away).
    as_owner tee -a "$data_dir/postgresql.conf" >/dev/null <<EOF

# --- kapsession test server (scripts/test-postgres.sh) ---
listen_addresses = ''
unix_socket_directories = '$pg_dir'
unix_socket_permissions = 0777
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
EOF
}

start() {
    if is_running; then
        return
    fi
    prepare_dir
    init_cluster
    as_owner "$bin/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t 30 >/dev/null || {
        say "the server did not start; the end of $log_file:"
        tail -n 20 "$log_file" >&2 || true
        exit 1
    }
    # A fresh, empty database for every start.
    psql_admin -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" \
        -c "CREATE DATABASE $db_name"
    say "running on socket $pg_dir, database $db_name"
}

stop() {
    if is_running; then
        as_owner "$bin/pg_ctl" stop -D "$data_dir" -m fast -w -t 30 >/dev/null
        say "stopped"
    fi
}

case "$1" in
    start)
        bin=$(find_bin_dir)
        start
        ;;
    stop)
        bin=$(find_bin_dir)
        stop
        ;;
    status)
        bin=$(find_bin_dir)
        is_running
        ;;
    url)
        echo "postgresql+psycopg://$db_user@/$db_name?host=$pg_dir"
        ;;
    destroy)
        if [[ -d "$pg_dir" ]]; then
            if bin=$(find_bin_dir 2>/dev/null); then
                stop
            fi
            rm -rf "$pg_dir"
        fi
        ;;
    *) usage ;;
esac
