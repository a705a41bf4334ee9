#!/usr/bin/env bash
# Lead list benchmark (issue 22): latency of every query shape of `GET /v1/leads` (list) and
# `GET /v1/segments/{name}/members` over HTTP against LEADS (1 000 000) leads seeded with SQL
# `generate_series` — stages, statuses, owners, scores and update times spread as on a real shop
# (60 % awareness … 5 % retention; 70 % new … 2 % unsubscribed; 10 % owned by 50 reps), a big
# segment (about a quarter of the leads) and a small one (about 1 %). Each shape runs for
# DURATION (5) seconds with CONNECTIONS (4) keep-alive connections (wrk) asking for pages of 50;
# the reference in the same run is `GET /v1/leads/{id}`, one lead by id (what a CRM did 50 times
# per page before lists existed). Prints p50/p99 per shape and the ratio of each p99 to the
# reference's. The plan of each shape's SQL is left in the work directory with KEEP=1.
#
#   scripts/bench-lead-lists.sh                        # LEADS=1000000 DURATION=5 CONNECTIONS=4
#   LEADS=200000 DURATION=3 scripts/bench-lead-lists.sh
#   BIN=/path/to/leadrouter scripts/bench-lead-lists.sh  # a build of your own
#   LEADROUTER_SCRATCH=.build-x scripts/bench-lead-lists.sh  # build into that scratch path
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

LEADS=${LEADS:-1000000}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-4}
BUILD=${BUILD:-release}

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter "$BUILD"

bench_cluster_start
bench_workdir bench-lead-lists
[ "${KEEP:-0}" = 1 ] && trap 'for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; pg_cluster_stop; echo "kept $WORK" >&2' EXIT

PORT=$(free_port)
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" --migrate --rules config/segments.yaml --log-level warning
KEY=$("$BIN" keys create --name bench --scopes read | tail -n 1)

BIG=consideration.mid-intent.browser
SMALL=decision.high-intent.cart
echo "seeding $LEADS leads…" >&2
seed_start=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO leads (id, email, stage, status, score, score_at, owner_id, updated_at, created_at)
SELECT gen_random_uuid(), 'p' || g || '@example.com',
       CASE WHEN r1 < 0.60 THEN 'awareness' WHEN r1 < 0.85 THEN 'consideration' WHEN r1 < 0.95 THEN 'decision' ELSE 'retention' END,
       CASE WHEN r2 < 0.70 THEN 'new' WHEN r2 < 0.90 THEN 'qualified' WHEN r2 < 0.98 THEN 'converted' ELSE 'unsubscribed' END,
       round((power(random(), 3) * 120)::numeric, 6), now(),
       CASE WHEN random() < 0.10 THEN 'rep_' || (g % 50) END,
       now() - random() * interval '90 days', now() - interval '120 days'
FROM (SELECT g, random() AS r1, random() AS r2 FROM generate_series(1, $LEADS) AS g) AS s;
INSERT INTO memberships (segment, lead_id, entered_at, ruleset_version)
SELECT '$BIG', id, updated_at - random() * interval '10 days', 1 FROM leads WHERE stage = 'consideration' OR random() < 0.02;
INSERT INTO memberships (segment, lead_id, entered_at, ruleset_version)
SELECT '$SMALL', id, updated_at - random() * interval '2 days', 1 FROM leads WHERE stage = 'decision' AND random() < 0.1;
VACUUM ANALYZE leads; VACUUM ANALYZE memberships;
SQL
echo "seeded in $(( $(date +%s) - seed_start )) s" >&2

ONE=$(psql -Atc "SELECT id FROM leads ORDER BY id LIMIT 1 OFFSET 4321" "$DATABASE_URL")
DEEP=$(psql -Atc "SELECT id FROM leads WHERE merged_into IS NULL AND status = 'unsubscribed' ORDER BY score DESC, id DESC OFFSET 5000 LIMIT 1" "$DATABASE_URL")
SINCE=$(psql -Atc "SELECT to_char((now() - interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" "$DATABASE_URL")
REP=rep_7

# name <TAB> path
SHAPES="$WORK/shapes.tsv"
cat >"$SHAPES" <<EOT
reference: one lead by id	/v1/leads/$ONE
all, order=score	/v1/leads?limit=50
all, order=updated_at	/v1/leads?order=updated_at&limit=50
segment (big), order=score	/v1/leads?segment=$BIG&limit=50
segment (small), order=score	/v1/leads?segment=$SMALL&limit=50
segment (small), order=updated_at	/v1/leads?segment=$SMALL&order=updated_at&limit=50
stage=decision, order=updated_at	/v1/leads?stage=decision&order=updated_at&limit=50
status=unsubscribed (2 %), order=score	/v1/leads?status=unsubscribed&limit=50
status=unsubscribed, page after 5 000 rows	/v1/leads?status=unsubscribed&limit=50&cursor=$DEEP
owner_id, order=score	/v1/leads?owner_id=$REP&limit=50
owner_id, order=updated_at	/v1/leads?owner_id=$REP&order=updated_at&limit=50
updated_since=1 day, order=updated_at	/v1/leads?updated_since=$SINCE&order=updated_at&limit=50
updated_since=1 day, order=score	/v1/leads?updated_since=$SINCE&limit=50
segment (big)+status=qualified+stage, order=updated_at	/v1/leads?segment=$BIG&status=qualified&stage=consideration&order=updated_at&limit=50
members (big), order=entered_at	/v1/segments/$BIG/members?limit=50
members (big), order=score	/v1/segments/$BIG/members?order=score&limit=50
members (small), order=score	/v1/segments/$SMALL/members?order=score&limit=50
EOT

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
bench_shapes "$SHAPES" "$RESULTS" 'len(d["data"]) if "data" in d else 1'

python3 - "$RESULTS" "$LEADS" "$DURATION" "$CONNECTIONS" "$BUILD" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
leads, duration, connections, build, load = sys.argv[2:7]
ref = float(rows[0][4])
print(f"\nbench-lead-lists: {int(leads):,} leads, {duration}s per shape, {connections} connections, pages of 50;")
print(f"leadrouter {build} build; PostgreSQL fsync=on; load average at the end {load}\n")
print("| query shape | items | requests/s | p50 ms | p99 ms | non-2xx | p99 vs one lead by id |")
print("|---|---|---|---|---|---|---|")
for name, items, rps, p50, p99, bad in rows:
    print(f"| {name} | {items} | {rps} | {p50} | {p99} | {bad} | {float(p99) / ref:.1f}× |")
PY
