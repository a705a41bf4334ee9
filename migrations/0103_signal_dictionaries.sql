-- The preset dictionaries `leads.signal_state` is packed with (issue 23; docs/postgres.md,
-- "Signal state"). A dictionary is a ruleset's empty signal state (every signal's key and
-- coverage, no times: `Ruleset.emptySignalEncoding`), and a packed state names it by `id`, the
-- first 4 bytes of its SHA-256 (big-endian, as a signed int4), so any node decodes any row
-- whichever ruleset version it serves itself. A node stores the dictionary of a version when it
-- loads the version, before it writes a row packed with it (`Store.storeSignalDictionary`,
-- `INSERT … ON CONFLICT DO NOTHING`); rows are never updated or deleted, a dictionary's bytes
-- are fixed by its id. Rows packed before (marker 0xFF, no dictionary) keep decoding.
-- No lead id: a reference table on Citus (0036's rule), so every worker could join it.
CREATE TABLE signal_dictionaries (
    id          integer PRIMARY KEY,
    dictionary  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
