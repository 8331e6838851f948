-- 督办 review of replies and 会签 by co-departments (issue 12): a lead department's reply is kept
-- here as a draft while co-departments countersign it and staff review it; it becomes a row of
-- `replies` (what the member reads and rates) only when it goes on to the member.
CREATE TABLE reply_drafts (
    id                    INTEGER PRIMARY KEY,
    suggestion_id         INTEGER NOT NULL REFERENCES suggestions(id),
    department_id         INTEGER NOT NULL REFERENCES departments(id),
    reply_class           TEXT NOT NULL,
    text                  TEXT NOT NULL,
    document              TEXT,                    -- JSON attachment metadata, if any
    -- countersign: with the co-departments; review: with staff; delivered: gone to the member;
    -- returned: sent back to the department by staff.
    status                TEXT NOT NULL CHECK (status IN ('countersign', 'review', 'delivered', 'returned')),
    -- The co-departments may countersign until then (会签 only).
    countersign_deadline  TEXT,
    -- Staff's note when sent back, or the reason for another reply class when approved.
    note                  TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    decided_at            TEXT
);
CREATE INDEX reply_drafts_suggestion ON reply_drafts(suggestion_id);
CREATE INDEX reply_drafts_status ON reply_drafts(status);

-- A co-department's answer to a draft reply: agreed (同意), or changes proposed in `text`.
CREATE TABLE countersigns (
    id             INTEGER PRIMARY KEY,
    draft_id       INTEGER NOT NULL REFERENCES reply_drafts(id),
    department_id  INTEGER NOT NULL REFERENCES departments(id),
    agreed         INTEGER NOT NULL,
    text           TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL,
    UNIQUE (draft_id, department_id)
);
