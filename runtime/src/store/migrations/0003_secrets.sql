-- Per-application secrets, sealed with the master key every node holds (AES-256-GCM, the
-- application and name bound as associated data), and the key check that tells a node with
-- another key apart before it reads anything.

CREATE TABLE secrets (
    application TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (application, name)
);

CREATE TABLE secret_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed TEXT NOT NULL
);
