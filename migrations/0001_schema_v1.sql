-- leadrouter schema v1 (DESIGN.md §5).
--
-- Conventions
--   * Every lead-keyed table carries lead_id, and its primary key starts with or includes it where
--     the access paths allow, so the schema can be distributed by lead_id (Citus) later.
--   * Enumerations that the code owns are CHECK constraints; names that the ruleset owns (stages,
--     statuses, bands, segments) are only checked for shape, so a ruleset change needs no migration.
--   * Times are timestamptz (UTC on the wire). Ids are uuid unless the table is an append-only
--     log ordered by a bigserial.
--   * Each index names the access path (DESIGN.md §6 or a worker) it serves.
-- Applied by `leadrouter migrate` in one transaction.

-- A name chosen by the ruleset: lowercase words separated by '_', '-', '.'.
CREATE DOMAIN leadrouter_name AS text
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9_.-]{0,127}$');

-------------------------------------------------------------------------------------------------
-- Leads: everything a rule needs lives on the row, so one event costs one row read + one write.
-------------------------------------------------------------------------------------------------
CREATE TABLE leads (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- profile
    email               text,
    user_id             text,
    country             text,            -- ISO 3166-1 alpha-2
    region              text,
    ship_to_region      text,
    company_domain      text,
    company_size        text,            -- as reported ("51-200") or a number as text
    company_industry    text,
    company_tech_stack  text[] NOT NULL DEFAULT '{}',
    traits              jsonb NOT NULL DEFAULT '{}',
    source_first        jsonb,           -- first touch: {channel, utm_*, referrer, at}
    source_last         jsonb,           -- last touch, same shape
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_event_at       timestamptz,     -- for inactive(window)
    -- evaluation results
    stage               leadrouter_name,
    status              leadrouter_name NOT NULL DEFAULT 'new_lead',
    score               double precision NOT NULL DEFAULT 0,
    score_at            timestamptz,     -- the time the score was computed (it decays from here)
    band                leadrouter_name,
    customer            boolean NOT NULL DEFAULT false,
    segments            text[] NOT NULL DEFAULT '{}',   -- current memberships (also in memberships)
    primary_segment     leadrouter_name,
    owner_id            text,
    -- compact signal state, encoded by the Segmentation module (opaque to SQL): per counted
    -- (event type, filter) the occurrence times needed to answer every window exactly.
    signal_state        bytea,
    ruleset_version     integer,         -- ruleset that produced the fields above
    next_evaluation_at  timestamptz,     -- when a time-based rule may change the answer
    merged_into         uuid REFERENCES leads (id),
    erased_at           timestamptz,     -- PII erased (DELETE /v1/leads/{id})
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leads_score_finite CHECK (score NOT IN ('NaN', 'Infinity', '-Infinity')),
    CONSTRAINT leads_not_merged_into_self CHECK (merged_into IS DISTINCT FROM id),
    CONSTRAINT leads_country_shape CHECK (country IS NULL OR country ~ '^[A-Z]{2}$')
);
-- Sweeper: leads whose time-based rules are due (FOR UPDATE SKIP LOCKED, ordered by due time).
CREATE INDEX leads_next_evaluation_idx ON leads (next_evaluation_at) WHERE next_evaluation_at IS NOT NULL;
-- Account owner lookup and B2B reports by company domain.
CREATE INDEX leads_company_domain_idx ON leads (company_domain) WHERE company_domain IS NOT NULL;
-- Leads owned by a rep (CRM views, capacity counts).
CREATE INDEX leads_owner_idx ON leads (owner_id) WHERE owner_id IS NOT NULL;

-- Identity keys → lead. GET /v1/leads?email=|user_id=|anonymous_id= and identity resolution.
CREATE TABLE identities (
    kind        text NOT NULL CHECK (kind IN ('email', 'user_id', 'anonymous_id', 'phone', 'external_id')),
    value       text NOT NULL,           -- normalised by the service (e.g. lower-cased email)
    lead_id     uuid NOT NULL REFERENCES leads (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value)
);
-- A lead's identities (GET /v1/leads/{id} anonymous_ids, merges, erasure).
CREATE INDEX identities_lead_idx ON identities (lead_id);

-------------------------------------------------------------------------------------------------
-- Events: append-only history, partitioned by month on occurred_at.
-------------------------------------------------------------------------------------------------
CREATE TABLE events (
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    lead_id       uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,  -- the message's timestamp, else received_at
    received_at   timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL CHECK (kind IN ('track', 'identify', 'page', 'screen', 'group', 'alias')),
    type          text NOT NULL,         -- canonical type after aliasing (page → page_viewed)
    name          text,                  -- the name as sent ("Product Added")
    message_id    text,
    write_key_id  uuid,
    message       jsonb NOT NULL,        -- the message as received (replay, backfill, export)
    -- The partition key must be part of the key; lead_id first serves "events of a lead".
    PRIMARY KEY (lead_id, occurred_at, id)
) PARTITION BY RANGE (occurred_at);
-- Drift and metrics: events of a type over time ("has checkout_started stopped firing?").
CREATE INDEX events_type_time_idx ON events (type, occurred_at);

