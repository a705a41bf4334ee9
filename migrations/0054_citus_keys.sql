-- Keys that Citus can enforce (issue 19, docs/scale-out.md#citus-keys-and-placement): on a
-- distributed table every primary key and unique index must contain the distribution column, and
-- a foreign key between distributed tables must join distribution column to distribution column.
-- The same schema serves plain PostgreSQL, where these keys are exactly as strict as before.

-- outbox, deliveries, queue_items: the primary key gains lead_id AFTER id, so the index still
-- finds a row by id alone (the dispatcher, `/v1/deliveries/{id}`, `/v1/queues/…/items/{id}`)
-- and no index is added: the write cost is unchanged. (id, lead_id) is as unique as id was.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_outbox_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey, ADD CONSTRAINT outbox_pkey PRIMARY KEY (id, lead_id);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey, ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id, lead_id);
ALTER TABLE queue_items DROP CONSTRAINT queue_items_pkey, ADD CONSTRAINT queue_items_pkey PRIMARY KEY (id, lead_id);

-- A delivery's outbox row is the same lead's (the dispatcher copies o.lead_id), so the unique
-- key and the reference can carry lead_id without changing what they allow.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_outbox_id_key,
    ADD CONSTRAINT deliveries_subscription_id_outbox_id_key UNIQUE (subscription_id, outbox_id, lead_id),
    ADD CONSTRAINT deliveries_outbox_id_fkey FOREIGN KEY (outbox_id, lead_id) REFERENCES outbox (id, lead_id);

-- identities and processed_messages are found by their own keys before the lead is known:
-- distributed by the key's text column, each in its own co-location group. A message's identity
-- lookup and idempotency check are then one-shard queries; the lead's rows may be on another
-- worker (the cost: ingest's transaction can span two workers). identities loses its foreign key
-- to leads (a lead and its identity are not on one shard); every writer already inserts the lead
-- in the same transaction, and erasure deletes identities by lead_id.
ALTER TABLE identities DROP CONSTRAINT identities_lead_id_fkey;
INSERT INTO leadrouter_table_placement (table_name, placement, distribution_column, colocate_with, why) VALUES
    ('identities', 'distributed', 'value', NULL, 'looked up by (kind, value) before the lead is known; primary key (kind, value)'),
    ('processed_messages', 'distributed', 'message_id', NULL, 'looked up by (write_key_id, message_id) before the lead is known');

-- merged_into points at another lead, usually on another shard: Citus cannot check it. Merges
-- set it under both leads' row locks (LeadMerge), the only writer.
ALTER TABLE leads DROP CONSTRAINT leads_merged_into_fkey;
