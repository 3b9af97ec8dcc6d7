-- The audit hash chain moves out of the write path. Before, each audited transaction took a chain lock that it
-- held through its commit (and its disk sync), so every audited request of a node waited in one queue.
-- Now an audited transaction only inserts its row (and a pending marker); a sealer (exchange/audit.py, run by
-- the service every second and by `exchange audit verify`) chains rows whose transactions have ended, in the
-- order it seals them: hash = SHA-256(prev_hash || RFC 8785 JSON of the row), as before.

CREATE TABLE audit_chain (
    seq        bigint PRIMARY KEY,
    audit_id   bigint NOT NULL UNIQUE REFERENCES audit_log(id),
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    sealed_at  timestamptz NOT NULL DEFAULT now()
);

-- Rows written but not sealed yet; the sealer removes a marker when it chains the row.
CREATE TABLE audit_pending (
    audit_id   bigint PRIMARY KEY REFERENCES audit_log(id)
);

-- The transaction that wrote the row: the sealer only takes rows of transactions that have ended.
ALTER TABLE audit_log ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();

-- The chain so far, in id order (the old order), with the same hashes.
INSERT INTO audit_chain (seq, audit_id, prev_hash, hash)
    SELECT row_number() OVER (ORDER BY id), id, prev_hash, hash FROM audit_log;
ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash;

-- Both tables are append-only for the service role too (the sealer only inserts into the chain).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain FROM exchange_app;
REVOKE UPDATE, TRUNCATE ON audit_pending FROM exchange_app;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
