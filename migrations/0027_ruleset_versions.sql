-- Issue 16: rulesets are versions the service numbers (POST /v1/rulesets, `serve --rules`), activated
-- and rolled back without a restart (docs/rulesets.md).
--
-- A stored version is never rewritten: only the activation columns of a row may change, and no row
-- is deleted. The trigger enforces it for every writer, not only the service's code.
ALTER TABLE rulesets ADD COLUMN deactivated_at timestamptz;

CREATE FUNCTION leadrouter_rulesets_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ruleset version % is stored for good and cannot be deleted', OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.version, NEW.yaml, NEW.checksum, NEW.author, NEW.note, NEW.created_at)
       IS DISTINCT FROM (OLD.version, OLD.yaml, OLD.checksum, OLD.author, OLD.note, OLD.created_at) THEN
        RAISE EXCEPTION 'ruleset version % is immutable: store a new version instead', OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER rulesets_immutable BEFORE UPDATE OR DELETE ON rulesets
    FOR EACH ROW EXECUTE FUNCTION leadrouter_rulesets_immutable();

-- One row per activation (a rollback is an activation of an older version). The sweepers of all
-- nodes walk the leads of the newest activation in id order, `reevaluated_through` being the last
-- lead id done, until `finished_at`; an activation superseded by a newer one stops where it was.
CREATE TABLE ruleset_activations (
    id                   bigserial PRIMARY KEY,
    version              integer NOT NULL REFERENCES rulesets (version),
    previous_version     integer,
    activated_by         text NOT NULL,
    activated_at         timestamptz NOT NULL DEFAULT now(),
    leads_total          bigint NOT NULL,   -- live leads when activated (progress denominator)
    reevaluated          bigint NOT NULL DEFAULT 0,
    changed              bigint NOT NULL DEFAULT 0,  -- leads whose memberships changed
    reevaluated_through  uuid,
    finished_at          timestamptz,
    superseded           boolean NOT NULL DEFAULT false
);
-- The sweeper's lookup: the newest unfinished activation.
CREATE INDEX ruleset_activations_open_idx ON ruleset_activations (id) WHERE finished_at IS NULL;
