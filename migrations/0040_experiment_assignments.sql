-- Issue 16, experiments (docs/rulesets.md "Experiments"): one row per lead and experiment, written
-- in the ingest transaction when a decision first assigns the lead to an arm (a variant's action or
-- the holdout), and updated once when the goal of the segment whose route carries the experiment
-- is first reached after the assignment. A report is then a count per arm of an index, whatever
-- the event history holds. No personal data: ids, names and times only.
CREATE TABLE experiment_assignments (
    lead_id      uuid NOT NULL,
    experiment   text NOT NULL,
    arm          text NOT NULL,          -- a variant key, or 'holdout'
    segment      text NOT NULL,          -- the segment whose route assigned it: its goal counts
    assigned_at  timestamptz NOT NULL,
    converted_at timestamptz,            -- the first time that goal held after assigned_at
    PRIMARY KEY (lead_id, experiment)
);

-- The report's count per arm, read from the index alone.
CREATE INDEX experiment_assignments_arms ON experiment_assignments (experiment, arm) INCLUDE (converted_at);
