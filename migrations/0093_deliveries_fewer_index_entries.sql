-- Webhooks keep up (issue 23, target 6; docs/benchmarks/webhooks.md): every delivery is a row
-- inserted and updated twice (leased, then delivered), and none of the updates is HOT (status is
-- in the indexes), so each version adds an entry to every index of `deliveries`. Two of them
-- served nothing the others do not:
-- * deliveries_status_time_idx (status, created_at DESC): `GET /v1/deliveries` pages by id, not by
--   created_at; the status gauges read the not-delivered rows through deliveries_lead_order_idx.
-- * deliveries_outbox_idx (outbox_id): what retention and the foreign key to `outbox` look up
--   (a delivery by its outbox row) is served by the unique key once it starts with outbox_id.
--   The dispatcher's and replay's ON CONFLICT name the same columns (order does not matter), and
--   on Citus the key still holds the distribution column lead_id.
DROP INDEX deliveries_status_time_idx;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_outbox_id_key,
    ADD CONSTRAINT deliveries_outbox_subscription_key UNIQUE (outbox_id, lead_id, subscription_id);
DROP INDEX deliveries_outbox_idx;
