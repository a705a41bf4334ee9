-- Issue 20: state that actions need, kept on the lead row beside the signal state. Today
-- `{"interest": {"at": …, "categories": {…}, "products": {…}}}`: decayed product-view counts
-- per category and product for `lead.interest.*` (at most 16 of each), and `"timezone"`, the
-- latest `context.timezone`, in which `send_at` is computed, and `"sent"`: per capped channel
-- the actions the last decision carried and the times of recent sends (at most 64), for `caps:`;
-- `"segment_scores"`: per scored membership its score, time and per-rule parts.
-- NULL means empty, so
-- adding the column is a catalogue change (no table rewrite) and rows written before read as
-- leads that viewed nothing yet.
ALTER TABLE leads ADD COLUMN action_state jsonb;
