#!/usr/bin/env bash
# The plan of GET /v1/segments/{name}/members?order=score on a scored segment (migration 0045):
# a throwaway cluster, the leads/memberships columns the listing reads with 0045's columns and
# index, N leads spread over three segments, then EXPLAIN (ANALYZE, BUFFERS) of the first page and
# of a page after a cursor, with the planner settings LeadReads lists run under (index only).
# Load-independent figures: the plan shape and the buffers touched.
#   scripts/bench-member-ranks.sh [N]   (default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
n="${1:-300000}"
pg_cluster_start
trap pg_cluster_stop EXIT
"$PG_BIN/psql" "$DATABASE_URL" -X -q -v n="$n" <<'SQL'
CREATE TABLE leads (id uuid PRIMARY KEY, email text, score float8 NOT NULL DEFAULT 0, stage text, merged_into uuid);
CREATE TABLE memberships (segment text NOT NULL, lead_id uuid NOT NULL REFERENCES leads(id), entered_at timestamptz NOT NULL,
  ruleset_version int NOT NULL, score float8 NOT NULL DEFAULT 0, score_at timestamptz, score_rank float8 NOT NULL DEFAULT 0,
  PRIMARY KEY (segment, lead_id));
CREATE INDEX memberships_lead_idx ON memberships (lead_id);
CREATE INDEX memberships_segment_entered_idx ON memberships (segment, entered_at, lead_id);
CREATE INDEX memberships_segment_rank_idx ON memberships (segment, score_rank DESC, lead_id DESC);
INSERT INTO leads (id, email, score) SELECT md5('l'||g)::uuid, 'p'||g||'@x', g % 97 FROM generate_series(1, :n) g;
INSERT INTO memberships SELECT (ARRAY['consideration.mid-intent.comparer','awareness.low-intent.any','decision.high-intent.cart'])[1 + g % 3],
  md5('l'||g)::uuid, now(), 1, (g % 1000) / 10.0, now() - (g % 500) * interval '1 hour',
  CASE WHEN g % 1000 = 0 THEN 0 ELSE 1000 + ln((g % 1000) / 10.0) + extract(epoch FROM now() - (g % 500) * interval '1 hour') * 1000 / 604800000.0 * ln(2) END
  FROM generate_series(1, :n) g;
ANALYZE leads; ANALYZE memberships;
SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; SET jit = off;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
SELECT m.lead_id, m.entered_at, l.email, l.score, l.stage, m.score AS segment_score, m.score_at, m.score_rank
FROM memberships m JOIN leads l ON l.id = m.lead_id
WHERE m.segment = 'consideration.mid-intent.comparer' AND l.merged_into IS NULL
ORDER BY m.score_rank DESC, m.lead_id DESC LIMIT 51;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
SELECT m.lead_id, m.entered_at, l.email, l.score, l.stage, m.score AS segment_score, m.score_at, m.score_rank
FROM memberships m JOIN leads l ON l.id = m.lead_id
WHERE m.segment = 'consideration.mid-intent.comparer' AND l.merged_into IS NULL
  AND (m.score_rank, m.lead_id) < (2000.0::float8, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
ORDER BY m.score_rank DESC, m.lead_id DESC LIMIT 51;
SQL
