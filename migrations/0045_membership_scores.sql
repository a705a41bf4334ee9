-- Issue 20: a segment's own score (`score:` in the segment) where its memberships live, so
-- GET /v1/segments/{name}/members?order=score ranks members by it with an index.
--
-- `score` and `score_at` are the member's score and when it was computed (decay it to now with
-- the segment's half-life); `score_rank` is the order key `sign(s) · (1000 + ln|s| + t·ln2/h)`
-- (Segmentation's SegmentRank): decay multiplies every member's score by the same factor, so
-- this key orders the scores decayed to any `now`, and a row is rewritten only when points are
-- added, not as time passes. Members of segments without a score keep 0 / NULL.
-- Constant defaults: adding the columns is a catalogue change, no table rewrite.
ALTER TABLE memberships
    ADD COLUMN score double precision NOT NULL DEFAULT 0,
    ADD COLUMN score_at timestamptz,
    ADD COLUMN score_rank double precision NOT NULL DEFAULT 0,
    ADD CONSTRAINT memberships_score_finite CHECK (score NOT IN ('NaN', 'Infinity', '-Infinity')
                                                   AND score_rank NOT IN ('NaN', 'Infinity', '-Infinity'));

-- ?order=score on a scored segment: highest key first, lead id breaking ties; the cursor is a
-- (score_rank, lead_id) row comparison on the same index.
CREATE INDEX memberships_segment_rank_idx ON memberships (segment, score_rank DESC, lead_id DESC);
