-- Border screening also covers the partners' records (partner_records, migration 0004), and a confirmed hit's
-- travel notice goes through the federation outbox: an alert names either our register's person or a partner's
-- record; a travel notice keeps the id of the outbox message that carries it ('queued' once handed over).

ALTER TABLE border_alerts ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE border_alerts ADD COLUMN partner_country char(2);
ALTER TABLE border_alerts ADD COLUMN partner_record_id text;
ALTER TABLE border_alerts ADD CONSTRAINT border_alerts_one_source
    CHECK ((person_id IS NOT NULL) <> (partner_country IS NOT NULL AND partner_record_id IS NOT NULL));

ALTER TABLE travel_notices ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE travel_notices ADD COLUMN partner_record_id text;
ALTER TABLE travel_notices ADD COLUMN message_id uuid;
ALTER TABLE travel_notices DROP CONSTRAINT travel_notices_status_check;
ALTER TABLE travel_notices ADD CONSTRAINT travel_notices_status_check
    CHECK (status IN ('pending', 'queued', 'sent', 'acknowledged', 'failed'));
ALTER TABLE travel_notices ADD CONSTRAINT travel_notices_one_reference
    CHECK ((person_id IS NOT NULL) <> (partner_record_id IS NOT NULL));
