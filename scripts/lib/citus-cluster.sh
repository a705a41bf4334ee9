# Citus on loopback for tests and benchmarks (docs/scale-out.md#citus-the-cluster): sourced by
# scripts/citus.sh and scripts/test.sh (--citus). Needs scripts/lib/pg-cluster.sh sourced first.
#
# citus_install: builds Citus from its vendored source and installs it into the PostgreSQL the
# tests run, once. The build tree is kept in $LEADROUTER_CITUS_CACHE (default
# ~/.cache/leadrouter, outside the repository), so a later run only re-runs `make install` when a
# PostgreSQL upgrade removed the installed files, and nothing when they are there.
CITUS_VERSION=13.2.2
citus_install() {
    # postgresql-server-dev-15 moves the server to the headers' minor version (15.18 -> 15.20 on
    # Debian 12 today): the installed citus.so must match the server that loads it.
    ensure_packages postgresql-server-dev-15 libkrb5-dev liblz4-dev libzstd-dev libcurl4-openssl-dev make gcc patch
    local pg_config libdir sharedir
    pg_config=$(ls /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -V | tail -n 1)
    [ -x "$pg_config" ] || pg_config=$(command -v pg_config)
    libdir=$("$pg_config" --pkglibdir); sharedir=$("$pg_config" --sharedir)
    if [ -f "$libdir/citus.so" ] && grep -q "default_version = '${CITUS_VERSION%.*}" "$sharedir/extension/citus.control" 2>/dev/null; then
        return 0
    fi
    local source=${LEADROUTER_CITUS_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/vendor/citus}
    local cache=${LEADROUTER_CITUS_CACHE:-$HOME/.cache/leadrouter}
    local tree="$cache/citus-$CITUS_VERSION"
    [ -f "$source/citus-$CITUS_VERSION.tar.gz" ] || { echo "citus: no $source/citus-$CITUS_VERSION.tar.gz (set LEADROUTER_CITUS_SOURCE)" >&2; return 1; }
    if [ ! -f "$tree/src/backend/distributed/citus.so" ]; then
        echo "citus: building $CITUS_VERSION in $tree (about a minute)" >&2
        rm -rf "$tree"; mkdir -p "$cache"
        tar -xzf "$source/citus-$CITUS_VERSION.tar.gz" -C "$cache"
        # PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2 also defines.
        if grep -q "have_createdb_privilege" /usr/include/postgresql/*/server/commands/dbcommands.h 2>/dev/null; then
            (cd "$cache" && patch -p0 -s < "$source/pg15.20-have_createdb_privilege.patch")
        fi
        # with_llvm=no: no JIT bitcode (it doubles the build; the JIT is not used for these queries).
        (cd "$tree" && PG_CONFIG="$pg_config" ./configure -q >"$tree/configure.out" 2>&1 && make -s -j"$(nproc)" with_llvm=no >"$tree/make.out" 2>&1) \
            || { tail -n 30 "$tree"/configure.out "$tree"/make.out >&2; return 1; }
    fi
    (cd "$tree" && make -s with_llvm=no install >/dev/null) || return 1
}

# citus_cluster_start: a coordinator and two workers (each its own pg_cluster_start), Citus
# loaded and created in `postgres` on each, the workers added to the coordinator. Sets
# DATABASE_URL (the coordinator), CITUS_WORKER_URLS (space-separated), CITUS_DIRS.
citus_cluster_start() {
    # CITUS_SHARD_COUNT: shards per distributed table (Citus's default is 32; fewer make each
    # test database's `migrate` quicker, and two workers gain nothing from more).
    local opts="-c shared_preload_libraries=citus -c max_prepared_transactions=200 -c citus.shard_count=${CITUS_SHARD_COUNT:-8} ${PG_EXTRA_OPTS:-}"
    local urls=() dirs=() ports=() i
    for i in 0 1 2; do
        PG_EXTRA_OPTS="$opts" pg_cluster_start || return 1
        urls+=("$DATABASE_URL"); dirs+=("$PG_DIR"); ports+=("$PG_PORT")
        "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "CREATE EXTENSION citus" >/dev/null || return 1
    done
    CITUS_DIRS="${dirs[*]}"
    CITUS_WORKER_URLS="${urls[1]} ${urls[2]}"
    DATABASE_URL=${urls[0]}
    "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "$DATABASE_URL" \
        -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
        -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
        -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null || return 1
    PG_DIR=
    export DATABASE_URL CITUS_WORKER_URLS CITUS_DIRS PG_BIN
}

# citus_cluster_stop: stops the three servers and removes their directories.
citus_cluster_stop() {
    local d
    for d in ${CITUS_DIRS:-}; do PG_DIR=$d pg_cluster_stop; done
    CITUS_DIRS=
}

# citus_test_template BIN: the database every Citus test copies (`CREATE DATABASE … TEMPLATE`,
# about a second for the three servers, against 8-20 s for making a cluster database and
# migrating and distributing it per test). Made once per run on each server with the extension,
# the workers added, `BIN migrate` run on the coordinator (migrations and the distribution
# step); then closed to connections (a template must have none: the Citus maintenance daemon
# and the coordinator's cached connections to the workers are ended). Each node's copy is the
# same cluster database, so copies are clusters of their own. Exports
# LEADROUTER_TEST_CITUS_TEMPLATE (Tests/LeadRouterTests/Support/CitusTestDatabases.swift).
citus_test_template() {
    local bin=$1 name=lr_citus_template u port
    local urls=("$DATABASE_URL" $CITUS_WORKER_URLS)
    for u in "${urls[@]}"; do
        "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "$u" -c "CREATE DATABASE $name" >/dev/null || return 1
        "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "${u%/*}/$name" -c "CREATE EXTENSION citus" >/dev/null || return 1
    done
    local setup="SELECT citus_set_coordinator_host('127.0.0.1', $(citus_url_port "$DATABASE_URL"));"
    for u in $CITUS_WORKER_URLS; do setup+="SELECT citus_add_node('127.0.0.1', $(citus_url_port "$u"));"; done
    "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "${DATABASE_URL%/*}/$name" -c "$setup" >/dev/null || return 1
    DATABASE_URL="${DATABASE_URL%/*}/$name" "$bin" migrate --migrations-dir migrations >/dev/null || return 1
    for u in "${urls[@]}"; do
        "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "$u" -c "ALTER DATABASE $name WITH ALLOW_CONNECTIONS false" \
            -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$name'" >/dev/null || return 1
    done
    export LEADROUTER_TEST_CITUS_TEMPLATE=$name
}

# citus_url_port URL: the port of a postgresql://user@host:port/db URL.
citus_url_port() { local rest=${1##*:}; echo "${rest%%/*}"; }
