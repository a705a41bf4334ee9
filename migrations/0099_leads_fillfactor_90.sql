-- Issue 23, target 7 (bytes stored per event): leads fillfactor 90 (0085 set 85; docs/benchmarks/storage.md,
-- 2026-12-07 entry of branch storage-slim3).
--
-- 0085 chose 85 when a lead row was ~1 KB: 7 rows to a page and room for "a row version or so" of
-- their updates, which then stay on their page (no lead update is HOT: the CRM list indexes
-- change with every event). Packing the signal and action state (0094 and the branch before it)
-- made a row ~800 B, so at 85 a page holds 8 rows and keeps ~1.6 KB — two versions — empty:
-- ~15 % of the heap, ~145 B per event on the storage benchmark. At 90 it holds 9 and keeps
-- ~0.9 KB, the one row version 0085 kept room for. Applies to pages written from now on.
ALTER TABLE leads SET (fillfactor = 90);
