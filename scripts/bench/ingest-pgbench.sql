-- The work of one tracked event as one transaction (what IngestService.apply did per message
-- before lane batches became set-based), replayed by pgbench as the database's own ceiling for
-- per-event transactions: advisory lock on the identity key,
-- idempotency check, identity resolution, lead row lock, one lead row write, the event, the
-- decision audit row and the idempotency record (pointing at the decision, as since 0006), in one transaction.
\set n random(1, :nleads)
\set r random(1, 1000000000)
BEGIN;
SELECT pg_advisory_xact_lock(:n);
SELECT lead_id, event_id, response FROM processed_messages
  WHERE write_key_id = '00000000-0000-0000-0000-0000000000b1' AND message_id = 'pgb-' || :client_id || '-' || :n || '-' || :r;
SELECT lead_id AS lid FROM bench_leads WHERE n = :n \gset
SELECT i.kind, i.value, i.lead_id FROM identities i WHERE i.kind = 'user_id' AND i.lead_id = :lid;
SELECT id, email, user_id, traits, signal_state, score, segment_entered, score_parts
  FROM leads WHERE id = :lid FOR UPDATE;
UPDATE leads SET score = score, score_at = now(), last_event_at = now(), signal_state = signal_state,
  traits = traits, segment_entered = segment_entered, score_parts = score_parts,
  next_evaluation_at = now() + interval '7 days', decision_seq = decision_seq + 1, updated_at = now() WHERE id = :lid;
INSERT INTO events (id, lead_id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message)
  VALUES (gen_random_uuid(), :lid, now(), now(), 'track', 'product_viewed', 'Product Viewed', md5(random()::text), NULL,
          '{"type":"track","event":"Product Viewed","name":"Product Viewed","properties":{"category":"running-shoes","price":120},"context":{}}');
WITH d AS (
  INSERT INTO decisions (lead_id, event_id, ruleset_version, evaluated_at, seq, decision)
  VALUES (:lid, gen_random_uuid(), 1, now(), (SELECT decision_seq FROM leads WHERE id = :lid),
          '{"lead_id":"x","segments":{"entered":[],"exited":[],"current":["consideration.mid-intent.browser"]},"stage":"consideration","status":"new","score":12,"actions":[{"channel":"email","sequence":"product-picks"}],"suppressed":[],"explanation":{"score":{"previous":9,"decayed":9,"rules":[{"rule":"r1","points":3,"added":3}]}}}')
  RETURNING id, lead_id, event_id)
INSERT INTO processed_messages (write_key_id, message_id, lead_id, event_id, decision_id)
  SELECT '00000000-0000-0000-0000-0000000000b1', md5(random()::text), lead_id, event_id, id FROM d;
END;
