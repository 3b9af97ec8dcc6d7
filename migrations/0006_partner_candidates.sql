-- Partner records are matched against our register on arrival: candidates wait here for a liaison officer's
-- review (facts stay in partner_record_versions and record_versions; this holds only the assessment queue).

CREATE TABLE partner_match_candidates (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    country      char(2) NOT NULL,
    record_id    text NOT NULL,
    version      integer NOT NULL,
    person_id    uuid NOT NULL,                 -- our register's record
    probability  double precision NOT NULL CHECK (probability >= 0 AND probability <= 1),
    explanation  jsonb NOT NULL,                -- features, scores, model version (matching.model.Match)
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'superseded', 'withdrawn', 'confirmed',
                                                                'rejected')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (country, record_id, version, person_id),
    FOREIGN KEY (country, record_id, version) REFERENCES partner_record_versions(country, record_id, version)
);
CREATE INDEX partner_match_candidates_open ON partner_match_candidates (status, created_at) WHERE status = 'open';
CREATE INDEX partner_match_candidates_record ON partner_match_candidates (country, record_id);
