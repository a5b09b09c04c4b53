-- Session history and ApplicationStorage, as the embedded store keeps them in SQLite.
-- Times are milliseconds (history) and seconds (storage expiry) since the Unix epoch.
-- Text columns that are compared as ranges use the "C" collation: byte order, as SQLite.

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    application TEXT NOT NULL,
    rule TEXT NOT NULL,
    call_id TEXT NOT NULL,
    caller TEXT NOT NULL,
    destination TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_kind TEXT,
    end_reason TEXT
);
CREATE INDEX sessions_by_start ON sessions (started_at);

CREATE TABLE session_logs (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at BIGINT NOT NULL,
    level TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE app_storage (
    application TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,
    expire_at BIGINT NOT NULL,
    PRIMARY KEY (application, key)
);
CREATE INDEX app_storage_expiry ON app_storage (application, expire_at);
