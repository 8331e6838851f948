-- The core schema: roster, topics, suggestions with their timelines, dialogs, durable intake, outbox.
-- Timestamps are UTC, stored as ISO-8601 text.

CREATE TABLE workstations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT ''          -- 街道 / 镇 / …
);

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    short_name  TEXT
);

CREATE TABLE members (
    id                INTEGER PRIMARY KEY,
    member_no         TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    level             TEXT NOT NULL CHECK (level IN ('市', '区', '街镇')),
    workstation_id    INTEGER REFERENCES workstations(id),
    sector            TEXT NOT NULL DEFAULT '',      -- 界别
    phone             TEXT NOT NULL DEFAULT '',
    telegram_user_id  INTEGER UNIQUE,
    telegram_chat_id  INTEGER,
    language          TEXT,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    unreachable_at    TEXT,                         -- the member blocked the bot (Telegram 403)
    bound_at          TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Committee office staff (区政协工作人员).
CREATE TABLE staff (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    telegram_user_id  INTEGER UNIQUE,
    telegram_chat_id  INTEGER,
    language          TEXT,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Department liaisons (承办单位联络员): people who answer for a department.
CREATE TABLE liaisons (
    id                INTEGER PRIMARY KEY,
    department_id     INTEGER NOT NULL REFERENCES departments(id),
    name              TEXT NOT NULL,
    telegram_user_id  INTEGER UNIQUE,
    telegram_chat_id  INTEGER,
    language          TEXT,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- One-time codes that bind a Telegram account to a member, a staff member or a liaison.
-- Only the SHA-256 of a code is kept.
CREATE TABLE invite_codes (
    id                INTEGER PRIMARY KEY,
    code_hash         TEXT NOT NULL UNIQUE,
    member_id         INTEGER REFERENCES members(id),
    staff_id          INTEGER REFERENCES staff(id),
    liaison_id        INTEGER REFERENCES liaisons(id),
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    used_at           TEXT,
    used_by_telegram  INTEGER,
    CHECK ((member_id IS NOT NULL) + (staff_id IS NOT NULL) + (liaison_id IS NOT NULL) = 1)
);

CREATE TABLE topics (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    class        TEXT NOT NULL CHECK (class IN ('规划计划类', '重大工作决策类', '民生实事类', '立法类')),
    form         TEXT NOT NULL DEFAULT '',          -- consultation form, e.g. 专题协商会
    opens_at     TEXT,
    closes_at    TEXT,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('draft', 'open', 'closed')),
    pinned       INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Last sequence number handed out per year, for reference numbers like PD-2025-0042.
CREATE TABLE reference_counters (
    year      INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL
);

CREATE TABLE suggestions (
    id               INTEGER PRIMARY KEY,
    reference_no     TEXT NOT NULL UNIQUE,
    year             INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    member_id        INTEGER NOT NULL REFERENCES members(id),
    topic_id         INTEGER REFERENCES topics(id),
    kind             TEXT NOT NULL CHECK (kind IN ('建言资政', '社情民意信息', '议政调研', '视察')),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,                 -- the points joined, for search and export
    state            TEXT NOT NULL,
    merged_into      INTEGER REFERENCES suggestions(id),
    deadline         TEXT,                          -- when the lead department's answer is due
    adopted_at       TEXT,
    source_update_id INTEGER UNIQUE,                -- the Telegram update that submitted it
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX suggestions_member ON suggestions(member_id, id);
CREATE INDEX suggestions_topic ON suggestions(topic_id);

-- The numbered recommendations (条) inside a suggestion (篇).
CREATE TABLE suggestion_points (
    suggestion_id  INTEGER NOT NULL REFERENCES suggestions(id),
    position       INTEGER NOT NULL,
    text           TEXT NOT NULL,
    PRIMARY KEY (suggestion_id, position)
);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    suggestion_id   INTEGER NOT NULL REFERENCES suggestions(id),
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT NOT NULL,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    width           INTEGER,
    height          INTEGER
);
CREATE INDEX attachments_suggestion ON attachments(suggestion_id);

CREATE TABLE timeline_events (
    id             INTEGER PRIMARY KEY,
    suggestion_id  INTEGER NOT NULL REFERENCES suggestions(id),
    at             TEXT NOT NULL,
    actor_kind     TEXT NOT NULL,                   -- member / staff / department / system
    actor_id       INTEGER,
    event          TEXT NOT NULL,                   -- submitted / accepted / …
    text           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX timeline_suggestion ON timeline_events(suggestion_id, id);

-- Where each private chat is in the dialog, with the draft collected so far (JSON).
CREATE TABLE dialogs (
    chat_id     INTEGER PRIMARY KEY,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Every Telegram update, stored before it is confirmed to Telegram and processed after.
CREATE TABLE updates (
    update_id     INTEGER PRIMARY KEY,
    chat_id       INTEGER,
    payload       TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    processed_at  TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX updates_pending ON updates(update_id) WHERE processed_at IS NULL;

-- Messages to send, written in the same transaction as the change that causes them.
-- priority: 0 a reply in a conversation, 1 a notification, 2 a broadcast message.
-- status: pending → sent | failed (gave up) | blocked (the person blocked the bot) |
-- uncertain (a timeout where it may have gone through: not resent blindly) | cancelled.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    payload       TEXT NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    update_id     INTEGER,
    broadcast_id  INTEGER,
    created_at    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sent', 'failed', 'blocked', 'uncertain', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,                    -- unix milliseconds before which it waits (a retry)
    sent_at       TEXT,
    last_error    TEXT
);
CREATE INDEX outbox_pending ON outbox(priority, id) WHERE status = 'pending';
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, status) WHERE broadcast_id IS NOT NULL;
