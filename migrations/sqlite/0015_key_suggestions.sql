-- 重点建言: staff mark a suggestion as key with the supervising leader's name (督办领导).
-- key_leader NULL: not key. The inbox filters by it and the dashboard lists the key ones.
ALTER TABLE suggestions ADD COLUMN key_leader TEXT;
ALTER TABLE suggestions ADD COLUMN key_marked_at TEXT;
CREATE INDEX suggestions_key ON suggestions(id) WHERE key_leader IS NOT NULL;
