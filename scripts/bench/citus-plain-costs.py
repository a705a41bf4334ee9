"""What the Citus-ready statements (migrations 0075-0079, 0082) cost on plain PostgreSQL: each old
statement (on a database migrated to BASE) against its replacement (on one migrated to this
tree), same data, same server; a case marked `same` runs both on this tree's database (its
old statement is still valid SQL there). Per statement: the median of RUNS executions, each in a
transaction rolled back, in one session after a first execution that is not counted: execution time (EXPLAIN ANALYZE, triggers included) and WAL bytes
(pg_current_wal_insert_lsn before and after). Run by scripts/bench-citus-plain-costs.sh."""
import json, os, statistics, subprocess, sys

base_url, new_url = sys.argv[1], sys.argv[2]
RUNS = int(os.environ.get("RUNS", "15"))

SETUP = """
INSERT INTO subscriptions (id, url, topics, secret) VALUES ('00000000-0000-0000-0000-0000000000aa', 'http://127.0.0.1:9/x', '{lead.routed}', 's');
INSERT INTO leads (id) SELECT md5('lead' || i)::uuid FROM generate_series(1, 2000) i;
INSERT INTO events (lead_id, occurred_at, kind, type, message)
    SELECT md5('lead2')::uuid, now() - i * interval '1 minute', 'track', 'product_viewed', jsonb_build_object('i', i, 'properties', jsonb_build_object('sku', 'sku-' || i))
    FROM generate_series(1, 500) i;
INSERT INTO outbox (id, topic, lead_id, payload) SELECT i, 'lead.routed', md5('lead' || (i % 500 + 1))::uuid, '{"k": 1}' FROM generate_series(1, 2000) i;
SELECT setval('outbox_id_seq', 2000);
INSERT INTO deliveries (subscription_id, outbox_id, lead_id, next_attempt_at)
    SELECT '00000000-0000-0000-0000-0000000000aa', id, lead_id, now() - interval '1 minute' FROM outbox;
INSERT INTO owners (id) SELECT 'rep_' || i FROM generate_series(1, 5) i;
INSERT INTO teams (id, strategy) VALUES ('t', 'least_loaded');
INSERT INTO team_members (team_id, owner_id, position) SELECT 't', 'rep_' || i, i FROM generate_series(1, 5) i;
INSERT INTO queue_items (queue, lead_id, owner_id, state, claim_token, lease_until, sla_due_at)
    SELECT 'q', md5('lead' || (i + 1000))::uuid, 'rep_' || (i % 5 + 1), 'claimed', gen_random_uuid(), now() - interval '1 s', now() + interval '1 day'
    FROM generate_series(1, 200) i;
INSERT INTO queue_items (queue, lead_id, owner_id, sla_due_at)
    SELECT 'q', md5('lead' || (i + 1200))::uuid, 'rep_' || (i % 5 + 1), now() + interval '1 day' FROM generate_series(1, 800) i;
UPDATE leads l SET owner_id = q.owner_id FROM queue_items q WHERE q.lead_id = l.id;
INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, occurred_at)
    SELECT md5('lead3')::uuid, 'awareness', CASE WHEN i % 2 = 0 THEN 'decision' ELSE 'consideration' END, 'event', 1, now() - (40 - i) * interval '1 hour'
    FROM generate_series(1, 40) i;
INSERT INTO processed_messages (write_key_id, message_id, lead_id, event_id, received_at)
    SELECT '00000000-0000-0000-0000-0000000000bb', 'm-' || i, md5('lead' || (i % 2000 + 1))::uuid, md5('e' || i)::uuid,
           now() - interval '40 days' + i * interval '1 second' FROM generate_series(1, 20000) i;
INSERT INTO events (lead_id, occurred_at, kind, type, message)
    SELECT md5('lead' || (i % 2000 + 1))::uuid, timestamptz '2001-01-01' + i * interval '1 second', 'track', 'product_viewed', '{"k": 1}'
    FROM generate_series(1, 20000) i;
ANALYZE;
"""

LEADS32 = "ARRAY(SELECT md5('lead' || i)::uuid FROM generate_series(100, 131) i)"

GOAL = """'[{"l": "' || md5('lead3')::uuid || '", "s": "decision", "r": ' || (extract(epoch FROM now()) * 1000000)::int8 || ', "w": 86400000}]'"""

