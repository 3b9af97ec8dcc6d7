-- Federation: partner nodes and what their agreement lets them receive; the inbox (every verified message id,
-- unique, so a replay is caught even after a restart); the outbox (one row per message to one partner, written
-- in the transaction of the change it announces) and per-partner delivery state; deliveries (which partner holds
-- which version of which record); partner records kept apart from our own register, with their provenance;
-- hit/no-hit answers and record requests awaiting a liaison officer.

CREATE TABLE partners (
    country     char(2) PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
    url         text NOT NULL CHECK (url ~ '^https?://[^\s]+$'),
    receives    text NOT NULL DEFAULT 'hits' CHECK (receives IN ('full', 'hits', 'none')),
    categories  text[],                    -- offence categories it may receive; NULL: every category
    legal_basis text NOT NULL DEFAULT 'bilateral agreement',
    key_set     jsonb NOT NULL,            -- trusted key set {"version", "keys": [...]}; version 0: pinned by hand
    any_kid     boolean NOT NULL DEFAULT false,  -- pinned without a key id: any kid signed by the pinned key
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The send loop of a partner locks its row (FOR UPDATE SKIP LOCKED) for one batch: one sender per partner.
CREATE TABLE send_state (
    partner         char(2) PRIMARY KEY REFERENCES partners(country),
    backoff_seconds double precision NOT NULL DEFAULT 0,
    backoff_until   timestamptz,
    last_success_at timestamptz,
    last_error      text,
    last_error_at   timestamptz
);

-- Feed sequence numbers per partner; the row lock held by the registry's transaction makes them commit in order.
CREATE TABLE feed_counters (
    partner char(2) PRIMARY KEY REFERENCES partners(country),
    seq     bigint NOT NULL DEFAULT 0
);

-- What we pulled from a partner's feed: the highest sequence applied (rollback is refused below it).
CREATE TABLE pull_state (
    partner       char(2) PRIMARY KEY REFERENCES partners(country),
    last_seq      bigint NOT NULL DEFAULT 0,
    last_page_id  uuid,
    last_pull_at  timestamptz,
    last_error    text,
    last_error_at timestamptz
);

CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner       char(2) NOT NULL REFERENCES partners(country),
    seq           bigint,                  -- feed sequence (record messages): strictly increasing per partner
    message_id    uuid NOT NULL UNIQUE,    -- the envelope id, kept across retries (the receiver's replay key)
    type          text NOT NULL,
    person_id     uuid,
    version       integer,
    body          jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'rejected')),
    attempts      integer NOT NULL DEFAULT 0,
    last_status   integer,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    delivered_via text CHECK (delivered_via IN ('push', 'pull')),
    UNIQUE (partner, seq)
);
CREATE INDEX outbox_pending ON outbox (partner, id) WHERE status = 'pending';
CREATE INDEX outbox_person ON outbox (person_id, partner);

-- Which partner acknowledged which version of which of our records (a signed receipt or a signed feed ack).
CREATE TABLE deliveries (
    partner      char(2) NOT NULL REFERENCES partners(country),
    person_id    uuid NOT NULL,
    version      integer NOT NULL,
    message_id   uuid NOT NULL,
    via          text NOT NULL CHECK (via IN ('push', 'pull')),
    acked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner, person_id, version)
);

CREATE TABLE inbox (
    message_id  uuid PRIMARY KEY,
    sender      char(2) NOT NULL,
    type        text NOT NULL,
    kid         text NOT NULL,
    signature   text NOT NULL,
    envelope    bytea NOT NULL,            -- the signed bytes as received (provenance)
    receipt     jsonb,                     -- the body of our answer; a replay gets the same answer again
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Partner records: apart from our register. One head row per record, one row per version received.
CREATE TABLE partner_records (
    country         char(2) NOT NULL,
    record_id       text NOT NULL,
    current_version integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country, record_id)
);
CREATE INDEX partner_records_list ON partner_records (country, updated_at, record_id);

CREATE TABLE partner_record_versions (
    country     char(2) NOT NULL,
    record_id   text NOT NULL,
    version     integer NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    body        jsonb NOT NULL,            -- the verified record_upsert or record_withdrawal body
    message_id  uuid NOT NULL REFERENCES inbox(message_id),
    kid         text NOT NULL,
    signature   text NOT NULL,
    via         text NOT NULL CHECK (via IN ('push', 'pull')),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country, record_id, version),
    FOREIGN KEY (country, record_id) REFERENCES partner_records(country, record_id)
);

-- Hit/no-hit answers we gave: the opaque reference stands for one of our records.
CREATE TABLE match_answers (
    reference   text PRIMARY KEY,
    partner     char(2) NOT NULL,
    message_id  uuid NOT NULL REFERENCES inbox(message_id),
    query_id    text NOT NULL,
    person_id   uuid NOT NULL,
    band        text NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now()
);

-- A partner asking for the details behind a hit: nothing goes out before a liaison officer approves.
CREATE TABLE record_requests (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner     char(2) NOT NULL,
    message_id  uuid NOT NULL UNIQUE REFERENCES inbox(message_id),
    reference   text NOT NULL,
    purpose     text NOT NULL,
    legal_basis text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by  bigint REFERENCES users(id),
    decided_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Answers partners gave to our queries (match_result) and travel notices they sent, kept as received.
CREATE TABLE partner_messages (
    message_id  uuid PRIMARY KEY REFERENCES inbox(message_id),
    sender      char(2) NOT NULL,
    type        text NOT NULL,
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
