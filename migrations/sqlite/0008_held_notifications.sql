-- Notifications for someone the bot cannot write to yet: a member who has not redeemed an invite
-- (or blocked the bot), a department without a registered liaison, staff when no staff group is set
-- and no staff member is registered. They are kept here instead of being dropped, and queued in
-- order for the person's chat the next time they write to the bot (registering included).
CREATE TABLE held_notifications (
    id            INTEGER PRIMARY KEY,
    recipient     TEXT NOT NULL CHECK (recipient IN ('member', 'department', 'staff')),
    recipient_id  INTEGER,                          -- the member's or department's id; NULL for staff
    suggestion_id INTEGER REFERENCES suggestions(id),
    payload       TEXT NOT NULL,                    -- the outbox payload (reply::Action JSON)
    priority      INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    released_at   TEXT,                             -- when it was queued in the outbox
    released_to   INTEGER                           -- the chat it was queued for
);
CREATE INDEX held_waiting ON held_notifications(recipient, recipient_id, id) WHERE released_at IS NULL;
CREATE INDEX held_by_suggestion ON held_notifications(suggestion_id, id);
