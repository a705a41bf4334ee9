-- Issue 23, target 7 (bytes stored per event): fewer index entries per sales queue item
-- (docs/benchmarks/storage.md, 2026-12-07 entry of branch storage-half). Every open item had an
-- entry in eight of the table's ten indexes.

-- One index for the urgency order instead of two. queue_items_claim_urgency_idx (0013) held the
-- open items of a queue in claim order (sla_due_at, priority DESC, created_at, id) and
-- queue_items_sla_idx (0001) the not-closed ones by (queue, sla_due_at). The same columns over
-- the not-closed items answer all three statements: the urgency claim (state = 'open' is then a
-- filter on the few claimed items ahead), the queue's listing (GET /v1/queues/{queue}/items: its
-- default order is exactly the key's, NULLS LAST included) and the queue's summary (queue prefix).
DROP INDEX queue_items_claim_urgency_idx;
DROP INDEX queue_items_sla_idx;
CREATE INDEX queue_items_urgency_idx ON queue_items (queue, sla_due_at, priority DESC, created_at, id) WHERE state <> 'closed';

-- An item without an owner (a queue without a team, or a team with nobody free) or without an
-- SLA needs no entry in the owner's load or in the SLA sweep: every statement they serve asks for
-- owner_id = … or sla_due_at <= …, which no NULL satisfies, so the planner still proves the
-- narrower predicates.
DROP INDEX queue_items_owner_load_idx;
CREATE INDEX queue_items_owner_load_idx ON queue_items (owner_id) WHERE state <> 'closed' AND owner_id IS NOT NULL;
DROP INDEX queue_items_sla_due_idx;
CREATE INDEX queue_items_sla_due_idx ON queue_items (sla_due_at)
    WHERE state <> 'closed' AND sla_breached_at IS NULL AND sla_due_at IS NOT NULL;
