-- What each stored update was, as read at intake: its Bot API kind (message, callback_query, …)
-- and whether jianyan understood it. Updates it did not understand are counted for staff.
ALTER TABLE updates ADD COLUMN kind TEXT;
ALTER TABLE updates ADD COLUMN understood INTEGER NOT NULL DEFAULT 1;
CREATE INDEX updates_not_understood ON updates(received_at) WHERE understood = 0;
