-- The register of convicted offenders. A person has a stable id and a status; every change is a new version
-- (nothing is overwritten). Names are stored in Unicode NFC, enforced here.

CREATE TABLE persons (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    current_version integer NOT NULL CHECK (current_version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_updated ON persons (updated_at, id);

CREATE TABLE record_versions (
    person_id       uuid NOT NULL REFERENCES persons(id),
    version         integer NOT NULL CHECK (version >= 1),
    status          text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    external_id     text,
    sex             text CHECK (sex IN ('male', 'female', 'unknown')),
    birth_date      text CHECK (birth_date ~ '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$'),
    birth_precision text CHECK (birth_precision IN ('day', 'month', 'year')),
    birth_place     text CHECK (birth_place IS NFC NORMALIZED),
    nationalities   text[] NOT NULL DEFAULT '{}',
    addresses       jsonb NOT NULL DEFAULT '[]',
    sharing         text[],          -- NULL: every partner whose agreement allows full records
    review_date     date,
    withdrawal_reason text CHECK (withdrawal_reason IN ('expungement', 'acquittal_on_appeal', 'death', 'error')),
    withdrawal_note text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      bigint REFERENCES users(id),
    PRIMARY KEY (person_id, version),
    CHECK ((birth_date IS NULL) = (birth_precision IS NULL)),
    CHECK ((status = 'withdrawn') = (withdrawal_reason IS NOT NULL))
);

CREATE TABLE person_names (
    person_id   uuid NOT NULL,
    version     integer NOT NULL,
    ordinal     smallint NOT NULL,
    family      text CHECK (family IS NFC NORMALIZED),
    given       text CHECK (given IS NFC NORMALIZED),
    full_name   text NOT NULL CHECK (full_name IS NFC NORMALIZED AND full_name <> ''),
    script      text,
    kind        text NOT NULL CHECK (kind IN ('primary', 'alias', 'birth', 'former', 'transliteration')),
    PRIMARY KEY (person_id, version, ordinal),
    FOREIGN KEY (person_id, version) REFERENCES record_versions(person_id, version)
);

CREATE TABLE person_documents (
    person_id   uuid NOT NULL,
    version     integer NOT NULL,
    ordinal     smallint NOT NULL,
    kind        text NOT NULL,
    number      text NOT NULL CHECK (number ~ '^[A-Za-z0-9 ./-]+$'),
    country     char(2),
    expires     date,
    mrz         text,
    PRIMARY KEY (person_id, version, ordinal),
    FOREIGN KEY (person_id, version) REFERENCES record_versions(person_id, version)
);
CREATE INDEX person_documents_number ON person_documents (upper(regexp_replace(number, '[^A-Za-z0-9]', '', 'g')));

CREATE TABLE convictions (
    person_id        uuid NOT NULL,
    version          integer NOT NULL,
    ordinal          smallint NOT NULL,
    court            text NOT NULL CHECK (court IS NFC NORMALIZED),
    case_number      text NOT NULL,
    convicted_on     date NOT NULL,
    offence_category text NOT NULL,
    sentence         text CHECK (sentence IS NFC NORMALIZED),
    release_date     date,
    PRIMARY KEY (person_id, version, ordinal),
    FOREIGN KEY (person_id, version) REFERENCES record_versions(person_id, version)
);
CREATE INDEX convictions_category ON convictions (offence_category);

-- Idempotency keys of POST requests: a retried request returns the first answer and writes nothing new.
CREATE TABLE idempotency_keys (
    user_id     bigint NOT NULL REFERENCES users(id),
    key         text NOT NULL,
    request_hash bytea NOT NULL,
    status      integer NOT NULL,
    response    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
