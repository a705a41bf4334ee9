#!/usr/bin/env bash
# Does round robin serialise sales-routed events? (issue 23, target 5.) pgbench runs CLIENTS
# sessions of scripts/bench/round-robin-route.sql (new lead → leadrouter_route_to_queue for one
# team of 4 members, two with a capacity → SLEEP_MS standing for the rest of the event's
# transaction → COMMIT) for DURATION s, against two databases of one cluster: `base` with the
# assignment function of migration 0015 (the team's round_robin_state row locked until commit)
# and `new` with the candidate of scripts/bench/round-robin-candidate.sql on top (turns from a
# per-team sequence, owner locks instead of the team lock; NOT a migration yet — see
# docs/benchmarks/queues.md#round-robin-lock-waits).
# Runs alternate base/new per rep. While each runs, pg_stat_activity is sampled every 100 ms:
# backends waiting on a Lock. Prints per build the medians over reps of transactions/s and of
# the per-run mean and median of lock waiters, and the items per owner (fairness, capacity).
# Not machine-independent (tps), but the lock-waiter counts are what the change is about.
#
#   scripts/bench-round-robin-locks.sh                 # REPS=3 DURATION=10 CLIENTS=16 SLEEP_MS=5
#   CAPS=1000000,1000000,1000000,1000000 scripts/bench-round-robin-locks.sh   # every member capped
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-16}
SLEEP_MS=${SLEEP_MS:-5}
CAPS=${CAPS:-NULL,1000000,NULL,1000000}   # capacities of rep_a…rep_d (NULL: none)
IFS=, read -r CAP_A CAP_B CAP_C CAP_D <<<"$CAPS"

ensure_packages postgresql
bench_cluster_start
bench_workdir bench-round-robin-locks
ROOT_URL=$DATABASE_URL

# 0015's assign function, verbatim, for `base`.
python3 - >"$WORK/base.sql" <<'PY'
src = open("migrations/0015_fair_assignment.sql").read()
print(src[src.index("CREATE OR REPLACE FUNCTION leadrouter_assign_owner"):src.index("CREATE OR REPLACE FUNCTION leadrouter_route_to_queue")])
PY

declare -A URLS
for build in base new; do
    psql "$ROOT_URL" -qc "CREATE DATABASE rr_$build" >/dev/null
    URLS[$build]="${ROOT_URL%/*}/rr_$build"
    for f in migrations/*.sql; do psql -q -v ON_ERROR_STOP=1 -1 -f "$f" "${URLS[$build]}" >/dev/null; done
    psql -q -v ON_ERROR_STOP=1 "${URLS[$build]}" <<SQL >/dev/null
INSERT INTO owners (id) VALUES ('rep_a'), ('rep_b'), ('rep_c'), ('rep_d');
INSERT INTO teams (id) VALUES ('inside');
INSERT INTO team_members (team_id, owner_id, position, capacity)
VALUES ('inside', 'rep_a', 0, $CAP_A), ('inside', 'rep_b', 1, $CAP_B), ('inside', 'rep_c', 2, $CAP_C), ('inside', 'rep_d', 3, $CAP_D);
INSERT INTO round_robin_state (team_id) VALUES ('inside');
SQL
done
psql -q -v ON_ERROR_STOP=1 -f "$WORK/base.sql" "${URLS[base]}" >/dev/null
psql -q -v ON_ERROR_STOP=1 -1 -f scripts/bench/round-robin-candidate.sql "${URLS[new]}" >/dev/null

sample() {  # sample URL OUT: lock waiters every 100 ms until killed
    while :; do
        psql "$1" -AtF ' ' -c "SELECT count(*), coalesce(string_agg(wait_event, ','), '-') FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()" >>"$2"
        sleep 0.1
    done
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
for rep in $(seq 1 "$REPS"); do
    for build in base new; do
        echo "rep $rep/$REPS $build" >&2
        sample "${URLS[$build]}" "$WORK/locks-$build-$rep" &
        SAMPLER=$!
        out=$(pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -D sleep_ms="$SLEEP_MS" -f scripts/bench/round-robin-route.sql "${URLS[$build]}" 2>&1)
        kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true
        tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
        python3 - "$build" "$tps" "$WORK/locks-$build-$rep" >>"$RESULTS" <<'PY'
import statistics, sys
build, tps, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
lines = [l.split() for l in open(path) if l.strip()]
xs = [int(l[0]) for l in lines]
kinds = {}
for l in lines:
    for k in l[1].split(","):
        if k != "-": kinds[k] = kinds.get(k, 0) + 1
print(f"{build} waits on: {kinds}", file=sys.stderr)
print(f"{build}\t{tps:.0f}\t{statistics.mean(xs):.2f}\t{statistics.median(xs):.1f}\t{len(xs)}")
PY
    done
done
echo "CAPS=$CAPS CLIENTS=$CLIENTS SLEEP_MS=$SLEEP_MS DURATION=$DURATION; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"clients/sleep as given; per build, medians over {len(rows)//2} reps")
print("build\ttx/s\tmean lock waiters\tmedian lock waiters\tsamples/run")
for b in ("base", "new"):
    r = [x for x in rows if x[0] == b]
    print(f"{b}\t{statistics.median(float(x[1]) for x in r):.0f}\t{statistics.median(float(x[2]) for x in r):.2f}\t"
          f"{statistics.median(float(x[3]) for x in r):.1f}\t{statistics.median(int(x[4]) for x in r)}")
PY
for build in base new; do
    echo "$build items per owner: $(psql "${URLS[$build]}" -Atc "SELECT string_agg(owner_id || '=' || n, ' ' ORDER BY owner_id) FROM (SELECT owner_id, count(*) n FROM queue_items GROUP BY owner_id) s")"
done