CASES = [
    ("outbox rows, 100 per statement (ingest's writer)",
     "INSERT INTO outbox (topic, lead_id, payload) SELECT 'lead.routed', md5('o' || i)::uuid, '{\"k\": 1}' FROM generate_series(1, 100) i",
     "WITH o AS (INSERT INTO outbox (topic, lead_id, payload) SELECT 'lead.routed', md5('o' || i)::uuid, '{\"k\": 1}' FROM generate_series(1, 100) i RETURNING id, lead_id) INSERT INTO outbox_pending (outbox_id, lead_id) SELECT id, lead_id FROM o"),
    ("merge moves 500 events",
     "UPDATE events SET lead_id = md5('lead1')::uuid WHERE lead_id = ANY(ARRAY[md5('lead2')::uuid])",
     "WITH moved AS (DELETE FROM events WHERE lead_id = ANY(ARRAY[md5('lead2')::uuid]) RETURNING id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message) INSERT INTO events (id, lead_id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message) SELECT id, md5('lead1')::uuid, occurred_at, received_at, kind, type, name, message_id, write_key_id, message FROM moved"),
    ("delivery lease, 32 of 2000 due",
     """WITH due AS (SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id AND s.active AND s.deleted_at IS NULL
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.subscription_id = d.subscription_id AND e.lead_id = d.lead_id AND e.outbox_id < d.outbox_id AND e.status IN ('pending', 'in_flight'))
        ORDER BY d.next_attempt_at, d.id LIMIT 32 FOR UPDATE OF d SKIP LOCKED)
        UPDATE deliveries d SET status = 'in_flight', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => 30)
        FROM due, subscriptions s, outbox o WHERE d.id = due.id AND s.id = d.subscription_id AND o.id = d.outbox_id AND o.lead_id = d.lead_id
        RETURNING d.id, d.subscription_id, d.outbox_id, d.lead_id, d.attempts, d.window_started_at, s.url, s.secret, s.max_attempts, o.topic, o.payload::text AS payload, o.created_at""",
     "SELECT * FROM leadrouter_lease_deliveries(32, 30)"),
    ("queue upkeep: reopen 200 expired leases",
     """WITH expired AS (SELECT id FROM queue_items WHERE state = 'claimed' AND lease_until <= now() ORDER BY lease_until LIMIT 200 FOR UPDATE SKIP LOCKED),
        reopened AS (UPDATE queue_items q SET state = 'open', claim_token = NULL, claimed_by = NULL, lease_until = NULL, updated_at = now() FROM expired WHERE q.id = expired.id RETURNING q.queue),
        woken AS (SELECT pg_notify('leadrouter_queue', queue) FROM (SELECT DISTINCT queue FROM reopened) AS d)
        SELECT (SELECT count(*) FROM reopened) AS n, (SELECT count(*) FROM woken) AS w""",
     "SELECT leadrouter_reopen_expired_leases(now(), 200)"),
    ("owner assignment, least loaded over 5 members, 1000 open items (owner load)",
     "SELECT leadrouter_assign_owner('t', NULL, NULL, NULL, now())",
     "SELECT leadrouter_assign_owner('t', NULL, NULL, NULL, now())"),
    ("stage goal row, a lead with 40 stage rows",
     "INSERT INTO stage_goal_reached (lead_id, stage, entered_at, from_stage, reached_at) SELECT DISTINCT ON (x.l, x.s) x.l, x.s, h.occurred_at, h.from_stage, to_timestamp(x.r::float8 / 1000000) FROM jsonb_to_recordset((" + GOAL + ")::jsonb) AS x(l uuid, s text, r int8, w int8) CROSS JOIN LATERAL (SELECT occurred_at, from_stage FROM stage_history h WHERE h.lead_id = x.l AND h.occurred_at <= to_timestamp(x.r::float8 / 1000000) AND h.to_stage = x.s ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) h WHERE to_timestamp(x.r::float8 / 1000000) - h.occurred_at <= x.w * interval '1 millisecond' ORDER BY x.l, x.s, x.r ON CONFLICT DO NOTHING",
     "INSERT INTO stage_goal_reached (lead_id, stage, entered_at, from_stage, reached_at) SELECT DISTINCT ON (l, s) l, s, entered_at, from_stage, reached_at FROM (SELECT DISTINCT ON (x.l, x.s, x.r, x.w) x.l, x.s, x.r, x.w, h.occurred_at AS entered_at, h.from_stage, to_timestamp(x.r::float8 / 1000000) AS reached_at FROM jsonb_to_recordset((" + GOAL + ")::jsonb) AS x(l uuid, s text, r int8, w int8) JOIN stage_history h ON h.lead_id = x.l AND h.occurred_at <= to_timestamp(x.r::float8 / 1000000) AND h.to_stage = x.s ORDER BY x.l, x.s, x.r, x.w, h.occurred_at DESC, h.id DESC) AS latest WHERE reached_at - entered_at <= w * interval '1 millisecond' ORDER BY l, s, r ON CONFLICT DO NOTHING"),
    ("merge group of a lead (erasure), plain CTE vs function",
     """WITH RECURSIVE up(id) AS (SELECT md5('lead4')::uuid UNION SELECT l.merged_into FROM leads l JOIN up ON l.id = up.id WHERE l.merged_into IS NOT NULL),
        live AS (SELECT id FROM leads WHERE id IN (SELECT id FROM up) AND merged_into IS NULL),
        down(id) AS (SELECT id FROM live UNION SELECT l.id FROM leads l JOIN down ON l.merged_into = down.id)
        SELECT down.id, live.id AS live_id FROM down, live ORDER BY down.id""",
     "SELECT id, live_id FROM leadrouter_merge_group(md5('lead4')::uuid) ORDER BY id"),
]

