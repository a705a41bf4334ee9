-- Issue 23, target 7 (bytes stored per event): fewer index bytes on the hot tables
-- (docs/benchmarks/storage.md).
--
-- The two retention indexes only answer "rows older than the cutoff" for the hourly pruning
-- (RetentionJob). Rows arrive in time order, so a BRIN index (one summary per 128 pages) finds
-- them as well, for a few pages in all instead of one B-tree entry per row written.
DROP INDEX IF EXISTS decisions_evaluated_idx;
CREATE INDEX decisions_evaluated_brin ON decisions USING brin (evaluated_at);
DROP INDEX IF EXISTS processed_messages_received_idx;
CREATE INDEX processed_messages_received_brin ON processed_messages USING brin (received_at);

-- events (type, occurred_at) was made for drift ("has checkout_started stopped firing?"); drift
-- reads its hourly tallies in insight_counts (0024) instead, and no statement filters events by
-- type: every event paid an entry nobody read.
DROP INDEX IF EXISTS events_type_time_idx;
