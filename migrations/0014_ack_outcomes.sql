-- Ack outcomes are not statuses (issue 21, docs/queues.md): `outcome` is one of the ruleset's
-- `sales.outcomes` names, and what the rep wrote goes to `note`.
ALTER TABLE queue_items ADD COLUMN note text;
