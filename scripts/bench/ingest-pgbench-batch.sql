-- The database's ceiling for batched ingest: the least a lane batch of :batch events does, as
-- ONE transaction with set-based statements, replayed by pgbench (one pgbench transaction =
-- :batch events): advisory locks on the identity keys, the idempotency check, identity
-- resolution, the lead rows locked FOR UPDATE and rewritten, and per event the event row, the
-- decision audit row and the idempotency record pointing at it. What leadrouter's batches add on
-- top of this (membership rows, their history, outbox rows, the hook statements) depends on the
-- ruleset and is left out, so this is an upper bound for leadrouter's own throughput.
\set base random(1, :nleads - :batch)
\set last :base + :batch - 1
\set r random(1, 1000000000)
BEGIN;
-- As leadrouter's write path: plans by index lookups whatever the statistics.
SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
       set_config('jit', 'off', true);
SELECT pg_advisory_xact_lock(k) FROM generate_series(:base::int8, :last::int8) AS k ORDER BY k;
SELECT p.lead_id, p.response FROM processed_messages p
  JOIN unnest(array_fill('00000000-0000-0000-0000-0000000000b1'::uuid, ARRAY[:batch::int]),
              ARRAY(SELECT 'pgb-' || :client_id || '-' || g || '-' || :r FROM generate_series(:base::int8, :last::int8) AS g)) AS m(w, id)
    ON p.write_key_id = m.w AND p.message_id = m.id;
SELECT i.lead_id FROM identities i
  JOIN generate_series(:base::int8, :last::int8) AS g(n) ON i.kind = 'user_id' AND i.value = 'b' || g.n;
SELECT id, email, user_id, traits, signal_state, score, segment_entered, score_parts FROM leads
  WHERE id IN (SELECT lead_id FROM bench_leads WHERE n BETWEEN :base::int8 AND :last::int8) ORDER BY id FOR UPDATE;
UPDATE leads SET score = score, score_at = now(), last_event_at = now(), signal_state = signal_state,
  traits = traits, segment_entered = segment_entered, score_parts = score_parts,
  decision_seq = decision_seq + 1, updated_at = now()
  WHERE id IN (SELECT lead_id FROM bench_leads WHERE n BETWEEN :base::int8 AND :last::int8);
INSERT INTO events (id, lead_id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message)
  SELECT gen_random_uuid(), lead_id, now(), now(), 'track', 'product_viewed', 'Product Viewed', md5(random()::text), NULL,
         '{"type":"track","event":"Product Viewed","name":"Product Viewed","properties":{"category":"running-shoes","price":120},"context":{}}'
  FROM bench_leads WHERE n BETWEEN :base::int8 AND :last::int8;
WITH d AS (
  INSERT INTO decisions (lead_id, event_id, ruleset_version, evaluated_at, seq, decision)
  SELECT b.lead_id, gen_random_uuid(), 1, now(), l.decision_seq,
         '{"lead_id":"x","segments":{"entered":[],"exited":[],"current":["consideration.mid-intent.browser"]},"stage":"consideration","status":"new","score":12,"actions":[{"channel":"email","sequence":"product-picks"}],"suppressed":[],"explanation":{"score":{"previous":9,"decayed":9,"rules":[{"rule":"r1","points":3,"added":3}]}}}'
  FROM bench_leads b JOIN leads l ON l.id = b.lead_id WHERE b.n BETWEEN :base::int8 AND :last::int8
  RETURNING id, lead_id, event_id)
INSERT INTO processed_messages (write_key_id, message_id, lead_id, event_id, decision_id)
  SELECT '00000000-0000-0000-0000-0000000000b1', md5(random()::text), lead_id, event_id, id FROM d;
END;
