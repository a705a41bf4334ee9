#!/usr/bin/env bash
# Bytes stored and WAL written per event (issue 23, target 7), per table and per index: one
# database per build in one PostgreSQL; each gets the same workload — DURATION s of "Pricing
# Requested" from new leads (scripts/bench/ingest-pricing.lua), then DURATION s of "Product
# Viewed" over LEADS leads (scripts/bench/ingest-event.lua), wrk at CONNS connections, no webhook
# subscription — then waits for the service's fold of the load's rollup deltas (wait_for_fold
# below: at most one fold interval, 2 s, when the service keeps up; since 2026-12-08), then
# CHECKPOINT, and what every table's pg_total_relation_size (heap + TOAST + indexes; partitions
# counted under their parent) grew by since before the load, divided by the events stored (the
# empty tables' own pages are not counted). WAL bytes per event are pg_current_wal_lsn() before
# the load and after it (and its last fold) over the events stored; each build's database is
# vacuumed after its figures, so the next build's WAL does not include its cleanup.
#
# With EVENTS=N each phase stops after N answers (one wrk thread; DURATION is then only an upper
# bound): both builds store the same mix, where a timed run gives the faster build more product
# views, whose rows are smaller than a new lead's, and so fewer bytes per event for another reason.
#
#   scripts/bench-storage.sh                                         # this build only
#   BASE_BIN=/work/base-4bc9c96/leadrouter scripts/bench-storage.sh  # and another build
#   EVENTS=2000 BASE_BIN=… scripts/bench-storage.sh                  # 2 000 pricing requests, 2 000 product views each
#
# COLUMNS_OF="leads events" also prints the average pg_column_size of every column of those tables.
# RULES=FILE serves another ruleset (default config/segments.yaml, whose inside-sales reps have
# room for 75 open items: later pricing requests queue unassigned, and their leads get no owner).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

EVENTS=${EVENTS:-0}
if [ "$EVENTS" -gt 0 ]; then DURATION=${DURATION:-600}; else DURATION=${DURATION:-10}; fi
export MAX_REQUESTS=$EVENTS
THREADS=2; [ "$EVENTS" -gt 0 ] && THREADS=1
CONNS=${CONNS:-16}
LEADS=${LEADS:-5000}
CONFIG=${CONFIG:-release}
RULES=${RULES:-config/segments.yaml}

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter "$CONFIG"
# No timed or size-triggered checkpoint inside a load (the two CHECKPOINTs around each build's are
# the script's): one that falls inside one build's load adds full-page images to that build alone
# (the same build measured 4 935 and 4 597 B/event of WAL, 2026-12-07, storage diary).
BENCH_PG_OPTS="-c checkpoint_timeout=30min -c max_wal_size=4GB ${BENCH_PG_OPTS:-}"
bench_cluster_start
bench_workdir bench-storage
ROOT_URL=$DATABASE_URL

declare -A BINS=([new]=$BIN)
BUILDS=(new)
if [ -n "${BASE_BIN:-}" ]; then BINS[base]=$BASE_BIN; BUILDS=(base new); fi

# sizes BUILD DB LSN: rows build, kind (table, index, events, wal), name, bytes — partitions under their parent.
sizes() {
    psql "$2" -AtF $'\t' -qc "
        WITH rel AS (
            SELECT coalesce(parent.relname, c.relname) AS name, pg_total_relation_size(c.oid) AS bytes
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class parent ON parent.oid = i.inhparent
            WHERE c.relkind = 'r'
        )
        SELECT '$1', 'table', name, sum(bytes) FROM rel GROUP BY name
        UNION ALL
        SELECT '$1', 'index', coalesce(parent.relname, t.relname) || '.' || coalesce(pi.relname, x.relname), sum(pg_relation_size(x.oid))
        FROM pg_index ix JOIN pg_class x ON x.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
        LEFT JOIN pg_inherits i ON i.inhrelid = t.oid LEFT JOIN pg_class parent ON parent.oid = i.inhparent
        LEFT JOIN pg_inherits ii ON ii.inhrelid = x.oid LEFT JOIN pg_class pi ON pi.oid = ii.inhparent
        WHERE t.relkind = 'r' GROUP BY 3
        UNION ALL
        SELECT '$1', 'events', 'events', count(*) FROM events
        UNION ALL
        SELECT '$1', 'wal', 'wal', pg_current_wal_lsn() - '$3'::pg_lsn"
}

# wait_for_fold DB: waits (FOLD_WAIT s at most, default 30) until the service has folded every
# rollup delta of the load — both delta tables hold no row — and the VACUUM that follows a fold
# has ended: no VACUUM active in DB for two looks 0.5 s apart (the service starts it right after
# the fold commits). The delta rows wait at most one fold interval (2 s) for the fold; measured
# before it, the two delta tables' share (100–265 B/event) depended on where the load's end fell
# between two folds, not on what the build stores. Both builds wait the same way.
wait_for_fold() {
    local deadline=$((SECONDS + ${FOLD_WAIT:-30})) quiet=0
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(psql "$1" -Atqc "
            SELECT NOT EXISTS (SELECT FROM segment_rollup_deltas) AND NOT EXISTS (SELECT FROM stage_rollup_deltas)
               AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                                                        AND state = 'active' AND query ILIKE 'vacuum%')")" = t ]; then
            quiet=$((quiet + 1))
            [ $quiet -ge 2 ] && return 0
        else
            quiet=0
        fi
        sleep 0.5
    done
    echo "warning: the rollup deltas were not folded within ${FOLD_WAIT:-30} s; measured anyway" >&2
}

