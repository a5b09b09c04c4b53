-- Application users (digest hashes only, as users.json keeps them) and the devices they
-- registered, shared by every node: a user added through one node's admin API registers
-- through any node, and callUser on any node rings every device.

CREATE TABLE users (
    application TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (application, name)
);

CREATE TABLE registrations (
    application TEXT NOT NULL,
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (application, name, contact)
);
