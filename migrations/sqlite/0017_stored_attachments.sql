-- A suggestion's attachments may be files kept in the database (kind 'stored', uploaded with a
-- 代为提交 in the console; file_unique_id is the SHA-256 of stored_files, file_id is empty).
-- SQLite cannot change a CHECK constraint: the table is made again with the rows copied.
CREATE TABLE attachments_new (
    id              INTEGER PRIMARY KEY,
    suggestion_id   INTEGER NOT NULL REFERENCES suggestions(id),
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'stored')),
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT NOT NULL,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    width           INTEGER,
    height          INTEGER
);
INSERT INTO attachments_new (id, suggestion_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size, width, height)
    SELECT id, suggestion_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size, width, height FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_suggestion ON attachments(suggestion_id);
