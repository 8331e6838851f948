-- Issue 12: a reply's 答复函 fields (文号, 标题, 联系人, 电话) as JSON (letter::ReplyLetter), and the
-- files departments upload through the API, kept in the database so backups and migrate-data
-- carry them. A file is named by the SHA-256 of its bytes: the same file twice is kept once.
ALTER TABLE replies ADD COLUMN letter TEXT;
-- A reply waiting for 会签 or 督办 (0003) carries its letter until it is sent on.
ALTER TABLE reply_drafts ADD COLUMN letter TEXT;

CREATE TABLE stored_files (
    sha256     TEXT PRIMARY KEY,                    -- lowercase hex of the bytes' SHA-256
    mime_type  TEXT NOT NULL,
    size       BIGINT NOT NULL,                     -- bytes
    bytes      BYTEA NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);
