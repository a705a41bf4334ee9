-- The `leadrouter_name` check (migration 0001) without a bounded repetition (issue 23, PostgreSQL
-- CPU per event; docs/benchmarks/ingest.md, 2026-12-07 "pg-cpu"). Segment, stage, status, band,
-- queue and team names are this domain, and PostgreSQL checks it on every value written to one:
-- a new or updated lead (band, primary segment, stage, status), each membership, membership
-- history and segment delta row, each queue item. `^[a-z0-9][a-z0-9_.-]{0,127}$` makes
-- PostgreSQL's regular expression engine unroll `{0,127}` into 127 optional states and build
-- its DFA for them on every match: ~170 000 instructions per check (callgrind, a single-user
-- backend), 37 µs per check against 1.6 µs (20 000 checks of a 28-character segment name in one
-- statement, 742 against 32 ms, load average 12) — a fifth of the instructions of the lane's
-- history statements alone (`scripts/bench-lane-sql-instructions.sh`).
--
-- The same names: one character of `[a-z0-9]`, then any number of `[a-z0-9_.-]`, at most 128
-- characters in all — the length bound as `char_length`, which a name of those characters
-- counts in bytes anyway. The constraint keeps its name (errors and tests name it). NOT VALID:
-- every stored value passed the old check, which accepts exactly the same strings, so
-- re-checking every row of every table that uses the domain (a scan of each, under lock) would
-- prove nothing; new values are checked as before.
ALTER DOMAIN leadrouter_name DROP CONSTRAINT leadrouter_name_check;
ALTER DOMAIN leadrouter_name ADD CONSTRAINT leadrouter_name_check
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9_.-]*$' AND char_length(VALUE) <= 128) NOT VALID;
