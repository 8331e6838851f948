-- Delivery resumes and never repeats: since this version each outbox row is one message Telegram
-- receives (a long text is queued as one row per part). A row written by an older version may
-- still hold a text longer than one message: `part` counts the parts of it already sent, so a
-- retry resumes at the next part instead of sending the first ones again.
ALTER TABLE outbox ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
-- A chat's messages go one after the other (by priority, then id): finding the first pending
-- message of a chat is an index lookup.
CREATE INDEX outbox_chat_pending ON outbox(chat_id, priority, id) WHERE status = 'pending';

-- Chats Telegram moved: a group upgraded to a supergroup gets a new id (the `migrate_to_chat_id`
-- of an error or a service message). The configured staff group is followed through these.
CREATE TABLE chat_migrations (
    old_chat_id  INTEGER PRIMARY KEY,
    new_chat_id  INTEGER NOT NULL,
    migrated_at  TEXT NOT NULL
);
