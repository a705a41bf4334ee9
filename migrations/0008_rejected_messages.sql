-- Hostile input at the edge: /v1/batch answers 200 and drops its invalid messages (Segment's
-- semantics: SDKs never retry a 4xx, so one bad message must not drop its neighbours). The
-- dropped ones are listed in the answer and counted here, per UTC day, write key and reason (the
-- first error's JSON pointer inside the message, e.g. /userId; "/" for the message as a whole),
-- so an operator can see which sender sends what. Upserted in its own short statement after the
-- batch's valid messages committed: counting never makes a good message fail.
CREATE TABLE rejected_messages (
    day           date   NOT NULL,
    write_key_id  uuid   NOT NULL,
    reason        text   NOT NULL CHECK (octet_length(reason) <= 256),
    count         bigint NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, write_key_id, reason)
);
