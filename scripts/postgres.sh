#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local runs (the dbt models are tested on PostgreSQL
# too: docs/decisions/0009-portability.md).
#
#   scripts/postgres.sh start [DIR]   install PostgreSQL from Debian packages if missing, create a
#                                     cluster under DIR (default: a new temp dir), start it on a free
#                                     loopback port, create database `signal_campaigns`, and print
#                                     the connection as shell assignments (eval-able):
#                                       export SIGNAL_PG_HOST=127.0.0.1 ... SIGNAL_PG_DIR=DIR
#                                     Idempotent: if DIR already holds a running cluster, it just
#                                     prints its connection again.
#   scripts/postgres.sh stop DIR      stop the cluster and delete DIR.
#   scripts/postgres.sh status DIR    exit 0 when the cluster in DIR is running.
#
# Root-safe: as root the server runs as the unprivileged `postgres` system user (initdb refuses
# root). Auth is `trust` on loopback only (the printed password is a placeholder for clients that
# insist on one); the cluster is for throwaway test data.
set -euo pipefail

DBNAME="${SIGNAL_PG_DBNAME:-signal_campaigns}"
SUPERUSER="postgres"

# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    done
    return 1
}

ensure_installed() {
    if BINDIR="$(find_bindir)"; then return 0; fi
    apt_install PostgreSQL postgresql postgresql-contrib
    BINDIR="$(find_bindir)" || die "PostgreSQL installed but initdb/pg_ctl not found"
}

# Run a command as the cluster owner (the `postgres` user when we are root).
as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$OWNER" -- "$@"
        else
            su -s /bin/sh "$OWNER" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

setup_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        OWNER=postgres
        if ! id -u "$OWNER" >/dev/null 2>&1; then
            useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "$OWNER" >&2 \
                || die "could not create the postgres system user"
        fi
    else
        OWNER="$(id -un)"
    fi
}

free_port() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
            return 0
        fi
    done
    # no python: probe from a high range
    local p
    for p in $(seq 54320 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    die "no free port found"
}

print_env() {
    local dir="$1" port
    port="$(cat "$dir/port")"
    cat <<ENV
export SIGNAL_PG_HOST=127.0.0.1
export SIGNAL_PG_PORT=$port
export SIGNAL_PG_USER=$SUPERUSER
export SIGNAL_PG_PASSWORD=postgres
export SIGNAL_PG_DBNAME=$DBNAME
export SIGNAL_PG_DIR=$dir
ENV
}

is_running() {
    local dir="$1"
    [[ -f "$dir/port" && -d "$dir/data" ]] || return 1
    as_owner "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

cmd_start() {
    local dir="${1:-}"
    ensure_installed
    setup_owner
    if [[ -n "$dir" ]] && is_running "$dir"; then
        print_env "$dir"
        return 0
    fi
    if [[ -z "$dir" ]]; then
        dir="$(mktemp -d "${TMPDIR:-/tmp}/signal-pg.XXXXXX")"
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ "$(id -u)" == "0" ]]; then
        chown "$OWNER" "$dir"
        chmod 0700 "$dir"
        # the owner must be able to traverse the parents of the cluster directory
        as_owner test -x "$dir" || die "$dir is not reachable by user $OWNER (choose a directory under /tmp)"
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        rm -rf "$dir/data"
        as_owner "$BINDIR/initdb" -D "$dir/data" -U "$SUPERUSER" --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || as_owner "$BINDIR/initdb" -D "$dir/data" -U "$SUPERUSER" --auth=trust --encoding=UTF8 \
                --no-locale >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    local port attempt
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        if as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            break
        fi
        port=""
    done
    [[ -n "$port" ]] || { tail -n 30 "$dir/server.log" >&2 || true; die "the server did not start"; }
    local psql="$BINDIR/psql"
    if ! as_owner "$psql" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -tAc \
        "select 1 from pg_database where datname = '$DBNAME'" | grep -q 1; then
        as_owner "$psql" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -qc "create database \"$DBNAME\"" >&2 \
            || die "could not create database $DBNAME"
    fi
    print_env "$dir"
}

cmd_stop() {
    local dir="${1:?usage: postgres.sh stop DIR}"
    [[ -d "$dir" ]] || return 0
    # only ever delete a directory this script created a cluster in
    [[ -f "$dir/port" || -f "$dir/data/PG_VERSION" || -f "$dir/initdb.log" ]] \
        || die "$dir does not look like a cluster directory of this script; not deleting it"
    if BINDIR="$(find_bindir)"; then
        setup_owner
        if [[ -d "$dir/data" ]]; then
            as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
    fi
    rm -rf "$dir"
}

cmd_status() {
    local dir="${1:?usage: postgres.sh status DIR}"
    BINDIR="$(find_bindir)" || exit 1
    setup_owner
    is_running "$dir"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    *) echo "usage: $0 start [DIR] | stop DIR | status DIR" >&2; exit 2 ;;
esac
