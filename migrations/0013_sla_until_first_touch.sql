-- SLA until first touch, urgency-first claims (issue 21, docs/queues.md).
--
-- The SLA clock ran until the first CLAIM: an item claimed and released, or whose lease
-- expired, was never marked breached although nobody had contacted the lead. It now runs from
-- creation until the item is closed (an ack is the first touch); breach is still recorded once.
DROP INDEX queue_items_sla_due_idx;
CREATE INDEX queue_items_sla_due_idx ON queue_items (sla_due_at) WHERE state <> 'closed' AND sla_breached_at IS NULL;

-- Claims take the item whose SLA is due soonest, then the highest score (order=priority keeps
-- the old score-first order, served by queue_items_claim_order_idx).
CREATE INDEX queue_items_claim_urgency_idx ON queue_items (queue, sla_due_at, priority DESC, created_at, id) WHERE state = 'open';