# Issue 19's remaining paths (migration 0082 and the retention statements), both on this tree.
CASES += [
    ("PRUNE idempotency records, 10 000 of 20 000 old: by ctid vs by key",
     "DELETE FROM processed_messages WHERE ctid IN (SELECT ctid FROM processed_messages WHERE received_at < now() - interval '30 days' LIMIT 10000)",
     "DELETE FROM processed_messages WHERE (write_key_id, message_id) IN (SELECT write_key_id, message_id FROM processed_messages WHERE received_at < now() - interval '30 days' LIMIT 10000)",
     "same"),
    ("PRUNE events_default, 10 000 of 20 000: by ctid vs by key",
     "DELETE FROM events_default WHERE ctid IN (SELECT ctid FROM events_default WHERE occurred_at < timestamptz '2001-01-01' + interval '15000 seconds' LIMIT 10000)",
     "DELETE FROM events_default WHERE (lead_id, occurred_at, id) IN (SELECT lead_id, occurred_at, id FROM events_default WHERE occurred_at < timestamptz '2001-01-01' + interval '15000 seconds' LIMIT 10000)",
     "same"),
    ("LOCK 32 leads by id (erasure group, queue API re-read)",
     "SELECT id FROM leads WHERE id = ANY(" + LEADS32 + ") ORDER BY id FOR UPDATE",
     "SELECT id FROM leadrouter_lock_leads(" + LEADS32 + ")",
     "same"),
    ("WALK activation batch: 100 live leads after an id, locked",
     "SELECT * FROM leads WHERE id > '00000000-0000-0000-0000-000000000000' AND merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = leads.id) ORDER BY id LIMIT 100 FOR UPDATE",
     "SELECT * FROM leadrouter_lock_leads_after('00000000-0000-0000-0000-000000000000', 100)",
     "same"),
    ("CLAIM 10 of 800 open queue items (urgency order)",
     "WITH picked AS (SELECT id FROM queue_items WHERE queue = 'q' AND state = 'open' AND (NULL::text IS NULL OR owner_id IS NULL OR owner_id = NULL) ORDER BY sla_due_at ASC NULLS LAST, priority DESC, created_at, id LIMIT 10 FOR UPDATE SKIP LOCKED) UPDATE queue_items q SET state = 'claimed', claim_token = gen_random_uuid(), claimed_by = 'c', lease_until = now() + make_interval(secs => 30), attempts = attempts + 1, first_claimed_at = coalesce(first_claimed_at, now()), updated_at = now() FROM picked WHERE q.id = picked.id RETURNING q.*",
     "SELECT * FROM leadrouter_claim_queue_items('q', NULL, 'c', 10, 30, now(), 'sla')",
     "same"),
    ("ERASE outbox payloads of 4 rows: jsonb_build_object vs text",
     "UPDATE outbox SET payload = jsonb_build_object('lead_id', lead_id::text, 'erased', true) WHERE lead_id = md5('lead7')::uuid",
     "UPDATE outbox SET payload = ('{\"lead_id\": \"' || lead_id::text || '\", \"erased\": true}')::jsonb WHERE lead_id = md5('lead7')::uuid",
     "same"),
]

def psql(url, sql):
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url], input=sql, capture_output=True, text=True, check=True).stdout

def measure(url, stmt):
    """One session, as a pooled connection: a first execution (not counted) plans the
    statement and compiles a function's body, as the pool's connections have long done."""
    one = ("BEGIN;\nSELECT pg_current_wal_insert_lsn() AS a \\gset\nEXPLAIN (ANALYZE, FORMAT JSON) " + stmt + ";\n"
           "SELECT 'wal', pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'a');\nROLLBACK;\n")
    out = psql(url, one * (RUNS + 1))
    times, wal, plan = [], [], []
    for line in out.splitlines():
        if line.startswith("wal|"):
            times.append(json.loads("\n".join(plan))[0]["Execution Time"]); wal.append(float(line[4:])); plan = []
        else:
            plan.append(line)
    return statistics.median(times[1:]), statistics.median(wal[1:])

for url in (base_url, new_url):
    psql(url, SETUP)
print(f"{'statement':<75} {'base ms':>8} {'new ms':>8} {'base WAL B':>11} {'new WAL B':>10}")
for name, old, new, *where in CASES:
    bt, bw = measure(new_url if where else base_url, old)
    nt, nw = measure(new_url, new)
    print(f"{name:<75} {bt:8.3f} {nt:8.3f} {bw:11.0f} {nw:10.0f}")