# columns BUILD DB: rows build, table.column, average pg_column_size over the table's rows, for
# the tables in COLUMNS_OF (space-separated; e.g. COLUMNS_OF="leads events queue_items"):
# what a row holds, column by column, to see where a table's heap bytes go.
columns() {
    local table col
    for table in $COLUMNS_OF; do
        for col in $(psql "$2" -Atqc "SELECT attname FROM pg_attribute WHERE attrelid = '$table'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"); do
            psql "$2" -AtF $'\t' -qc "SELECT '$1', '$table.$col', coalesce(avg(pg_column_size(\"$col\")), 0)::int FROM $table"
        done
    done
}

for build in "${BUILDS[@]}"; do
    psql "$ROOT_URL" -qc "CREATE DATABASE storage_$build" >/dev/null
    db="${ROOT_URL%/*}/storage_$build"
    port=$(free_port)
    DATABASE_URL=$db bench_serve "${BINS[$build]}" "$port" "$WORK/$build.log" --rules "$RULES" --migrate \
        --log-level warning
    key=$(DATABASE_URL=$db "${BINS[$build]}" keys create --name bench --scopes ingest | tail -n 1)
    lsn0=$(psql "$db" -Atqc "SELECT pg_current_wal_lsn()")
    psql "$db" -Atqc "CHECKPOINT" >/dev/null
    sizes "$build-empty" "$db" "$lsn0" >>"$WORK/sizes.tsv"   # what the tables take before any event
    echo "$build: pricing requests, then product views (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
    KEY=$key RUN=$build wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s scripts/bench/ingest-pricing.lua "http://127.0.0.1:$port/v1/events" >/dev/null
    KEY=$key LEADS=$LEADS wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s scripts/bench/ingest-event.lua "http://127.0.0.1:$port/v1/events" >/dev/null
    wait_for_fold "$db"
    psql "$db" -Atqc "CHECKPOINT" >/dev/null
    sizes "$build" "$db" "$lsn0" >>"$WORK/sizes.tsv"
    if [ -n "${COLUMNS_OF:-}" ]; then columns "$build" "$db" >>"$WORK/columns.tsv"; fi
    # The WAL figure is the cluster's LSN, and autovacuum visits a build's tables a minute or so
    # after its load, during the next build's: vacuumed now (after its figures), its cleanup's
    # WAL (~760 B/event on 2026-12-07, by pg_waldump, mostly full-page images) is not counted
    # against the next build.
    psql "$db" -qc "VACUUM (ANALYZE)" >/dev/null
done

python3 - "$WORK/sizes.tsv" <<'PY'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
builds = list(dict.fromkeys(r[0] for r in rows))
builds = [b for b in builds if not b.endswith("-empty")]
events = {b: int(next(r[3] for r in rows if r[0] == b and r[1] == "events")) for b in builds}
wal = {b: int(next(r[3] for r in rows if r[0] == b and r[1] == "wal")) for b in builds}
empty = {(r[0][:-len("-empty")], r[1], r[2]): int(r[3]) for r in rows if r[0].endswith("-empty")}
rows = [r for r in rows if not r[0].endswith("-empty")]
builds = [b for b in builds if not b.endswith("-empty")]
per = lambda kind: {(r[0], r[2]): (int(r[3]) - empty.get((r[0], kind, r[2]), 0)) / events[r[0]] for r in rows if r[1] == kind}
tables, indexes = per("table"), per("index")
total = {b: sum(v for (bb, _), v in tables.items() if bb == b) for b in builds}
head = " | ".join(f"{b} B/event" for b in builds)
print(f"\nbench-storage: events stored: " + ", ".join(f"{b} {events[b]}" for b in builds) + "\n")
print(f"| table (heap + TOAST + indexes) | {head} |" + (" new / base |" if len(builds) == 2 else ""))
print("|---|" + "---|" * len(builds) + ("---|" if len(builds) == 2 else ""))
names = sorted({n for (_, n) in tables}, key=lambda n: -max(tables.get((b, n), 0) for b in builds))
def line(label, vals):
    ratio = f" {vals[1] / vals[0]:.2f}× |" if len(vals) == 2 and vals[0] else (" |" if len(vals) == 2 else "")
    print(f"| {label} | " + " | ".join(f"{v:.0f}" for v in vals) + " |" + ratio)
for n in names:
    vals = [tables.get((b, n), 0) for b in builds]
    if max(abs(v) for v in vals) >= 1: line(n, vals)
line("**all tables**", [total[b] for b in builds])
line("**WAL during the load**", [wal[b] / events[b] for b in builds])
print("\n| index | " + head + " |")
print("|---|" + "---|" * len(builds))
for n in sorted({n for (_, n) in indexes}, key=lambda n: -max(indexes.get((b, n), 0) for b in builds)):
    vals = [indexes.get((b, n), 0) for b in builds]
    if max(abs(v) for v in vals) >= 5: print(f"| {n} | " + " | ".join(f"{v:.0f}" for v in vals) + " |")
PY
if [ -s "$WORK/columns.tsv" ]; then
    python3 - "$WORK/columns.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
builds = list(dict.fromkeys(r[0] for r in rows))
val = {(r[0], r[1]): int(r[2]) for r in rows}
print("\n| column (average pg_column_size over the rows) | " + " | ".join(f"{b} B" for b in builds) + " |")
print("|---|" + "---|" * len(builds))
for c in dict.fromkeys(r[1] for r in rows):
    print(f"| {c} | " + " | ".join(str(val.get((b, c), "")) for b in builds) + " |")
PY
fi
