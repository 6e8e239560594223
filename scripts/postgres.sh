#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: Debian's `postgresql` package (installed when missing),
# a cluster in a temp directory on a private port, stopped at the end. No system service is used.
#
#   scripts/postgres.sh install           # apt-get install postgresql when initdb is missing
#   scripts/postgres.sh bindir            # print the versioned bin directory (initdb, pg_ctl)
#   scripts/postgres.sh start DIR PORT    # initdb DIR, start on 127.0.0.1:PORT (user postgres, trust)
#   scripts/postgres.sh stop DIR          # stop the cluster in DIR and remove DIR
#
# initdb refuses to run as root; as root the cluster runs as the `postgres` system user that
# the package creates.
set -euo pipefail

bindir() {
    # Debian keeps initdb/pg_ctl off the PATH, in the versioned directory of the package.
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

as_owner() {
    # Run a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
    else
        "$@"
    fi
}

install() {
    if bindir >/dev/null; then return 0; fi
    local SUDO=
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; else
            echo "postgres.sh: initdb not found and no root to install postgresql" >&2; return 1; fi
    fi
    echo "installing Debian's postgresql (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null; }
    bindir >/dev/null
}

start() {
    local dir=$1 port=$2 bin
    bin=$(bindir)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        # The owner must reach DIR: a temp dir made by root (mktemp -d is 0700) gets o+x.
        chmod o+x "$(dirname "$dir")" 2>/dev/null || true
        chown postgres "$dir"; chmod 700 "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    # Private port, loopback only, socket inside the temp dir; fsync off: the data is throwaway.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

stop() {
    local dir=$1 bin
    bin=$(bindir)
    if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
}

cmd=${1:-}
shift || true
case "$cmd" in
    install) install ;;
    bindir) bindir ;;
    start) start "$@" ;;
    stop) stop "$@" ;;
    *) echo "usage: $0 install|bindir|start DIR PORT|stop DIR" >&2; exit 2 ;;
esac
