-- Closing the loop: assignments to departments, their answers, members' ratings, reminders, broadcasts.

-- A suggestion routed to a department: one lead (主办) and any co-departments (协办).
CREATE TABLE assignments (
    id               INTEGER PRIMARY KEY,
    suggestion_id    INTEGER NOT NULL REFERENCES suggestions(id),
    department_id    INTEGER NOT NULL REFERENCES departments(id),
    role             TEXT NOT NULL CHECK (role IN ('lead', 'co')),
    deadline         TEXT NOT NULL,
    assigned_at      TEXT NOT NULL,
    acknowledged_at  TEXT,
    -- active: the department works on it; returned: sent back to staff; answered: reply or opinion
    -- given; superseded: replaced by a new routing.
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'returned', 'answered', 'superseded'))
);
CREATE INDEX assignments_suggestion ON assignments(suggestion_id);
CREATE INDEX assignments_department ON assignments(department_id, status);

-- A co-department's view, sent to the lead department (协办意见).
CREATE TABLE opinions (
    id             INTEGER PRIMARY KEY,
    assignment_id  INTEGER NOT NULL REFERENCES assignments(id),
    text           TEXT NOT NULL,
    at             TEXT NOT NULL
);

-- The lead department's answer to the member.
CREATE TABLE replies (
    id              INTEGER PRIMARY KEY,
    suggestion_id   INTEGER NOT NULL REFERENCES suggestions(id),
    department_id   INTEGER NOT NULL REFERENCES departments(id),
    reply_class     TEXT NOT NULL,
    text            TEXT NOT NULL,
    document        TEXT,                          -- JSON attachment metadata, if any
    at              TEXT NOT NULL
);
CREATE INDEX replies_suggestion ON replies(suggestion_id);

-- The member's rating of a reply.
CREATE TABLE ratings (
    id             INTEGER PRIMARY KEY,
    suggestion_id  INTEGER NOT NULL REFERENCES suggestions(id),
    reply_id       INTEGER NOT NULL UNIQUE REFERENCES replies(id),
    rating         TEXT NOT NULL CHECK (rating IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    reason         TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL
);

-- Reminders already sent, so none is sent twice for the same assignment and deadline.
CREATE TABLE reminders (
    id             INTEGER PRIMARY KEY,
    assignment_id  INTEGER NOT NULL REFERENCES assignments(id),
    deadline       TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('before', 'overdue')),
    sent_at        TEXT NOT NULL,
    UNIQUE (assignment_id, deadline, kind)
);

-- Days for which the overdue digest went to staff.
CREATE TABLE digests (
    day      TEXT PRIMARY KEY,
    sent_at  TEXT NOT NULL
);

CREATE TABLE broadcasts (
    id              INTEGER PRIMARY KEY,
    topic_id        INTEGER REFERENCES topics(id),
    text            TEXT NOT NULL,
    audience_kind   TEXT NOT NULL CHECK (audience_kind IN ('all', 'level', 'workstation', 'sector')),
    audience_value  TEXT NOT NULL DEFAULT '',
    staff_id        INTEGER REFERENCES staff(id),
    total           INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'cancelled')),
    created_at      TEXT NOT NULL
);
