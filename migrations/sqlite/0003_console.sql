-- The web console and the department API: accounts, sessions, API tokens, the audit log, search.

-- People who log in to the console: admins, staff and department liaisons.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'department')),
    department_id  INTEGER REFERENCES departments(id),
    password_hash  TEXT NOT NULL,                  -- argon2id, PHC string
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK ((role = 'department') = (department_id IS NOT NULL))
);

-- Logged-in sessions; only the SHA-256 of the cookie's value is kept.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Per-department tokens for the HTTP API; only the SHA-256 is kept.
CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY,
    department_id  INTEGER NOT NULL REFERENCES departments(id),
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    created_by     INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    revoked_at     TEXT
);

-- Every staff, department and admin action in the console and the API.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    user_id    INTEGER REFERENCES users(id),
    token_id   INTEGER REFERENCES api_tokens(id),
    action     TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Inbox filters.
CREATE INDEX suggestions_state ON suggestions(state, id);
CREATE INDEX suggestions_kind ON suggestions(kind, id);
CREATE INDEX suggestions_created ON suggestions(created_at);

-- Full-text search in titles and bodies. The trigram tokenizer finds any run of three or more
-- characters inside a sentence, which is what Chinese text (no spaces between words) needs;
-- shorter queries fall back to LIKE.
CREATE VIRTUAL TABLE suggestions_fts USING fts5(title, body, content='suggestions', content_rowid='id', tokenize='trigram');
CREATE TRIGGER suggestions_fts_insert AFTER INSERT ON suggestions BEGIN
    INSERT INTO suggestions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER suggestions_fts_delete AFTER DELETE ON suggestions BEGIN
    INSERT INTO suggestions_fts(suggestions_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER suggestions_fts_update AFTER UPDATE OF title, body ON suggestions BEGIN
    INSERT INTO suggestions_fts(suggestions_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO suggestions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
