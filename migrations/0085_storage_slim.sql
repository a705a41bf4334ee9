-- Issue 23, target 7 (bytes stored per event): one index fewer on three tables written by most
-- events (docs/benchmarks/storage.md, 2026-12-07 entry of branch storage-slim).

-- A lead's stage and membership history is read by lead in time order (exports, the lead's
-- history, the rollup deltas' "previous row of this lead"), and a row is found by (lead_id, id)
-- only by retention and merges, which read all of a lead's rows anyway. The primary key on
-- (lead_id, occurred_at, id) answers both, so the separate (lead_id, id) key and the time index
-- became one index: unique still (id is), lead_id first (Citus, CitusSchemaTests).
ALTER TABLE stage_history DROP CONSTRAINT stage_history_pkey;
ALTER TABLE stage_history ADD CONSTRAINT stage_history_pkey PRIMARY KEY (lead_id, occurred_at, id);
DROP INDEX stage_history_lead_time_idx;

ALTER TABLE membership_history DROP CONSTRAINT membership_history_pkey;
ALTER TABLE membership_history ADD CONSTRAINT membership_history_pkey PRIMARY KEY (lead_id, occurred_at, id);
DROP INDEX membership_history_lead_time_idx;

-- Memberships are found by lead (GET /v1/leads/{id}/segments, merges, erasure) and by (segment,
-- lead) (member pages probe one lead at a time); listing a segment reads
-- memberships_segment_entered_idx or memberships_segment_rank_idx, both led by segment. A key on
-- (lead_id, segment) answers the first two, so memberships_lead_idx is gone.
ALTER TABLE memberships DROP CONSTRAINT memberships_pkey;
ALTER TABLE memberships ADD CONSTRAINT memberships_pkey PRIMARY KEY (lead_id, segment);
DROP INDEX memberships_lead_idx;

-- Leads: fillfactor 85 (0006 set 70 for HOT updates). No lead update has been HOT since the CRM
-- list indexes on updated_at and score (0020), which every event changes, so the room only kept
-- each page a third emptier: a ~1 KB lead row went 5 to a page. At 85 a page holds 7 and still
-- has room for a row version or so of its leads' updates, which then stay on their page (and are
-- pruned there) instead of growing the table until autovacuum. Measured both ways on a mix of new
-- leads (100 → 1 024 B a lead, 85 → 1 170, 70 → 1 640) and on an update-heavy one (85 → 1.09×
-- the bytes per event of 70, 100 → 1.14×): docs/benchmarks/storage.md. Applies to pages
-- written from now on.
ALTER TABLE leads SET (fillfactor = 85);
