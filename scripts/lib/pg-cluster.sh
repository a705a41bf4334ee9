# Shared shell helpers: Debian packages and a throwaway PostgreSQL cluster.
# Sourced by scripts/test.sh and the benchmark scripts; not meant to be run directly.

# ensure_packages PKG...: apt-get install whatever of PKG is missing (root, or sudo when present).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing missing packages: ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    else
        local p
        while :; do
            p=$(( (RANDOM % 20000) + 40000 ))
            (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
        done
    fi
}

# as_pg CMD...: run CMD as the cluster's owner (`postgres` when we are root: initdb refuses root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_cluster_start: initdb + start in a new temp dir; sets PG_DIR, PG_PORT, PG_BIN, DATABASE_URL.
pg_cluster_start() {
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; return 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/leadrouter-pg.XXXXXX")
    chmod 755 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
    PG_PORT=$(free_port)
    (cd / && as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U leadrouter -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1) \
        || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    (cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" >/dev/null) \
        || { cat "$PG_DIR/server.log" >&2; return 1; }
    DATABASE_URL="postgresql://leadrouter@127.0.0.1:$PG_PORT/postgres"
    export PG_DIR PG_PORT PG_BIN DATABASE_URL
}

# pg_cluster_stop: stop the cluster started by pg_cluster_start and remove its directory.
pg_cluster_stop() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
    (cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1) || true
    rm -rf "$PG_DIR"
    PG_DIR=
}
