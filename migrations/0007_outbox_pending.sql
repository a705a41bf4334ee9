-- Webhook dispatch (issues 5 and 7): the dispatcher marked every outbox row dispatched with an
-- UPDATE, which rewrote the whole row (its payload is often a whole decision document) and its
-- index entries: about as much WAL per event as the outbox row itself, whether or not anyone
-- subscribes. What is waiting for dispatch is now the ids in a narrow queue table: the outbox
-- row is written once and never updated; the dispatcher deletes the ids it turned into
-- deliveries, in the same transaction.
CREATE TABLE outbox_pending (
    outbox_id  bigint PRIMARY KEY   -- an outbox row not dispatched yet (the dispatcher takes them in id order)
);
INSERT INTO outbox_pending (outbox_id) SELECT id FROM outbox WHERE dispatched_at IS NULL;
DROP INDEX outbox_undispatched_idx;
ALTER TABLE outbox DROP COLUMN dispatched_at;

-- Every row inserted into the outbox, by whatever writer, waits for dispatch: one statement-level
-- trigger per INSERT statement (not per row) adds the new ids from its transition table.
CREATE FUNCTION leadrouter_outbox_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_pending (outbox_id) SELECT id FROM inserted_outbox;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_rows_wait_for_dispatch AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS inserted_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_outbox_pending();
