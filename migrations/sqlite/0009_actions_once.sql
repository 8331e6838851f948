-- Actions that leave a suggestion's state as it is (adopt, a leader's instruction, a department's
-- acknowledgement, a co-department's opinion, a co-department's return) happen once: the timeline
-- event of such an action carries a key naming it, unique per suggestion, so the same request
-- arriving twice in parallel records one event, stores one opinion and pushes one notification.
ALTER TABLE timeline_events ADD COLUMN once_key TEXT;

-- Suggestions adopted before this migration keep their first adoption as the one that counts.
UPDATE timeline_events SET once_key = 'adopted'
WHERE event = 'adopted' AND id IN (SELECT MIN(id) FROM timeline_events WHERE event = 'adopted' GROUP BY suggestion_id);

CREATE UNIQUE INDEX timeline_events_once ON timeline_events(suggestion_id, once_key) WHERE once_key IS NOT NULL;
