-- Rate-limit token buckets shared by every service process (exchange/ratelimit.py): one row per limited thing.
-- The key is a hash of what is limited (an officer's id; a user name with a client address), never the value.
-- UNLOGGED: no WAL for a row written on every read; a crash empties the table, which only refills every bucket.
-- A bucket idle for a minute is full again, so the housekeeping job deletes idle rows without changing anything.
CREATE UNLOGGED TABLE rate_buckets (
    kind   text NOT NULL,
    key    bytea NOT NULL,
    tokens double precision NOT NULL,
    at     timestamptz NOT NULL,
    ok     boolean NOT NULL,        -- whether the last take found a token
    PRIMARY KEY (kind, key)
);
