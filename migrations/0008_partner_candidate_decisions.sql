-- A liaison officer's decision on a review-queue candidate (a partner record that matched our register):
-- who decided, when, and the reason code. The assessment stays here, apart from the facts it is about.

ALTER TABLE partner_match_candidates
    ADD COLUMN reason_code text,
    ADD COLUMN decided_by  bigint REFERENCES users(id),
    ADD COLUMN decided_at  timestamptz,
    ADD CONSTRAINT partner_match_candidates_decided CHECK (
        (status IN ('confirmed', 'rejected')) = (reason_code IS NOT NULL AND decided_by IS NOT NULL
                                                 AND decided_at IS NOT NULL));
