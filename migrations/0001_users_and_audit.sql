-- Users, their login state, and the append-only, hash-chained audit log.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exchange_app') THEN
        CREATE ROLE exchange_app LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO exchange_app;
-- Tables created by later migrations (run by the owner) get the ordinary rights; the audit log is narrowed below.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO exchange_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO exchange_app;

-- Border points (immigration officers are bound to one); editable by an admin.
CREATE TABLE border_points (
    code          text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,31}$'),
    name          text NOT NULL,
    province      text NOT NULL,
    neighbour     char(2) NOT NULL,
    crossing_type text NOT NULL CHECK (crossing_type IN ('land', 'sea', 'river', 'air')),
    active        boolean NOT NULL DEFAULT true
);
INSERT INTO border_points (code, name, province, neighbour, crossing_type) VALUES
    ('POIPET', 'Poipet International Border Checkpoint', 'Banteay Meanchey', 'TH', 'land'),
    ('BAVET', 'Bavet International Border Checkpoint', 'Svay Rieng', 'VN', 'land'),
    ('KOH_KONG', 'Cham Yeam (Koh Kong) International Border Checkpoint', 'Koh Kong', 'TH', 'land');

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    role          text NOT NULL CHECK (role IN ('admin', 'registrar', 'liaison', 'immigration', 'auditor')),
    border_point  text REFERENCES border_points(code),
    password_hash text NOT NULL,
    totp_secret   text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    last_totp_step bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'immigration') = (border_point IS NOT NULL))
);

-- Login sessions: one per issued token chain; idle timeout and revocation are checked on every request.
CREATE TABLE sessions (
    jti          uuid PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id),
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id   text,
    user_id      bigint,
    username     text,
    role         text,
    border_point text,
    purpose      text,
    case_ref     text,
    action       text NOT NULL,
    outcome      text NOT NULL,
    record_ids   text[] NOT NULL DEFAULT '{}',
    detail       jsonb NOT NULL DEFAULT '{}',
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- Append-only: the service role may read and add, never change or remove; a trigger refuses it for everyone.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM exchange_app;
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
