-- 联名: members the lead member (领衔, suggestions.member_id) invited to co-sign a suggestion,
-- and how each answered. An invitation still 'invited' after expires_at counts as expired
-- (workflow.cosign_days); staff accepting the suggestion closes the open ones ('expired').
CREATE TABLE cosigners (
    id             INTEGER PRIMARY KEY,
    suggestion_id  INTEGER NOT NULL REFERENCES suggestions(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    status         TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'accepted', 'declined', 'expired')),
    invited_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    answered_at    TEXT,
    UNIQUE (suggestion_id, member_id)
);
CREATE INDEX cosigners_member ON cosigners(member_id, suggestion_id);

-- Each co-signer's rating of a reply (the lead's stays in ratings, one per reply): recorded and
-- counted, it does not change the suggestion's state.
CREATE TABLE cosigner_ratings (
    id             INTEGER PRIMARY KEY,
    suggestion_id  INTEGER NOT NULL REFERENCES suggestions(id),
    reply_id       INTEGER NOT NULL REFERENCES replies(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    rating         TEXT NOT NULL CHECK (rating IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    reason         TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL,
    UNIQUE (reply_id, member_id)
);
CREATE INDEX cosigner_ratings_suggestion ON cosigner_ratings(suggestion_id);
