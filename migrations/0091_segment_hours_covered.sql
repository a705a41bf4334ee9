-- A segment's year by hour from its index alone (issue 15's read bar; docs/insight.md "Reading cost").
--
-- `Store.segmentMetrics` at `interval=hour` reads one segment's 8 761 hours of a year from
-- `segment_metrics_hourly_folded`. The fold writes each hour's rows for every segment together
-- (and updates them in place as later folds add to them), so one segment's hours are spread over
-- the heap: on the 10 M-row seed they lay on 708 heap pages and the read took 777 buffers through
-- a bitmap heap scan; on a table written in the fold's worst order, 2 565 (EXPLAIN (ANALYZE,
-- BUFFERS), docs/benchmarks/insight.md). Their key entries fill ~115 leaf pages.
--
-- The primary key now carries the counts the read takes (INCLUDE: stored in the leaf entries,
-- not part of the key, so uniqueness and the fold's `ON CONFLICT (segment, bucket)` are as
-- before): the read is an index-only scan in (segment, bucket) order, whatever order the fold
-- wrote the heap in (0.77x the read's backend CPU on the seed). The price is on the fold: a
-- count that changes is now an indexed column, so its update is no longer HOT and writes a new
-- leaf entry (one per (segment, hour) a fold touches, on one node every couple of seconds;
-- nothing on the ingest path). Hours a fold
-- touched since the last vacuum are read from the heap (their pages are not all-visible): the
-- current few hours in practice, so correctness never depends on the visibility map.
--
-- One index, not a second one beside the key: the key's entries would be written by the same
-- updates anyway. On Citus the table is a reference table; the ALTERs propagate to its
-- placements like any DDL on it.
ALTER TABLE segment_metrics_hourly_folded DROP CONSTRAINT segment_metrics_hourly_pkey;
ALTER TABLE segment_metrics_hourly_folded ADD CONSTRAINT segment_metrics_hourly_pkey PRIMARY KEY (segment, bucket)
    INCLUDE (entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs);
