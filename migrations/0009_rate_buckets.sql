-- Rate limits shared by every service process (exchange/ratelimit.py): one row per limited thing, holding its
-- token bucket and, for an officer's reads, the watch on unusual volume (reads this minute and the usual
-- reads a minute, an exponentially weighted average). The key is a hash of what is limited (an officer's id;
-- a user name with a client address), never the value. UNLOGGED: no WAL for a row written on every read; a
-- crash empties the table, which only refills every bucket and forgets the usual volumes.
CREATE UNLOGGED TABLE rate_buckets (
    kind       text NOT NULL,
    key        bytea NOT NULL,
    tokens     double precision NOT NULL,
    at         timestamptz NOT NULL,              -- the last take
    ok         boolean NOT NULL,                  -- whether the last take found a token
    minute     bigint NOT NULL DEFAULT 0,         -- the minute (epoch / 60) that count is about
    count      integer NOT NULL DEFAULT 0,        -- reads in that minute
    usual      double precision NOT NULL DEFAULT 0,
    alerted_at timestamptz,
    PRIMARY KEY (kind, key)
);

-- One take: refill the bucket by the time since the last take (never negative: a take that waited on the row
-- lock may have started before the one it waited for) up to the burst, take a token if there is one, and, when
-- p_watch, count the read, fold finished minutes into the usual (idle ones decay it) and say whether this read
-- makes the minute unusual: more than max(p_floor, p_factor x usual), at most once per p_quiet seconds.
CREATE FUNCTION rate_take(p_kind text, p_key bytea, p_capacity double precision, p_per_second double precision,
                          p_watch boolean, p_factor double precision, p_floor double precision,
                          p_alpha double precision, p_quiet double precision)
RETURNS TABLE (ok boolean, tokens double precision, alert boolean)
LANGUAGE plpgsql AS $$
DECLARE
    b rate_buckets%ROWTYPE;
    t timestamptz := now();
    this_minute bigint := floor(extract(epoch FROM now()) / 60);
    refilled double precision;
BEGIN
    SELECT * INTO b FROM rate_buckets r WHERE r.kind = p_kind AND r.key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO rate_buckets AS r (kind, key, tokens, at, ok, minute)
        VALUES (p_kind, p_key, p_capacity, t, true, this_minute) ON CONFLICT DO NOTHING;
        SELECT * INTO b FROM rate_buckets r WHERE r.kind = p_kind AND r.key = p_key FOR UPDATE;
    END IF;
    refilled := least(p_capacity, b.tokens + greatest(0, extract(epoch FROM t - b.at)) * p_per_second);
    ok := refilled >= 1;
    tokens := CASE WHEN ok THEN refilled - 1 ELSE refilled END;
    alert := false;
    IF p_watch THEN
        IF this_minute <> b.minute THEN
            b.usual := ((1 - p_alpha) * b.usual + p_alpha * b.count)
                       * power(1 - p_alpha, least(greatest(this_minute - b.minute - 1, 0), 60));
            b.minute := this_minute;
            b.count := 0;
        END IF;
        b.count := b.count + 1;
        IF b.count > greatest(p_floor, p_factor * b.usual)
           AND (b.alerted_at IS NULL OR t - b.alerted_at >= make_interval(secs => p_quiet)) THEN
            alert := true;
            b.alerted_at := t;
        END IF;
    END IF;
    UPDATE rate_buckets r SET tokens = rate_take.tokens, at = greatest(b.at, t), ok = rate_take.ok,
                              minute = b.minute, count = b.count, usual = b.usual, alerted_at = b.alerted_at
    WHERE r.kind = p_kind AND r.key = p_key;
    RETURN NEXT;
END
$$;