-- Rows whose month has no partition yet land here instead of failing the ingest.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Creates monthly partitions events_YYYY_MM for `months` months starting at the month of
-- `from_month`; returns how many were created. Idempotent; run it ahead of time (serve does, daily)
-- since a month that already has rows in events_default cannot get its own partition.
CREATE FUNCTION leadrouter_ensure_event_partitions(from_month date, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    first_month date := date_trunc('month', from_month)::date;
    month_start date;
    partition_name text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. months - 1 LOOP
        month_start := (first_month + make_interval(months => i))::date;
        partition_name := format('events_%s', to_char(month_start, 'YYYY_MM'));
        IF to_regclass(partition_name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                           partition_name, month_start, (month_start + interval '1 month')::date);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

-- Last month, this month and the next two.
SELECT leadrouter_ensure_event_partitions((now() - interval '1 month')::date, 4);

-- Idempotency of ingest: messageId per write key → the answer already given. Kept apart from the
-- partitioned events table, whose unique keys would have to include occurred_at.
CREATE TABLE processed_messages (
    write_key_id  uuid NOT NULL,
    message_id    text NOT NULL,
    lead_id       uuid NOT NULL,
    event_id      uuid NOT NULL,
    response      jsonb,                 -- the decision answered the first time, if any
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (write_key_id, message_id)
);
-- Pruning old idempotency records.
CREATE INDEX processed_messages_received_idx ON processed_messages (received_at);

-------------------------------------------------------------------------------------------------
-- Segments and decisions
-------------------------------------------------------------------------------------------------
-- Current memberships, one row per (segment, lead). GET /v1/segments/{name}/members pages by
-- (segment, lead_id) with a lead_id cursor; live sizes are an index-only count per segment.
CREATE TABLE memberships (
    segment          leadrouter_name NOT NULL,
    lead_id          uuid NOT NULL REFERENCES leads (id),
    entered_at       timestamptz NOT NULL,
    ruleset_version  integer NOT NULL,
    PRIMARY KEY (segment, lead_id)
);
-- GET /v1/leads/{id}/segments.
CREATE INDEX memberships_lead_idx ON memberships (lead_id);

-- Every entry and exit, with its reason (explanation) and the ruleset that decided it.
CREATE TABLE membership_history (
    id               bigserial,
    lead_id          uuid NOT NULL,
    segment          leadrouter_name NOT NULL,
    change           text NOT NULL CHECK (change IN ('entered', 'exited')),
    reason           jsonb,
    ruleset_version  integer NOT NULL,
    event_id         uuid,                -- NULL when the sweeper decided (time passed)
    occurred_at      timestamptz NOT NULL,
    PRIMARY KEY (lead_id, id)
);
-- A lead's history in order.
CREATE INDEX membership_history_lead_time_idx ON membership_history (lead_id, occurred_at);
-- GET /v1/segments/{name}/metrics: entries and exits per segment over time.
CREATE INDEX membership_history_segment_time_idx ON membership_history (segment, occurred_at);

-- The audit trail: every decision with its explanation (GET /v1/leads/{id}/decisions).
CREATE TABLE decisions (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    lead_id          uuid NOT NULL,
    event_id         uuid,                -- NULL for sweeper re-evaluations
    ruleset_version  integer NOT NULL,
    evaluated_at     timestamptz NOT NULL,
    decision         jsonb NOT NULL,      -- the decision document of DESIGN.md §6
    explanation      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (lead_id, id)
);
-- GET /v1/leads/{id}/decisions, newest first.
CREATE INDEX decisions_lead_time_idx ON decisions (lead_id, evaluated_at DESC);

-------------------------------------------------------------------------------------------------
-- Routing: owners, teams, accounts, queues
-------------------------------------------------------------------------------------------------
CREATE TABLE owners (
    id           text PRIMARY KEY,        -- e.g. rep_anna, as in the ruleset
    name         text,
    email        text,
    capacity     integer CHECK (capacity IS NULL OR capacity >= 0),
    territories  text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id          leadrouter_name PRIMARY KEY,
    strategy    text NOT NULL DEFAULT 'round_robin'
                CHECK (strategy IN ('round_robin', 'least_loaded', 'territory', 'account_owner')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id      leadrouter_name NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    owner_id     text NOT NULL REFERENCES owners (id),
    position     integer NOT NULL,        -- order in the round robin
    capacity     integer CHECK (capacity IS NULL OR capacity >= 0),
    territories  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (team_id, owner_id),
    UNIQUE (team_id, position)
);
-- Teams an owner belongs to.
CREATE INDEX team_members_owner_idx ON team_members (owner_id);

-- Company domain → account owner (account owner first in assignment).
CREATE TABLE accounts (
    domain      text PRIMARY KEY CHECK (domain = lower(domain)),
    name        text,
    owner_id    text REFERENCES owners (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where each team's round robin stands; updated under FOR UPDATE.
CREATE TABLE round_robin_state (
    team_id        leadrouter_name PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    last_owner_id  text,
    turn           bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Sales queue items: open → claimed (leased) → closed; at most one not-closed item per (queue, lead).
CREATE TABLE queue_items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    queue         leadrouter_name NOT NULL,
    lead_id       uuid NOT NULL REFERENCES leads (id),
    segment       leadrouter_name,
    team_id       leadrouter_name,
    owner_id      text,                   -- assigned owner (may differ from the claimer)
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'claimed', 'closed')),
    priority      double precision NOT NULL DEFAULT 0,   -- the lead's score when queued
    claim_token   uuid,
    claimed_by    text,
    lease_until   timestamptz,
    sla_due_at    timestamptz,
    close_reason  text CHECK (close_reason IS NULL OR close_reason IN ('acked', 'exited_segment', 'converted', 'expired', 'cancelled')),
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    CONSTRAINT queue_items_claim_has_lease CHECK (state <> 'claimed' OR (claim_token IS NOT NULL AND lease_until IS NOT NULL)),
    CONSTRAINT queue_items_closed_has_reason CHECK ((state = 'closed') = (close_reason IS NOT NULL))
);
-- One open item per (queue, lead): routing the same lead twice does not duplicate work.
CREATE UNIQUE INDEX queue_items_one_open_per_lead ON queue_items (queue, lead_id) WHERE state <> 'closed';
-- POST /v1/queues/{queue}/claim: highest priority first, oldest first (FOR UPDATE SKIP LOCKED).
CREATE INDEX queue_items_claim_order_idx ON queue_items (queue, priority DESC, created_at, id) WHERE state = 'open';
-- Expired leases go back to open.
CREATE INDEX queue_items_lease_idx ON queue_items (lease_until) WHERE state = 'claimed';
-- SLA breach reports and GET /v1/queues/{queue}.
CREATE INDEX queue_items_sla_idx ON queue_items (queue, sla_due_at) WHERE state <> 'closed';
-- A lead's queue items (closing them when it leaves the segment).
CREATE INDEX queue_items_lead_idx ON queue_items (lead_id);

-------------------------------------------------------------------------------------------------
-- Webhooks: outbox written in the decision's transaction, fanned out to deliveries per subscription
-------------------------------------------------------------------------------------------------
CREATE TABLE subscriptions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url           text NOT NULL CHECK (url ~ '^https?://'),
    topics        text[] NOT NULL CHECK (cardinality(topics) > 0),   -- segment.entered, lead.routed, …
    secret        text NOT NULL,          -- HMAC key; needed in clear to sign, so not hashed
    description   text,
    active        boolean NOT NULL DEFAULT true,
    max_attempts  integer NOT NULL DEFAULT 12 CHECK (max_attempts > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    topic          text NOT NULL,
    lead_id        uuid NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz            -- set once deliveries were created for it
);
-- The dispatcher picks undispatched messages in order.
CREATE INDEX outbox_undispatched_idx ON outbox (id) WHERE dispatched_at IS NULL;

CREATE TABLE deliveries (
    id               bigserial PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES subscriptions (id),
    outbox_id        bigint NOT NULL REFERENCES outbox (id),
    lead_id          uuid NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'in_flight', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,         -- in_flight deliveries whose worker died are retaken
    last_error       text,
    last_status      integer,             -- HTTP status of the last attempt
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, outbox_id)
);
-- Delivery workers: due deliveries (FOR UPDATE SKIP LOCKED), and leases that ran out.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_lease_idx ON deliveries (lease_until) WHERE status = 'in_flight';
-- Per-lead order: a delivery waits for earlier undelivered ones of the same lead and subscription.
CREATE INDEX deliveries_lead_order_idx ON deliveries (subscription_id, lead_id, outbox_id) WHERE status <> 'delivered';
-- GET /v1/deliveries (filter by status, newest first).
CREATE INDEX deliveries_status_time_idx ON deliveries (status, created_at DESC);

-------------------------------------------------------------------------------------------------
-- Administration
-------------------------------------------------------------------------------------------------
-- Versioned rulesets with author and note; exactly one active at a time.
CREATE TABLE rulesets (
    version       integer PRIMARY KEY CHECK (version > 0),
    yaml          text NOT NULL,
    checksum      text NOT NULL,          -- sha256 hex of yaml
    author        text NOT NULL,
    note          text NOT NULL,
    active        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz
);
CREATE UNIQUE INDEX rulesets_one_active ON rulesets (active) WHERE active;

-- API keys, stored as SHA-256 hashes; a key with scope ingest is a Segment write key.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL,
    hash          bytea NOT NULL UNIQUE CHECK (length(hash) = 32),   -- lookup by hash on every request
    prefix        text,                   -- first characters of the key, to recognise it in lists
    scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'queue', 'admin']),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
