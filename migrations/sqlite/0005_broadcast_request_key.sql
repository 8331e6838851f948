-- A key each broadcast confirmation carries, so that the same confirmation submitted twice (a
-- resent form, a double click without script) queues one broadcast, not two.
ALTER TABLE broadcasts ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX broadcasts_request_key ON broadcasts(request_key) WHERE request_key IS NOT NULL;
