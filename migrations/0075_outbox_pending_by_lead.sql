-- The outbox's pending ids without a transition-table trigger (issue 19,
-- docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both). 0007's statement
-- trigger read the new outbox rows from a transition table, which Citus cannot run on a
-- distributed table (`executor could not find named tuplestore "inserted_outbox"`). Every writer
-- now inserts the pending id in the statement that writes the outbox row (a data-modifying CTE:
-- `WITH o AS (INSERT INTO outbox … RETURNING id, lead_id) INSERT INTO outbox_pending …`), and
-- the pending id carries the row's lead_id, so on Citus it is co-located with its outbox row
-- (distributed by lead_id, the same shard). The dispatcher still takes the oldest ids first.

-- On Citus: the trigger goes from a distributed table, and functions are created after tables
-- were changed in this transaction (both refused otherwise). Settings that plain PostgreSQL ignores.
SELECT set_config('citus.enable_unsafe_triggers', 'on', true), set_config('citus.multi_shard_modify_mode', 'sequential', true);

-- A database placed by an earlier `migrate` on Citus has this table as a reference table (it
-- had no lead_id): it becomes a plain one again here, and the same `migrate` distributes it.
DO $$
BEGIN
    IF leadrouter_on_citus() AND leadrouter_citus_placed('outbox_pending') THEN
        PERFORM undistribute_table('outbox_pending');
    END IF;
END
$$;
DROP TRIGGER outbox_rows_wait_for_dispatch ON outbox;
DROP FUNCTION leadrouter_outbox_pending();

ALTER TABLE outbox_pending ADD COLUMN lead_id uuid;
UPDATE outbox_pending p SET lead_id = o.lead_id FROM outbox o WHERE o.id = p.outbox_id;
-- An id whose outbox row is gone (erased) would be dispatched to nobody.
DELETE FROM outbox_pending WHERE lead_id IS NULL;
ALTER TABLE outbox_pending ALTER COLUMN lead_id SET NOT NULL,
    DROP CONSTRAINT outbox_pending_pkey,
    ADD PRIMARY KEY (outbox_id, lead_id);

-- The one writer in SQL: routing's `queue.item_moved` (0015), now with its pending id.
-- (plpgsql: Citus refuses parameters in the statements of a SQL function.)
CREATE FUNCTION leadrouter_append_outbox(p_topic text, p_lead uuid, p_payload jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH o AS (INSERT INTO outbox (topic, lead_id, payload) VALUES (p_topic, p_lead, p_payload) RETURNING id, lead_id)
    INSERT INTO outbox_pending (outbox_id, lead_id) SELECT id, lead_id FROM o;
END
$$;

-- Redefines function `fn` with `old_text` of its definition replaced by `new_text` (a
-- migration that changes one statement of a long plpgsql function says only that statement);
-- fails when the definition no longer holds `old_text`.
CREATE FUNCTION leadrouter_replace_in_function(fn regproc, old_text text, new_text text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    def text := pg_get_functiondef(fn);
BEGIN
    IF position(old_text IN def) = 0 THEN
        RAISE EXCEPTION 'function % no longer contains: %', fn, old_text;
    END IF;
    EXECUTE replace(def, old_text, new_text);
END
$$;

-- 0015's routing function writes its `queue.item_moved` row through leadrouter_append_outbox.
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$INSERT INTO outbox (topic, lead_id, payload) VALUES ('queue.item_moved', p_lead,$q$,
    $q$PERFORM leadrouter_append_outbox('queue.item_moved', p_lead,$q$);
