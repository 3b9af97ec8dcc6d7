-- Border checks on child travellers, their screening alerts, and travel notices waiting for the exchange.
-- Personal data of a check lives in one column (personal), so the retention purge erases it with one UPDATE
-- and every non-personal column (post, time, direction, situation, flags, outcome) stays for the statistics.

ALTER TABLE border_points ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE border_checks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    border_point    text NOT NULL REFERENCES border_points(code),
    officer_id      bigint NOT NULL REFERENCES users(id),
    checked_at      timestamptz NOT NULL,           -- when the crossing was checked (offline posts submit later)
    received_at     timestamptz NOT NULL DEFAULT now(),
    direction       text NOT NULL CHECK (direction IN ('exit', 'entry')),
    situation       text NOT NULL CHECK (situation IN ('alone', 'parents', 'one_parent', 'other_adults', 'group')),
    group_size      integer CHECK (group_size BETWEEN 1 AND 500),
    companions      integer NOT NULL DEFAULT 0,     -- how many, not who
    destination_country char(2),
    travel_purpose  text,
    flags           text[] NOT NULL DEFAULT '{}',
    action          text NOT NULL CHECK (action IN ('clear', 'secondary_inspection', 'refer')),
    outcome         text CHECK (outcome IN ('cleared', 'secondary_inspection', 'referred_police',
                                            'referred_social_affairs', 'refused')),
    outcome_at      timestamptz,
    personal        jsonb,                          -- child, companions, consent letter, hand-over persons, notes
    idempotency_key text,
    request_hash    bytea,
    answer          jsonb,                          -- the first answer, replayed for the same Idempotency-Key
    purged_at       timestamptz,
    CHECK ((personal IS NULL) = (purged_at IS NOT NULL))
);
CREATE UNIQUE INDEX border_checks_idempotency ON border_checks (border_point, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX border_checks_post_time ON border_checks (border_point, checked_at DESC);
CREATE INDEX border_checks_retention ON border_checks (checked_at) WHERE purged_at IS NULL;

-- One row per screened person whose register candidate reached the alert threshold.
CREATE TABLE border_alerts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    check_id      uuid NOT NULL REFERENCES border_checks(id),
    subject       text NOT NULL CHECK (subject IN ('child', 'companion', 'seen_off_by', 'met_by')),
    subject_index integer NOT NULL DEFAULT 0,
    person_id     uuid NOT NULL REFERENCES persons(id),
    record_version integer NOT NULL,
    probability   double precision NOT NULL CHECK (probability BETWEEN 0 AND 1),
    explanation   jsonb,                            -- features, weights, model version; erased by the purge
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'rejected')),
    reason_code   text,
    decided_by    bigint REFERENCES users(id),
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (decided_at IS NULL))
);
CREATE INDEX border_alerts_open ON border_alerts (created_at) WHERE status = 'open';
CREATE INDEX border_alerts_check ON border_alerts (check_id);

-- The seam to the partner exchange: a confirmed hit on an adult leaving towards a partner writes one row here
-- in the decision's transaction; the outbox (a later issue) turns pending rows into signed travel_notice messages.
CREATE TABLE travel_notices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_id      uuid NOT NULL UNIQUE REFERENCES border_alerts(id),
    partner       char(2) NOT NULL,
    person_id     uuid NOT NULL REFERENCES persons(id),
    border_point  text NOT NULL REFERENCES border_points(code),
    direction     text NOT NULL CHECK (direction IN ('exit', 'entry')),
    crossed_at    timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'acknowledged', 'failed')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX travel_notices_pending ON travel_notices (created_at) WHERE status = 'pending';
